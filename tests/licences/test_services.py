"""The writes of the licences module (yimen.licences.services): signing keys, issuing and
registering, the signature against tampering, revoking, replacing and the daily expiry,
with the audit row of each.

The clock stands on Monday 2026-11-23 unless a test moves it."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from yimen.accounts.choices import ApplicantKind
from yimen.common import sm2
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.identifiers import licence_identifier, licence_identifier_error
from yimen.common.models import AuditEvent
from yimen.licences import services
from yimen.licences.choices import LicenceStatus
from yimen.licences.models import Licence, LicenceCounter, SigningKey

from ..accounts.factories import UserFactory
from ..cases.factories import FrozenTime, at
from ..org.factories import DepartmentFactory
from .factories import (
    MONDAY,
    LicenceTypeFactory,
    enterprise,
    fresh,
    issue,
    keyed_department,
    monday,
    person,
    signing_key,
    tamper,
)

pytestmark = pytest.mark.django_db

VALID, EXPIRED = LicenceStatus.VALID, LicenceStatus.EXPIRED
REVOKED, REPLACED = LicenceStatus.REVOKED, LicenceStatus.REPLACED


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture
def staff():
    return UserFactory()


def refusal(call, *args, **kwargs) -> dict[str, list[str]]:
    """The field errors of a refused write."""
    with pytest.raises(ValidationError) as refused:
        call(*args, **kwargs)
    return refused.value.message_dict


def events(obj, action=None) -> list[AuditEvent]:
    rows = AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("pk")
    return list(rows.filter(action=action) if action else rows)


# --- keys ---------------------------------------------------------------------------------------


def test_key_generate_gives_a_working_key_pair(staff):
    department = DepartmentFactory()
    key = services.key_generate(department=department, actor=staff)
    assert key.is_active and key.department == department
    assert sm2.public_key_of(key.private_key) == key.public_key
    signature = sm2.sign(key.private_key, key.public_key, b"x")
    assert sm2.verify(key.public_key, b"x", signature)


def test_a_new_key_keeps_the_old_one_inactive_and_one_active_per_department():
    # Given a department with a key, and another department with its own,
    department, other = DepartmentFactory(), DepartmentFactory()
    first = services.key_generate(department=department)
    others = services.key_generate(department=other)
    # when the department gets a new key,
    second = services.key_generate(department=department)
    # then the old key is kept, inactive, and the new one is the only active one;
    first.refresh_from_db()
    assert not first.is_active
    assert second.is_active and second.public_key != first.public_key
    assert list(SigningKey.objects.filter(department=department, is_active=True)) == [second]
    assert SigningKey.objects.filter(department=department).count() == 2
    # the other department's key is untouched.
    others.refresh_from_db()
    assert others.is_active


def test_the_database_refuses_a_second_active_key():
    department = keyed_department()
    pair = sm2.generate_keypair()
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            department=department, public_key=pair.public_key, private_key=pair.private_key
        )


def test_key_generate_is_audited_without_the_private_key(staff):
    department = DepartmentFactory()
    key = services.key_generate(department=department, actor=staff)
    (event,) = events(key, "licence.key.generate")
    assert event.actor == staff and event.channel == Channel.ADMIN
    assert event.payload == {"department": department.uscc, "public_key": key.public_key}
    # The private key is nowhere in the audit chain, whatever the field.
    everything = [
        json.dumps(row, ensure_ascii=False, default=str) for row in AuditEvent.objects.values()
    ]
    assert key.private_key not in "".join(everything)
    assert key.private_key.upper() not in "".join(everything)


def test_a_licence_signed_with_an_old_key_stays_genuine_after_a_new_key():
    licence = issue()
    services.key_generate(department=licence.issuer)
    assert services.is_genuine(fresh(licence))
    later = issue(licence.licence_type)
    assert later.signing_key != licence.signing_key and later.signing_key.is_active
    assert services.is_genuine(fresh(later))


# --- issuing ------------------------------------------------------------------------------------


def test_licence_issue_signs_a_valid_licence_with_a_well_formed_identifier(staff):
    licence_type = LicenceTypeFactory(code="JYXK")
    holder = person()
    licence = services.licence_issue(
        licence_type=licence_type, holder=holder, data={"shop_name": "示例小店"}, actor=staff
    )
    stored = fresh(licence)
    assert licence_identifier_error(stored.identifier) is None
    assert stored.identifier == licence_identifier(
        type_code="JYXK", issuer_uscc=licence_type.issuer.uscc, serial=1, version=1
    )
    assert stored.identifier.startswith(f"1.2.156.3005.2.JYXK.{licence_type.issuer.uscc}.")
    assert (stored.status, stored.serial, stored.version) == (VALID, 1, 1)
    assert stored.holder == holder and stored.issuer == licence_type.issuer
    assert stored.issued_on == MONDAY
    assert stored.signing_key == SigningKey.objects.get(department=licence_type.issuer)
    assert stored.case is None and stored.registered_by is None
    assert services.is_genuine(stored)


def test_the_serial_counts_per_type_and_issuer():
    department = keyed_department()
    first_type = LicenceTypeFactory(issuer=department)
    second_type = LicenceTypeFactory(issuer=department)
    elsewhere = LicenceTypeFactory()
    serials = [
        issue(first_type).serial,
        issue(first_type).serial,
        issue(second_type).serial,
        issue(first_type).serial,
        issue(elsewhere).serial,
    ]
    assert serials == [1, 2, 1, 3, 1]
    assert LicenceCounter.objects.get(licence_type=first_type, issuer=department).last == 3
    identifiers = Licence.objects.values_list("identifier", flat=True)
    assert len(set(identifiers)) == 5


def test_the_data_keeps_only_the_types_fields():
    licence_type = LicenceTypeFactory(fields=["shop_name", "area"])
    licence = issue(
        licence_type,
        data={"shop_name": "示例小店", "secret": "不该带上", "id_number": "440604199001010011"},
    )
    assert fresh(licence).data == {"shop_name": "示例小店"}


@pytest.mark.parametrize(
    ("issued_on", "years", "valid_until"),
    [
        (MONDAY, 5, dt.date(2031, 11, 23)),
        (dt.date(2024, 2, 29), 3, dt.date(2027, 2, 28)),  # no 29 Feb: the month's last day
        (dt.date(2024, 2, 29), 4, dt.date(2028, 2, 29)),
        (dt.date(2025, 12, 31), 1, dt.date(2026, 12, 31)),
        (MONDAY, None, None),  # valid for good
    ],
)
def test_valid_until_comes_from_the_validity_years(issued_on, years, valid_until):
    licence = issue(LicenceTypeFactory(validity_years=years), issued_on=issued_on)
    stored = fresh(licence)
    assert (stored.issued_on, stored.valid_until, stored.status) == (issued_on, valid_until, VALID)
    assert services.is_genuine(stored)


def test_a_holder_of_the_wrong_kind_is_refused():
    for_people = LicenceTypeFactory(holder_kind=ApplicantKind.PERSON)
    for_enterprises = LicenceTypeFactory(holder_kind=ApplicantKind.ENTERPRISE)
    assert "holder" in refusal(issue, for_people, enterprise())
    assert "holder" in refusal(issue, for_enterprises, person())
    assert not Licence.objects.exists()
    assert issue(for_enterprises, enterprise(n=2)).status == VALID


def test_an_inactive_type_is_not_issued():
    errors = refusal(issue, LicenceTypeFactory(is_active=False))
    assert errors == {"licence_type": ["This licence type is no longer issued."]}
    assert not Licence.objects.exists()


def test_an_issuer_without_a_key_is_refused_on_issuer_and_nothing_is_written():
    # Given a type whose department has no key (or only an inactive one),
    department = DepartmentFactory(name="佛山市市场监督管理局")
    SigningKey.objects.create(
        department=department, public_key="0" * 128, private_key="1", is_active=False
    )
    licence_type = LicenceTypeFactory(issuer=department)
    # when a licence is issued, it is refused on the issuer, naming the department and the
    # command,
    errors = refusal(issue, licence_type)
    (message,) = errors["issuer"]
    assert "佛山市市场监督管理局" in message and "licences_keygen" in message
    # and nothing is written: no licence, no serial used, no audit row.
    assert not Licence.objects.exists()
    assert not LicenceCounter.objects.filter(last__gt=0).exists()
    assert not AuditEvent.objects.filter(action__startswith="licence.").exists()
    # Once the department has a key, the first licence is number 1.
    signing_key(department)
    assert issue(licence_type).serial == 1


def test_a_licence_cannot_be_issued_in_the_future():
    errors = refusal(issue, issued_on=MONDAY + dt.timedelta(days=1))
    assert errors == {"issued_on": ["A licence cannot be issued in the future."]}
    assert not Licence.objects.exists()


def test_issuing_is_audited(staff):
    licence = issue(actor=staff)
    (event,) = events(licence)
    assert event.action == "licence.issue"
    assert event.actor == staff and event.channel == Channel.SYSTEM
    assert (event.from_state, event.to_state) == ("", VALID)
    assert event.payload == {"case": None}


def test_registering_a_paper_licence_is_audited_as_such(staff):
    licence = issue(issued_on=dt.date(2024, 5, 6), registered_by=staff, channel=Channel.WINDOW)
    stored = fresh(licence)
    assert stored.registered_by == staff and stored.status == VALID
    assert stored.valid_until == dt.date(2029, 5, 6)
    (event,) = events(licence)
    assert (event.action, event.actor, event.channel) == ("licence.register", staff, "window")


def test_a_paper_licence_ended_already_is_expired_at_once(staff):
    # Given a paper licence issued in 2015 for 5 years, when it is registered,
    licence = issue(issued_on=dt.date(2015, 3, 2), registered_by=staff)
    # then it is expired at once, the returned object says so, and both steps are audited.
    assert licence.status == EXPIRED
    stored = fresh(licence)
    assert stored.status == EXPIRED and stored.valid_until == dt.date(2020, 3, 2)
    assert services.is_genuine(stored)  # the status is not signed: expiry keeps it genuine
    assert [e.action for e in events(licence)] == ["licence.register", "licence.expire"]


def test_a_licence_ending_today_is_still_valid():
    licence = issue(LicenceTypeFactory(validity_years=1), issued_on=dt.date(2025, 11, 23))
    assert licence.status == VALID and licence.valid_until == MONDAY


# --- the signature against tampering ------------------------------------------------------------


@pytest.fixture
def licence():
    return issue(
        LicenceTypeFactory(fields=["shop_name", "area"]),
        person(),
        data={"shop_name": "示例小店", "area": "120"},
    )


def test_a_licence_as_issued_is_genuine(licence):
    assert services.is_genuine(fresh(licence))


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"shop_name": "另一家店", "area": "120"}},
        {"data": {"shop_name": "示例小店", "area": "1200"}},
        {"data": {"shop_name": "示例小店"}},
        {"data": {"shop_name": "示例小店", "area": "120", "extra": "x"}},
        {"issued_on": dt.date(2026, 11, 20)},
        {"valid_until": dt.date(2041, 11, 23)},
        {"valid_until": None},
        {"version": 2},
        {"identifier": "1.2.156.3005.2.X.Y"},
    ],
    ids=[
        "data value",
        "another value",
        "a field removed",
        "a field added",
        "issued on",
        "valid until",
        "valid for good",
        "version",
        "identifier",
    ],
)
def test_a_changed_stored_licence_is_not_genuine(licence, change):
    assert not services.is_genuine(tamper(licence, **change))


def test_a_changed_signature_is_not_genuine(licence):
    signature = fresh(licence).signature
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not services.is_genuine(tamper(licence, signature=flipped))
    assert not services.is_genuine(tamper(licence, signature=""))
    other = issue(licence.licence_type, person(n=2), data=licence.data)
    assert not services.is_genuine(tamper(licence, signature=fresh(other).signature))


def test_a_changed_holder_is_not_genuine(licence):
    holder = licence.holder
    holder.name = "李四"
    holder.save(update_fields=["name"])
    assert not services.is_genuine(fresh(licence))


def test_a_licence_moved_to_another_holder_is_not_genuine(licence):
    assert not services.is_genuine(tamper(licence, holder=person(n=3)))


def test_a_licence_signed_by_another_key_is_not_genuine(licence):
    stranger = signing_key(DepartmentFactory())
    assert not services.is_genuine(tamper(licence, signing_key=stranger))


def test_a_licence_whose_issuer_key_record_is_edited_is_not_genuine(licence):
    other = sm2.generate_keypair()
    SigningKey.objects.filter(pk=licence.signing_key_id).update(public_key=other.public_key)
    assert not services.is_genuine(fresh(licence))


def test_the_canonical_form_is_stable_and_covers_the_signed_fields(licence):
    stored = fresh(licence)
    document = json.loads(services.canonical(stored))
    assert document == {
        "identifier": stored.identifier,
        "type": stored.licence_type.code,
        "holder": {"kind": "person", "name": "张三", "id": stored.holder.id_number},
        "issuer": stored.issuer.uscc,
        "data": {"area": "120", "shop_name": "示例小店"},
        "issued_on": "2026-11-23",
        "valid_until": "2031-11-23",
        "version": 1,
    }
    assert services.canonical(stored) == services.canonical(fresh(licence))


# --- revoking -----------------------------------------------------------------------------------


def test_revoke_needs_a_reason(licence, staff):
    for reason in ("", "   ", None):
        errors = refusal(services.licence_revoke, licence=licence, actor=staff, reason=reason)
        assert list(errors) == ["reason"]
    assert fresh(licence).status == VALID


def test_revoke_ends_the_licence_with_its_reason_and_is_audited(licence, staff):
    returned = services.licence_revoke(licence=licence, actor=staff, reason="  证照被吊销  ")
    assert returned.status == REVOKED and licence.status == REVOKED
    stored = fresh(licence)
    assert (stored.status, stored.status_reason) == (REVOKED, "证照被吊销")
    assert services.is_genuine(stored)  # still the licence that was issued
    event = events(licence, "licence.revoke")[0]
    assert (event.from_state, event.to_state, event.reason) == (VALID, REVOKED, "证照被吊销")
    assert event.actor == staff and event.channel == Channel.ADMIN


def test_revoking_twice_is_a_state_conflict(licence, staff):
    services.licence_revoke(licence=licence, actor=staff, reason="吊销")
    with pytest.raises(StateConflict) as conflict:
        services.licence_revoke(licence=fresh(licence), actor=staff, reason="再次吊销")
    assert list(conflict.value.message_dict) == ["status"]
    assert fresh(licence).status_reason == "吊销"
    assert len(events(licence, "licence.revoke")) == 1


def test_a_stale_copy_cannot_revoke_a_licence_replaced_meanwhile(licence, staff):
    stale = Licence.objects.get(pk=licence.pk)
    services.licence_replace(licence=licence, actor=staff, reason="换证")
    with pytest.raises(StateConflict):
        services.licence_revoke(licence=stale, actor=staff, reason="吊销")
    assert fresh(licence).status == REPLACED


# --- replacing ----------------------------------------------------------------------------------


def test_replace_issues_the_next_version_and_marks_the_old_one_replaced(licence, staff, clock):
    # Given a licence issued on Monday, when it is replaced a week later,
    clock.to(2026, 11, 30)
    new = services.licence_replace(
        licence=licence, actor=staff, reason="变更店名", data={"shop_name": "新店名"}
    )
    old, new = fresh(licence), fresh(new)
    # then the new one is the next version of the same serial, signed, genuine and valid,
    assert (new.serial, new.version) == (old.serial, 2)
    assert new.identifier == licence_identifier(
        type_code=old.licence_type.code,
        issuer_uscc=old.issuer.uscc,
        serial=old.serial,
        version=2,
    )
    assert new.identifier != old.identifier
    assert new.status == VALID and services.is_genuine(new)
    assert new.previous == old and old.successor == new
    assert (new.holder, new.issuer, new.licence_type) == (old.holder, old.issuer, old.licence_type)
    assert new.issued_on == dt.date(2026, 11, 30) and new.valid_until == dt.date(2031, 11, 30)
    # and the old one is replaced with the reason, still genuine;
    assert (old.status, old.status_reason) == (REPLACED, "变更店名")
    assert licence.status == REPLACED  # the caller's object follows
    assert services.is_genuine(old)
    # both are audited.
    (replaced,) = events(old, "licence.replace")
    assert replaced.payload == {"successor": new.identifier}
    assert (replaced.from_state, replaced.to_state, replaced.reason) == (
        VALID,
        REPLACED,
        "变更店名",
    )
    (issued,) = events(new, "licence.issue")
    assert issued.payload == {"replaces": old.identifier} and issued.actor == staff


def test_replace_merges_data_on_the_types_fields_only(licence, staff):
    new = services.licence_replace(
        licence=licence,
        actor=staff,
        reason="变更",
        data={"area": "150", "secret": "不该带上"},
    )
    assert fresh(new).data == {"shop_name": "示例小店", "area": "150"}


def test_replace_without_data_keeps_the_data(licence, staff):
    new = services.licence_replace(licence=licence, actor=staff, reason="补发")
    assert fresh(new).data == fresh(licence).data


def test_replace_needs_a_reason_and_a_valid_licence(licence, staff):
    assert list(refusal(services.licence_replace, licence=licence, actor=staff, reason=" ")) == [
        "reason"
    ]
    services.licence_replace(licence=licence, actor=staff, reason="换证")
    with pytest.raises(StateConflict):
        services.licence_replace(licence=fresh(licence), actor=staff, reason="再换")
    assert Licence.objects.count() == 2


def test_replace_signs_with_the_current_key(licence, staff):
    key = services.key_generate(department=licence.issuer)
    new = services.licence_replace(licence=licence, actor=staff, reason="换证")
    assert new.signing_key == key
    assert services.is_genuine(fresh(new)) and services.is_genuine(fresh(licence))


def test_a_replacement_can_be_replaced_again(licence, staff):
    second = services.licence_replace(licence=licence, actor=staff, reason="一换")
    third = services.licence_replace(licence=second, actor=staff, reason="二换")
    assert (third.serial, third.version) == (licence.serial, 3)
    assert fresh(second).status == REPLACED and fresh(third).previous == fresh(second)


def test_replace_without_a_key_changes_nothing(licence, staff):
    SigningKey.objects.filter(department=licence.issuer).update(is_active=False)
    assert "issuer" in refusal(
        services.licence_replace, licence=licence, actor=staff, reason="换证"
    )
    assert fresh(licence).status == VALID and Licence.objects.count() == 1


# --- expiry -------------------------------------------------------------------------------------


def _licence_until(valid_until: dt.date, **kwargs) -> Licence:
    """A licence valid until the given day (issued one year before it)."""
    issued_on = valid_until.replace(year=valid_until.year - 1)
    return issue(LicenceTypeFactory(validity_years=1), issued_on=issued_on, **kwargs)


def test_expire_due_expires_only_valid_licences_past_their_last_day(clock, staff):
    # Given, on Monday, licences ending on Monday, Tuesday and for good, one revoked;
    ends_monday = _licence_until(MONDAY)
    ends_tuesday = _licence_until(MONDAY + dt.timedelta(days=1))
    for_good = issue(LicenceTypeFactory(validity_years=None))
    revoked = _licence_until(MONDAY)
    services.licence_revoke(licence=revoked, actor=staff, reason="吊销")
    # when Tuesday comes,
    clock.to(2026, 11, 24)
    assert services.expire_due() == 1
    # then only the one that ended on Monday is expired,
    statuses = {
        name: fresh(lic).status
        for name, lic in [
            ("monday", ends_monday),
            ("tuesday", ends_tuesday),
            ("good", for_good),
            ("revoked", revoked),
        ]
    }
    assert statuses == {"monday": EXPIRED, "tuesday": VALID, "good": VALID, "revoked": REVOKED}
    # with an audit row.
    (event,) = events(ends_monday, "licence.expire")
    assert (event.from_state, event.to_state, event.channel) == (VALID, EXPIRED, "system")
    assert event.actor is None


def test_expire_due_is_idempotent(clock):
    licence = _licence_until(MONDAY)
    clock.to(2026, 12, 1)
    assert services.expire_due() == 1
    assert services.expire_due() == 0
    assert len(events(licence, "licence.expire")) == 1


def test_expire_due_takes_today_as_an_argument():
    licence = _licence_until(MONDAY)
    assert services.expire_due(today=MONDAY) == 0
    assert services.expire_due(today=dt.date(2026, 11, 24)) == 1
    assert fresh(licence).status == EXPIRED


def test_expire_due_among_limits_it(clock):
    mine, theirs = _licence_until(MONDAY), _licence_until(MONDAY)
    clock.to(2026, 11, 24)
    assert services.expire_due(among=Licence.objects.filter(holder=mine.holder)) == 1
    assert fresh(mine).status == EXPIRED and fresh(theirs).status == VALID
    assert services.expire_due(among=Licence.objects.filter(pk=mine.pk)) == 0


def test_an_expired_licence_can_no_longer_be_revoked_or_replaced(clock, staff):
    licence = _licence_until(MONDAY)
    clock.to(2026, 11, 24)
    services.expire_due()
    with pytest.raises(StateConflict):
        services.licence_revoke(licence=fresh(licence), actor=staff, reason="吊销")
    with pytest.raises(StateConflict):
        services.licence_replace(licence=fresh(licence), actor=staff, reason="换证")


def test_the_daily_task_expires(clock):
    from yimen.licences.tasks import expire_licences

    licence = _licence_until(MONDAY)
    clock.to(2026, 11, 25)
    assert expire_licences() == 1
    assert fresh(licence).status == EXPIRED


def test_replace_refuses_a_record_that_no_longer_matches_its_signature(licence, staff):
    # Re-signing an altered record would make it genuine again.
    altered = tamper(licence, data={"shop_name": "改过的店名"})
    with pytest.raises(StateConflict):
        services.licence_replace(licence=altered, actor=staff, reason="换证")
    assert Licence.objects.count() == 1
    assert fresh(licence).status == LicenceStatus.VALID


def test_a_licence_past_its_end_is_neither_replaced_nor_revoked_before_the_daily_expiry(
    staff, monkeypatch
):
    # Given a one-year licence issued 2025-11-24, read on 2026-11-26 before the daily task ran
    clock = FrozenTime(monkeypatch, at(2025, 11, 24))
    licence = issue(LicenceTypeFactory(validity_years=1))
    assert licence.valid_until == dt.date(2026, 11, 24)
    clock.to(2026, 11, 26)
    licence = fresh(licence)
    assert licence.status == LicenceStatus.VALID and services.is_genuine(licence)
    # Then neither a replacement (a new period) nor a revocation is made of it
    for change in (services.licence_replace, services.licence_revoke):
        with pytest.raises(StateConflict):
            change(licence=licence, actor=staff, reason="换证")
    assert Licence.objects.count() == 1
