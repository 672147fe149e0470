"""The reads of the licences module (yimen.licences.selectors): the public verification and
its verdicts, a holder's licences, and the licences that stand for a material (用证).

The clock stands on Monday 2026-11-23 unless a test moves it."""

import datetime as dt

import pytest

from yimen.common.identifiers import licence_identifier
from yimen.common.models import AuditEvent
from yimen.licences import selectors, services
from yimen.licences.choices import LicenceStatus, Verdict
from yimen.licences.models import Licence

from ..accounts.factories import UserFactory
from ..catalog.factories import MaterialTypeFactory
from .factories import (
    MONDAY,
    LicenceTypeFactory,
    fresh,
    issue,
    monday,
    new_holder,
    person,
    tamper,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture
def staff():
    return UserFactory()


@pytest.fixture
def holder():
    applicant = person(n=7)
    applicant.name = "王小明"
    applicant.save(update_fields=["name"])
    return applicant


@pytest.fixture
def licence(holder):
    return issue(LicenceTypeFactory(validity_years=1), holder)


# --- verify -------------------------------------------------------------------------------------


def test_a_valid_licence_is_genuine_and_valid(licence, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        result = selectors.verify(licence.identifier)
    assert result.identifier == licence.identifier
    assert result.verdict == Verdict.VALID
    assert result.licence == licence
    assert result.verdict_label == "Genuine and valid"


def test_the_holder_is_masked(licence):
    result = selectors.verify(licence.identifier)
    assert result.masked_holder == "王*明"
    assert "小" not in result.masked_holder


def test_lower_case_and_spaces_are_accepted(licence):
    result = selectors.verify(f"  {licence.identifier.lower()}\n")
    assert result.verdict == Verdict.VALID
    assert result.identifier == licence.identifier
    assert result.licence == licence


def test_an_expired_licence_is_genuine_but_expired(licence, clock):
    services.expire_due(today=dt.date(2027, 11, 24))
    result = selectors.verify(licence.identifier)
    assert result.verdict == Verdict.EXPIRED
    assert result.verdict_label == "Genuine, but expired"


def test_a_licence_past_its_last_day_becomes_expired_on_reading(licence, clock):
    # Given a licence valid until 2027-11-23 and no daily run since,
    assert licence.valid_until == dt.date(2027, 11, 23)
    # on its last day it is valid;
    clock.to(2027, 11, 23, 23, 59)
    assert selectors.verify(licence.identifier).verdict == Verdict.VALID
    # the next day, reading it expires it: the verdict, the row and the audit agree.
    clock.to(2027, 11, 24, 0, 1)
    result = selectors.verify(licence.identifier)
    assert result.verdict == Verdict.EXPIRED
    assert result.licence.status == LicenceStatus.EXPIRED
    assert fresh(licence).status == LicenceStatus.EXPIRED
    assert (
        AuditEvent.objects.filter(action="licence.expire", object_id=str(licence.pk)).count() == 1
    )


def test_a_revoked_licence_is_genuine_but_revoked(licence, staff):
    services.licence_revoke(licence=licence, actor=staff, reason="吊销")
    result = selectors.verify(licence.identifier)
    assert result.verdict == Verdict.REVOKED
    assert result.verdict_label == "Genuine, but revoked"


def test_a_replaced_licence_points_to_a_valid_successor(licence, staff):
    new = services.licence_replace(licence=licence, actor=staff, reason="换证")
    assert selectors.verify(licence.identifier).verdict == Verdict.REPLACED
    assert selectors.verify(new.identifier).verdict == Verdict.VALID


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"shop_name": "另一家店"}},
        {"valid_until": dt.date(2099, 1, 1)},
        {"issued_on": dt.date(2026, 1, 1)},
    ],
    ids=["data", "valid until", "issued on"],
)
def test_a_tampered_licence_is_not_genuine(licence, change):
    tamper(licence, **change)
    result = selectors.verify(licence.identifier)
    assert result.verdict == Verdict.NOT_GENUINE
    assert result.verdict_label == "Not genuine: the signature does not match"
    assert result.licence == licence


def test_a_tampered_holder_name_is_not_genuine(licence, holder):
    holder.name = "王大明"
    holder.save(update_fields=["name"])
    assert selectors.verify(licence.identifier).verdict == Verdict.NOT_GENUINE


def test_not_genuine_wins_over_the_status(licence, staff):
    # A revoked licence whose row was then edited is reported as not genuine, not revoked.
    services.licence_revoke(licence=licence, actor=staff, reason="吊销")
    tamper(licence, data={"shop_name": "伪造"})
    assert selectors.verify(licence.identifier).verdict == Verdict.NOT_GENUINE


def test_a_tampered_expiry_date_cannot_make_an_expired_licence_valid(licence, clock):
    # Given a licence past its last day, when someone pushes its date on in the database,
    clock.to(2028, 1, 10)
    tamper(licence, valid_until=dt.date(2030, 1, 1))
    # then it does not read as valid.
    assert selectors.verify(licence.identifier).verdict == Verdict.NOT_GENUINE


@pytest.mark.parametrize(
    "identifier",
    ["", None, "   ", "abc", "1.2.156.3005.2", "1.2.156.3005.2.JYXK.X.1.001.0"],
    ids=["empty", "none", "blank", "garbage", "root only", "malformed"],
)
def test_a_malformed_identifier_is_unknown(identifier):
    result = selectors.verify(identifier)
    assert result.verdict == Verdict.UNKNOWN
    assert result.licence is None and result.masked_holder == ""
    assert result.verdict_label == "No licence has this identifier"


def test_a_well_formed_identifier_nobody_issued_is_unknown(licence):
    unknown = licence_identifier(
        type_code=licence.licence_type.code,
        issuer_uscc=licence.issuer.uscc,
        serial=licence.serial + 1,
    )
    result = selectors.verify(unknown)
    assert (result.verdict, result.licence) == (Verdict.UNKNOWN, None)


def test_an_identifier_with_a_wrong_check_character_is_unknown(licence):
    wrong = next(c for c in "0123456789" if c != licence.identifier[-1])
    assert selectors.verify(licence.identifier[:-1] + wrong).verdict == Verdict.UNKNOWN


def test_verifying_one_licence_does_not_expire_others(licence, clock):
    other = issue(LicenceTypeFactory(validity_years=1))
    clock.to(2027, 12, 1)
    selectors.verify(licence.identifier)
    assert fresh(other).status == LicenceStatus.VALID


# --- licences_of --------------------------------------------------------------------------------


def _issued(holder, day: dt.date, **type_kwargs) -> Licence:
    return issue(LicenceTypeFactory(**type_kwargs), holder, issued_on=day)


def test_licences_of_shows_the_holders_only(holder):
    mine = _issued(holder, MONDAY)
    issue()  # someone else's
    assert list(selectors.licences_of(holder)) == [mine]


def test_licences_of_lists_valid_ones_first_newest_first(holder, staff):
    # Given valid, revoked and expired licences issued on different days,
    old_valid = _issued(holder, dt.date(2026, 1, 5))
    new_valid = _issued(holder, dt.date(2026, 11, 2))
    revoked = _issued(holder, dt.date(2026, 11, 20))
    services.licence_revoke(licence=revoked, actor=staff, reason="吊销")
    expired = _issued(holder, dt.date(2020, 1, 6), validity_years=1)
    # the valid ones come first, newest first, then the others, newest first.
    assert list(selectors.licences_of(holder)) == [new_valid, old_valid, revoked, expired]


def test_licences_of_applies_expiry_on_read(holder, clock):
    licence = _issued(holder, MONDAY, validity_years=1)
    clock.to(2027, 11, 24)
    (read,) = selectors.licences_of(holder)
    assert read == licence and read.status == LicenceStatus.EXPIRED
    assert fresh(licence).status == LicenceStatus.EXPIRED


def test_licences_of_reads_in_constant_queries(holder, django_assert_num_queries):
    for day in (1, 2, 3):
        _issued(holder, dt.date(2026, 11, day))

    def read():
        return [
            (lic.licence_type.name, lic.issuer.name, lic.holder.name, lic.signing_key.public_key)
            for lic in selectors.licences_of(holder)
        ]

    with django_assert_num_queries(2):  # the expiry's look-up, then the list
        assert len(read()) == 3
    for day in (4, 5, 6):
        _issued(holder, dt.date(2026, 11, day))
    with django_assert_num_queries(2):
        assert len(read()) == 6


# --- replacing ----------------------------------------------------------------------------------


@pytest.fixture
def materials():
    return {name: MaterialTypeFactory(name=name) for name in ("营业执照", "身份证", "租赁合同")}


def test_replacing_maps_each_material_to_a_valid_licence_of_the_holder(holder, materials):
    licence_type = LicenceTypeFactory(replaces=[materials["营业执照"], materials["身份证"]])
    licence = issue(licence_type, holder)
    ids = [m.pk for m in materials.values()]
    assert selectors.replacing(holder, ids) == {
        materials["营业执照"].pk: licence,
        materials["身份证"].pk: licence,
    }
    # only the material types asked about
    assert selectors.replacing(holder, {materials["身份证"].pk}) == {
        materials["身份证"].pk: licence
    }
    assert selectors.replacing(holder, []) == {}


def test_replacing_ignores_other_holders_licences(holder, materials):
    licence_type = LicenceTypeFactory(replaces=[materials["营业执照"]])
    issue(licence_type, new_holder())
    assert selectors.replacing(holder, [materials["营业执照"].pk]) == {}


def test_replacing_ignores_revoked_replaced_and_expired_licences(holder, materials, staff, clock):
    material = materials["营业执照"]
    revoked = issue(LicenceTypeFactory(replaces=[material]), holder)
    services.licence_revoke(licence=revoked, actor=staff, reason="吊销")
    expired = issue(LicenceTypeFactory(replaces=[material]), holder, issued_on=dt.date(2020, 1, 6))
    assert expired.status == LicenceStatus.EXPIRED
    assert selectors.replacing(holder, [material.pk]) == {}
    # A replaced licence does not stand for it; its valid successor does.
    replaced = issue(LicenceTypeFactory(replaces=[material]), holder)
    successor = services.licence_replace(licence=replaced, actor=staff, reason="换证")
    assert selectors.replacing(holder, [material.pk]) == {material.pk: successor}


def test_replacing_ignores_a_licence_that_expires_on_reading(holder, materials, clock):
    material = materials["营业执照"]
    issue(LicenceTypeFactory(replaces=[material], validity_years=1), holder)
    assert list(selectors.replacing(holder, [material.pk])) == [material.pk]
    clock.to(2027, 11, 24)
    assert selectors.replacing(holder, [material.pk]) == {}


def test_replacing_ignores_a_licence_type_that_replaces_nothing_asked(holder, materials):
    issue(LicenceTypeFactory(replaces=[materials["租赁合同"]]), holder)
    issue(LicenceTypeFactory(), holder)  # replaces nothing
    assert selectors.replacing(holder, [materials["营业执照"].pk]) == {}


def test_replacing_reads_in_constant_queries(holder, materials, django_assert_max_num_queries):
    ids = [m.pk for m in materials.values()]
    for material in materials.values():
        issue(LicenceTypeFactory(replaces=[material]), holder)
    with django_assert_max_num_queries(3):  # expiry, licences, their material types
        assert len(selectors.replacing(holder, ids)) == 3


def test_replacing_ignores_a_licence_that_no_longer_matches_its_signature(holder, materials):
    material = materials["营业执照"]
    licence = issue(LicenceTypeFactory(replaces=[material]), holder)
    assert selectors.replacing(holder, [material.pk]) == {material.pk: licence}
    tamper(licence, data={"shop_name": "改过的店名"})
    assert selectors.replacing(holder, [material.pk]) == {}
