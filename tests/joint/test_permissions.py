"""Who is who on a joint application, who sees it, and who takes each of its steps: the
applicant; a clerk of its window category (受审分离: whatever departments its items belong
to) and the clerk who accepted it; the staff of a department with a case in it see it;
supervisors see every application (within their region when their role names one)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from yimen.cases import services as cases
from yimen.cases.choices import Performer
from yimen.common.choices import Channel
from yimen.joint import permissions, services, workflow
from yimen.joint.choices import JointStatus
from yimen.joint.models import JointCase, Project
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import FrozenTime, at, clerk_of, enterprise
from ..conftest import grant
from ..org.factories import DepartmentFactory, WindowCategoryFactory
from .factories import JointScene, StagedScene

pytestmark = pytest.mark.django_db
P = Performer


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Cast:
    scene: JointScene
    users: dict

    def __getattr__(self, name):
        return self.users[name]


@pytest.fixture
def cast(monkeypatch):
    FrozenTime(monkeypatch, at(2026, 11, 23))
    scene = JointScene.make()
    other_department = DepartmentFactory()
    users = {
        "applicant": scene.applicant.user,
        "clerk": scene.clerk,
        "other_clerk": clerk_of(WindowCategoryFactory()),
        "reviewer": scene.departments[0].reviewer,
        "head": scene.departments[0].head,
        "other_reviewer": grant(UserFactory(), Role.REVIEWER, department=other_department),
        "supervisor": grant(UserFactory(), Role.SUPERVISOR),
        "stranger": enterprise(n=3).user,
        "anonymous": AnonymousUser(),
        "system": None,
    }
    return Cast(scene, users)


EXPECTED_PERFORMERS = {
    "applicant": {P.APPLICANT},
    "clerk": {P.CLERK},
    "other_clerk": set(),
    "reviewer": set(),
    "head": set(),
    "other_reviewer": set(),
    "supervisor": set(),
    "stranger": set(),
    "anonymous": set(),
    "system": {P.SYSTEM},
}


@pytest.mark.parametrize("who", sorted(EXPECTED_PERFORMERS))
def test_performers_of_each_role(cast, who):
    joint = cast.scene.apply()

    assert permissions.performers(cast.users[who], joint) == EXPECTED_PERFORMERS[who]


def test_a_head_of_a_department_with_a_case_in_it_is_a_head_of_the_application(cast):
    other_head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=DepartmentFactory())

    joint = cast.scene.accepted()

    assert permissions.performers(cast.head, joint) == {P.HEAD}
    assert permissions.performers(cast.reviewer, joint) == set()
    assert permissions.performers(other_head, joint) == set()


def test_the_clerk_who_accepted_stays_a_clerk_of_the_application(cast):
    joint = cast.scene.accepted()
    # the clerk leaves the category's windows
    membership = cast.clerk.memberships.get()
    membership.categories.clear()
    cast.clerk.__dict__.pop("_yimen_memberships", None)

    assert permissions.performers(cast.clerk, JointCase.objects.get(pk=joint.pk)) == {P.CLERK}


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("accept", {"clerk"}),
        ("deem_accepted", {"system"}),
        ("extend", {"head"}),
        ("refuse", {"clerk"}),
        ("request_correction", {"clerk"}),
        ("send_corrections", {"clerk"}),
        ("resubmit", {"applicant", "clerk"}),
        ("withdraw", {"applicant"}),
        ("deliver", {"clerk"}),
        ("evaluate", {"applicant"}),
    ],
)
def test_may_perform_each_step(cast, who, allowed):
    assert set(workflow.STEPS) == {
        "accept", "deem_accepted", "refuse", "request_correction", "send_corrections",
        "resubmit", "extend", "withdraw", "deliver", "evaluate",
    }  # fmt: skip
    joint = cast.scene.accepted()
    step = workflow.STEPS[who]

    may = {
        name
        for name in EXPECTED_PERFORMERS
        if permissions.may_perform(cast.users[name], joint, step)
    }

    assert may == allowed


def test_the_applicants_papers_open_for_the_applicant_and_the_window_only(cast):
    joint = cast.scene.accepted()

    opens = {
        name for name in EXPECTED_PERFORMERS if permissions.may_open_files(cast.users[name], joint)
    }

    assert opens == {"applicant", "clerk"}


# --- the steps refuse who may not take them ---------------------------------------------------


@pytest.mark.parametrize("who", ["other_clerk", "applicant", "reviewer", "supervisor"])
def test_only_a_clerk_of_the_category_accepts(cast, who):
    joint = cast.scene.apply()

    with pytest.raises(PermissionDenied):
        services.accept(joint=joint, actor=cast.users[who])

    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.RECEIVED
    assert not joint.cases.exists()


@pytest.mark.parametrize("who", ["other_clerk", "applicant", "reviewer"])
def test_only_a_clerk_sends_the_departments_corrections(cast, who):
    joint = cast.scene.accepted()
    case = joint.cases.get(department=cast.scene.departments[0].department)
    cases.ask_correction(case=case, actor=cast.reviewer, items=[{"material": "", "problem": "x"}])

    with pytest.raises(PermissionDenied):
        services.send_corrections(joint=joint, actor=cast.users[who])

    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.IN_REVIEW


@pytest.mark.parametrize("who", ["clerk", "other_clerk", "stranger"])
def test_only_the_applicant_withdraws(cast, who):
    joint = cast.scene.apply()

    with pytest.raises(PermissionDenied):
        services.withdraw(joint=joint, actor=cast.users[who], reason="撤回")

    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.RECEIVED


def test_a_clerk_applies_at_the_window_only_for_the_themes_category(cast):
    scene = cast.scene

    at_window = scene.apply(channel=Channel.WINDOW, by=scene.clerk)
    assert (at_window.channel, at_window.submitted_by) == (Channel.WINDOW, scene.clerk)

    with pytest.raises(PermissionDenied):
        scene.apply(channel=Channel.WINDOW, by=cast.other_clerk)


@pytest.mark.parametrize("who", ["stranger", "clerk"])
def test_online_one_applies_only_for_oneself(cast, who):
    with pytest.raises(PermissionDenied):
        cast.scene.apply(channel=Channel.ONLINE, by=cast.users[who])

    assert not JointCase.objects.exists()


def test_originals_are_recorded_at_a_window_only(cast):
    scene = cast.scene

    with pytest.raises(ValidationError) as online:
        scene.apply(originals=[scene.types["申请书"]])
    assert "originals" in online.value.message_dict

    joint = scene.apply(channel=Channel.WINDOW, by=scene.clerk, originals=[scene.types["申请书"]])
    assert services.current_set(joint)[scene.types["申请书"].pk].original_seen is True


# --- visibility -------------------------------------------------------------------------------


def visible(user):
    return set(permissions.visible(user, JointCase.objects.all()))


@pytest.fixture
def two(cast, monkeypatch):
    """The cast's application, accepted, and another applicant's in other regions,
    departments and window category, not yet accepted."""
    mine = cast.scene.accepted()
    other = JointScene.make(n=2)
    theirs = other.apply()
    assert not mine.region.code.startswith(theirs.region.code[:4])
    return mine, theirs, other


def test_each_role_sees_its_applications(cast, two):
    mine, theirs, other = two

    assert visible(cast.applicant) == {mine}
    assert visible(other.applicant.user) == {theirs}
    assert visible(cast.stranger) == set()
    assert visible(cast.clerk) == {mine}
    assert visible(other.clerk) == {theirs}
    assert visible(cast.other_clerk) == set()
    # department staff with a case in it, once accepted
    assert visible(cast.reviewer) == {mine}
    assert visible(cast.head) == {mine}
    assert visible(cast.other_reviewer) == set()
    assert visible(other.departments[0].reviewer) == set()  # not accepted yet: no case
    assert visible(cast.supervisor) == {mine, theirs}
    assert visible(cast.anonymous) == set()
    assert visible(None) == set()
    assert visible(UserFactory(is_superuser=True)) == {mine, theirs}


def test_a_department_sees_an_application_once_its_case_is_opened(cast, two):
    _mine, theirs, other = two

    services.accept(joint=theirs, actor=other.clerk)

    for department in other.departments:
        assert visible(department.reviewer) == {theirs}


def test_a_supervisor_of_a_region_sees_the_applications_within_it(cast, two):
    mine, theirs, _other = two
    city = grant(UserFactory(), Role.SUPERVISOR, region=mine.region.parent)
    district = grant(UserFactory(), Role.SUPERVISOR, region=theirs.region)

    assert visible(city) == {mine}
    assert visible(district) == {theirs}


def test_an_application_is_listed_once_however_many_cases_a_department_has(cast):
    joint = cast.scene.accepted()
    # a reviewer of two of its departments
    grant(cast.reviewer, Role.REVIEWER, department=cast.scene.departments[1].department)

    rows = list(permissions.visible(cast.reviewer, JointCase.objects.all()))

    assert rows == [joint]


# --- projects ---------------------------------------------------------------------------------


def test_a_project_is_seen_by_its_applicant_and_whoever_sees_one_of_its_applications(monkeypatch):
    FrozenTime(monkeypatch, at(2026, 11, 23))
    scene = StagedScene.make()
    project = scene.apply(1).project
    stranger_clerk = clerk_of(WindowCategoryFactory())

    def sees(user):
        return set(permissions.visible_projects(user, Project.objects.all()))

    assert sees(scene.applicant.user) == {project}
    assert sees(scene.clerk) == {project}
    assert sees(stranger_clerk) == set()
    assert sees(scene.departments[0].reviewer) == set()  # no case yet
    assert sees(AnonymousUser()) == set()
    assert sees(grant(UserFactory(), Role.SUPERVISOR)) == {project}
