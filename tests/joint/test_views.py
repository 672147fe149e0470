"""The pages of joint handling: the apply wizard (answers → one merged form and one material
set, 零提交, reuse), the application page for each role with its actions, the PDF and file
views, 我的主题申请 and a project's stages with their gating.

The clock stands on Monday 2026-11-23, 10:00 in Shanghai."""

from __future__ import annotations

import html
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.cases import services as cases
from yimen.cases.choices import CaseStatus
from yimen.catalog.choices import Target, ThemeCategory
from yimen.catalog.models import Theme, ThemeItem, ThemeStage
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.joint.choices import JointDocumentKind, JointStatus
from yimen.joint.models import CorrectionRequest, JointCase, Project
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import FrozenTime, at, enterprise, pdf, submit
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory
from ..conftest import grant
from ..licences.factories import LicenceTypeFactory, issue
from ..org.factories import WindowCategoryFactory
from .factories import JointScene, _item

pytestmark = pytest.mark.django_db

A, B, C = 0, 1, 2  # the scene's items: 设立登记, 印章备案, 社保登记 (C only with 「需要」)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23))


@pytest.fixture
def scene(clock):
    return JointScene.make()


def signed_in(user) -> Client:
    """Pages in English, so assertions read like the source strings."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def apply_url(theme, **params) -> str:
    url = reverse("joint:apply", args=[theme.code])
    query = "&".join(
        f"{key}={v}"
        for key, value in params.items()
        for v in (value if isinstance(value, list) else [value])
    )
    return f"{url}?{query}" if query else url


def answered_url(scene, *options) -> str:
    return apply_url(scene.theme, answer=["", *(o.pk for o in options)])


def field(scene, name) -> str:
    return f"material_{scene.types[name].pk}"


def posted(scene, *names, key=None, **form) -> dict:
    """What the wizard's step 2 posts: the form (prefixed), a file per material type."""
    names = names or ("申请书", "身份证明", "场所证明")
    data = {"idempotency_key": key or str(uuid.uuid4())}
    values = {"company_name": "示例科技有限公司", "capital": "100", "staff_count": "5", **form}
    data.update({f"form-{k}": v for k, v in values.items() if v is not None})
    data.update({field(scene, n): pdf(f"{n}.pdf") for n in names})
    return data


def page(joint) -> str:
    return reverse("joint:case", args=[joint.number])


def act_url(joint, action) -> str:
    return reverse("joint:act", args=[joint.number, action])


def post_status(user, url, data=None) -> int:
    return signed_in(user).post(url, data or {}).status_code


def fresh(joint) -> JointCase:
    return JointCase.objects.get(pk=joint.pk)


@pytest.fixture
def stranger(db) -> Client:
    """Another applicant, signed in."""
    return signed_in(enterprise(n=9).user)


# --- the wizard: step 1 -----------------------------------------------------------------------


def test_step_one_asks_the_scenario_questions(scene):
    response = signed_in(scene.applicant.user).get(apply_url(scene.theme))
    assert response.status_code == 200
    assert response.context["step"] == 1
    assert "是否招用员工？" in response.text
    assert f'value="{scene.yes.pk}"' in response.text and f'value="{scene.no.pk}"' in response.text


def test_a_bad_answer_stays_on_step_one_with_the_reason(scene):
    response = signed_in(scene.applicant.user).get(apply_url(scene.theme, answer=["", "999999"]))
    assert response.status_code == 400
    assert response.context["step"] == 1
    assert "is not an answer to this theme's questions" in text(response)


def test_the_wizard_needs_a_signed_in_applicant(scene):
    anonymous = signed_in(None).get(apply_url(scene.theme))
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    staff = signed_in(scene.clerk).get(answered_url(scene, scene.yes))
    assert staff.status_code == 403
    assert "no applicant profile" in staff.text


def test_an_unknown_or_inactive_theme_is_not_found(scene):
    client = signed_in(scene.applicant.user)
    assert client.get(reverse("joint:apply", args=["no-such-theme"])).status_code == 404
    Theme.objects.filter(pk=scene.theme.pk).update(is_active=False)
    assert client.get(apply_url(scene.theme)).status_code == 404


def test_a_theme_for_enterprises_is_refused_to_a_person(scene):
    from ..cases.factories import person

    citizen = person(n=7)
    response = signed_in(citizen.user).get(answered_url(scene, scene.yes))
    assert response.status_code == 200 and response.context["wrong_kind"]
    post = signed_in(citizen.user).post(answered_url(scene, scene.yes), posted(scene))
    assert post.status_code == 400 and not JointCase.objects.exists()


# --- the wizard: step 2 -----------------------------------------------------------------------


def test_the_answers_select_the_items_and_the_one_form_and_set(scene):
    client = signed_in(scene.applicant.user)

    with_staff = client.get(answered_url(scene, scene.yes))
    without = client.get(answered_url(scene, scene.no))

    assert with_staff.status_code == without.status_code == 200
    assert with_staff.context["step"] == 2
    assert [v.name for v in with_staff.context["merge"].versions] == [
        "设立登记",
        "印章备案",
        "社保登记",
    ]
    assert [v.name for v in without.context["merge"].versions] == ["设立登记", "印章备案"]
    # One field per dictionary key, one upload per material type.
    text = with_staff.text
    for key in ("company_name", "capital", "staff_count"):
        assert text.count(f'name="form-{key}"') == 1
    for name in ("申请书", "身份证明", "场所证明"):
        assert text.count(f'name="{field(scene, name)}"') == 1
    assert 'name="form-staff_count"' not in without.text
    # Which items need each material.
    assert "Needed by: 设立登记、社保登记" in text
    assert "Needed by: 设立登记、印章备案" in text


def test_the_form_page_shows_the_reduction(scene):
    response = signed_in(scene.applicant.user).get(answered_url(scene, scene.yes))
    merge = response.context["merge"]
    # 企业名称 ×3, 注册资本, 员工人数 → 3 fields; 申请书 ×2, 身份证明 ×2, 场所证明 → 3 types.
    assert (merge.fields_before, merge.fields_after) == (5, 3)
    assert (merge.materials_before, merge.materials_after) == (5, 3)
    reduction = response.text.split('id="reduction"')[1].split("</table>")[0]
    assert "5 → 3" in reduction and "(−40 %)" in reduction


def test_an_applicant_applies_and_lands_on_the_application_page(scene, tmp_path):
    client = signed_in(scene.applicant.user)
    response = client.post(answered_url(scene, scene.yes), posted(scene))

    joint = JointCase.objects.get()
    assert response.status_code == 302 and response["Location"] == page(joint)
    assert (joint.applicant, joint.channel, joint.status) == (
        scene.applicant,
        Channel.ONLINE,
        JointStatus.RECEIVED,
    )
    # The one form, stored once by dictionary key (the page's "form-" prefix is gone).
    assert joint.form_data == {
        "company_name": "示例科技有限公司",
        "capital": "100",
        "staff_count": "5",
    }
    assert joint.item_versions.count() == 3
    stored = {m.material_type.name: m.file_name for m in services.current_set(joint).values()}
    assert stored == {
        "申请书": "申请书.pdf",
        "身份证明": "身份证明.pdf",
        "场所证明": "场所证明.pdf",
    }
    assert joint.answers == [{"question": "是否招用员工？", "answers": ["需要"]}]


def test_the_same_key_twice_makes_one_application(scene):
    client = signed_in(scene.applicant.user)
    key = str(uuid.uuid4())
    first = client.post(answered_url(scene, scene.no), posted(scene, key=key))
    second = client.post(answered_url(scene, scene.no), posted(scene, key=key))
    assert first["Location"] == second["Location"]
    assert JointCase.objects.count() == 1


def test_merged_form_errors_land_on_their_fields(scene):
    client = signed_in(scene.applicant.user)
    response = client.post(
        answered_url(scene, scene.no), posted(scene, capital="", company_name="")
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"capital", "company_name"}
    assert 'aria-invalid="true"' in response.text
    assert not JointCase.objects.exists()


def test_a_required_material_without_a_file_is_marked_on_its_upload(scene):
    client = signed_in(scene.applicant.user)
    response = client.post(answered_url(scene, scene.no), posted(scene, "申请书", "场所证明"))

    assert response.status_code == 400
    assert list(response.context["set_form"].errors) == [field(scene, "身份证明")]
    assert not JointCase.objects.exists()


def test_a_file_the_service_refuses_lands_on_its_upload(scene):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(scene.applicant.user)
    data = posted(scene)
    data[field(scene, "场所证明")] = SimpleUploadedFile(
        "x.exe", b"MZ...", "application/octet-stream"
    )
    response = client.post(answered_url(scene, scene.no), data)

    assert response.status_code == 400
    errors = response.context["set_form"].errors
    assert list(errors) == [field(scene, "场所证明")]
    assert not JointCase.objects.exists()


def test_zero_submission_a_valid_licence_stands_for_a_material(scene):
    licence_type = LicenceTypeFactory(
        name="营业执照", holder_kind=scene.applicant.kind, replaces=[scene.types["身份证明"]]
    )
    licence = issue(licence_type, scene.applicant)
    client = signed_in(scene.applicant.user)

    shown = client.get(answered_url(scene, scene.no))
    assert f'name="{field(scene, "身份证明")}"' not in shown.text
    assert "Provided by the e-licence 营业执照 (zero submission): no upload needed." in shown.text
    assert licence.identifier in shown.text

    response = client.post(answered_url(scene, scene.no), posted(scene, "申请书", "场所证明"))
    joint = JointCase.objects.get()
    assert response.status_code == 302
    given = services.current_set(joint)[scene.types["身份证明"].pk]
    assert given.licence == licence and not given.file
    assert licence.identifier in signed_in(scene.applicant.user).get(page(joint)).text


def test_an_earlier_file_of_the_applicant_is_offered_again(scene):
    earlier = submit_earlier(scene)
    client = signed_in(scene.applicant.user)
    shown = client.get(answered_url(scene, scene.no))
    reuse = f"reuse_{scene.types['申请书'].pk}"
    assert f'name="{reuse}"' in shown.text and earlier.number in shown.text

    response = client.post(
        answered_url(scene, scene.no), {**posted(scene, "身份证明", "场所证明"), reuse: "on"}
    )
    assert response.status_code == 302
    joint = JointCase.objects.get()
    given = services.current_set(joint)[scene.types["申请书"].pk]
    assert given.sha256 == earlier.materials.get().sha256


def submit_earlier(scene):
    """An earlier case of the applicant with a 申请书 (a guide of its own)."""
    from ..cases.factories import guide

    version = guide(
        materials=[{"material_type": scene.types["申请书"], "originals": 1}],
        target=Target.ENTERPRISE,
    )
    material = version.materials.get()
    return submit(version, scene.applicant, uploads=[cases.Upload(material, pdf("旧申请书.pdf"))])


# --- stages and projects ----------------------------------------------------------------------


@pytest.fixture
def staged(clock):
    """A theme of two stages, one item each; the enterprise applicant and the clerk."""
    category = WindowCategoryFactory()
    plan = MaterialTypeFactory(name="规划图")
    name = FieldDefinitionFactory(key="project_name", label="项目名称")
    first = _item(None, category, [(plan, {})], [(name, True)], name="用地规划许可")
    second = _item(None, category, [(plan, {})], [(name, True)], name="施工许可")
    theme = Theme.objects.create(
        code="test-build", name="工程测试", category=ThemeCategory.ENTERPRISE_ACCESS,
        target=Target.ENTERPRISE, window_category=category,
    )  # fmt: skip
    stages = [
        ThemeStage.objects.create(theme=theme, order=1, name="立项用地"),
        ThemeStage.objects.create(theme=theme, order=2, name="施工许可"),
    ]
    for n, (stage, version) in enumerate(zip(stages, (first, second), strict=True)):
        ThemeItem.objects.create(theme=theme, stage=stage, item=version.item, order=n)
    from ..cases.factories import clerk_of

    return {
        "theme": theme,
        "stages": stages,
        "type": plan,
        "applicant": enterprise(n=3),
        "clerk": clerk_of(category),
        "versions": [first, second],
    }


def stage_post(staged, **extra):
    return {
        "idempotency_key": str(uuid.uuid4()),
        "form-project_name": "一号厂房",
        f"material_{staged['type'].pk}": pdf("规划图.pdf"),
        **extra,
    }


def test_a_staged_theme_asks_for_the_stage_first(staged):
    client = signed_in(staged["applicant"].user)
    response = client.get(apply_url(staged["theme"], answer=""))
    assert response.status_code == 200 and response.context["step"] == 1
    assert 'name="stage"' in response.text and 'name="project"' in response.text


def test_the_first_stage_opens_a_project_named_on_the_form(staged):
    client = signed_in(staged["applicant"].user)
    url = apply_url(staged["theme"], answer="", stage=staged["stages"][0].pk)
    shown = client.get(url)
    assert shown.status_code == 200 and 'name="project_name"' in shown.text
    # The dictionary's 项目名称 is the project's name: it is asked once, not on the form.
    assert 'name="form-project_name"' not in shown.text

    missing = client.post(url, stage_post(staged))
    assert missing.status_code == 400 and "project_name" in missing.context["set_form"].errors

    response = client.post(url, stage_post(staged, project_name="示例产业园项目"))
    project = Project.objects.get()
    joint = JointCase.objects.get()
    assert response.status_code == 302 and response["Location"] == page(joint)
    assert (project.name, joint.project, joint.stage) == (
        "示例产业园项目",
        project,
        staged["stages"][0],
    )
    assert joint.form_data["project_name"] == "示例产业园项目"


def test_a_later_stage_is_refused_until_the_stage_before_is_granted(staged):
    applicant, theme, (one, two) = staged["applicant"], staged["theme"], staged["stages"]
    joint = services.theme_apply(
        applicant=applicant, theme=theme, submitted_by=applicant.user, channel=Channel.ONLINE,
        form_data={"project_name": "一号厂房"}, stage=one, project_name="示例项目",
        uploads=[services.SetUpload(staged["type"], pdf())],
    )  # fmt: skip
    project = joint.project
    client = signed_in(applicant.user)
    url = apply_url(theme, answer="", stage=two.pk, project=project.public_id)

    shown = client.get(url)
    assert shown.status_code == 200
    assert "can be applied for once every item of “立项用地” is granted" in shown.text
    assert 'name="form-project_name"' not in shown.text
    posted_ = client.post(url, stage_post(staged))
    assert posted_.status_code == 400 and JointCase.objects.count() == 1

    # The project page says the same, and offers no button yet.
    project_page = client.get(project.get_absolute_url())
    assert project_page.status_code == 200
    assert "can be applied for once every item of “立项用地” is granted" in project_page.text
    assert "Apply for this stage" not in project_page.text

    # Once the first stage is granted, the project page offers the second.
    services.accept(joint=joint, actor=staged["clerk"])
    child = joint.cases.get()
    reviewer = grant(UserFactory(), Role.REVIEWER, department=child.department)
    head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=child.department)
    cases.review_pass(case=child, actor=reviewer)
    cases.approve(case=child, actor=head)
    project_page = client.get(project.get_absolute_url())
    assert "Apply for this stage" in project_page.text
    assert f"stage={two.pk}&amp;project={project.public_id}" in project_page.text
    response = client.post(url, stage_post(staged))
    assert response.status_code == 302 and JointCase.objects.count() == 2


def test_someone_elses_project_is_not_found(staged, stranger):
    applicant = staged["applicant"]
    joint = services.theme_apply(
        applicant=applicant, theme=staged["theme"], submitted_by=applicant.user,
        channel=Channel.ONLINE, form_data={"project_name": "一号厂房"}, stage=staged["stages"][0],
        project_name="示例项目", uploads=[services.SetUpload(staged["type"], pdf())],
    )  # fmt: skip
    assert stranger.get(joint.project.get_absolute_url()).status_code == 404
    wizard = stranger.get(
        apply_url(
            staged["theme"],
            answer="",
            stage=staged["stages"][1].pk,
            project=joint.project.public_id,
        )
    )
    assert wizard.status_code == 400 and wizard.context["step"] == 1


# --- the application page, role by role -------------------------------------------------------


def child(joint, index):
    return joint.cases.order_by("pk")[index]


def ask(scene, case, problem="身份证明不清晰", name="身份证明"):
    """The department of `case` asks for a correction of one of its materials."""
    material = case.item_version.materials.get(material_type=scene.types[name])
    items = [{"material": str(material.pk), "problem": problem}]
    return cases.ask_correction(case=case, actor=scene.department_of(case).reviewer, items=items)


def test_the_applicant_sees_the_application_with_its_parallel_progress(scene):
    joint = scene.accepted()
    ask(scene, child(joint, A))
    response = signed_in(scene.applicant.user).get(page(joint))

    assert response.status_code == 200
    body = text(response)
    assert joint.number in body and "开办测试" in body
    assert response.context["state"] is not None and 'id="clock"' in body
    assert "是否招用员工？" in body and "需要" in body
    # Every department's case, side by side, each linking to its case page.
    progress = body.split('id="progress"')[1].split("</table>")[0]
    for case in joint.cases.all():
        assert reverse("cases:case", args=[case.number]) in progress
        assert case.department.name in progress and case.item_version.name in progress
    # A request not sent yet is not the applicant's news, not even as a badge.
    assert "awaiting corrections" not in progress
    # The set, with links to the files; the documents; the history.
    receipt = joint.documents.get(kind=JointDocumentKind.RECEIPT)
    assert reverse("joint:document", args=[joint.number, receipt.code]) in body
    material = services.current_set(joint)[scene.types["申请书"].pk]
    assert reverse("joint:material", args=[joint.number, material.pk]) in body
    history = [str(e["label"]) for e in response.context["history"]]
    assert history == ["Application submitted", "Accept: open a case per item"]
    # A request not yet sent is the staff's business.
    assert response.context["pending"] == [] and "身份证明不清晰" not in body
    assert [e["action"] for e in response.context["actions"]] == ["withdraw"]


def test_the_window_clerk_sees_what_to_do_on_a_received_application(scene):
    joint = scene.apply()
    response = signed_in(scene.clerk).get(page(joint))
    assert response.status_code == 200
    actions = [e["action"] for e in response.context["actions"]]
    assert actions == ["accept", "refuse", "request_correction"]
    assert response.context["can_open_files"]
    # The correction items name the set's material types, or the form.
    options = response.context["actions"][2]["form"].formset.forms[0]["material_type"]
    assert {label for _value, label in options.field.choices} == {
        "The application form", "申请书", "身份证明", "场所证明",
    }  # fmt: skip


def test_a_reviewer_of_a_childs_department_sees_the_application_read_only(scene):
    joint = scene.accepted()
    ask(scene, child(joint, B), problem="场所证明过期", name="场所证明")
    reviewer = scene.department_of(child(joint, B)).reviewer
    response = signed_in(reviewer).get(page(joint))

    assert response.status_code == 200
    body = text(response)
    assert response.context["actions"] == []
    assert "Nothing for you to do on this application now." in body
    assert not response.context["can_open_files"]
    material = services.current_set(joint)[scene.types["申请书"].pk]
    assert reverse("joint:material", args=[joint.number, material.pk]) not in body
    # The requests the departments made, before they go out in one notice.
    pending = body.split('id="pending-corrections"')[1].split("</ul>")[0]
    assert "场所证明过期" in pending


def test_others_do_not_find_the_application(scene, stranger):
    joint = scene.apply()
    assert stranger.get(page(joint)).status_code == 404
    outsider = grant(UserFactory(), Role.REVIEWER, department=scene.departments[0].department)
    # Before acceptance no department has a case in it.
    assert signed_in(outsider).get(page(joint)).status_code == 404
    anonymous = signed_in(None).get(page(joint))
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    assert signed_in(scene.clerk).get(reverse("joint:case", args=["LB000000-0"])).status_code == 404


# --- the actions ------------------------------------------------------------------------------


def test_the_clerk_accepts_and_the_applicant_may_not(scene):
    joint = scene.apply()
    refused = signed_in(scene.applicant.user).post(act_url(joint, "accept"))
    assert refused.status_code == 403 and fresh(joint).status == JointStatus.RECEIVED

    response = signed_in(scene.clerk).post(act_url(joint, "accept"))
    assert response.status_code == 302 and response["Location"] == page(joint)
    assert fresh(joint).status == JointStatus.IN_REVIEW
    assert joint.cases.count() == 3


def test_accepting_twice_tells_that_the_application_changed(scene):
    joint = scene.apply()
    clerk = signed_in(scene.clerk)
    clerk.post(act_url(joint, "accept"))
    again = clerk.post(act_url(joint, "accept"))
    assert again.status_code == 409
    assert "The application changed meanwhile" in text(again)
    assert joint.cases.count() == 3


def test_accepting_with_a_required_material_missing_is_a_400_with_the_reason(scene):
    joint = scene.apply(uploads=scene.uploads("申请书", "身份证明"))
    response = signed_in(scene.clerk).post(act_url(joint, "accept"))
    assert response.status_code == 400
    assert "Missing: 场所证明." in text(response)
    assert fresh(joint).status == JointStatus.RECEIVED


def test_the_clerk_refuses_with_a_reason(scene):
    joint = scene.apply()
    clerk = signed_in(scene.clerk)
    no_reason = clerk.post(act_url(joint, "refuse"), {"reason": ""})
    assert no_reason.status_code == 400
    assert no_reason.context["actions"][1]["form"].errors["reason"]
    assert post_status(scene.applicant.user, act_url(joint, "refuse"), {"reason": "x"}) == 403

    response = clerk.post(act_url(joint, "refuse"), {"reason": "不属于本中心受理范围"})
    assert response.status_code == 302
    joint = fresh(joint)
    assert (joint.status, joint.close_reason) == (JointStatus.NOT_ACCEPTED, "不属于本中心受理范围")


def correction_post(*rows) -> dict:
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "50",
    }
    for n, (material_type, problem) in enumerate(rows):
        data[f"items-{n}-material_type"] = str(material_type.pk) if material_type else ""
        data[f"items-{n}-problem"] = problem
    return data


def test_the_window_asks_for_corrections_and_the_applicant_resubmits(scene):
    joint = scene.apply()
    clerk = signed_in(scene.clerk)
    bad = clerk.post(act_url(joint, "request_correction"), correction_post((None, "")))
    assert bad.status_code == 400 and fresh(joint).status == JointStatus.RECEIVED
    assert (
        post_status(
            scene.applicant.user, act_url(joint, "request_correction"), correction_post((None, "x"))
        )
        == 403
    )

    asked = correction_post((scene.types["场所证明"], "租赁合同已过期"), (None, "注册资本填写有误"))
    response = clerk.post(act_url(joint, "request_correction"), asked)
    assert response.status_code == 302 and fresh(joint).status == JointStatus.CORRECTION
    assert joint.documents.filter(kind=JointDocumentKind.CORRECTION).count() == 1

    # The applicant sees what is asked, and answers with the file and the changed field.
    applicant = signed_in(scene.applicant.user)
    shown = applicant.get(page(joint))
    body = text(shown)
    opened = body.split('id="open-corrections"')[1].split("</ul>")[0]
    assert "租赁合同已过期" in opened and "注册资本填写有误" in opened
    form = next(e["form"] for e in shown.context["actions"] if e["action"] == "resubmit")
    assert list(form.fields) == [field(scene, "场所证明")]
    assert form.subform is not None and form.subform["capital"].value() == "100"

    data = {f"resubmit-form-{k}": v for k, v in fresh(joint).form_data.items()}
    data["resubmit-form-capital"] = "200"
    data[field(scene, "场所证明")] = pdf("新场所证明.pdf")
    response = applicant.post(act_url(joint, "resubmit"), data)
    assert response.status_code == 302
    joint = fresh(joint)
    assert joint.status == JointStatus.RECEIVED and joint.form_data["capital"] == "200"
    given = services.current_set(joint)[scene.types["场所证明"].pk]
    assert given.file_name == "新场所证明.pdf"
    assert not CorrectionRequest.objects.filter(answered_at=None).exists()


def test_a_resubmission_with_nothing_new_is_a_400(scene):
    joint = scene.apply()
    services.request_correction(
        joint=joint, actor=scene.clerk, items=[{"material_type": "", "problem": "企业名称有误"}]
    )
    data = {f"resubmit-form-{k}": v for k, v in joint.form_data.items()}
    response = signed_in(scene.applicant.user).post(act_url(joint, "resubmit"), data)
    assert response.status_code == 400
    assert "Give the corrected materials." in text(response)
    assert fresh(joint).status == JointStatus.CORRECTION


def test_resubmitted_form_errors_land_on_their_fields(scene):
    joint = scene.apply()
    services.request_correction(
        joint=joint, actor=scene.clerk, items=[{"material_type": "", "problem": "注册资本有误"}]
    )
    data = {f"resubmit-form-{k}": v for k, v in joint.form_data.items()}
    data["resubmit-form-capital"] = ""
    response = signed_in(scene.applicant.user).post(act_url(joint, "resubmit"), data)
    assert response.status_code == 400
    form = next(e["form"] for e in response.context["actions"] if e["action"] == "resubmit")
    assert list(form.subform.errors) == ["capital"]


def test_the_departments_requests_go_out_in_one_notice(scene):
    joint = scene.accepted()
    ask(scene, child(joint, A), problem="身份证明模糊")
    ask(scene, child(joint, B), problem="场所证明过期", name="场所证明")

    clerk = signed_in(scene.clerk)
    shown = clerk.get(page(joint))
    entry = next(e for e in shown.context["actions"] if e["action"] == "send_corrections")
    groups = {department: [r.problem for r in rows] for department, rows in entry["form"].groups}
    assert groups == {
        child(joint, A).department.name: ["身份证明模糊"],
        child(joint, B).department.name: ["场所证明过期"],
    }
    assert post_status(scene.applicant.user, act_url(joint, "send_corrections")) == 403
    reviewer = scene.department_of(child(joint, A)).reviewer
    assert post_status(reviewer, act_url(joint, "send_corrections")) == 403

    response = clerk.post(act_url(joint, "send_corrections"))
    assert response.status_code == 302 and fresh(joint).status == JointStatus.CORRECTION
    assert joint.documents.filter(kind=JointDocumentKind.CORRECTION).count() == 1

    # The applicant answers both departments at once.
    applicant = signed_in(scene.applicant.user)
    data = {
        field(scene, "身份证明"): pdf("新身份证明.pdf"),
        field(scene, "场所证明"): pdf("新.pdf"),
    }
    response = applicant.post(act_url(joint, "resubmit"), data)
    assert response.status_code == 302 and fresh(joint).status == JointStatus.IN_REVIEW
    assert {c.status for c in joint.cases.all()} == {CaseStatus.IN_REVIEW}


def test_send_corrections_is_offered_only_with_requests_pending(scene):
    joint = scene.accepted()
    shown = signed_in(scene.clerk).get(page(joint))
    assert "send_corrections" not in [e["action"] for e in shown.context["actions"]]
    response = signed_in(scene.clerk).post(act_url(joint, "send_corrections"))
    assert response.status_code == 400
    assert "No department has asked for corrections." in text(response)


def test_the_applicant_withdraws_and_the_clerk_may_not(scene):
    joint = scene.accepted()
    assert post_status(scene.clerk, act_url(joint, "withdraw"), {"reason": "x"}) == 403
    no_reason = signed_in(scene.applicant.user).post(act_url(joint, "withdraw"), {"reason": ""})
    assert no_reason.status_code == 400

    response = signed_in(scene.applicant.user).post(
        act_url(joint, "withdraw"), {"reason": "不再开办"}
    )
    assert response.status_code == 302
    assert fresh(joint).status == JointStatus.WITHDRAWN
    assert {c.status for c in joint.cases.all()} == {CaseStatus.WITHDRAWN}


def ready(scene):
    joint = scene.accepted()
    for case in joint.cases.all():
        scene.grant(case)
    assert fresh(joint).status == JointStatus.READY
    return joint


def test_the_clerk_delivers_every_result_at_once_and_the_applicant_rates(scene):
    joint = ready(scene)
    clerk = signed_in(scene.clerk)
    assert post_status(scene.applicant.user, act_url(joint, "deliver"), {"method": "window"}) == 403
    by_post = clerk.post(act_url(joint, "deliver"), {"method": "post", "tracking_number": ""})
    assert by_post.status_code == 400
    form = next(e["form"] for e in by_post.context["actions"] if e["action"] == "deliver")
    assert list(form.errors) == ["tracking_number"]

    response = clerk.post(act_url(joint, "deliver"), {"method": "window"})
    assert response.status_code == 302 and fresh(joint).status == JointStatus.DELIVERED
    assert {c.status for c in joint.cases.all()} == {CaseStatus.DELIVERED}

    assert clerk.post(act_url(joint, "evaluate"), {"rating": "5"}).status_code == 403
    applicant = signed_in(scene.applicant.user)
    low = applicant.post(act_url(joint, "evaluate"), {"rating": "1", "comment": ""})
    assert low.status_code == 400 and fresh(joint).rating is None
    response = applicant.post(act_url(joint, "evaluate"), {"rating": "5", "comment": "很快"})
    assert response.status_code == 302 and fresh(joint).rating == 5
    shown = applicant.get(page(joint))
    assert "evaluate" not in [e["action"] for e in shown.context["actions"]]


def test_an_unknown_action_is_not_found(scene):
    joint = scene.apply()
    assert signed_in(scene.clerk).post(act_url(joint, "explode")).status_code == 404
    assert signed_in(scene.clerk).get(act_url(joint, "accept")).status_code == 405


# --- its papers -------------------------------------------------------------------------------


def test_the_documents_open_as_pdf_for_those_who_see_the_application(scene, stranger):
    joint = scene.accepted()
    document = joint.documents.get(kind=JointDocumentKind.ACCEPTANCE)
    url = reverse("joint:document", args=[joint.number, document.code])
    reviewer = scene.department_of(child(joint, A)).reviewer
    for user in (scene.applicant.user, scene.clerk, reviewer):
        response = signed_in(user).get(url)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert "no-store" in response["Cache-Control"]
    assert stranger.get(url).status_code == 404
    assert signed_in(None).get(url).status_code == 302
    wrong = reverse("joint:document", args=[joint.number, "nosuchcode"])
    assert signed_in(scene.clerk).get(wrong).status_code == 404


def test_the_files_open_for_the_applicant_and_the_window_only(scene, stranger):
    joint = scene.accepted()
    material = services.current_set(joint)[scene.types["申请书"].pk]
    url = reverse("joint:material", args=[joint.number, material.pk])
    for user in (scene.applicant.user, scene.clerk):
        response = signed_in(user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert "no-store" in response["Cache-Control"]
    reviewer = scene.department_of(child(joint, A)).reviewer
    assert signed_in(reviewer).get(url).status_code == 404
    assert stranger.get(url).status_code == 404
    assert signed_in(None).get(url).status_code == 302
    other = scene.apply(idempotency_key="other")
    foreign = services.current_set(other)[scene.types["申请书"].pk]
    mixed = reverse("joint:material", args=[joint.number, foreign.pk])
    assert signed_in(scene.clerk).get(mixed).status_code == 404


# --- 我的主题申请 ---------------------------------------------------------------------------------


def test_mine_lists_the_applicants_applications_and_projects_in_a_fixed_number_of_queries(
    scene, stranger
):
    client = signed_in(scene.applicant.user)
    scene.apply()
    client.get(reverse("joint:mine"))  # warm the calendar and the session
    with CaptureQueriesContext(connection) as one:
        first = client.get(reverse("joint:mine"))
    for n in range(3):
        scene.apply(idempotency_key=f"more-{n}")
    with CaptureQueriesContext(connection) as four:
        response = client.get(reverse("joint:mine"))
    assert first.status_code == response.status_code == 200
    assert len(response.context["rows"]) == 4
    assert len(four) == len(one)
    assert stranger.get(reverse("joint:mine")).context["rows"] == []
    assert signed_in(scene.clerk).get(reverse("joint:mine")).status_code == 403


def test_the_theme_page_links_to_the_wizard_with_the_answers(scene):
    client = signed_in(scene.applicant.user)
    plain = client.get(scene.theme.get_absolute_url())
    assert f'href="{reverse("joint:apply", args=[scene.theme.code])}"' in plain.text
    answered = client.get(f"{scene.theme.get_absolute_url()}?answer=&answer={scene.yes.pk}")
    link = text(answered).split('id="apply-online" href="')[1].split('"')[0]
    assert (
        link == f"{reverse('joint:apply', args=[scene.theme.code])}?answer=&answer={scene.yes.pk}"
    )
    step_two = client.get(link)
    assert step_two.context["step"] == 2 and len(step_two.context["merge"].versions) == 3


def test_a_department_reads_the_fields_of_its_own_items_only(scene):
    joint = scene.accepted()
    b = child(joint, 1)
    reviewer = scene.department_of(b).reviewer

    response = signed_in(reviewer).get(page(joint))

    assert response.status_code == 200
    shown = {label for label, _value in response.context["form_rows"]}
    assert shown == {"企业名称"}  # B asks for the company name only, not A's capital
    assert "100" not in text(response).split('id="h-form"')[1].split("</section>")[0]


def test_staff_see_a_department_request_before_it_is_sent(scene):
    joint = scene.accepted()
    ask(scene, child(joint, A))

    response = signed_in(scene.clerk).get(page(joint))

    assert [r.problem for r in response.context["pending"]] == ["身份证明不清晰"]
    progress = text(response).split('id="progress"')[1].split("</table>")[0]
    assert "awaiting corrections" in progress


def test_the_results_list_every_decision_and_the_licences_issued_together(scene):
    from yimen.accounts.choices import ApplicantKind

    licence_type = LicenceTypeFactory(
        holder_kind=ApplicantKind.ENTERPRISE,
        issuing_items=[scene.versions[A].item],
        fields=["company_name"],
    )
    joint = scene.accepted()
    for case in joint.cases.order_by("pk"):
        scene.grant(case)
    joint.refresh_from_db()

    response = signed_in(scene.applicant.user).get(page(joint))

    results = text(response).split('id="results"')[1].split("</table>")[0]
    assert [r.case.item_version.name for r in response.context["results"]] == [
        "设立登记", "印章备案", "社保登记",
    ]  # fmt: skip
    assert licence_type.name in results
    assert results.count("Decision to grant the licence") == 3
