"""The joint services (主题式联审联办): the scenario answers choose the items; one merged form
and one material set serve every item (零提交 included); one acceptance opens a case per
item in its department; the departments review in parallel and their correction requests
reach the applicant in one notice; every licence is issued together (多证同发) and
delivered once; a refusal stops the others only when the theme says so; a withdrawal ends
every case. Steps on a child that belong to the application are refused there.

The clock stands on Monday 2026-11-23, 10:00 in Shanghai unless a test moves it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from yimen.accounts.choices import ApplicantKind
from yimen.cases import services as cases
from yimen.cases.choices import CaseStatus, DeliveryMethod, MaterialState
from yimen.cases.choices import ClockPurpose as CaseClockPurpose
from yimen.cases.models import Case, CaseMaterial
from yimen.catalog.choices import LimitUnit, Requirement, Target, ThemeCategory
from yimen.catalog.models import ScenarioOption, ScenarioQuestion, Theme, ThemeItem
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.models import AuditEvent, Clock
from yimen.joint import services
from yimen.joint.choices import ClockPurpose, JointDocumentKind, JointStatus
from yimen.joint.models import CorrectionRequest, JointCase, JointDocument, JointMaterial
from yimen.licences.models import Licence
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import PDF, FrozenTime, Scene, at, pdf
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory
from ..conftest import grant
from ..licences.factories import LicenceTypeFactory, issue
from ..org.factories import DepartmentFactory, WindowCategoryFactory
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


# --- helpers ----------------------------------------------------------------------------------


def fresh(joint) -> JointCase:
    return JointCase.objects.get(pk=joint.pk)


def child(scene, joint, index) -> Case:
    return Case.objects.get(joint=joint, item_version=scene.versions[index])


def clock_of(pk) -> Clock:
    return Clock.objects.get(pk=pk)


def material_of(scene, index, type_name):
    """The Material of item `index`'s guide for the material type named."""
    return scene.versions[index].materials.get(material_type=scene.types[type_name])


def ask(scene, joint, index, type_name, problem):
    case = child(scene, joint, index)
    return cases.ask_correction(
        case=case,
        actor=scene.department_of(case).reviewer,
        items=[{"material": material_of(scene, index, type_name).pk, "problem": problem}],
    )


def new_file(name, extra=b"v2"):
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


def issuing(*versions):
    """A licence type for enterprises issued by each item given."""
    return [
        LicenceTypeFactory(
            holder_kind=ApplicantKind.ENTERPRISE, issuing_items=[v.item], fields=["company_name"]
        )
        for v in versions
    ]


def errors_of(raised) -> dict:
    return raised.value.message_dict


def joint_events(joint, action=None):
    rows = AuditEvent.objects.filter(object_type="joint.jointcase", object_id=str(joint.pk))
    if action:
        rows = rows.filter(action=f"joint.{action}")
    return list(rows.order_by("pk"))


# --- scenario selection -----------------------------------------------------------------------


def test_the_answers_choose_the_items_and_c_applies_only_with_yes(scene):
    # When the applicant answers 「需要」, then 「不需要」
    with_staff = scene.apply(answers=[scene.yes.pk])
    without = scene.apply(answers=[scene.no.pk])

    # Then C (社保登记) is applied for with 「需要」 only; A and B always
    assert set(with_staff.item_versions.all()) == set(scene.versions)
    assert set(without.item_versions.all()) == {scene.versions[A], scene.versions[B]}
    # and the answers are kept as text
    assert with_staff.answers == [{"question": "是否招用员工？", "answers": ["需要"]}]
    assert without.answers == [{"question": "是否招用员工？", "answers": ["不需要"]}]
    assert with_staff.status == JointStatus.RECEIVED


@pytest.mark.parametrize("bad", ["999999", "abc", "other-theme"])
def test_an_option_that_is_no_answer_of_the_theme_is_an_answer_error(scene, bad):
    if bad == "other-theme":
        theme = Theme.objects.create(
            code="other", name="另一主题", category=ThemeCategory.ENTERPRISE_ACCESS,
            target=Target.ENTERPRISE,
        )  # fmt: skip
        other = ScenarioQuestion.objects.create(theme=theme, text="另一问")
        bad = ScenarioOption.objects.create(question=other, text="是", order=1).pk

    with pytest.raises(ValidationError) as refused:
        scene.apply(answers=[bad])

    assert "answer" in errors_of(refused)
    assert not JointCase.objects.exists()


def test_a_second_answer_to_a_one_answer_question_is_refused(scene):
    with pytest.raises(ValidationError) as refused:
        scene.apply(answers=[scene.yes.pk, scene.no.pk])

    assert errors_of(refused)["answer"] == ["“是否招用员工？” takes one answer."]
    assert not JointCase.objects.exists()


def test_answers_under_which_no_item_applies_are_refused(scene):
    # Given a theme whose every item hangs on 「需要」
    scene.yes.theme_items.set(ThemeItem.objects.filter(theme=scene.theme))

    with pytest.raises(ValidationError) as refused:
        scene.apply(answers=[scene.no.pk])

    assert errors_of(refused)["answer"] == ["No item of the theme applies to these answers."]
    assert not JointCase.objects.exists()


# --- the one form and the one material set ----------------------------------------------------


def test_one_file_per_material_type_serves_every_case_that_needs_it(scene, settings):
    joint = scene.accepted()

    current = services.current_set(joint)
    assert {row.material_type.name for row in current.values()} == {
        "申请书",
        "身份证明",
        "场所证明",
    }
    assert JointMaterial.objects.filter(joint=joint).count() == 3
    # one stored file per type, not one per case
    stored = [p for p in (settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(stored) == 3
    asked = {
        A: {"申请书", "身份证明"},
        B: {"身份证明", "场所证明"},
        C: {"申请书"},
    }
    for index, names in asked.items():
        rows = list(CaseMaterial.objects.filter(case=child(scene, joint, index)))
        assert {r.material.material_type.name for r in rows} == names
        for row in rows:
            shared = current[row.material.material_type_id]
            assert row.state == MaterialState.PROVIDED
            assert row.file.name == shared.file.name
            assert (row.file_name, row.size, row.sha256) == (
                shared.file_name,
                shared.size,
                shared.sha256,
            )
    # 身份证明 serves A and B from one file
    identity = CaseMaterial.objects.filter(
        case__joint=joint, material__material_type=scene.types["身份证明"]
    )
    assert identity.count() == 2
    assert len({row.file.name for row in identity}) == 1


def test_each_case_holds_only_its_guides_fields_of_the_one_form(scene):
    joint = scene.accepted()

    assert fresh(joint).form_data == {
        "company_name": "示例科技有限公司",
        "capital": "100",
        "staff_count": "5",
    }
    assert child(scene, joint, A).form_data == {
        "company_name": "示例科技有限公司",
        "capital": "100",
    }
    assert child(scene, joint, B).form_data == {"company_name": "示例科技有限公司"}
    assert child(scene, joint, C).form_data == {
        "company_name": "示例科技有限公司",
        "staff_count": "5",
    }


def test_a_field_one_item_requires_is_required_in_the_one_form(scene):
    # capital: required by A only; staff_count: optional in C
    with pytest.raises(ValidationError) as refused:
        scene.apply(form={"company_name": "示例科技有限公司", "staff_count": "5"})
    assert set(errors_of(refused)) == {"form.capital"}

    joint = scene.apply(form={"company_name": "示例科技有限公司", "capital": "100"})
    assert "staff_count" not in joint.form_data or not joint.form_data["staff_count"]


def _two_item_theme(clock):
    """Items X and Y: 证明甲 required by X and conditional in Y; 证明乙 conditional only;
    the field 联系电话 optional in X and required in Y."""
    category = WindowCategoryFactory()
    first, second = MaterialTypeFactory(name="证明甲"), MaterialTypeFactory(name="证明乙")
    phone = FieldDefinitionFactory(key="phone", label="联系电话")
    conditional = {"requirement": Requirement.CONDITIONAL, "condition": "有则提供"}
    x = _item(DepartmentFactory(), category, [(first, {})], [(phone, False)], name="事项X")
    y = _item(
        DepartmentFactory(), category, [(first, conditional), (second, conditional)],
        [(phone, True)], name="事项Y",
    )  # fmt: skip
    theme = Theme.objects.create(
        code=f"two-{category.pk}", name="两项", category=ThemeCategory.ENTERPRISE_ACCESS,
        target=Target.ENTERPRISE, window_category=category,
    )  # fmt: skip
    for n, version in enumerate((x, y)):
        ThemeItem.objects.create(theme=theme, item=version.item, order=n)
    return theme, first, second


def test_a_material_or_field_is_required_when_any_item_requires_it(clock):
    theme, first, _second = _two_item_theme(clock)
    scene = JointScene.make()  # for its applicant and files
    merge = services.plan_of(
        services.theme_apply(
            applicant=scene.applicant, theme=theme, submitted_by=scene.applicant.user,
            channel=Channel.ONLINE, form_data={"phone": "123"},
            uploads=[services.SetUpload(first, pdf())],
        )
    )  # fmt: skip

    required = {m.material_type.name: m.required for m in merge.materials}
    assert required == {"证明甲": True, "证明乙": False}
    assert services.form_for(merge).fields["phone"].required is True
    with pytest.raises(ValidationError) as refused:
        services.theme_apply(
            applicant=scene.applicant, theme=theme, submitted_by=scene.applicant.user,
            channel=Channel.ONLINE, form_data={},
        )  # fmt: skip
    assert "form.phone" in errors_of(refused)


def test_an_upload_of_a_type_not_asked_for_is_refused_by_its_index(scene):
    stray = MaterialTypeFactory(name="无关材料")

    with pytest.raises(ValidationError) as refused:
        scene.apply(uploads=[*scene.uploads(), services.SetUpload(stray, pdf("无关.pdf"))])

    assert errors_of(refused) == {
        "materials.3": ["This material is not asked for by the items applied for."]
    }
    assert not JointCase.objects.exists()


def test_the_same_type_given_twice_is_refused(scene):
    with pytest.raises(ValidationError) as refused:
        scene.apply(uploads=scene.uploads("申请书", "身份证明", "申请书"))

    assert errors_of(refused) == {
        "materials.2": ["One file per material: this one is given twice."]
    }


def test_a_valid_licence_of_the_applicant_stands_for_a_material_type(scene):
    # Given a licence of the applicant that replaces 身份证明 (零提交)
    licence_type = LicenceTypeFactory(
        name="营业执照", holder_kind=ApplicantKind.ENTERPRISE, replaces=[scene.types["身份证明"]]
    )
    licence = issue(licence_type, scene.applicant, data={})

    # When the applicant uploads only the other two and the window accepts
    joint = scene.apply(uploads=scene.uploads("申请书", "场所证明"))
    row = services.current_set(joint)[scene.types["身份证明"].pk]
    assert row.licence == licence
    assert not row.file
    assert joint_events(joint, "submit")[0].payload["licences"] == [licence.identifier]
    joint = services.accept(joint=joint, actor=scene.clerk)

    # Then A's and B's 身份证明 are the licence, without a file
    rows = CaseMaterial.objects.filter(
        case__joint=joint, material__material_type=scene.types["身份证明"]
    )
    assert {r.case.item_version for r in rows} == {scene.versions[A], scene.versions[B]}
    assert all(r.licence == licence and not r.file for r in rows)


def test_an_uploaded_file_wins_over_a_licence(scene):
    licence_type = LicenceTypeFactory(
        holder_kind=ApplicantKind.ENTERPRISE, replaces=[scene.types["身份证明"]]
    )
    issue(licence_type, scene.applicant, data={})

    joint = scene.apply()

    assert services.current_set(joint)[scene.types["身份证明"].pk].licence is None


# --- acceptance -------------------------------------------------------------------------------


def test_acceptance_with_a_required_material_missing_is_refused_with_its_name(scene):
    joint = scene.apply(uploads=scene.uploads("申请书", "身份证明"))

    with pytest.raises(ValidationError) as refused:
        services.accept(joint=joint, actor=scene.clerk)

    assert errors_of(refused) == {"materials": ["Missing: 场所证明."]}
    assert fresh(joint).status == JointStatus.RECEIVED
    assert not Case.objects.filter(joint=joint).exists()
    assert joint_events(joint, "accept") == []


def test_one_acceptance_opens_one_case_per_item_each_in_its_department(clock):
    scene = JointScene.make(limits=(3, 5, 8))
    joint = scene.accepted()

    joint = fresh(joint)
    assert joint.status == JointStatus.IN_REVIEW
    assert joint.accepted_by == scene.clerk
    opened = list(Case.objects.filter(joint=joint))
    assert len(opened) == 3
    assert len({c.number for c in opened}) == 3
    for index, limit in ((A, 3), (B, 5), (C, 8)):
        case = child(scene, joint, index)
        assert case.status == CaseStatus.IN_REVIEW
        assert case.department == scene.departments[index].department
        assert case.review_step == 0
        assert case.applicant == scene.applicant
        assert case.accepted_at == joint.accepted_at
        assert case.accepted_by == scene.clerk
        assert case.acceptance_clock is None
        decision = case.decision_clock
        assert (decision.purpose, decision.limit, decision.unit) == (
            CaseClockPurpose.DECISION,
            limit,
            LimitUnit.WORKDAYS,
        )
        assert decision.started_at == joint.accepted_at
        assert decision.status == Clock.Status.RUNNING


def test_the_application_runs_on_the_themes_promised_limit(scene):
    joint = fresh(scene.accepted())

    assert (joint.joint_clock.purpose, joint.joint_clock.limit, joint.joint_clock.unit) == (
        ClockPurpose.JOINT,
        10,
        LimitUnit.WORKDAYS,
    )
    assert joint.joint_clock.started_at == joint.accepted_at
    assert joint.joint_clock.status == Clock.Status.RUNNING
    assert joint.acceptance_clock.status == Clock.Status.STOPPED


def test_without_a_promised_limit_the_application_runs_on_45_working_days(clock):
    scene = JointScene.make(promised_limit=None)

    joint = fresh(scene.accepted())

    assert joint.joint_clock.limit == 45
    assert joint.joint_clock.unit == LimitUnit.WORKDAYS


def test_the_acceptance_notice_lists_every_case(scene):
    joint = scene.accepted()

    notices = JointDocument.objects.filter(joint=joint, kind=JointDocumentKind.ACCEPTANCE)
    assert notices.count() == 1
    listed = notices.get().content["cases"]
    opened = Case.objects.filter(joint=joint).order_by("pk")
    assert sorted(row["number"] for row in listed) == sorted(c.number for c in opened)
    assert {row["department"] for row in listed} == {d.department.name for d in scene.departments}


def test_submission_and_acceptance_are_audited_on_the_application_and_each_case(scene):
    joint = scene.accepted()

    submit, accept = joint_events(joint, "submit"), joint_events(joint, "accept")
    assert len(submit) == len(accept) == 1
    assert (submit[0].actor, submit[0].to_state) == (scene.applicant.user, JointStatus.RECEIVED)
    assert (accept[0].actor, accept[0].from_state, accept[0].to_state) == (
        scene.clerk,
        JointStatus.RECEIVED,
        JointStatus.IN_REVIEW,
    )
    opened = Case.objects.filter(joint=joint)
    assert sorted(accept[0].payload["cases"]) == sorted(c.number for c in opened)
    for case in opened:
        rows = AuditEvent.objects.filter(
            object_type="cases.case", object_id=str(case.pk), action="case.accept"
        )
        assert rows.count() == 1
        assert rows.get().payload == {"joint": joint.number}
        assert rows.get().actor == scene.clerk


def test_a_second_acceptance_is_a_state_conflict(scene):
    joint = scene.accepted()

    with pytest.raises(StateConflict):
        services.accept(joint=JointCase.objects.get(pk=joint.pk), actor=scene.clerk)

    assert Case.objects.filter(joint=joint).count() == 3


def test_refusal_closes_the_application_without_cases(scene):
    joint = scene.apply()

    services.refuse(joint=joint, actor=scene.clerk, reason="不属于本中心受理范围")

    joint = fresh(joint)
    assert joint.status == JointStatus.NOT_ACCEPTED
    assert joint.close_reason == "不属于本中心受理范围"
    assert joint.acceptance_clock.status == Clock.Status.STOPPED
    assert not Case.objects.filter(joint=joint).exists()
    assert joint.documents.filter(kind=JointDocumentKind.NON_ACCEPTANCE).count() == 1
    with pytest.raises(ValidationError) as no_reason:
        services.refuse(joint=scene.apply(), actor=scene.clerk, reason=" ")
    assert "reason" in errors_of(no_reason)


# --- parallel review --------------------------------------------------------------------------


@pytest.mark.parametrize("order", [(A, B, C), (C, B, A), (B, C, A)])
def test_the_departments_decide_in_any_order_and_the_application_waits_for_the_last(scene, order):
    joint = scene.accepted()

    for n, index in enumerate(order):
        scene.grant(child(scene, joint, index))
        stored = fresh(joint)
        if n < len(order) - 1:
            assert stored.status == JointStatus.IN_REVIEW
            assert stored.decided_at is None
            assert stored.joint_clock.status == Clock.Status.RUNNING

    stored = fresh(joint)
    assert stored.status == JointStatus.READY
    assert stored.decided_at is not None
    assert stored.joint_clock.status == Clock.Status.STOPPED
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {
        CaseStatus.READY
    }


# --- the combined correction notice -----------------------------------------------------------


def test_two_departments_requests_are_sent_in_one_notice(scene):
    joint = scene.accepted()

    # Given A asks about 身份证明 and B about 场所证明
    ask(scene, joint, A, "身份证明", "复印件不清晰")
    ask(scene, joint, B, "场所证明", "缺少产权证明")
    for index in (A, B):
        case = child(scene, joint, index)
        assert case.status == CaseStatus.CORRECTION
        assert case.decision_clock.status == Clock.Status.PAUSED
    assert child(scene, joint, C).status == CaseStatus.IN_REVIEW
    # the application gathers them, not yet sent
    assert fresh(joint).status == JointStatus.IN_REVIEW
    assert CorrectionRequest.objects.filter(joint=joint, notice=None).count() == 2
    assert not joint.documents.filter(kind=JointDocumentKind.CORRECTION).exists()

    # When the window sends them
    services.send_corrections(joint=joint, actor=scene.clerk)

    # Then one notice lists both departments' items, and the joint clock pauses
    notices = JointDocument.objects.filter(joint=joint, kind=JointDocumentKind.CORRECTION)
    assert notices.count() == 1
    items = notices.get().content["items"]
    assert {(i["department"], i["problem"]) for i in items} == {
        (scene.departments[A].department.name, "复印件不清晰"),
        (scene.departments[B].department.name, "缺少产权证明"),
    }
    assert any("身份证明" in i["material"] for i in items)
    assert any("场所证明" in i["material"] for i in items)
    stored = fresh(joint)
    assert stored.status == JointStatus.CORRECTION
    assert stored.joint_clock.status == Clock.Status.PAUSED
    assert set(CorrectionRequest.objects.filter(joint=joint).values_list("notice", flat=True)) == {
        notices.get().pk
    }


def test_sending_without_a_pending_request_is_refused(scene):
    joint = scene.accepted()

    with pytest.raises(ValidationError) as refused:
        services.send_corrections(joint=joint, actor=scene.clerk)

    assert "status" in errors_of(refused)
    assert fresh(joint).status == JointStatus.IN_REVIEW


def test_one_resubmission_brings_back_the_cases_that_asked_with_the_new_files(scene):
    joint = scene.accepted()
    ask(scene, joint, A, "身份证明", "复印件不清晰")
    ask(scene, joint, B, "场所证明", "缺少产权证明")
    services.send_corrections(joint=joint, actor=scene.clerk)
    old = {
        index: CaseMaterial.objects.get(
            case=child(scene, joint, index), material__material_type=scene.types[name]
        )
        for index, name in ((A, "身份证明"), (B, "场所证明"))
    }

    # When the applicant resubmits both files once
    services.resubmit(
        joint=joint,
        actor=scene.applicant.user,
        uploads=[
            services.SetUpload(scene.types["身份证明"], new_file("身份证明2.pdf")),
            services.SetUpload(scene.types["场所证明"], new_file("场所证明2.pdf", b"v3")),
        ],
    )

    # Then A and B are back in review with the new files; the old rows are defective
    stored = fresh(joint)
    assert stored.status == JointStatus.IN_REVIEW
    assert stored.joint_clock.status == Clock.Status.RUNNING
    current = services.current_set(joint)
    for index, name in ((A, "身份证明"), (B, "场所证明")):
        case = child(scene, joint, index)
        assert case.status == CaseStatus.IN_REVIEW
        assert case.decision_clock.status == Clock.Status.RUNNING
        old_row = CaseMaterial.objects.get(pk=old[index].pk)
        assert old_row.state == MaterialState.DEFECTIVE
        new_row = CaseMaterial.objects.get(
            case=case, material__material_type=scene.types[name], state=MaterialState.PROVIDED
        )
        assert new_row.sha256 == current[scene.types[name].pk].sha256
        assert new_row.sha256 != old_row.sha256
    # C did not ask and was not touched
    assert child(scene, joint, C).status == CaseStatus.IN_REVIEW
    assert CaseMaterial.objects.filter(case=child(scene, joint, C)).count() == 1
    # every request of the notice is answered; the old set rows are superseded
    assert not CorrectionRequest.objects.filter(joint=joint, answered_at=None).exists()
    assert JointMaterial.objects.filter(joint=joint).exclude(superseded_at=None).count() == 2


def test_a_request_made_after_the_notice_waits_for_the_next_notice(scene):
    joint = scene.accepted()
    ask(scene, joint, A, "身份证明", "复印件不清晰")
    services.send_corrections(joint=joint, actor=scene.clerk)

    # Given B asks once the notice is out
    ask(scene, joint, B, "场所证明", "缺少产权证明")
    late = CorrectionRequest.objects.get(joint=joint, case=child(scene, joint, B))
    assert late.notice is None

    # When the applicant answers the first notice
    services.resubmit(
        joint=joint,
        actor=scene.applicant.user,
        uploads=[services.SetUpload(scene.types["身份证明"], new_file("身份证明2.pdf"))],
    )

    # Then only A returns to review; B's request waits, unanswered, for the next notice
    assert child(scene, joint, A).status == CaseStatus.IN_REVIEW
    assert child(scene, joint, B).status == CaseStatus.CORRECTION
    late.refresh_from_db()
    assert (late.notice, late.answered_at) == (None, None)
    assert fresh(joint).status == JointStatus.IN_REVIEW

    # and the next notice carries it alone
    services.send_corrections(joint=joint, actor=scene.clerk)
    second = JointDocument.objects.filter(joint=joint, kind=JointDocumentKind.CORRECTION).latest(
        "pk"
    )
    assert [i["problem"] for i in second.content["items"]] == ["缺少产权证明"]
    services.resubmit(
        joint=joint,
        actor=scene.applicant.user,
        uploads=[services.SetUpload(scene.types["场所证明"], new_file("场所证明2.pdf"))],
    )
    assert child(scene, joint, B).status == CaseStatus.IN_REVIEW


def test_a_correction_before_acceptance_returns_the_application_to_received(scene):
    joint = scene.apply(uploads=scene.uploads("申请书", "身份证明"))

    services.request_correction(
        joint=joint,
        actor=scene.clerk,
        items=[{"material_type": scene.types["场所证明"].pk, "problem": "未提供"}],
    )
    stored = fresh(joint)
    assert stored.status == JointStatus.CORRECTION
    assert stored.acceptance_clock.status == Clock.Status.PAUSED
    notice = stored.documents.get(kind=JointDocumentKind.CORRECTION)
    assert [i["problem"] for i in notice.content["items"]] == ["未提供"]

    services.resubmit(joint=joint, actor=scene.applicant.user, uploads=scene.uploads("场所证明"))

    stored = fresh(joint)
    assert stored.status == JointStatus.RECEIVED
    assert stored.acceptance_clock.status == Clock.Status.RUNNING
    assert not Case.objects.filter(joint=joint).exists()
    services.accept(joint=joint, actor=scene.clerk)
    assert Case.objects.filter(joint=joint).count() == 3


def test_a_window_correction_names_only_types_the_set_asks_for(scene):
    joint = scene.apply()
    stray = MaterialTypeFactory(name="无关材料")

    with pytest.raises(ValidationError) as refused:
        services.request_correction(
            joint=joint, actor=scene.clerk, items=[{"material_type": stray.pk, "problem": "x"}]
        )

    assert "items" in errors_of(refused)
    assert fresh(joint).status == JointStatus.RECEIVED


def test_a_resubmission_without_anything_is_refused(scene):
    joint = scene.apply()
    services.request_correction(
        joint=joint, actor=scene.clerk, items=[{"material_type": "", "problem": "企业名称有误"}]
    )

    with pytest.raises(ValidationError) as refused:
        services.resubmit(joint=joint, actor=scene.applicant.user)

    assert "materials" in errors_of(refused)


def test_a_corrected_form_value_reaches_the_cases_that_asked(scene):
    joint = scene.accepted()
    case = child(scene, joint, A)
    cases.ask_correction(
        case=case,
        actor=scene.department_of(case).reviewer,
        items=[{"material": "", "problem": "注册资本有误"}],
    )
    services.send_corrections(joint=joint, actor=scene.clerk)

    services.resubmit(joint=joint, actor=scene.applicant.user, form_data={"capital": "200"})

    assert fresh(joint).form_data["capital"] == "200"
    assert child(scene, joint, A).form_data["capital"] == "200"
    assert child(scene, joint, A).status == CaseStatus.IN_REVIEW


# --- partial denial ---------------------------------------------------------------------------


def test_a_refused_item_does_not_stop_the_others(scene):
    issuing(*scene.versions)
    joint = scene.accepted()

    scene.deny(child(scene, joint, A))
    assert fresh(joint).status == JointStatus.IN_REVIEW
    scene.grant(child(scene, joint, B))
    scene.grant(child(scene, joint, C))

    assert fresh(joint).status == JointStatus.READY
    assert child(scene, joint, A).status == CaseStatus.DENIED
    assert child(scene, joint, B).status == CaseStatus.READY
    assert child(scene, joint, C).status == CaseStatus.READY
    licensed = set(Licence.objects.values_list("case__item_version", flat=True))
    assert licensed == {scene.versions[B].pk, scene.versions[C].pk}


def test_when_one_refusal_stops_all_the_others_end_and_no_licence_is_issued(clock):
    scene = JointScene.make(denial_blocks_all=True)
    issuing(*scene.versions)
    joint = scene.accepted()
    scene.grant(child(scene, joint, B))  # granted, its result not made yet

    scene.deny(child(scene, joint, A))

    assert child(scene, joint, A).status == CaseStatus.DENIED
    for index in (B, C):
        case = child(scene, joint, index)
        assert case.status == CaseStatus.TERMINATED
        assert case.close_reason
    assert not Licence.objects.exists()
    stored = fresh(joint)
    assert stored.decided_at is not None
    assert stored.status == JointStatus.READY  # the refusal still waits for its delivery
    assert stored.joint_clock.status == Clock.Status.STOPPED


# --- 多证同发 ---------------------------------------------------------------------------------


def test_no_licence_before_the_last_decision_then_all_at_once(scene, clock):
    issuing(*scene.versions)
    joint = scene.accepted()

    clock.to(2026, 11, 24)
    scene.grant(child(scene, joint, A))
    clock.to(2026, 11, 25)
    scene.grant(child(scene, joint, B))
    assert not Licence.objects.exists()
    assert {child(scene, joint, i).status for i in (A, B)} == {CaseStatus.APPROVED}

    last = clock.to(2026, 11, 26, 15)
    scene.grant(child(scene, joint, C))

    licences = list(Licence.objects.all())
    assert len(licences) == 3
    assert {lic.issued_on for lic in licences} == {last.date()}
    assert {lic.case.item_version for lic in licences} == set(scene.versions)
    stored = fresh(joint)
    assert stored.issued_at == last
    settle = joint_events(joint, "settle")
    assert len(settle) == 1
    assert sorted(settle[0].payload["licences"]) == sorted(lic.identifier for lic in licences)


def test_a_fee_holds_every_licence_until_it_is_paid(clock):
    scene = JointScene.make(fee=True)
    issuing(*scene.versions)
    joint = scene.accepted()

    for index in (A, B, C):
        scene.grant(child(scene, joint, index))

    stored = fresh(joint)
    assert stored.status == JointStatus.DECIDED
    assert stored.decided_at is not None
    assert stored.issued_at is None
    assert not Licence.objects.exists()
    assert {c.status for c in Case.objects.filter(joint=joint)} == {CaseStatus.APPROVED}

    cases.record_fee(case=child(scene, joint, A), actor=scene.clerk)

    stored = fresh(joint)
    assert stored.status == JointStatus.READY
    assert stored.issued_at is not None
    assert Licence.objects.count() == 3
    assert {c.status for c in Case.objects.filter(joint=joint)} == {CaseStatus.READY}


# --- one delivery, one rating -----------------------------------------------------------------


def test_one_delivery_hands_over_every_result_with_one_proof_of_service(scene):
    licence_types = issuing(*scene.versions)
    joint = scene.accepted()
    scene.deny(child(scene, joint, A))
    scene.grant(child(scene, joint, B))
    scene.grant(child(scene, joint, C))

    services.deliver(joint=joint, actor=scene.clerk, method=DeliveryMethod.WINDOW)

    stored = fresh(joint)
    assert stored.status == JointStatus.DELIVERED
    assert stored.delivery_method == DeliveryMethod.WINDOW
    assert stored.delivered_at is not None and stored.closed_at is not None
    assert {c.status for c in Case.objects.filter(joint=joint)} == {CaseStatus.DELIVERED}
    receipts = JointDocument.objects.filter(joint=joint, kind=JointDocumentKind.SERVICE_RECEIPT)
    assert receipts.count() == 1
    served = receipts.get().content["served"]
    titles = [s["title"] for s in served]
    assert sum("不予行政许可决定书" in t for t in titles) == 1
    assert sum("准予行政许可决定书" in t for t in titles) == 2
    identifiers = set(Licence.objects.values_list("identifier", flat=True))
    assert len(identifiers) == 2
    assert {s["number"] for s in served} >= identifiers
    assert {licence_types[B].name, licence_types[C].name} <= set(titles)


def test_delivery_by_post_needs_a_tracking_number(scene):
    joint = scene.accepted()
    for index in (A, B, C):
        scene.grant(child(scene, joint, index))

    with pytest.raises(ValidationError) as refused:
        services.deliver(joint=joint, actor=scene.clerk, method=DeliveryMethod.POST)

    assert "tracking_number" in errors_of(refused)
    assert fresh(joint).status == JointStatus.READY


def test_the_applicant_rates_the_whole_application_once(scene):
    joint = scene.accepted()
    for index in (A, B, C):
        scene.grant(child(scene, joint, index))
    with pytest.raises(StateConflict):
        services.evaluate(joint=joint, actor=scene.applicant.user, rating=5)
    services.deliver(joint=joint, actor=scene.clerk, method=DeliveryMethod.ELECTRONIC)

    services.evaluate(joint=joint, actor=scene.applicant.user, rating=5, comment="很方便")

    stored = fresh(joint)
    assert (stored.rating, stored.rating_comment) == (5, "很方便")
    with pytest.raises(ValidationError) as again:
        services.evaluate(joint=joint, actor=scene.applicant.user, rating=4)
    assert "rating" in errors_of(again)
    assert fresh(joint).rating == 5
    assert len(joint_events(joint, "evaluate")) == 1


# --- withdrawal -------------------------------------------------------------------------------


def test_a_withdrawal_ends_every_case_and_stops_the_clocks(scene):
    issuing(*scene.versions)
    joint = scene.accepted()
    scene.grant(child(scene, joint, A))  # approved, its result not made
    ask(scene, joint, C, "申请书", "未签名")  # waiting for corrections

    services.withdraw(joint=joint, actor=scene.applicant.user, reason="不再开办")

    stored = fresh(joint)
    assert stored.status == JointStatus.WITHDRAWN
    assert stored.close_reason == "不再开办"
    assert stored.joint_clock.status == Clock.Status.STOPPED
    assert child(scene, joint, A).status == CaseStatus.TERMINATED
    assert child(scene, joint, B).status == CaseStatus.WITHDRAWN
    assert child(scene, joint, C).status == CaseStatus.WITHDRAWN
    for index in (B, C):
        assert child(scene, joint, index).decision_clock.status == Clock.Status.STOPPED
    assert not Licence.objects.exists()


def test_a_withdrawal_before_acceptance_stops_the_acceptance_clock(scene):
    joint = scene.apply()

    services.withdraw(joint=joint, actor=scene.applicant.user, reason="填错了")

    stored = fresh(joint)
    assert stored.status == JointStatus.WITHDRAWN
    assert stored.acceptance_clock.status == Clock.Status.STOPPED


def test_only_the_applicant_withdraws_and_with_a_reason(scene):
    joint = scene.accepted()

    with pytest.raises(PermissionDenied):
        services.withdraw(joint=joint, actor=scene.clerk, reason="代为撤回")
    with pytest.raises(ValidationError) as no_reason:
        services.withdraw(joint=joint, actor=scene.applicant.user, reason="")
    assert "reason" in errors_of(no_reason)
    assert fresh(joint).status == JointStatus.IN_REVIEW


# --- what belongs to the application is not done on one of its cases -------------------------

ON_THE_APPLICATION = "This is done on the joint application, not on one of its cases."


def test_producing_a_child_directly_is_refused_on_status(clock):
    scene = JointScene.make(fee=True)
    joint = scene.accepted()
    case = scene.grant(child(scene, joint, A))  # approved, fee unpaid

    with pytest.raises(ValidationError) as refused:
        cases.produce(case=child(scene, joint, A), actor=scene.department_of(case).reviewer)

    assert errors_of(refused) == {"status": [ON_THE_APPLICATION]}
    assert child(scene, joint, A).status == CaseStatus.APPROVED


def test_delivering_a_child_directly_is_refused_on_status(scene):
    joint = scene.accepted()
    scene.deny(child(scene, joint, A))

    with pytest.raises(ValidationError) as refused:
        cases.deliver(case=child(scene, joint, A), actor=scene.clerk, method=DeliveryMethod.WINDOW)

    assert errors_of(refused) == {"status": [ON_THE_APPLICATION]}
    assert child(scene, joint, A).status == CaseStatus.DENIED


def test_withdrawing_a_child_directly_is_refused_on_status(scene):
    joint = scene.accepted()

    with pytest.raises(ValidationError) as refused:
        cases.withdraw(case=child(scene, joint, B), actor=scene.applicant.user, reason="只撤一项")

    assert errors_of(refused) == {"status": [ON_THE_APPLICATION]}
    assert child(scene, joint, B).status == CaseStatus.IN_REVIEW


def test_resubmitting_on_a_child_directly_is_refused_on_status(scene):
    joint = scene.accepted()
    ask(scene, joint, A, "身份证明", "复印件不清晰")

    with pytest.raises(ValidationError) as refused:
        cases.resubmit(case=child(scene, joint, A), actor=scene.applicant.user)

    assert errors_of(refused) == {"status": [ON_THE_APPLICATION]}
    assert child(scene, joint, A).status == CaseStatus.CORRECTION


def test_asking_for_corrections_on_a_case_of_its_own_is_refused(clock):
    own = Scene.make()
    case = own.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(ValidationError) as refused:
        cases.ask_correction(
            case=case, actor=own.reviewer, items=[{"material": "", "problem": "缺项"}]
        )

    assert errors_of(refused) == {"status": ["This is done on a case of a joint application only."]}
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


@pytest.mark.parametrize("who", ["other_reviewer", "clerk", "applicant"])
def test_only_the_cases_own_department_asks_for_corrections(scene, who):
    joint = scene.accepted()
    actor = {
        "other_reviewer": scene.departments[B].reviewer,
        "clerk": scene.clerk,
        "applicant": scene.applicant.user,
    }[who]

    with pytest.raises(PermissionDenied):
        cases.ask_correction(
            case=child(scene, joint, A),
            actor=actor,
            items=[{"material": material_of(scene, A, "身份证明").pk, "problem": "复印件不清晰"}],
        )

    assert child(scene, joint, A).status == CaseStatus.IN_REVIEW
    assert not CorrectionRequest.objects.exists()


def test_a_correction_names_a_material_of_the_cases_own_guide(scene):
    joint = scene.accepted()
    case = child(scene, joint, A)

    with pytest.raises(ValidationError) as refused:
        cases.ask_correction(
            case=case,
            actor=scene.department_of(case).reviewer,
            items=[{"material": material_of(scene, B, "场所证明").pk, "problem": "缺少"}],
        )

    assert "items" in errors_of(refused)
    assert child(scene, joint, A).status == CaseStatus.IN_REVIEW


# --- the 5-day rule and the extension ---------------------------------------------------------


def test_an_application_not_decided_within_5_working_days_is_deemed_accepted(scene, clock):
    joint = scene.apply()
    untouched = scene.apply(uploads=scene.uploads("申请书", "身份证明"))
    services.request_correction(
        joint=untouched,
        actor=scene.clerk,
        items=[{"material_type": scene.types["场所证明"].pk, "problem": "未提供"}],
    )
    with pytest.raises(ValidationError):
        services.deem_accepted(joint=joint)  # not yet

    clock.to(2026, 12, 2)
    assert services.deem_overdue_acceptances() == 1

    stored = fresh(joint)
    assert stored.status == JointStatus.IN_REVIEW
    assert stored.accepted_at == stored.submitted_at
    assert stored.accepted_by is None
    assert Case.objects.filter(joint=joint, status=CaseStatus.IN_REVIEW).count() == 3
    assert stored.joint_clock.started_at == stored.submitted_at
    assert latest_document(joint, JointDocumentKind.ACCEPTANCE).content["deemed"] is True
    assert joint_events(joint, "deem_accepted")[0].payload["deemed"] is True
    # the one paused for corrections is not
    assert fresh(untouched).status == JointStatus.CORRECTION


def latest_document(joint, kind):
    return JointDocument.objects.filter(joint=joint, kind=kind).latest("pk")


def test_a_head_extends_the_joint_limit_by_at_most_15_working_days(scene):
    joint = scene.accepted()
    head = scene.departments[B].head
    due = fresh(joint).joint_clock.due_at

    services.extend(joint=joint, actor=head, reason="需要现场核查", days=10)

    stored = fresh(joint)
    assert stored.joint_clock.due_at > due
    assert sum(e.amount for e in stored.joint_clock.extensions.all()) == 10
    notice = latest_document(joint, JointDocumentKind.EXTENSION)
    assert (notice.content["days"], notice.content["reason"]) == (10, "需要现场核查")
    with pytest.raises(ValidationError) as too_many:
        services.extend(joint=joint, actor=head, reason="再延", days=6)
    assert "days" in errors_of(too_many)
    services.extend(joint=joint, actor=head, reason="再延", days=5)
    assert sum(e.amount for e in fresh(joint).joint_clock.extensions.all()) == 15


@pytest.mark.parametrize("who", ["reviewer", "clerk", "applicant", "head_elsewhere"])
def test_only_a_head_of_a_department_in_it_extends(scene, who):
    joint = scene.accepted()
    actor = {
        "reviewer": scene.departments[A].reviewer,
        "clerk": scene.clerk,
        "applicant": scene.applicant.user,
        "head_elsewhere": grant(
            UserFactory(), Role.DEPARTMENT_HEAD, department=DepartmentFactory()
        ),
    }[who]

    with pytest.raises(PermissionDenied):
        services.extend(joint=joint, actor=actor, reason="延期", days=5)

    assert not fresh(joint).joint_clock.extensions.exists()


def test_a_withdrawal_while_a_fee_is_awaited_ends_every_granted_case(clock):
    scene = JointScene.make(fee=True)
    issuing(*scene.versions)
    joint = scene.accepted()
    for index in (A, B, C):
        scene.grant(child(scene, joint, index))
    assert fresh(joint).status == JointStatus.DECIDED

    services.withdraw(joint=joint, actor=scene.applicant.user, reason="不再开办")

    assert fresh(joint).status == JointStatus.WITHDRAWN
    assert {c.status for c in Case.objects.filter(joint=joint)} == {CaseStatus.TERMINATED}
    assert not Licence.objects.exists()


# --- what ends one case ends those that cannot stand without it ---------------------------------


def test_a_termination_stops_the_others_when_the_theme_grants_all_or_none(clock):
    scene = JointScene.make(denial_blocks_all=True)
    joint = scene.accepted()
    a = child(scene, joint, 0)
    cases.terminate(case=a, actor=scene.department_of(a).head, reason="申请人已注销")

    statuses = set(Case.objects.filter(joint=joint).values_list("status", flat=True))
    assert statuses == {CaseStatus.TERMINATED}
    assert fresh(joint).status == JointStatus.READY
    assert not Licence.objects.exists()


def test_a_case_needing_the_licence_of_a_refused_item_is_terminated(scene):
    """B asks for 场所证明; A's licence stands for it, so the set does not ask it. A is
    refused: B cannot be granted, C goes on."""
    LicenceTypeFactory(
        holder_kind=ApplicantKind.ENTERPRISE,
        issuing_items=[scene.versions[0].item],
        replaces=[scene.types["场所证明"]],
        fields=["company_name"],
    )
    joint = scene.accepted(uploads=scene.uploads("申请书", "身份证明"))
    b = child(scene, joint, 1)
    produced = b.materials.get(material__material_type=scene.types["场所证明"])
    assert produced.note.startswith("由本次联办事项") and not produced.file

    scene.deny(child(scene, joint, 0))

    assert child(scene, joint, 1).status == CaseStatus.TERMINATED
    assert child(scene, joint, 2).status == CaseStatus.IN_REVIEW


def test_corrections_no_remaining_case_asks_for_let_the_application_go_on(scene, clock):
    joint = scene.accepted()
    ask(scene, joint, 0, "申请书", "未签名")
    services.send_corrections(joint=joint, actor=scene.clerk)
    assert fresh(joint).status == JointStatus.CORRECTION
    clock.to(2026, 11, 24)

    a = child(scene, joint, 0)
    cases.terminate(case=a, actor=scene.department_of(a).head, reason="申请人撤回该事项")

    joint = fresh(joint)
    assert joint.status == JointStatus.IN_REVIEW
    assert clock_of(joint.joint_clock_id).status == Clock.Status.RUNNING
    assert joint_events(joint, "corrections_void")


def test_a_withdrawal_serves_a_refusal_already_decided(scene):
    joint = scene.accepted()
    scene.deny(child(scene, joint, 0))

    services.withdraw(joint=joint, actor=scene.applicant.user, reason="不再开办")

    refused = child(scene, joint, 0)
    assert refused.status == CaseStatus.DELIVERED
    assert refused.delivery_method == "electronic"
    assert {c.status for c in Case.objects.filter(joint=joint).exclude(pk=refused.pk)} == {
        CaseStatus.WITHDRAWN
    }


def test_the_delivery_time_of_each_case_starts_when_the_results_go_out_together(scene, clock):
    joint = scene.accepted()
    first = scene.grant(child(scene, joint, 0))
    assert Case.objects.get(pk=first.pk).delivery_clock is None

    clock.to(2026, 11, 25)
    for index in (1, 2):
        scene.grant(child(scene, joint, index))

    started = {c.delivery_clock.started_at for c in Case.objects.filter(joint=joint)}
    assert started == {at(2026, 11, 25)}


def test_a_deemed_acceptance_opens_cases_that_show_what_is_missing(scene, clock):
    joint = scene.apply(uploads=scene.uploads("申请书"))
    clock.to(2026, 12, 7)

    assert services.deem_overdue_acceptances() == 1

    b = child(scene, joint, 1)
    missing = {m.material.material_type.name for m in b.materials.filter(state="missing")}
    assert missing == {"身份证明", "场所证明"} and b.deemed_accepted
    event = joint_events(joint, "deem_accepted")[0]
    assert set(event.payload["missing"]) == {"身份证明", "场所证明"}
