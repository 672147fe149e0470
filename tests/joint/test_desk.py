"""The window's side of theme applications: the queue (to accept, corrections to send, to
deliver), applying at the window for an applicant who is present, and the department's
correction request on its case of an application."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.cases.choices import CaseStatus
from yimen.catalog.models import ThemeStage
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.joint.choices import JointStatus
from yimen.joint.models import CorrectionRequest, JointCase
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, uscc
from ..cases.factories import clerk_of, enterprise, pdf
from ..conftest import grant
from ..org.factories import WindowCategoryFactory
from .factories import JointScene

pytestmark = pytest.mark.django_db

QUEUE = reverse("joint_desk:queue")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def scene():
    return JointScene.make()


def signed_in(user) -> Client:
    """A client of `user` that reads the pages in English, like the source strings."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def listed(response) -> dict[str, list[str]]:
    """The application numbers of each list of the queue page."""
    return {
        section["key"]: [row.joint.number for row in section["rows"]]
        for section in response.context["sections"]
    }


def asked(scene, joint, problem="营业场所证明不清晰"):
    """A department reviewing its case asks for a correction (not yet sent)."""
    child = joint.cases.order_by("pk").first()
    reviewer = scene.department_of(child).reviewer
    material = child.item_version.materials.first()
    from yimen.cases import services as cases

    cases.ask_correction(
        case=child, actor=reviewer, items=[{"material": str(material.pk), "problem": problem}]
    )
    return child


def ready(scene):
    """An application whose every case is granted: its results wait for the delivery."""
    joint = scene.accepted()
    for child in joint.cases.all():
        scene.grant(child)
    joint.refresh_from_db()
    assert joint.status == JointStatus.READY
    return joint


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_lists_what_the_window_has_to_do_for_the_clerk_of_the_category(scene):
    # Given an application received, one with a department's correction not yet sent, one
    # whose results are ready, and one already in review with nothing to send
    received = scene.apply()
    correcting = scene.accepted()
    asked(scene, correcting)
    done = ready(scene)
    quiet = scene.accepted()
    # When the clerk of the theme's window category opens the queue
    response = signed_in(scene.clerk).get(QUEUE)
    # Then each is in its list, with its light, and the quiet one in none
    assert response.status_code == 200
    assert listed(response) == {
        "to_accept": [received.number],
        "to_send": [correcting.number],
        "to_deliver": [done.number],
    }
    assert quiet.number not in response.text
    rows = {s["key"]: s["rows"] for s in response.context["sections"]}
    assert rows["to_accept"][0].state.light == "green"
    assert rows["to_send"][0].state.light == "green"
    assert rows["to_deliver"][0].state is not None  # the joint clock, stopped on time
    page = response.text
    assert reverse("joint:case", args=[received.number]) in page
    assert reverse("joint:case", args=[done.number]) in page
    # and the theme can be applied for at the window
    assert reverse("joint_desk:apply", args=[scene.theme.code]) in page


def test_a_clerk_of_another_category_sees_none_of_them(scene):
    # Given an application received and one ready
    received = scene.apply()
    done = ready(scene)
    # When a clerk of another window category opens the queue
    other = clerk_of(WindowCategoryFactory())
    response = signed_in(other).get(QUEUE)
    # Then the page opens, but lists neither, and offers no theme to apply for
    assert response.status_code == 200
    assert listed(response) == {"to_accept": [], "to_send": [], "to_deliver": []}
    assert received.number not in response.text and done.number not in response.text
    assert response.context["themes"] == []


def test_only_window_clerks_open_the_queue(scene, client):
    scene.apply()
    reviewer = scene.departments[0].reviewer
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    for user in (reviewer, scene.departments[0].head, supervisor, scene.applicant.user):
        assert signed_in(user).get(QUEUE).status_code == 403, user
    response = client.get(QUEUE)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_queue_queries_do_not_grow_with_the_rows(scene):
    # Given one application in each list
    client = signed_in(scene.clerk)
    scene.apply()
    asked(scene, scene.accepted())
    ready(scene)
    client.get(QUEUE)  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    # When there are three or two more in each
    for _ in range(3):
        scene.apply()
        asked(scene, scene.accepted())
    ready(scene)
    ready(scene)
    with CaptureQueriesContext(connection) as more:
        response = client.get(QUEUE)
    # Then the page reads them in as many queries
    assert [len(v) for v in listed(response).values()] == [4, 4, 3]
    assert len(more) == len(few)


def test_the_navigation_offers_the_queue_to_clerks_and_the_applications_to_applicants(scene):
    mine = reverse("joint:mine")
    clerk_page = signed_in(scene.clerk).get(reverse("accounts:home")).text
    assert f'href="{QUEUE}"' in clerk_page and f'href="{mine}"' not in clerk_page
    reviewer_page = signed_in(scene.departments[0].reviewer).get(reverse("accounts:home")).text
    assert f'href="{QUEUE}"' not in reviewer_page
    applicant_page = signed_in(scene.applicant.user).get(reverse("space:home")).text
    assert f'href="{mine}"' in applicant_page and f'href="{QUEUE}"' not in applicant_page


# --- applying at the window -------------------------------------------------------------------


def apply_url(scene):
    return reverse("joint_desk:apply", args=[scene.theme.code])


def form_url(scene, applicant=None):
    applicant = applicant or scene.applicant
    return reverse("joint_desk:apply_form", args=[scene.theme.code, applicant.public_id])


def posted(scene, *, answers=None, seen=(), scans=None, key="k-1", **fields):
    """The POST of the window's application: `seen` and the keys of `scans` name material
    types (申请书, 身份证明, 场所证明)."""
    data = {
        "answer": ["", *(str(a) for a in ([scene.yes.pk] if answers is None else answers))],
        "idempotency_key": key,
        "f-company_name": "示例科技有限公司",
        "f-capital": "100",
        "f-staff_count": "5",
        **fields,
    }
    for name in seen:
        data[f"seen_{scene.types[name].pk}"] = "on"
    for name, file in (scans or {}).items():
        data[f"scan_{scene.types[name].pk}"] = file
    return data


def test_the_clerk_finds_the_applicant_by_number_as_at_the_cases_desk(scene):
    client = signed_in(scene.clerk)
    assert client.get(apply_url(scene)).status_code == 200
    # When the clerk posts the applicant's credit code
    response = client.post(apply_url(scene), {"q": scene.applicant.uscc})
    # Then the application opens for them, without the code in the URL
    assert response.status_code == 302 and response["Location"] == form_url(scene)
    assert scene.applicant.uscc not in response["Location"]
    # and an unknown valid code offers to register the walk-in applicant
    response = client.post(apply_url(scene), {"q": uscc(77)})
    assert response.status_code == 200
    assert response.context["walk_in_form"].initial["kind"] == "enterprise"
    # and a partial number finds nobody
    bad = client.post(apply_url(scene), {"q": scene.applicant.uscc[:10]})
    assert bad.status_code == 400 and "walk_in_form" not in bad.context


def test_the_questions_come_first_then_the_merged_form_and_set(scene):
    client = signed_in(scene.clerk)
    # Before answering: the questions, no form
    first = client.get(form_url(scene))
    assert first.status_code == 200 and first.context["form"] is None
    assert "是否招用员工？" in first.text
    # Answered 「需要」: three items, one form of three fields, one set of three materials
    answered = client.get(form_url(scene), {"answer": ["", scene.yes.pk]})
    form = answered.context["form"]
    assert len(answered.context["merge"].versions) == 3
    assert sorted(form.application.fields) == ["capital", "company_name", "staff_count"]
    assert [r.merged.material_type.name for r in form.rows()] == ["申请书", "身份证明", "场所证明"]
    # Answered 「不需要」: item C (社保登记) and its field 员工人数 drop out
    fewer = client.get(form_url(scene), {"answer": ["", scene.no.pk]})
    assert sorted(fewer.context["form"].application.fields) == ["capital", "company_name"]
    # An answer that is no option of the theme is refused, with no form
    wrong = client.get(form_url(scene), {"answer": ["", "999999"]})
    assert wrong.context["form"] is None and wrong.context["problems"]


def test_the_window_applies_end_to_end_with_the_originals_seen(scene):
    client = signed_in(scene.clerk)
    # When the clerk submits scans of two materials and ticks all three originals
    data = posted(
        scene,
        seen=("申请书", "身份证明", "场所证明"),
        scans={"申请书": pdf("申请书.pdf"), "身份证明": pdf("身份证明.pdf")},
    )
    response = client.post(form_url(scene), data)
    # Then the application is received from the window and its page opens
    joint = JointCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("joint:case", args=[joint.number])
    assert joint.status == JointStatus.RECEIVED and joint.channel == Channel.WINDOW
    assert joint.submitted_by == scene.clerk and joint.applicant == scene.applicant
    assert joint.form_data == {
        "company_name": "示例科技有限公司",
        "capital": "100",
        "staff_count": "5",
    }
    assert joint.item_versions.count() == 3
    # with one material set: the scans and the originals seen (场所证明: seen, no scan)
    rows = {m.material_type.name: m for m in services.current_set(joint).values()}
    assert {n: (bool(m.file), m.original_seen) for n, m in rows.items()} == {
        "申请书": (True, True),
        "身份证明": (True, True),
        "场所证明": (False, True),
    }
    # and the clerk may accept at once: a case per item
    services.accept(joint=joint, actor=scene.clerk)
    assert joint.cases.count() == 3
    # A second press of the same page gives the same application
    again = client.post(form_url(scene), posted(scene, seen=("申请书", "身份证明", "场所证明")))
    assert again.status_code == 302 and JointCase.objects.count() == 1


def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(scene):
    client = signed_in(scene.clerk)
    # A required field left empty
    response = client.post(form_url(scene), posted(scene, **{"f-capital": ""}))
    assert response.status_code == 400
    assert "capital" in response.context["form"].application.errors
    # A scan that is not what it says
    fake = SimpleUploadedFile("申请书.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client.post(form_url(scene), posted(scene, scans={"申请书": fake}, key="k-2"))
    assert response.status_code == 400
    assert f"scan_{scene.types['申请书'].pk}" in response.context["form"].errors
    # No answers at all
    response = client.post(form_url(scene), {"idempotency_key": "k-3"})
    assert response.status_code == 400
    assert not JointCase.objects.exists()


def test_a_staged_theme_opens_its_project_at_the_first_stage(scene):
    # Given the theme in two stages: A and B first, C second
    first = ThemeStage.objects.create(theme=scene.theme, order=1, name="第一阶段")
    second = ThemeStage.objects.create(theme=scene.theme, order=2, name="第二阶段")
    items = list(scene.theme.theme_items.order_by("order"))
    for theme_item, stage in zip(items, (first, first, second), strict=True):
        theme_item.stage = stage
        theme_item.save()
    client = signed_in(scene.clerk)
    # The first stage needs the project's name
    data = posted(scene, seen=("申请书", "身份证明", "场所证明"), stage=str(first.pk))
    missing = client.post(form_url(scene), data)
    assert missing.status_code == 400 and "project_name" in missing.context["form"].errors
    # Named, the application opens the project
    data["project_name"] = "示例厂房"
    assert client.post(form_url(scene), data).status_code == 302
    joint = JointCase.objects.get()
    assert joint.stage == first and joint.project.name == "示例厂房"
    # The second stage, under the project, is refused while the first is not granted
    page = client.get(
        form_url(scene),
        {"answer": ["", scene.yes.pk], "stage": second.pk, "project": joint.project.public_id},
    )
    assert page.context["project"] == joint.project
    assert page.context["refusal"]
    # A stage or a project that is not of this theme and applicant is refused, not replaced
    for bad in ({"stage": "999999"}, {"stage": second.pk, "project": "not-a-project"}):
        data = posted(scene, seen=("申请书", "身份证明", "场所证明"), key=f"k-{bad}", **bad)
        refused = client.post(form_url(scene), data)
        assert refused.status_code == 400 and refused.context["problems"]
    assert JointCase.objects.count() == 1


def test_only_clerks_of_the_theme_category_apply_at_the_window(scene):
    other = clerk_of(WindowCategoryFactory())
    assert signed_in(other).get(apply_url(scene)).status_code == 404
    assert signed_in(other).get(form_url(scene)).status_code == 404
    response = signed_in(other).post(form_url(scene), posted(scene))
    assert response.status_code == 404
    reviewer = scene.departments[0].reviewer
    assert signed_in(reviewer).get(form_url(scene)).status_code == 403
    assert signed_in(scene.applicant.user).post(form_url(scene), posted(scene)).status_code == 403
    assert not JointCase.objects.exists()


# --- the department's correction request on its case ------------------------------------------


def correction_post(*rows):
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "50",
    }
    for index, (material, problem) in enumerate(rows):
        data[f"items-{index}-material"] = material
        data[f"items-{index}-problem"] = problem
    return data


def test_the_case_page_links_a_child_case_to_its_application(scene):
    joint = scene.accepted()
    child = joint.cases.order_by("pk").first()
    reviewer = scene.department_of(child).reviewer
    page = signed_in(reviewer).get(reverse("cases:case", args=[child.number])).text
    assert reverse("joint:case", args=[joint.number]) in page and joint.number in page


def test_the_reviewer_asks_for_corrections_on_the_child_case(scene):
    # Given an accepted application and its first case, at its reviewer's step
    joint = scene.accepted()
    child = joint.cases.order_by("pk").first()
    reviewer = scene.department_of(child).reviewer
    client = signed_in(reviewer)
    page = client.get(reverse("cases:case", args=[child.number]))
    offered = {entry["action"]: entry["form"] for entry in page.context["actions"]}
    # Then the page offers the correction request, naming the case's own materials
    assert "ask_correction" in offered
    choices = dict(offered["ask_correction"].formset.forms[0].fields["material"].choices)
    materials = list(child.item_version.materials.all())
    assert set(choices) == {"", *(str(m.pk) for m in materials)}
    # When the reviewer asks for one material and the form
    url = reverse("cases:act", args=[child.number, "ask_correction"])
    response = client.post(
        url, correction_post((str(materials[0].pk), "复印件不清晰"), ("", "注册资本有误"))
    )
    # Then the case waits for the corrections and the requests wait on the application
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.status == CaseStatus.CORRECTION
    requests = CorrectionRequest.objects.filter(joint=joint, case=child).order_by("pk")
    assert [(r.material_type_id, r.problem, r.notice_id) for r in requests] == [
        (materials[0].material_type_id, "复印件不清晰", None),
        (None, "注册资本有误", None),
    ]
    # and the window sees the application among the corrections to send
    assert listed(signed_in(scene.clerk).get(QUEUE))["to_send"] == [joint.number]


def test_a_material_not_of_the_guide_is_refused_and_nothing_changes(scene):
    joint = scene.accepted()
    child = joint.cases.order_by("pk").first()
    reviewer = scene.department_of(child).reviewer
    url = reverse("cases:act", args=[child.number, "ask_correction"])
    other_material = (
        scene.versions[1]
        .materials.exclude(material_type__in=child.item_version.materials.values("material_type"))
        .first()
    )
    response = signed_in(reviewer).post(url, correction_post((str(other_material.pk), "x")))
    assert response.status_code == 400
    child.refresh_from_db()
    assert child.status == CaseStatus.IN_REVIEW and not CorrectionRequest.objects.exists()


def test_another_department_may_not_ask_on_the_case(scene):
    joint = scene.accepted()
    child = joint.cases.order_by("pk").first()
    mine = scene.department_of(child)
    other = next(d for d in scene.departments if d is not mine)
    url = reverse("cases:act", args=[child.number, "ask_correction"])
    material = child.item_version.materials.first()
    data = correction_post((str(material.pk), "复印件不清晰"))
    # Another department's reviewer does not even see the case
    assert signed_in(other.reviewer).post(url, data).status_code == 404
    # The window clerk and the applicant see it, but may not ask
    assert signed_in(scene.clerk).post(url, data).status_code == 403
    assert signed_in(scene.applicant.user).post(url, data).status_code == 403
    page = signed_in(scene.clerk).get(reverse("cases:case", args=[child.number]))
    assert "ask_correction" not in {entry["action"] for entry in page.context["actions"]}
    child.refresh_from_db()
    assert child.status == CaseStatus.IN_REVIEW and not CorrectionRequest.objects.exists()


# --- the applicant's space --------------------------------------------------------------------


def test_my_space_lists_my_theme_applications_with_their_projects(scene):
    # Given an application of the applicant under a project, and another applicant's
    first = ThemeStage.objects.create(theme=scene.theme, order=1, name="第一阶段")
    scene.theme.theme_items.update(stage=first)
    joint = scene.apply(stage=first, project_name="示例厂房")
    # When the applicant opens their space
    page = signed_in(scene.applicant.user).get(reverse("space:home"))
    # Then the application is listed with its light, linked, with its project
    assert page.status_code == 200
    rows = page.context["joint_rows"]
    assert [(j.number, state.light) for j, state in rows] == [(joint.number, "green")]
    assert reverse("joint:case", args=[joint.number]) in page.text
    assert reverse("joint:project", args=[joint.project.public_id]) in page.text
    # and another applicant's space does not show it
    other = signed_in(enterprise(n=2).user).get(reverse("space:home"))
    assert other.status_code == 200 and other.context["joint_rows"] == []
    assert joint.number not in other.text
