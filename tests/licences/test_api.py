"""The licences API: each role and credential on each endpoint, the public catalogue and
verification (nothing personal, rate-limited), an applicant's own licences, the data-sharing
query of department systems (scoped to the token's department, 403 for no, a wrong or a
revoked token, audited with the identifier masked), revoking and replacing (409 for a licence
no longer valid), query counts of the lists, and the published schema.

The clock stands on Monday 2026-11-23 10:00 unless a test moves it."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from yimen.common import sm2
from yimen.common.identifiers import licence_identifier
from yimen.common.models import AuditEvent
from yimen.licences import services, tokens
from yimen.licences.api import views
from yimen.licences.choices import LicenceStatus
from yimen.licences.models import AccessToken, Licence
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory, make_item
from ..conftest import grant
from .factories import (
    LicenceTypeFactory,
    enterprise,
    issue,
    keyed_department,
    monday,
    person,
    tamper,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/licences"
SHOP = "示例小店"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # verification counts look-ups per address
    yield
    cache.clear()


def client_for(user=None, *, token: str | None = None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.default_format = "json"
    if user is not None:
        client.force_login(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def errors(response, code: int = 400) -> dict:
    assert response.status_code == code, (response.status_code, response.content)
    return response.json()


@pytest.fixture
def world():
    """Two issuing departments with a licence type each, a holder with licences of both
    (and some no longer valid), another holder, and a token for each department."""
    market = keyed_department(name="市市场监督管理局")
    health = keyed_department(name="市卫生健康局")
    FieldDefinitionFactory(key="shop_name", label="店名")
    shop = LicenceTypeFactory(issuer=market, name="食品经营许可证", code="SPJY")
    clinic = LicenceTypeFactory(issuer=health, name="医疗机构执业许可证", code="YLJG")
    holder = person(n=11)
    holder.name = "王小明"
    holder.save(update_fields=["name"])
    other = person(n=12)
    valid = issue(shop, holder, data={"shop_name": SHOP, "area": "120"})
    revoked = services.licence_revoke(licence=issue(shop, holder), actor=None, reason="停业")
    expired = issue(shop, holder, issued_on=dt.date(2020, 1, 2))  # 5 years: ended
    theirs = issue(clinic, holder)
    others = issue(shop, other)
    market_token, market_plain = tokens.token_create(department=market, name="市场监管审批系统")
    _health_token, health_plain = tokens.token_create(department=health, name="卫健系统")
    return SimpleNamespace(
        market=market,
        health=health,
        shop=shop,
        clinic=clinic,
        holder=holder,
        other=other,
        valid=valid,
        revoked=revoked,
        expired=expired,
        theirs=theirs,
        others=others,
        market_token=market_token,
        market_plain=market_plain,
        health_plain=health_plain,
    )


def private_bits(applicant) -> list[str]:
    return [applicant.name, applicant.identifier, str(applicant.public_id)]


# --- the catalogue (public) --------------------------------------------------------------------


class TestTypes:
    def test_anyone_reads_the_catalogue_with_its_lists(self, world):
        # given the shop licence is issued by an item and stands for a material
        version = make_item(department=world.market)
        material = MaterialTypeFactory(code="food-permit")
        world.shop.issuing_items.set([version.item])
        world.shop.replaces.set([material])
        for user in (None, world.holder.user, UserFactory()):
            # when anyone asks
            response = client_for(user).get(f"{BASE}/types/")
            # then every type is listed with its issuer, fields, items and materials
            assert response.status_code == 200
            rows = {row["code"]: row for row in response.json()["results"]}
            assert set(rows) == {"SPJY", "YLJG"}
            row = rows["SPJY"]
            assert row["issuer"]["uscc"] == world.market.uscc
            assert row["holder_kind"] == "person" and row["validity_years"] == 5
            assert row["fields"] == [
                {"key": "shop_name", "label": "店名"},
                {"key": "area", "label": "area"},  # not in the field dictionary
            ]
            assert row["issuing_items"] == [version.item.implementation_code]
            assert row["replaces"] == ["food-permit"]
            assert rows["YLJG"]["issuing_items"] == [] and rows["YLJG"]["replaces"] == []
        # a department system's token is no hindrance on a public endpoint
        assert client_for(token=world.market_plain).get(f"{BASE}/types/").status_code == 200

    def test_queries_do_not_grow_with_types(self, django_assert_max_num_queries):
        counts = []
        for _round in range(2):
            for _ in range(3):
                licence_type = LicenceTypeFactory()
                licence_type.replaces.set([MaterialTypeFactory(), MaterialTypeFactory()])
                licence_type.issuing_items.set([make_item().item])
            # count, types with issuers, their items, their materials, the field labels
            with django_assert_max_num_queries(5) as captured:
                response = client_for().get(f"{BASE}/types/")
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert response.json()["count"] == 6
        assert counts[0] == counts[1]


# --- verification (public) ---------------------------------------------------------------------


class TestVerify:
    def url(self, identifier: str) -> str:
        return f"{BASE}/verify/{identifier}/"

    def test_a_valid_licence_is_verified_with_nothing_personal(self, world):
        response = client_for().get(self.url(world.valid.identifier))
        assert response.status_code == 200
        body = response.json()
        assert body["verdict"] == "valid" and body["identifier"] == world.valid.identifier
        facts = body["facts"]
        assert facts["licence_type"] == {"code": "SPJY", "name": "食品经营许可证"}
        assert facts["issuer"] == {"name": world.market.name, "uscc": world.market.uscc}
        assert facts["holder"] == "王*明"
        assert facts["issued_on"] == "2026-11-23" and facts["valid_until"] == "2031-11-23"
        assert facts["successor"] is None
        content = response.content.decode()
        for bit in private_bits(world.holder):
            assert bit not in content
        assert SHOP not in content  # the data is not public either

    def test_each_verdict(self, world):
        new = services.licence_replace(licence=issue(world.shop, world.holder), actor=None,
                                       reason="变更", data={"shop_name": "新店"})  # fmt: skip
        old = Licence.objects.get(pk=new.previous_id)
        tampered = tamper(issue(world.shop, world.holder), data={"shop_name": "改过的"})
        expected = {
            world.revoked.identifier: "revoked",
            world.expired.identifier: "expired",
            old.identifier: "replaced",
            new.identifier: "valid",
            tampered.identifier: "not_genuine",
        }
        for identifier, verdict in expected.items():
            body = client_for().get(self.url(identifier)).json()
            assert body["verdict"] == verdict, identifier
        assert client_for().get(self.url(old.identifier)).json()["facts"]["successor"] == (
            new.identifier
        )
        # a record that no longer matches its signature shows nothing of itself
        assert client_for().get(self.url(tampered.identifier)).json()["facts"] is None

    def test_an_unknown_identifier_is_a_verdict_and_a_malformed_one_a_400(self, world):
        unknown = licence_identifier(type_code="SPJY", issuer_uscc=world.market.uscc, serial=999)
        body = client_for().get(self.url(unknown)).json()
        assert body["verdict"] == "unknown" and body["facts"] is None
        broken = world.valid.identifier[:-1] + ("0" if world.valid.identifier[-1] != "0" else "1")
        for bad in (broken, "1.2.3", "abc"):
            assert "identifier" in errors(client_for().get(self.url(bad)))

    def test_a_lower_case_identifier_is_read_as_upper_case(self, world):
        body = client_for().get(self.url(world.valid.identifier.lower())).json()
        assert body["verdict"] == "valid"

    def test_look_ups_are_rate_limited_per_address(self, world, monkeypatch):
        monkeypatch.setattr(views, "VERIFY_LIMIT", 2)
        client = client_for()
        url = self.url(world.valid.identifier)
        assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
        # another address is not held back
        assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 200


# --- my licences -------------------------------------------------------------------------------


class TestMine:
    URL = f"{BASE}/mine/"

    def test_anonymous_is_refused(self, world):
        assert client_for().get(self.URL).status_code == 403

    def test_an_applicant_sees_their_own_licences_with_data_valid_first(self, world):
        response = client_for(world.holder.user).get(self.URL)
        assert response.status_code == 200
        rows = response.json()["results"]
        assert {r["identifier"] for r in rows[:2]} == {
            world.valid.identifier,
            world.theirs.identifier,
        }
        assert {r["identifier"] for r in rows} == {
            world.valid.identifier,
            world.revoked.identifier,
            world.expired.identifier,
            world.theirs.identifier,
        }
        assert [r["status"] for r in rows[:2]] == ["valid", "valid"]
        mine = next(r for r in rows if r["identifier"] == world.valid.identifier)
        assert mine["data"] == {"shop_name": SHOP, "area": "120"}
        assert mine["pdf_url"] == f"/licences/{world.valid.public_id}/licence.pdf"
        revoked = next(r for r in rows if r["identifier"] == world.revoked.identifier)
        assert revoked["status_reason"] == "停业"
        # expiry was applied on read
        assert Licence.objects.get(pk=world.expired.pk).status == LicenceStatus.EXPIRED

    def test_another_applicant_sees_only_theirs(self, world):
        rows = client_for(world.other.user).get(self.URL).json()["results"]
        assert [r["identifier"] for r in rows] == [world.others.identifier]

    def test_an_enterprise_account_sees_the_enterprises(self, world):
        firm = enterprise(n=31)
        firm_type = LicenceTypeFactory(issuer=world.market, holder_kind="enterprise")
        licence = issue(firm_type, firm)
        rows = client_for(firm.user).get(self.URL).json()["results"]
        assert [r["identifier"] for r in rows] == [licence.identifier]

    def test_staff_have_none(self, world):
        head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=world.market)
        assert client_for(head).get(self.URL).json()["results"] == []

    def test_a_token_reads_nothing_here(self, world):
        assert client_for(token=world.market_plain).get(self.URL).status_code == 403

    def test_queries_do_not_grow_with_licences(self, world, django_assert_max_num_queries):
        client = client_for(world.holder.user)
        client.get(self.URL)  # expiry applied once
        counts = []
        for _round in range(2):
            services.licence_replace(licence=issue(world.shop, world.holder), actor=None,
                                     reason="变更")  # fmt: skip
            # session, user with applicant, expiry check, count, the page
            with django_assert_max_num_queries(5) as captured:
                response = client.get(self.URL)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert response.json()["count"] == 8
        assert counts[0] == counts[1]


# --- data sharing (department systems) -------------------------------------------------------


class TestHolders:
    def url(self, identifier: str) -> str:
        return f"{BASE}/holders/{identifier}/licences/"

    def test_the_issuing_departments_token_reads_the_holders_valid_licences(self, world):
        # when the market regulator's system asks for the holder's licences
        response = client_for(token=world.market_plain).get(self.url(world.holder.id_number))
        # then only the valid licence of its own type comes back, with its data
        assert response.status_code == 200
        rows = response.json()
        assert [r["identifier"] for r in rows] == [world.valid.identifier]
        row = rows[0]
        assert row["licence_type"] == {"code": "SPJY", "name": "食品经营许可证"}
        assert row["data"] == {"shop_name": SHOP, "area": "120"}
        assert row["holder_name"] == "王小明"
        # and the signature can be checked from what was received
        assert sm2.verify(row["public_key"], row["signed"].encode(), row["signature"])
        # and the use of the token is noted
        world.market_token.refresh_from_db()
        assert world.market_token.last_used_at is not None

    def test_another_departments_token_sees_nothing_of_other_departments_types(self, world):
        rows = client_for(token=world.health_plain).get(self.url(world.holder.id_number)).json()
        assert [r["identifier"] for r in rows] == [world.theirs.identifier]
        # a holder with only the market's licences: nothing for the health system
        assert (
            client_for(token=world.health_plain).get(self.url(world.other.id_number)).json() == []
        )

    def test_an_enterprise_is_found_by_its_credit_code(self, world):
        firm = enterprise(n=32)
        licence = issue(LicenceTypeFactory(issuer=world.market, holder_kind="enterprise"), firm)
        rows = client_for(token=world.market_plain).get(self.url(firm.uscc)).json()
        assert [r["identifier"] for r in rows] == [licence.identifier]

    def test_a_lower_case_x_is_read_as_upper_case(self, world):
        holder = person(n=19)
        assert holder.id_number.endswith("X")  # the check character of this number
        licence = issue(world.shop, holder)
        rows = client_for(token=world.market_plain).get(self.url(holder.id_number.lower())).json()
        assert [r["identifier"] for r in rows] == [licence.identifier]

    def test_an_unknown_holder_looks_like_a_holder_without_licences(self, world):
        nobody = person(n=13)  # known, without licences
        unknown = nobody.id_number
        client = client_for(token=world.market_plain)
        with_none = client.get(self.url(nobody.id_number))
        nobody.delete()
        not_known = client.get(self.url(unknown))
        assert with_none.status_code == not_known.status_code == 200
        assert with_none.content == not_known.content == b"[]"

    def test_a_tampered_licence_is_not_handed_out(self, world):
        tamper(world.valid, data={"shop_name": "改过的"})
        rows = client_for(token=world.market_plain).get(self.url(world.holder.id_number)).json()
        assert rows == []
        event = AuditEvent.objects.get(action="licence.share.query")
        assert event.payload["not_genuine"] == [world.valid.identifier]

    @pytest.mark.parametrize("bad", ["123", "44060419900101001", "440604199001010019", "A" * 18])
    def test_a_malformed_identifier_is_a_400_and_audited(self, world, bad):
        body = errors(client_for(token=world.market_plain).get(self.url(bad)))
        assert set(body) == {"identifier"}
        event = AuditEvent.objects.get(action="licence.share.query")
        assert event.payload["malformed"] is True and event.payload["licences"] == []

    def test_every_query_is_audited_with_the_identifier_masked(self, world):
        client_for(token=world.market_plain).get(self.url(world.holder.id_number))
        client_for(token=world.health_plain).get(self.url(world.other.id_number))
        events = list(AuditEvent.objects.filter(action="licence.share.query").order_by("pk"))
        assert len(events) == 2
        first, second = events
        assert first.object_type == "licences.accesstoken"
        assert first.object_id == str(world.market_token.pk)
        assert first.channel == "api" and first.actor is None
        assert first.payload == {
            "token": world.market_plain[:8],
            "department": world.market.uscc,
            "holder": "4406**********" + world.holder.id_number[-4:],
            "malformed": False,
            "licences": [world.valid.identifier],
            "not_genuine": [],
        }
        assert second.payload["department"] == world.health.uscc
        assert second.payload["licences"] == []
        for event in events:
            text = str(event.payload) + event.reason + event.actor_label
            assert world.holder.id_number not in text and world.other.id_number not in text
            assert world.market_plain not in text and world.health_plain not in text

    @pytest.mark.parametrize(
        "credential",
        ["none", "garbage", "revoked", "bearer", "applicant", "head", "sysadmin", "inactive"],
    )
    def test_anything_but_a_valid_token_is_a_403(self, world, credential):
        head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=world.market)
        sysadmin = grant(UserFactory(), Role.SYSTEM_ADMIN)
        if credential == "revoked":
            tokens.token_revoke(token=world.market_token, actor=None)
        if credential == "inactive":
            world.market.is_active = False
            world.market.save(update_fields=["is_active"])
        client = {
            "none": lambda: client_for(),
            "garbage": lambda: client_for(token="ymn_" + "A" * 43),
            "revoked": lambda: client_for(token=world.market_plain),
            "bearer": lambda: APIClient(HTTP_AUTHORIZATION=f"Bearer {world.market_plain}"),
            "applicant": lambda: client_for(world.holder.user),
            "head": lambda: client_for(head),
            "sysadmin": lambda: client_for(sysadmin),
            "inactive": lambda: client_for(token=world.market_plain),
        }[credential]()
        response = client.get(self.url(world.holder.id_number))
        assert response.status_code == 403
        assert "WWW-Authenticate" not in response
        assert world.valid.identifier not in response.content.decode()
        # a refused request is not a query: nothing is audited
        assert not AuditEvent.objects.filter(action="licence.share.query").exists()

    def test_the_token_is_never_stored_or_logged_in_clear(self, world, caplog):
        with caplog.at_level(logging.DEBUG):
            client_for(token=world.market_plain).get(self.url(world.holder.id_number))
            tokens.token_revoke(token=world.market_token, actor=None)
            refused = client_for(token=world.market_plain).get(self.url(world.holder.id_number))
        assert refused.status_code == 403
        assert world.market_plain not in caplog.text
        assert world.market_plain not in refused.content.decode()
        stored = AccessToken.objects.get(pk=world.market_token.pk)
        assert stored.key_hash == hashlib.sha256(world.market_plain.encode()).hexdigest()
        for event in AuditEvent.objects.all():
            assert world.market_plain not in str(event.payload)
            assert world.market_plain[8:] not in str(event.payload)

    def test_queries_do_not_grow_with_licences(self, world, django_assert_max_num_queries):
        client = client_for(token=world.market_plain)
        url = self.url(world.holder.id_number)
        client.get(url)  # expiry applied once, the token's use noted
        counts = []
        for _round in range(2):
            issue(world.shop, world.holder)
            issue(world.shop, world.holder)
            # token, holder, expiry check, licences, and the audit row (head, insert, hash)
            with django_assert_max_num_queries(10) as captured:
                response = client.get(url)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert len(response.json()) == 5
        assert counts[0] == counts[1]


# --- staff: revoke and replace -----------------------------------------------------------------


@pytest.fixture
def staff(world):
    return SimpleNamespace(
        head=grant(UserFactory(), Role.DEPARTMENT_HEAD, department=world.market),
        other_head=grant(UserFactory(), Role.DEPARTMENT_HEAD, department=world.health),
        reviewer=grant(UserFactory(), Role.REVIEWER, department=world.market),
        sysadmin=grant(UserFactory(), Role.SYSTEM_ADMIN),
    )


class TestRevoke:
    def url(self, licence) -> str:
        return f"{BASE}/{licence.public_id}/revoke/"

    @pytest.mark.parametrize("who", ["head", "sysadmin"])
    def test_a_head_of_the_issuer_or_a_system_admin_revokes(self, world, staff, who):
        user = getattr(staff, who)
        response = client_for(user).post(self.url(world.valid), {"reason": "依法吊销"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "revoked" and body["status_reason"] == "依法吊销"
        assert body["holder"]["name"] == "王小明"
        event = AuditEvent.objects.get(action="licence.revoke", object_id=str(world.valid.pk))
        assert event.actor == user and event.reason == "依法吊销" and event.channel == "admin"

    @pytest.mark.parametrize(
        ("who", "code"),
        [
            ("anonymous", 403),
            ("holder", 403),
            ("reviewer", 403),
            ("token", 403),
            ("other_head", 404),
        ],
    )
    def test_anyone_else_is_refused(self, world, staff, who, code):
        if who == "token":  # the issuing department's own system
            client = client_for(token=world.market_plain)
        else:
            client = client_for({"holder": world.holder.user}.get(who) or getattr(staff, who, None))
        response = client.post(self.url(world.valid), {"reason": "x"})
        assert response.status_code == code
        assert Licence.objects.get(pk=world.valid.pk).status == LicenceStatus.VALID

    def test_the_reason_is_required(self, world, staff):
        for body in ({"reason": "  "}, {}):
            assert "reason" in errors(client_for(staff.head).post(self.url(world.valid), body))
        assert Licence.objects.get(pk=world.valid.pk).status == LicenceStatus.VALID

    def test_a_licence_no_longer_valid_is_a_409(self, world, staff):
        client = client_for(staff.head)
        assert "status" in errors(client.post(self.url(world.revoked), {"reason": "再"}), 409)
        # expiry is applied before: an ended licence is expired, not revoked
        assert "status" in errors(client.post(self.url(world.expired), {"reason": "再"}), 409)
        assert Licence.objects.get(pk=world.expired.pk).status == LicenceStatus.EXPIRED

    def test_an_unknown_licence_is_a_404(self, staff):
        url = f"{BASE}/00000000-0000-0000-0000-000000000000/revoke/"
        assert client_for(staff.sysadmin).post(url, {"reason": "x"}).status_code == 404


class TestReplace:
    def url(self, licence) -> str:
        return f"{BASE}/{licence.public_id}/replace/"

    def test_a_head_replaces_with_new_data(self, world, staff):
        response = client_for(staff.head).post(
            self.url(world.valid), {"reason": "名称变更", "data": {"shop_name": "新名小店"}}
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["version"] == 2 and body["status"] == "valid"
        assert body["data"] == {"shop_name": "新名小店", "area": "120"}
        assert body["previous"] == world.valid.identifier
        old = Licence.objects.get(pk=world.valid.pk)
        assert old.status == LicenceStatus.REPLACED and old.status_reason == "名称变更"
        new = Licence.objects.get(identifier=body["identifier"])
        assert services.is_genuine(new)
        assert AuditEvent.objects.filter(action="licence.replace", actor=staff.head).exists()

    def test_the_data_is_optional(self, world, staff):
        response = client_for(staff.sysadmin).post(self.url(world.valid), {"reason": "换证"})
        assert response.status_code == 201
        assert response.json()["data"] == {"shop_name": SHOP, "area": "120"}

    def test_a_field_the_licence_does_not_carry_is_a_400(self, world, staff):
        body = errors(
            client_for(staff.head).post(
                self.url(world.valid), {"reason": "换证", "data": {"owner": "李四"}}
            )
        )
        assert set(body) == {"data"} and "owner" in body["data"][0]
        assert "reason" in errors(
            client_for(staff.head).post(self.url(world.valid), {"reason": ""})
        )
        assert Licence.objects.get(pk=world.valid.pk).status == LicenceStatus.VALID

    def test_a_replaced_licence_cannot_be_replaced_again(self, world, staff):
        client = client_for(staff.head)
        assert client.post(self.url(world.valid), {"reason": "一"}).status_code == 201
        assert "status" in errors(client.post(self.url(world.valid), {"reason": "二"}), 409)

    @pytest.mark.parametrize(
        ("who", "code"),
        [
            ("anonymous", 403),
            ("holder", 403),
            ("reviewer", 403),
            ("token", 403),
            ("other_head", 404),
        ],
    )
    def test_anyone_else_is_refused(self, world, staff, who, code):
        if who == "token":  # the issuing department's own system
            client = client_for(token=world.market_plain)
        else:
            client = client_for({"holder": world.holder.user}.get(who) or getattr(staff, who, None))
        response = client.post(self.url(world.valid), {"reason": "x"})
        assert response.status_code == code
        assert Licence.objects.get(pk=world.valid.pk).status == LicenceStatus.VALID


# --- the schema ------------------------------------------------------------------------------


def test_schema_lists_the_licences_paths_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    # A message names the source file, and the view and serializers it was found in.
    ours = ["yimen/licences/", "yimen.licences."] + [
        name for name, value in vars(views).items() if name.endswith("View") and value
    ]
    troubles = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if any(mark in message for mark in ours)
    ]
    assert troubles == []
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "types/": {"get"},
        "verify/{identifier}/": {"get"},
        "mine/": {"get"},
        "holders/{identifier}/licences/": {"get"},
        "{public_id}/revoke/": {"post"},
        "{public_id}/replace/": {"post"},
    }
    for path, methods in expected.items():
        operations = paths[f"{BASE}/{path}"]
        assert set(operations) == methods, path
        for operation in operations.values():
            assert operation["tags"] == ["licences"], path
    # the data-sharing query takes the token only
    holders = paths[f"{BASE}/holders/{{identifier}}/licences/"]["get"]
    assert holders["security"] == [{"departmentToken": []}]
    assert schema["components"]["securitySchemes"]["departmentToken"]["in"] == "header"
