"""Staged themes (工程建设): the first stage opens a project; a later stage is applied for
under the applicant's project once every item of the stage before it is granted, and only
once. Each stage has its own merged form and material set.

The theme of StagedScene: 立项 (two items) → 许可 (one) → 验收 (one)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from yimen.cases import services as cases_services
from yimen.cases.choices import CaseStatus
from yimen.common.models import AuditEvent
from yimen.joint import selectors, services
from yimen.joint.choices import JointStatus
from yimen.joint.models import JointCase, Project

from ..cases.factories import FrozenTime, at, enterprise
from .factories import StagedScene

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^2026-(\d{6})-48-03-(\d{6})$")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scene(monkeypatch):
    FrozenTime(monkeypatch, at(2026, 11, 23))
    return StagedScene.make()


def errors_of(raised) -> dict:
    return raised.value.message_dict


def test_the_first_stage_opens_a_project_with_a_code(scene):
    joint = scene.apply(1, project_name="滨江厂房项目")

    project = joint.project
    assert project is not None
    assert (project.name, project.theme, project.applicant) == (
        "滨江厂房项目",
        scene.theme,
        scene.applicant,
    )
    match = CODE.match(project.code)
    assert match, project.code
    assert match.group(1) == joint.region.code[:6]
    assert match.group(2) == "000001"
    assert joint.stage == scene.stages[0]
    # the stage's own items only
    assert set(joint.item_versions.all()) == set(scene.versions[0])
    assert (
        AuditEvent.objects.filter(action="joint.project.create", object_id=str(project.pk)).count()
        == 1
    )
    # the next project of the region takes the next serial
    second = scene.apply(1, project_name="二期项目").project
    assert CODE.match(second.code).group(2) == "000002"


def test_the_first_stage_needs_a_project_name_and_no_project(scene):
    with pytest.raises(ValidationError) as unnamed:
        scene.apply(1, project_name=" ")
    assert "project_name" in errors_of(unnamed)

    project = scene.apply(1).project
    with pytest.raises(ValidationError) as with_project:
        scene.apply(1, project=project)
    assert errors_of(with_project) == {
        "stage": ["This stage of the project has been applied for already."]
    }
    assert Project.objects.count() == 1


def test_a_refused_first_stage_is_applied_for_again_on_its_project(scene):
    first = scene.apply(1)
    services.refuse(joint=first, actor=scene.clerk, reason="材料不全")

    again = scene.apply(1, project=first.project)

    assert again.project == first.project and Project.objects.count() == 1


def test_a_stage_with_a_refusal_is_applied_for_again_and_holds_the_next_back(scene):
    joint = services.accept(joint=scene.apply(1), actor=scene.clerk)
    one, two = joint.cases.order_by("pk")
    scene.decide(one)
    scene.decide(two, grant=False)
    joint.refresh_from_db()
    services.deliver(joint=joint, actor=scene.clerk, method="window")
    with pytest.raises(ValidationError):
        scene.apply(2, project=joint.project)

    again = scene.apply(1, project=joint.project)

    assert again.stage == scene.stages[0]


def test_a_grant_ended_by_termination_does_not_open_the_next_stage(scene):
    joint = services.accept(joint=scene.apply(1), actor=scene.clerk)
    one, two = joint.cases.order_by("pk")
    scene.decide(one)
    scene.decide(two)  # both granted; the results are issued together
    joint.refresh_from_db()
    assert joint.status == JointStatus.READY
    assert (
        services.stage_refusal(
            theme=scene.theme,
            stage=scene.stages[1],
            project=joint.project,
            applicant=scene.applicant,
        )
        is None
    )

    fresh = services.accept(joint=scene.apply(1, project_name="二号项目"), actor=scene.clerk)
    a, b = fresh.cases.order_by("pk")
    scene.decide(a)
    cases_services.terminate(case=b, actor=scene.department_of(b).head, reason="申请人已注销")
    fresh.refresh_from_db()

    refusal = services.stage_refusal(
        theme=scene.theme, stage=scene.stages[1], project=fresh.project, applicant=scene.applicant
    )
    assert refusal is not None and "stage" in refusal


def test_a_staged_theme_needs_a_stage(scene):
    with pytest.raises(ValidationError) as refused:
        services.theme_apply(
            applicant=scene.applicant,
            theme=scene.theme,
            submitted_by=scene.applicant.user,
            channel="online",
            form_data={"project_title": "示例厂房"},
        )

    assert "stage" in errors_of(refused)
    assert not JointCase.objects.exists()


def test_the_second_stage_waits_until_every_item_of_the_first_is_granted(scene):
    first = services.accept(joint=scene.apply(1), actor=scene.clerk)
    project = first.project
    one, two = first.cases.order_by("pk")

    # Not while the first stage is in review
    with pytest.raises(ValidationError) as in_review:
        scene.apply(2, project=project)
    assert "stage" in errors_of(in_review)
    assert "立项" in errors_of(in_review)["stage"][0]

    # nor with one of its two items granted
    scene.decide(one)
    with pytest.raises(ValidationError) as half:
        scene.apply(2, project=project)
    assert "stage" in errors_of(half)
    assert services.stage_refusal(
        theme=scene.theme, stage=scene.stages[1], project=project, applicant=scene.applicant
    )

    # When the other is granted, then the second stage is taken
    scene.decide(two)
    assert (
        services.stage_refusal(
            theme=scene.theme, stage=scene.stages[1], project=project, applicant=scene.applicant
        )
        is None
    )
    second = scene.apply(2, project=project)
    assert second.status == JointStatus.RECEIVED
    assert (second.project, second.stage) == (project, scene.stages[1])
    assert set(second.item_versions.all()) == set(scene.versions[1])
    assert list(project.applications.order_by("pk")) == [first, second]


def test_a_refused_item_of_the_first_stage_keeps_the_second_closed(scene):
    first = services.accept(joint=scene.apply(1), actor=scene.clerk)
    one, two = first.cases.order_by("pk")

    scene.decide(one)
    scene.decide(two, grant=False)

    assert {c.status for c in first.cases.all()} == {CaseStatus.READY, CaseStatus.DENIED}
    with pytest.raises(ValidationError) as refused:
        scene.apply(2, project=first.project)
    assert "stage" in errors_of(refused)
    assert JointCase.objects.filter(stage=scene.stages[1]).count() == 0


def test_the_third_stage_waits_for_the_second_not_the_first(scene):
    first = scene.granted(1)
    project = first.project

    with pytest.raises(ValidationError) as refused:
        scene.apply(3, project=project)
    assert "许可" in errors_of(refused)["stage"][0]

    scene.granted(2, project=project)
    third = scene.apply(3, project=project)
    assert third.stage == scene.stages[2]


def test_a_stage_is_applied_for_once(scene):
    project = scene.granted(1).project
    scene.apply(2, project=project)

    with pytest.raises(ValidationError) as refused:
        scene.apply(2, project=project)

    assert errors_of(refused) == {
        "stage": ["This stage of the project has been applied for already."]
    }
    assert JointCase.objects.filter(project=project, stage=scene.stages[1]).count() == 1


def test_a_withdrawn_stage_application_may_be_made_again(scene):
    project = scene.granted(1).project
    withdrawn = scene.apply(2, project=project)
    services.withdraw(joint=withdrawn, actor=scene.applicant.user, reason="重新准备材料")

    again = scene.apply(2, project=project)

    assert again.pk != withdrawn.pk
    assert again.status == JointStatus.RECEIVED


def test_a_project_of_another_applicant_is_refused(scene):
    project = scene.granted(1).project
    other = enterprise(n=2)

    with pytest.raises(ValidationError) as refused:
        scene.apply(2, project=project, applicant=other)

    assert errors_of(refused) == {
        "project": ["This is not a project of this applicant under this theme."]
    }
    assert not JointCase.objects.filter(applicant=other).exists()


def test_the_projects_page_rows_tell_which_stage_may_be_applied_for(scene):
    project = scene.granted(1).project

    rows = selectors.project_stages(project, user=scene.applicant.user)

    assert [r.stage for r in rows] == scene.stages
    assert rows[0].application is not None and not rows[0].may_apply
    assert rows[1].application is None and rows[1].may_apply
    assert rows[2].application is None and not rows[2].may_apply


def test_a_department_sees_on_the_project_the_stages_it_works_on(scene):
    project = scene.granted(1).project
    second = services.accept(joint=scene.apply(2, project=project), actor=scene.clerk)
    reviewer_of_two = scene.department_of(second.cases.get()).reviewer

    rows = selectors.project_stages(project, user=reviewer_of_two)

    assert [r.application for r in rows] == [None, second, None]
