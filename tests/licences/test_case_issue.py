"""制证: an approved case whose item issues a licence type produces the licence
(yimen.cases.services.produce → yimen.licences.services.issue_for_case), to the applicant,
with the form's data, signed by the type's department; or produces nothing at all.

The clock stands on Monday 2026-11-23."""

import pytest
from django.core.exceptions import ValidationError

from yimen.accounts.choices import ApplicantKind
from yimen.cases import services as cases
from yimen.cases.choices import CaseStatus
from yimen.cases.models import Case
from yimen.common.identifiers import licence_identifier_error
from yimen.common.models import AuditEvent
from yimen.licences import selectors, services
from yimen.licences.choices import LicenceStatus, Verdict
from yimen.licences.models import Licence, LicenceCounter

from ..cases.factories import Scene
from ..org.factories import DepartmentFactory
from .factories import (
    MONDAY,
    LicenceTypeFactory,
    fresh,
    keyed_department,
    monday,
    signing_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture
def scene():
    return Scene.make()


def approved(scene) -> Case:
    case = scene.case_at(CaseStatus.APPROVED)
    assert case.status == CaseStatus.APPROVED and case.fee_amount is None
    return case


def produce(scene, case) -> Case:
    return cases.produce(case=case, actor=scene.reviewer)


def test_an_approved_case_produces_the_licence_its_item_issues(scene):
    # Given a 5-year licence type carrying the shop name, issued by the item's department,
    issuer = scene.version.item.department
    signing_key(issuer)
    licence_type = LicenceTypeFactory(
        issuer=issuer, fields=["shop_name"], issuing_items=[scene.version.item]
    )
    case = approved(scene)
    # when the result is produced,
    produce(scene, case)
    # then the case is ready and one licence is issued to the applicant with the form's data,
    assert Case.objects.get(pk=case.pk).status == CaseStatus.READY
    (licence,) = Licence.objects.all()
    stored = fresh(licence)
    assert stored.case_id == case.pk
    assert stored.holder == scene.applicant
    assert stored.licence_type == licence_type and stored.issuer == issuer
    assert stored.data == {"shop_name": "示例小店"}
    assert stored.issued_on == MONDAY and stored.status == LicenceStatus.VALID
    assert licence_identifier_error(stored.identifier) is None
    # signed and verifiable,
    assert services.is_genuine(stored)
    assert selectors.verify(stored.identifier).verdict == Verdict.VALID
    # and audited under the case's number by the one who produced it.
    (event,) = AuditEvent.objects.filter(action="licence.issue", object_id=str(licence.pk))
    assert event.payload == {"case": case.number}
    assert event.actor == scene.reviewer


def test_the_licence_types_department_signs_even_when_another_handles_the_item(scene):
    issuer = keyed_department(name="发证部门")
    licence_type = LicenceTypeFactory(issuer=issuer, issuing_items=[scene.version.item])
    produce(scene, approved(scene))
    (licence,) = Licence.objects.all()
    assert licence.licence_type == licence_type and licence.issuer == issuer
    assert licence.signing_key.department == issuer
    assert issuer != scene.version.item.department


def test_every_type_the_item_issues_is_produced(scene):
    first = LicenceTypeFactory(issuing_items=[scene.version.item])
    second = LicenceTypeFactory(issuing_items=[scene.version.item])
    case = approved(scene)
    produce(scene, case)
    issued = set(Licence.objects.filter(case=case).values_list("licence_type", flat=True))
    assert issued == {first.pk, second.pk}


def test_an_item_that_issues_no_licence_produces_none(scene):
    LicenceTypeFactory(issuing_items=[])  # a type of another item only
    other = Scene.make(n=2)
    LicenceTypeFactory(issuing_items=[other.version.item])
    case = approved(scene)
    produce(scene, case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.READY
    assert not Licence.objects.exists()


def test_an_inactive_type_or_one_for_other_holders_is_not_produced(scene):
    LicenceTypeFactory(issuing_items=[scene.version.item], is_active=False)
    LicenceTypeFactory(issuing_items=[scene.version.item], holder_kind=ApplicantKind.ENTERPRISE)
    case = approved(scene)
    produce(scene, case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.READY
    assert not Licence.objects.exists()


def test_a_department_without_a_key_stops_production_and_nothing_is_written(scene):
    # Given an item issuing two types, one of a department without a signing key,
    LicenceTypeFactory(issuing_items=[scene.version.item], code="A0001")
    LicenceTypeFactory(
        issuing_items=[scene.version.item],
        code="Z0001",
        issuer=DepartmentFactory(name="无密钥部门"),
    )
    case = approved(scene)
    events_before = AuditEvent.objects.count()
    # when the result is produced, it is refused with the issuer's message,
    with pytest.raises(ValidationError) as refused:
        produce(scene, case)
    (message,) = refused.value.message_dict["issuer"]
    assert "无密钥部门" in message and "licences_keygen" in message
    # and nothing is half-written: the case stays approved, no licence, no serial, no audit.
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED
    assert case.status == CaseStatus.APPROVED
    assert not Licence.objects.exists()
    assert not LicenceCounter.objects.filter(last__gt=0).exists()
    assert AuditEvent.objects.count() == events_before


def test_production_succeeds_once_the_department_has_a_key(scene):
    department = DepartmentFactory()
    LicenceTypeFactory(issuing_items=[scene.version.item], issuer=department)
    case = approved(scene)
    with pytest.raises(ValidationError):
        produce(scene, case)
    services.key_generate(department=department)
    produce(scene, Case.objects.get(pk=case.pk))
    (licence,) = Licence.objects.filter(case=case)
    assert licence.serial == 1 and services.is_genuine(fresh(licence))
