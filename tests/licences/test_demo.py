"""The demo e-licences: `load_demo` sets up the licence catalogue and a signing key for every
issuing department before the cases, so that the demo cases reaching 制证 issue signed
licences (the demo company's 营业执照 among them, which then stands for the business licence
its change of registration asks for: 零提交); staff registered a few paper licences, one
since replaced, one revoked, one expired; every licence is genuine and the verify page tells
each state, and a tampered one; loading again adds nothing.

The demo is loaded once for the module with the clock on Monday 2026-11-23 at 10:30."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.cases.factories import at
from yimen.accounts.models import Applicant
from yimen.accounts.selectors import applicant_by_identifier
from yimen.cases.choices import CaseStatus
from yimen.cases.models import Case, CaseMaterial
from yimen.catalog.models import FieldDefinition, ItemVersion, MaterialType
from yimen.common import audit
from yimen.common.identifiers import licence_identifier_error
from yimen.common.models import AuditEvent
from yimen.demo import cases as demo_cases
from yimen.demo import licences as demo_licences
from yimen.demo.catalogue import ITEMS
from yimen.demo.loader import STEPS, Report, department_uscc, implementation_code
from yimen.licences import selectors, services
from yimen.licences.choices import LicenceStatus, Verdict
from yimen.licences.models import Licence, LicenceType, SigningKey

from .factories import tamper

NOW = at(2026, 11, 23, 10, 30)
TODAY = NOW.date()
S = LicenceStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city loaded once for this module at NOW, rolled back after; the clock stays
    at NOW while the module's tests run."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        django_db_blocker.unblock(),
        translation.override("en"),
        mock.patch("django.utils.timezone.now", return_value=NOW),
        transaction.atomic(),
    ):
        call_command("load_demo", "--no-progress", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def _holder(name: str) -> Applicant:
    return applicant_by_identifier(identifier=demo_cases.identifier(name))


def _type(key: str) -> LicenceType:
    kind = next(k for k in demo_licences.TYPES if k.key == key)
    return LicenceType.objects.get(code=f"{department_uscc(kind.department)}{kind.sequence:03d}")


def _paper(kind: str, holder: str) -> Licence:
    return Licence.objects.get(
        licence_type=_type(kind), holder=_holder(holder), version=1, registered_by__isnull=False
    )


@pytest.fixture
def licences(demo, db):
    """The demo's licences of each state, by what the tests call them."""
    business = MaterialType.objects.get(code="business-licence").pk
    replaced = _paper("business", demo_cases.COMPANY)
    return {
        # the one that stands for the business licence the company's applications ask for
        "valid": selectors.replacing(_holder(demo_cases.COMPANY), {business})[business],
        "replaced": replaced,
        "successor": Licence.objects.get(previous=replaced),
        "revoked": _paper("food", demo_cases.TECH),
        "expired": _paper("food", demo_cases.FOODS),
    }


# --- the catalogue and the keys --------------------------------------------------------------


def test_the_catalogue_has_the_demo_licence_types(demo, db):
    # Given the loaded demo / then each type of the demo is there, its code the issuing
    # department's credit code and a sequence, its fields in the field dictionary, issued
    # by items of its own department
    types = LicenceType.objects.prefetch_related("issuing_items", "replaces")
    assert types.count() == len(demo_licences.TYPES) == 5
    dictionary = set(FieldDefinition.objects.values_list("key", flat=True))
    for licence_type in types.select_related("issuer"):
        assert licence_type.code[:18] == licence_type.issuer.uscc and len(licence_type.code) == 21
        assert licence_type.fields and set(licence_type.fields) <= dictionary
        items = list(licence_type.issuing_items.all())
        assert items and all(item.department_id == licence_type.issuer_id for item in items)
    # and the business licence, a firm's or a sole trader's, stands for the material
    business = {t.name for t in types if "business-licence" in {m.code for m in t.replaces.all()}}
    assert business == {"营业执照", "营业执照（个体工商户）"}
    assert _type("food").validity_years == 5 and _type("business").validity_years is None


def test_every_issuing_department_has_one_active_key(demo, db):
    issuers = set(LicenceType.objects.values_list("issuer", flat=True))
    assert len(issuers) == 4
    for issuer in issuers:
        assert SigningKey.objects.filter(department=issuer, is_active=True).count() == 1
    # and every licence is signed by its issuer's key
    assert not Licence.objects.exclude(signing_key__department=F("issuer"))


# --- every licence --------------------------------------------------------------------------


def test_every_demo_licence_is_genuine_with_a_well_formed_identifier(demo, db):
    licences = Licence.objects.select_related("licence_type", "holder", "issuer", "signing_key")
    # (the 10 of yimen.demo.licences and the cases, and the business licence of the demo
    # 开办企业 application, yimen.demo.joint)
    assert licences.count() == 11
    for licence in licences:
        assert services.is_genuine(licence), licence.identifier
        assert licence_identifier_error(licence.identifier) is None
        assert licence.identifier.startswith(f"1.2.156.3005.2.{licence.licence_type.code}.")
    assert audit.verify() is None


@pytest.mark.parametrize(
    ("which", "verdict"),
    [
        ("valid", Verdict.VALID),
        ("successor", Verdict.VALID),
        ("replaced", Verdict.REPLACED),
        ("revoked", Verdict.REVOKED),
        ("expired", Verdict.EXPIRED),
    ],
)
def test_the_verdict_on_each_demo_licence(licences, which, verdict):
    licence = licences[which]
    found = selectors.verify(licence.identifier)
    assert found.verdict == verdict
    assert found.licence == licence
    assert found.masked_holder and found.masked_holder != licence.holder.name


@pytest.mark.parametrize("which", ["valid", "revoked", "expired", "replaced"])
def test_the_verify_page_tells_each_state(licences, client, which):
    # Given a demo licence's QR code followed / then the page gives its verdict, with the
    # holder's name masked
    licence = licences[which]
    response = client.get(reverse("licences:verify_identifier", args=[licence.identifier]))
    assert response.status_code == 200
    assert response.context["verdict"] == which
    page = response.content.decode()
    assert f'data-verdict="{which}"' in page
    assert licence.holder.name not in page
    assert response.context["facts"]["holder"] in page


def test_the_verify_page_detects_a_tampered_demo_licence(licences, client):
    # Given the company's licence edited in the database behind the services' back
    licence = tamper(
        licences["valid"], data={**licences["valid"].data, "registered_capital": "10000"}
    )
    # Then it is no longer genuine, on the verify page too
    assert not services.is_genuine(licence)
    assert selectors.verify(licence.identifier).verdict == Verdict.NOT_GENUINE
    response = client.get(reverse("licences:verify_identifier", args=[licence.identifier]))
    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.NOT_GENUINE
    assert response.context["facts"] is None
    page = response.content.decode()
    assert 'data-verdict="not_genuine"' in page
    assert licence.data["enterprise_name"] not in page


# --- issued by cases -----------------------------------------------------------------------------


def test_the_company_holds_a_valid_business_licence_issued_at_certification(licences):
    # Given the licence that stands for the business licence of the demo company (零提交)
    licence = licences["valid"]
    assert licence.licence_type.name == "营业执照" and licence.status == S.VALID
    assert licence.holder.name == demo_cases.COMPANY
    # Then it came from a set-up case that was approved and went through 制证
    case = licence.case
    assert case is not None and case.applicant == licence.holder
    assert case.status in (CaseStatus.READY, CaseStatus.DELIVERED, CaseStatus.ARCHIVED)
    company_setup = next(e for e in ITEMS if e["key"] == "company-setup")
    assert case.item_version.item.implementation_code == implementation_code(company_setup)
    produced = AuditEvent.objects.get(
        object_type="cases.case", object_id=str(case.pk), action="case.produce"
    )
    issued = AuditEvent.objects.get(
        object_type="licences.licence", object_id=str(licence.pk), action="licence.issue"
    )
    assert issued.occurred_at == produced.occurred_at
    assert licence.issued_on == produced.occurred_at.astimezone(NOW.tzinfo).date()
    # and the data of its form
    assert licence.data["enterprise_name"] == case.form_data["enterprise_name"]


def test_the_company_change_finds_the_licence_for_the_business_licence(licences):
    # Given the guide of 有限责任公司变更登记, which asks for the business licence
    change = next(e for e in ITEMS if e["key"] == "company-change")
    version = ItemVersion.objects.get(
        item__implementation_code=implementation_code(change), status="published"
    )
    wanted = {m.material_type_id for m in version.materials.all()}
    business = MaterialType.objects.get(code="business-licence")
    assert business.pk in wanted
    # Then for the company a valid licence stands for it; for a company whose only
    # licence is revoked, nothing does
    found = selectors.replacing(_holder(demo_cases.COMPANY), wanted)
    assert set(found) == {business.pk} and found[business.pk].case is not None
    assert selectors.replacing(_holder(demo_cases.TECH), wanted) == {}
    # and the company's demo applications for the change, made after its first licence,
    # gave no business licence: a licence of a set-up case stood for it (零提交)
    later = Case.objects.filter(
        applicant=_holder(demo_cases.COMPANY), item_version__item=version.item
    )
    assert later.count() == 3
    for case in later:
        row = CaseMaterial.objects.select_related("licence").get(
            case=case, material__material_type=business
        )
        assert row.licence is not None and row.licence.case is not None, case
        assert row.licence.holder == case.applicant and not row.file
        assert row.licence.issued_on < case.submitted_at.date()
    # while a company without a valid business licence uploaded one
    other = Case.objects.get(idempotency_key=f"{demo_cases.KEY_PREFIX}company-change-received")
    row = CaseMaterial.objects.get(case=other, material__material_type=business)
    assert row.licence is None and row.file


@pytest.mark.parametrize(
    ("kind", "holder", "story"),
    [
        ("individual-business", demo_cases.ZHANG, "individual-business-archived"),
        ("construction", demo_cases.BUILDER, "construction-permit-archived"),
    ],
)
def test_other_cases_issue_their_licences(demo, db, kind, holder, story):
    case = Case.objects.get(idempotency_key=f"{demo_cases.KEY_PREFIX}{story}")
    [licence] = Licence.objects.filter(case=case)
    assert licence.licence_type == _type(kind) and licence.holder == _holder(holder)
    assert licence.status == S.VALID and licence.registered_by is None
    assert set(licence.data) <= set(licence.licence_type.fields)
    assert len(licence.data) >= 5


def test_only_the_cases_that_reached_certification_issued_licences(demo, db):
    issued = Case.objects.filter(licences__isnull=False).distinct()
    assert issued.count() == 6  # 5 demo cases, 1 case of the demo 开办企业 application
    for case in issued:
        assert case.status in (CaseStatus.READY, CaseStatus.DELIVERED, CaseStatus.ARCHIVED)


# --- paper licences and their life cycle -------------------------------------------------------


def test_the_replaced_licence_has_a_second_version(licences):
    old, new = licences["replaced"], licences["successor"]
    assert (old.status, new.status) == (S.REPLACED, S.VALID)
    assert old.status_reason
    assert (new.serial, new.version, old.version) == (old.serial, 2, 1)
    assert new.identifier != old.identifier and new.identifier.split(".")[-2] == "002"
    assert new.data["registered_address"] != old.data["registered_address"]
    assert {k: v for k, v in new.data.items() if k != "registered_address"} == {
        k: v for k, v in old.data.items() if k != "registered_address"
    }
    assert old.registered_by.username == "reviewer"
    replaced = AuditEvent.objects.get(action="licence.replace", object_id=str(old.pk))
    assert replaced.reason == old.status_reason and replaced.actor.username == "reviewer"


def test_the_revoked_licence_says_why_and_who(licences):
    licence = licences["revoked"]
    assert licence.status == S.REVOKED and licence.status_reason
    assert licence.valid_until > TODAY  # revoked, not run out
    event = AuditEvent.objects.get(action="licence.revoke", object_id=str(licence.pk))
    assert event.actor.username == "head_cc" and event.reason == licence.status_reason


def test_the_expired_licence_was_registered_from_paper_after_its_end(licences):
    licence = licences["expired"]
    assert licence.status == S.EXPIRED
    assert licence.issued_on < licence.valid_until < TODAY
    assert licence.registered_by.username == "reviewer_cc" and licence.case is None
    events = AuditEvent.objects.filter(object_type="licences.licence", object_id=str(licence.pk))
    actions = list(events.order_by("pk").values_list("action", flat=True))
    assert actions == ["licence.register", "licence.expire"]


def test_keys_predate_the_licences_they_signed(demo, db):
    for licence in Licence.objects.select_related("signing_key"):
        issued = AuditEvent.objects.filter(
            object_type="licences.licence",
            object_id=str(licence.pk),
            action__in=("licence.issue", "licence.register"),
        ).get()
        assert licence.signing_key.created_at < issued.occurred_at


# --- loading again --------------------------------------------------------------------------------


def test_a_second_load_creates_nothing(demo, db):
    counts = (
        LicenceType.objects.count(),
        SigningKey.objects.count(),
        Licence.objects.count(),
        AuditEvent.objects.count(),
    )
    report = Report()
    for _label, step in STEPS:
        step(report)
    assert report.created == {}
    assert (
        LicenceType.objects.count(),
        SigningKey.objects.count(),
        Licence.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
