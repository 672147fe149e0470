"""零提交 and reuse when applying: a material a valid licence of the applicant stands for is
satisfied without a file, and an earlier file of the applicant can be picked instead of
uploading it again — in the service (one place for web, desk and API), on the apply page, at
the window desk, on the case page and in the API.

The clock stands on Monday 2026-11-23. The guide asks for 申请书 (required) and 场所证明
(tolerable); the licence type used here stands for 申请书."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from yimen.cases import services
from yimen.cases.choices import CaseStatus, MaterialState
from yimen.cases.desk_forms import ChecklistForm
from yimen.cases.models import Case, CaseMaterial
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.licences import services as licence_services

from ..licences.factories import LicenceTypeFactory, issue
from .factories import FrozenTime, at, guide, pdf, person, staff_for

pytestmark = pytest.mark.django_db

API = "/api/v1/cases/"
KEY = "5b1d0a8e-7c55-4a4e-9d77-0d2f3c9a1b01"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23))


@pytest.fixture
def version(clock):
    return guide()


@pytest.fixture
def staff(version):
    return staff_for(version)


@pytest.fixture
def applicant():
    return person(n=1)


@pytest.fixture
def form_material(version):
    """申请书: the material the licence stands for."""
    return version.materials.first()


@pytest.fixture
def proof(version):
    """场所证明: the other material (tolerable)."""
    return list(version.materials.all())[1]


@pytest.fixture
def licence_type(form_material):
    return LicenceTypeFactory(name="食品经营许可证", replaces=[form_material.material_type])


@pytest.fixture
def licence(licence_type, applicant):
    return issue(licence_type, applicant)


def english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = english(Client())
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def submit(version, applicant, uploads, *, by=None, channel=Channel.ONLINE, originals=()):
    return services.case_submit(
        applicant=applicant,
        version=version,
        submitted_by=by or applicant.user,
        channel=channel,
        form_data={"shop_name": "示例小店"},
        uploads=uploads,
        originals=originals,
    )


def earlier_case(version, applicant, *, name="旧申请书.pdf"):
    """A case of the applicant with a file for each material; returns its 申请书 row."""
    materials = list(version.materials.all())
    case = submit(
        version,
        applicant,
        [services.Upload(materials[0], pdf(name)), services.Upload(materials[1], pdf("证明.pdf"))],
    )
    return CaseMaterial.objects.select_related("case").get(case=case, material=materials[0])


def submit_event(case) -> AuditEvent:
    return AuditEvent.objects.get(
        object_type="cases.case", object_id=str(case.pk), action="case.submit"
    )


def apply_url(version):
    return reverse("cases:apply", args=[version.item.implementation_code])


def stored_files(tmp_path) -> list:
    return [path for path in tmp_path.rglob("*") if path.is_file()]


# --- the service: 零提交 --------------------------------------------------------------------------


def test_a_valid_licence_stands_for_the_material_and_acceptance_is_not_blocked(
    version, applicant, form_material, proof, licence, staff
):
    # given a valid licence of the applicant whose type stands for 申请书
    # when the applicant applies with a file for 场所证明 only
    case = submit(version, applicant, [services.Upload(proof, pdf("证明.pdf"))])
    # then 申请书 is provided by the licence, without a file
    row = CaseMaterial.objects.get(case=case, material=form_material)
    assert row.state == MaterialState.PROVIDED
    assert row.licence == licence
    assert not row.file and row.file_name == "" and row.sha256 == ""
    assert services.missing_required(case) == []
    # and the audit event of the submission says so
    assert submit_event(case).payload["licences"] == [
        {"material": form_material.display_name, "licence": licence.identifier}
    ]
    # and the clerk accepts: nothing is missing
    services.accept(case=case, actor=staff[0])
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_a_file_given_for_a_material_a_licence_stands_for_is_taken_as_given(
    version, applicant, form_material, licence
):
    case = submit(version, applicant, [services.Upload(form_material, pdf("申请书.pdf"))])
    row = CaseMaterial.objects.get(case=case, material=form_material)
    assert row.licence is None and row.file_name == "申请书.pdf"
    assert "licences" not in (submit_event(case).payload or {})


def test_a_revoked_licence_does_not_count(version, applicant, form_material, licence, staff):
    licence_services.licence_revoke(licence=licence, actor=staff[2], reason="违法经营")
    case = submit(version, applicant, [])
    assert not CaseMaterial.objects.filter(case=case, licence__isnull=False).exists()
    assert form_material in services.missing_required(case)
    with pytest.raises(ValidationError):
        services.accept(case=case, actor=staff[0])


def test_an_expired_licence_does_not_count(version, applicant, form_material, licence_type):
    # given a one-year licence issued two years ago, still marked valid until read
    licence_type.validity_years = 1
    licence_type.save(update_fields=["validity_years"])
    old = issue(licence_type, applicant, issued_on=dt.date(2024, 11, 1))
    # when the applicant applies without 申请书
    case = submit(version, applicant, [])
    # then the licence has expired and stands for nothing
    assert not CaseMaterial.objects.filter(case=case, licence__isnull=False).exists()
    assert form_material in services.missing_required(case)
    old.refresh_from_db()
    assert old.status == "expired"


def test_another_persons_licence_never_counts(version, applicant, form_material, licence_type):
    issue(licence_type, person(n=2))
    case = submit(version, applicant, [])
    assert not CaseMaterial.objects.filter(case=case, licence__isnull=False).exists()
    assert form_material in services.missing_required(case)


def test_a_licence_of_a_type_that_replaces_nothing_here_does_not_count(version, applicant):
    issue(LicenceTypeFactory(), applicant)
    case = submit(version, applicant, [])
    assert not CaseMaterial.objects.filter(case=case, licence__isnull=False).exists()


def test_at_prereview_receipt_a_licence_is_not_marked_as_an_original_seen(
    applicant, licence_type, staff
):
    from yimen.catalog.choices import OnlineDepth

    version = guide(online_depth=OnlineDepth.ONLINE_PREREVIEW)
    material = version.materials.first()
    licence_type.replaces.add(material.material_type)
    issue(licence_type, applicant)
    clerk = staff_for(version)[0]
    case = submit(version, applicant, [])
    services.prereview_pass(case=case, actor=clerk)
    services.receive(case=case, actor=clerk)
    row = CaseMaterial.objects.get(case=case, material=material)
    assert row.licence is not None and not row.original_seen


# --- the service: reuse ---------------------------------------------------------------------------


def test_an_own_earlier_file_is_reused_without_copying_it(
    version, applicant, form_material, tmp_path
):
    # given an earlier case of the applicant with a file for 申请书
    earlier = earlier_case(version, applicant)
    files_before = stored_files(tmp_path)
    # when the applicant applies again picking that file
    case = submit(version, applicant, [services.Upload(form_material, reused=earlier)])
    # then the new row points at the earlier one and shares its stored file
    row = CaseMaterial.objects.get(case=case, material=form_material)
    assert row.reused_from == earlier
    assert row.state == MaterialState.PROVIDED
    assert (row.file.name, row.file_name, row.size, row.sha256) == (
        earlier.file.name,
        earlier.file_name,
        earlier.size,
        earlier.sha256,
    )
    assert stored_files(tmp_path) == files_before  # no bytes copied
    assert form_material not in services.missing_required(case)
    assert submit_event(case).payload["reused"] == [
        {
            "material": form_material.display_name,
            "from_case": earlier.case.number,
            "from_material": earlier.pk,
        }
    ]


def test_another_applicants_file_is_refused(version, applicant, form_material):
    theirs = earlier_case(version, person(n=2))
    with pytest.raises(ValidationError) as refused:
        submit(version, applicant, [services.Upload(form_material, reused=theirs)])
    assert refused.value.message_dict == {
        "materials.0": ["This is not a file of yours from an earlier case."]
    }
    assert not Case.objects.filter(applicant=applicant).exists()


def test_a_file_of_another_material_type_is_refused(version, applicant, form_material, proof):
    earlier = earlier_case(version, applicant)
    proof_row = CaseMaterial.objects.get(case=earlier.case, material=proof)
    with pytest.raises(ValidationError) as refused:
        submit(version, applicant, [services.Upload(form_material, reused=proof_row)])
    assert refused.value.message_dict == {
        "materials.0": ["That earlier file is of another kind of material."]
    }
    assert Case.objects.filter(applicant=applicant).count() == 1


def test_an_expired_file_is_refused(version, applicant, form_material, clock):
    # given 申请书 is valid for 30 days and was given 31 days ago
    material_type = form_material.material_type
    material_type.validity_days = 30
    material_type.save(update_fields=["validity_days"])
    clock.to(2026, 10, 23)
    earlier = earlier_case(version, applicant)
    clock.to(2026, 11, 23)
    # when it is picked again, then it is refused
    with pytest.raises(ValidationError) as refused:
        submit(version, applicant, [services.Upload(form_material, reused=earlier)])
    assert refused.value.message_dict == {
        "materials.0": ["That earlier file can no longer be used: upload the material again."]
    }


def test_a_file_within_its_validity_is_reused(version, applicant, form_material, clock):
    material_type = form_material.material_type
    material_type.validity_days = 30
    material_type.save(update_fields=["validity_days"])
    clock.to(2026, 10, 24)
    earlier = earlier_case(version, applicant)
    clock.to(2026, 11, 23)
    case = submit(version, applicant, [services.Upload(form_material, reused=earlier)])
    assert case.materials.get(material=form_material).reused_from == earlier


# --- the apply page -------------------------------------------------------------------------------


def test_online_the_covered_material_asks_for_no_upload_and_the_case_shows_it(
    version, applicant, form_material, proof, licence, licence_type, staff
):
    client = signed_in(applicant.user)
    # given the apply page: 申请书 is provided by the licence, with no file input
    page = client.get(apply_url(version))
    assert page.status_code == 200
    assert (
        f"Provided by the e-licence {licence_type.name} (zero submission): no upload needed."
        in page.text
    )
    assert f'name="material_{form_material.pk}"' not in page.text
    assert f'name="material_{proof.pk}"' in page.text
    # when the applicant submits without it
    response = client.post(
        apply_url(version),
        {"shop_name": "示例小店", "idempotency_key": KEY, f"material_{proof.pk}": pdf("证明.pdf")},
    )
    # then the case is made and its page shows 零提交 to the applicant, the clerk and the reviewer
    assert response.status_code == 302
    case = Case.objects.get(applicant=applicant)
    assert case.materials.get(material=form_material).licence == licence
    badge = f"Zero submission: satisfied by licence {licence_type.name} {licence.identifier}"
    for user in (applicant.user, staff[0], staff[1]):
        assert badge in signed_in(user).get(case.get_absolute_url()).text


def test_online_a_revoked_licence_leaves_the_upload_required(
    version, applicant, form_material, proof, licence, staff
):
    licence_services.licence_revoke(licence=licence, actor=staff[2], reason="违法经营")
    client = signed_in(applicant.user)
    assert f'name="material_{form_material.pk}"' in client.get(apply_url(version)).text
    response = client.post(
        apply_url(version),
        {"shop_name": "示例小店", "idempotency_key": KEY, f"material_{proof.pk}": pdf("证明.pdf")},
    )
    assert response.status_code == 400
    assert f"material_{form_material.pk}" in response.context["materials_form"].errors


def test_online_a_material_taken_at_the_window_only_is_also_covered(applicant, licence_type):
    version = guide(
        materials=[
            {"material_type": licence_type.replaces.get(), "electronic_accepted": False},
        ]
    )
    issue(licence_type, applicant)
    page = signed_in(applicant.user).get(apply_url(version)).text
    assert "(zero submission): no upload needed." in page
    assert "Bring these originals to the window" not in page


def test_online_an_earlier_file_is_offered_and_picked(version, applicant, form_material, proof):
    # given an earlier case with 申请书
    earlier = earlier_case(version, applicant)
    client = signed_in(applicant.user)
    # then the apply page offers it beside the upload, ticked
    form = client.get(apply_url(version)).context["materials_form"]
    reuse = form[f"reuse_{form_material.pk}"]
    assert reuse.label == f"Use “旧申请书.pdf” from case {earlier.case.number} (does not expire)"
    assert reuse.initial is True
    # when the applicant submits with the pick and no new file
    response = client.post(
        apply_url(version),
        {
            "shop_name": "示例小店",
            "idempotency_key": KEY,
            f"reuse_{form_material.pk}": "on",
            f"material_{proof.pk}": pdf("证明.pdf"),
        },
    )
    # then the case reuses the file and its page says from which case
    assert response.status_code == 302
    case = Case.objects.filter(applicant=applicant).first()
    assert case.materials.get(material=form_material).reused_from == earlier
    page = signed_in(applicant.user).get(case.get_absolute_url()).text
    assert f"reused from case {earlier.case.number}" in page


def test_online_the_offer_shows_the_validity(version, applicant, form_material, clock):
    form_material.material_type.validity_days = 90
    form_material.material_type.save(update_fields=["validity_days"])
    earlier = earlier_case(version, applicant)
    form = signed_in(applicant.user).get(apply_url(version)).context["materials_form"]
    label = form[f"reuse_{form_material.pk}"].label
    assert label == f"Use “旧申请书.pdf” from case {earlier.case.number} (valid until 2027-02-21)"


def test_online_a_new_file_wins_over_the_pick(version, applicant, form_material, proof):
    earlier_case(version, applicant)
    response = signed_in(applicant.user).post(
        apply_url(version),
        {
            "shop_name": "示例小店",
            "idempotency_key": KEY,
            f"reuse_{form_material.pk}": "on",
            f"material_{form_material.pk}": pdf("新申请书.pdf"),
            f"material_{proof.pk}": pdf("证明.pdf"),
        },
    )
    assert response.status_code == 302
    row = Case.objects.filter(applicant=applicant).first().materials.get(material=form_material)
    assert row.reused_from is None and row.file_name == "新申请书.pdf"


def test_online_neither_a_file_nor_the_pick_is_refused(version, applicant, form_material, proof):
    earlier_case(version, applicant)
    response = signed_in(applicant.user).post(
        apply_url(version),
        {"shop_name": "示例小店", "idempotency_key": KEY, f"material_{proof.pk}": pdf("证明.pdf")},
    )
    assert response.status_code == 400
    assert response.context["materials_form"].errors[f"material_{form_material.pk}"] == [
        "Upload the file, or use the earlier one."
    ]
    assert Case.objects.filter(applicant=applicant).count() == 1


def test_online_another_applicants_files_are_never_offered(version, applicant, form_material):
    earlier_case(version, person(n=2))
    form = signed_in(applicant.user).get(apply_url(version)).context["materials_form"]
    assert f"reuse_{form_material.pk}" not in form.fields


def test_the_apply_page_queries_do_not_grow_with_the_licences(
    version, applicant, licence_type, proof
):
    client = signed_in(applicant.user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(apply_url(version)).status_code == 200
        return len(captured)

    issue(licence_type, applicant)
    earlier_case(version, applicant)
    one = queries()
    # more licences of the same type, of another type standing for 场所证明, and unrelated ones
    other = LicenceTypeFactory(replaces=[proof.material_type])
    for _ in range(3):
        issue(licence_type, applicant)
        issue(other, applicant)
        issue(LicenceTypeFactory(), applicant)
    assert queries() == one


# --- the window desk ------------------------------------------------------------------------------


def posted(data: dict) -> QueryDict:
    """`data` as the desk view receives it."""
    query = QueryDict(mutable=True)
    query.update(data)
    return query


def checklist(version, decision="accept", *, seen=(), **extra) -> dict:
    materials = list(version.materials.all())
    data = {
        "version": version.pk,
        "idempotency_key": "k-1",
        "decision": decision,
        "f-shop_name": "示例小店",
        **extra,
    }
    for index in seen:
        data[f"seen_{materials[index].pk}"] = "on"
    return data


def checklist_url(applicant, version):
    return reverse("desk:checklist", args=[applicant.public_id, version.item.implementation_code])


def test_the_desk_checklist_ticks_and_marks_a_covered_material(
    version, applicant, form_material, proof, licence
):
    form = ChecklistForm(guide=version, applicant=applicant)
    covered, other = form.rows()
    assert covered.licence == licence and other.licence is None
    assert form[f"seen_{form_material.pk}"].value() is True
    assert form.fields[f"seen_{form_material.pk}"].disabled
    assert not form.fields[f"seen_{proof.pk}"].disabled


def test_the_desk_accepts_with_the_licence_standing_for_the_material(
    version, applicant, form_material, licence, staff
):
    clerk = staff[0]
    # the covered box is ticked but disabled: the browser does not send it
    form = ChecklistForm(posted(checklist(version, seen=[1])), guide=version, applicant=applicant)
    assert form.is_valid(), form.errors
    case = form.submit(clerk=clerk, applicant=applicant)
    assert case is not None and case.status == CaseStatus.IN_REVIEW
    row = case.materials.get(material=form_material)
    assert row.licence == licence and not row.original_seen
    assert submit_event(case).payload["licences"][0]["licence"] == licence.identifier


def test_the_desk_view_does_not_list_a_covered_material_as_missing(
    version, applicant, form_material, licence, staff
):
    # given the clerk ticks nothing and asks for corrections
    response = signed_in(staff[0]).post(
        checklist_url(applicant, version), checklist(version, "correction")
    )
    assert response.status_code == 302
    case = Case.objects.get(applicant=applicant)
    # then 申请书 is satisfied by the licence, and only 场所证明 is listed (as not provided)
    assert case.status == CaseStatus.CORRECTION
    assert case.materials.get(material=form_material).licence == licence
    items = AuditEvent.objects.get(action="case.request_correction").payload["items"]
    assert [item["material"] for item in items] == ["场所证明"]


def test_the_desk_view_accepts_without_seeing_a_covered_material(
    version, applicant, form_material, licence, staff
):
    response = signed_in(staff[0]).post(
        checklist_url(applicant, version), checklist(version, seen=[1])
    )
    assert response.status_code == 302
    case = Case.objects.get(applicant=applicant)
    assert case.status == CaseStatus.IN_REVIEW
    assert case.materials.get(material=form_material).licence == licence


def test_the_desk_offers_and_takes_an_earlier_file(version, applicant, form_material, staff):
    earlier = earlier_case(version, applicant)
    form = ChecklistForm(guide=version, applicant=applicant)
    reuse = form.rows()[0].reuse
    assert reuse is not None
    assert reuse.label == f"Use “旧申请书.pdf” from case {earlier.case.number} (does not expire)"
    data = checklist(version, seen=[0, 1], **{f"reuse_{form_material.pk}": "on"})
    form = ChecklistForm(posted(data), guide=version, applicant=applicant)
    assert form.is_valid(), form.errors
    case = form.submit(clerk=staff[0], applicant=applicant)
    row = case.materials.get(material=form_material)
    assert row.reused_from == earlier and row.original_seen


def test_the_desk_refuses_an_expired_earlier_file_on_its_choice(
    version, applicant, form_material, staff, clock
):
    # given a file offered when the page was drawn, which expires before the submit
    form_material.material_type.validity_days = 30
    form_material.material_type.save(update_fields=["validity_days"])
    clock.to(2026, 10, 24)
    earlier_case(version, applicant)
    clock.to(2026, 11, 23)
    data = checklist(version, seen=[0, 1], **{f"reuse_{form_material.pk}": "on"})
    form = ChecklistForm(posted(data), guide=version, applicant=applicant)
    clock.to(2026, 11, 25)
    assert form.is_valid()
    # then the service refuses it and the error lands on the choice; nothing is kept
    assert form.submit(clerk=staff[0], applicant=applicant) is None
    assert form.errors[f"reuse_{form_material.pk}"] == [
        "That earlier file can no longer be used: upload the material again."
    ]
    assert Case.objects.filter(applicant=applicant).count() == 1


# --- the API --------------------------------------------------------------------------------------


def test_the_api_shows_the_licence_and_the_reuse_of_each_material(
    version, applicant, form_material, proof, licence, licence_type
):
    earlier = CaseMaterial.objects.get(case=earlier_case(version, applicant).case, material=proof)
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 1, "case": earlier.case.number}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    rows = {row["position"]: row for row in response.json()["materials"]}
    assert rows[0]["licence"] == {
        "identifier": licence.identifier,
        "type": {"code": licence_type.code, "name": licence_type.name},
    }
    assert rows[0]["reused_from"] is None and rows[0]["file"] is None
    assert rows[1]["licence"] is None
    assert rows[1]["reused_from"] == {"case": earlier.case.number}
    assert rows[1]["sha256"] == earlier.sha256
    # the detail read back says the same
    number = response.json()["number"]
    again = api(applicant.user).get(f"{API}{number}/").json()
    assert {r["position"]: r["licence"] for r in again["materials"]}[0]["identifier"] == (
        licence.identifier
    )
    assert {r["position"]: r["reused_from"] for r in again["materials"]}[1] == {
        "case": earlier.case.number
    }


def test_the_api_takes_reuse_as_a_json_part_of_a_multipart_submission(
    version, applicant, form_material
):
    earlier = earlier_case(version, applicant)
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "form": json.dumps({"shop_name": "示例小店"}),
            "reuse": json.dumps([{"material": 0, "case": earlier.case.number.lower()}]),
            "materials.1": pdf("证明.pdf"),
        },
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(number=response.json()["number"])
    assert case.materials.get(material=form_material).reused_from == earlier


def test_the_api_refuses_another_applicants_case(version, applicant):
    theirs = earlier_case(version, person(n=2))
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": theirs.case.number}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "reuse.0.case": ["No case of the applicant with this number has a file of this material."]
    }
    assert not Case.objects.filter(applicant=applicant).exists()


def test_the_api_refuses_a_case_without_a_file_of_that_material(version, applicant, proof):
    # the earlier case has a 场所证明 only, asked for as 申请书
    only_proof = submit(version, applicant, [services.Upload(proof, pdf("证明.pdf"))])
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": only_proof.number}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reuse.0.case"]


def test_the_api_refuses_an_expired_file_under_its_reuse_entry(
    version, applicant, form_material, clock
):
    form_material.material_type.validity_days = 30
    form_material.material_type.save(update_fields=["validity_days"])
    clock.to(2026, 10, 1)
    earlier = earlier_case(version, applicant)
    clock.to(2026, 11, 23)
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": earlier.case.number}],
            # a new file for 场所证明, to show the error is named by the reuse entry
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "reuse.0": ["That earlier file can no longer be used: upload the material again."]
    }


@pytest.mark.parametrize(
    ("reuse", "key"),
    [
        ([{"material": 5, "case": "X"}], "reuse.0.material"),
        ([{"case": "X"}], "reuse.0.material"),
        ({"material": 0}, "reuse"),
    ],
)
def test_the_api_names_a_malformed_reuse(version, applicant, reuse, key):
    response = api(applicant.user).post(
        API,
        {"item": version.item.implementation_code, "form": {"shop_name": "店"}, "reuse": reuse},
        format="json",
    )
    assert response.status_code == 400
    assert key in response.json()


def test_a_clerk_reuses_at_the_window_through_the_api(version, applicant, form_material, staff):
    earlier = earlier_case(version, applicant)
    response = api(staff[0]).post(
        API,
        {
            "item": version.item.implementation_code,
            "applicant": str(applicant.public_id),
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": earlier.case.number}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == Channel.WINDOW
    case = Case.objects.get(number=response.json()["number"])
    assert case.materials.get(material=form_material).reused_from == earlier


def test_a_clerk_cannot_reuse_a_file_of_someone_else_than_the_applicant(version, applicant, staff):
    theirs = earlier_case(version, person(n=2))
    response = api(staff[0]).post(
        API,
        {
            "item": version.item.implementation_code,
            "applicant": str(applicant.public_id),
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": theirs.case.number}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "reuse.0.case" in response.json()


def test_a_citizen_cannot_probe_another_applicants_files(version, applicant):
    # naming someone else as the applicant is refused before any file is looked up
    other = person(n=2)
    theirs = earlier_case(version, other)
    response = api(applicant.user).post(
        API,
        {
            "item": version.item.implementation_code,
            "applicant": str(other.public_id),
            "form": {"shop_name": "示例小店"},
            "reuse": [{"material": 0, "case": theirs.case.number}],
        },
        format="json",
    )
    assert response.status_code == 403
    assert Case.objects.count() == 1


# --- the desk page and the case page ------------------------------------------------------


def test_the_desk_page_marks_a_covered_material_and_offers_an_earlier_file(
    version, applicant, form_material, proof, licence, licence_type, staff
):
    earlier = earlier_case(version, applicant)
    page = signed_in(staff[0]).get(checklist_url(applicant, version)).text
    assert (
        f"Provided by the e-licence {licence_type.name} (zero submission): no upload needed."
        in page
    )
    assert f"from case {earlier.case.number}" in page
    assert f'name="reuse_{proof.pk}"' in page


def test_the_desk_view_takes_an_earlier_file(version, applicant, form_material, staff):
    earlier = earlier_case(version, applicant)
    response = signed_in(staff[0]).post(
        checklist_url(applicant, version),
        checklist(version, seen=[0, 1], **{f"reuse_{form_material.pk}": "on"}),
    )
    assert response.status_code == 302
    case = Case.objects.filter(applicant=applicant).first()
    assert case.materials.get(material=form_material).reused_from == earlier


def test_the_case_page_queries_do_not_grow_with_licences_and_reused_files(
    version, applicant, form_material, proof, licence_type, staff
):
    other = LicenceTypeFactory(replaces=[proof.material_type])

    def queries(case) -> int:
        client = signed_in(staff[0])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(case.get_absolute_url()).status_code == 200
        return len(captured)

    plain = submit(
        version,
        applicant,
        [services.Upload(form_material, pdf()), services.Upload(proof, pdf("证明.pdf"))],
    )
    baseline = queries(plain)
    issue(licence_type, applicant)
    issue(other, applicant)
    covered = submit(version, applicant, [])
    assert covered.materials.filter(licence__isnull=False).count() == 2
    assert queries(covered) == baseline


def test_a_reused_file_keeps_the_validity_of_its_first_upload(
    version, applicant, form_material, clock
):
    # given 申请书 valid for 30 days, given on 10-24 and picked again on 11-20
    form_material.material_type.validity_days = 30
    form_material.material_type.save(update_fields=["validity_days"])
    clock.to(2026, 10, 24)
    first = earlier_case(version, applicant)
    clock.to(2026, 11, 20)
    again = submit(version, applicant, [services.Upload(form_material, reused=first)])
    # then on 11-24 the file has run out, however recently it was picked
    clock.to(2026, 11, 24)
    row = again.materials.get(material=form_material)
    with pytest.raises(ValidationError):
        submit(version, applicant, [services.Upload(form_material, reused=row)])
