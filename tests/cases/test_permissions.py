"""Who may perform each action on a case, and who sees which cases.

One cast for every test: the applicant, a clerk of the item's window category and one of
another, a reviewer and a head of the item's department and of another, a supervisor,
another citizen, an anonymous visitor and the system (None)."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from yimen.cases import permissions, services
from yimen.cases.choices import CaseStatus, DeliveryMethod, Performer
from yimen.cases.models import Case
from yimen.cases.workflow import TRANSITIONS, actions_from
from yimen.catalog.choices import OnlineDepth
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory, WindowCategoryFactory
from .factories import Scene, clerk_of, guide, person

pytestmark = pytest.mark.django_db

P = Performer


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@dataclass
class Cast:
    scene: Any
    users: dict

    def __getattr__(self, name):
        return self.users[name]


@pytest.fixture
def cast():
    scene = Scene.make()
    other_department = DepartmentFactory()
    users = {
        "applicant": scene.applicant.user,
        "clerk": scene.clerk,
        "wrong_clerk": clerk_of(WindowCategoryFactory()),
        "reviewer": scene.reviewer,
        "head": scene.head,
        "other_reviewer": grant(UserFactory(), Role.REVIEWER, department=other_department),
        "other_head": grant(UserFactory(), Role.DEPARTMENT_HEAD, department=other_department),
        "supervisor": grant(UserFactory(), Role.SUPERVISOR),
        "citizen": person(n=2).user,
        "anonymous": AnonymousUser(),
        "system": None,
    }
    return Cast(scene, users)


def fresh(case):
    return Case.objects.get(pk=case.pk)


# --- performers ---------------------------------------------------------------------------------


def test_each_user_is_the_performer_the_workflow_names(cast):
    case = cast.scene.case_at(CaseStatus.RECEIVED)

    found = {name: permissions.performers(user, case) for name, user in cast.users.items()}

    assert found == {
        "applicant": {P.APPLICANT},
        "clerk": {P.CLERK},
        "wrong_clerk": set(),
        "reviewer": {P.REVIEWER},
        "head": {P.HEAD, P.REVIEWER},
        "other_reviewer": set(),
        "other_head": set(),
        "supervisor": set(),
        "citizen": set(),
        "anonymous": set(),
        "system": {P.SYSTEM},
    }


def test_at_the_heads_step_the_reviewer_is_no_performer(cast):
    case = cast.scene.case_at("in_review:last")

    assert permissions.current_step(case).role == Role.DEPARTMENT_HEAD
    assert permissions.performers(cast.reviewer, case) == set()
    assert permissions.performers(cast.head, case) == {P.HEAD, P.REVIEWER}
    assert permissions.current_step(fresh(cast.scene.case_at(CaseStatus.APPROVED))) is None


# Who of the cast may take each action from each state (everyone else may not).
MAY = {
    CaseStatus.SUBMITTED: {
        "prereview_pass": {"clerk"},
        "receive": {"clerk"},
        "request_correction": {"clerk"},
        "withdraw": {"applicant"},
    },
    CaseStatus.RECEIVED: {
        "accept": {"clerk"},
        "accept_tolerant": {"clerk"},
        "refuse": {"clerk"},
        "request_correction": {"clerk"},
        "deem_accepted": {"system"},
        "withdraw": {"applicant"},
        "terminate": {"reviewer", "head", "system"},
    },
    CaseStatus.CORRECTION: {
        "resubmit": {"applicant", "clerk"},
        "withdraw": {"applicant"},
        "terminate": {"reviewer", "head", "system"},
    },
    CaseStatus.IN_REVIEW: {
        "review_pass": {"reviewer", "head"},
        "send_back": {"reviewer", "head"},
        "approve": {"reviewer", "head"},
        "deny": {"reviewer", "head"},
        "suspend": {"reviewer", "head"},
        "extend": {"head"},
        "supply_tolerated": {"clerk", "applicant"},
        "withdraw": {"applicant"},
        "terminate": {"reviewer", "head", "system"},
    },
    "in_review:last": {
        "review_pass": {"head"},
        "send_back": {"head"},
        "approve": {"head"},
        "deny": {"head"},
        "suspend": {"head"},
        "extend": {"head"},
        "supply_tolerated": {"clerk", "applicant"},
        "withdraw": {"applicant"},
        "terminate": {"head", "system"},
    },
    CaseStatus.SUSPENDED: {
        "resume": {"reviewer", "head"},
        "extend": {"head"},
        "supply_tolerated": {"clerk", "applicant"},
        "withdraw": {"applicant"},
        "terminate": {"reviewer", "head", "system"},
    },
    CaseStatus.APPROVED: {
        "record_fee": {"clerk", "reviewer", "head"},
        "supply_tolerated": {"clerk", "applicant"},
        "produce": {"reviewer", "head", "system"},
        "terminate": {"reviewer", "head", "system"},
    },
    CaseStatus.DENIED: {"deliver": {"clerk", "system"}},
    CaseStatus.READY: {"deliver": {"clerk", "system"}},
    CaseStatus.DELIVERED: {"archive": {"clerk", "system"}, "evaluate": {"applicant"}},
    CaseStatus.NOT_ACCEPTED: {"evaluate": {"applicant"}},
}


@pytest.mark.parametrize("state", list(MAY))
def test_who_may_take_each_action(cast, state):
    scene = cast.scene
    if state == CaseStatus.SUBMITTED:
        scene.version = _prereview_version(scene)
    case = scene.case_at(CaseStatus.RECEIVED if state == CaseStatus.SUBMITTED else state)
    expected_actions = {t.action for t in actions_from(case)}
    assert set(MAY[state]) == expected_actions

    allowed = {
        action: {
            name
            for name, user in cast.users.items()
            if permissions.may_perform(user, case, TRANSITIONS[action])
        }
        for action in MAY[state]
    }

    assert allowed == MAY[state]


def _prereview_version(scene):
    """A pre-review item of the same category and department: the same people serve it."""
    return guide(
        department=scene.version.item.department,
        category=scene.version.window_category,
        online_depth=OnlineDepth.ONLINE_PREREVIEW,
    )


def test_the_clerk_who_accepted_keeps_the_case_after_leaving_its_category(cast):
    case = cast.scene.case_at(CaseStatus.IN_REVIEW)
    cast.clerk.memberships.get().categories.clear()
    cast.clerk.__dict__.pop("_yimen_memberships", None)

    assert permissions.performers(cast.clerk, fresh(case)) == {P.CLERK}
    assert permissions.visible_cases(cast.clerk, Case.objects.all()).get() == case
    other = cast.scene.case_at(CaseStatus.RECEIVED)
    assert permissions.performers(cast.clerk, other) == set()


def test_an_action_outside_ones_part_is_denied(cast):
    case = cast.scene.case_at(CaseStatus.RECEIVED)

    assert permissions.may_perform(cast.clerk, case, TRANSITIONS["accept"])
    with pytest.raises(PermissionDenied):
        services.accept(case=case, actor=cast.reviewer)


# --- the services enforce it --------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["wrong_clerk", "reviewer", "head", "other_head", "supervisor", "applicant", "system"]
)
def test_only_a_clerk_of_the_category_accepts(cast, who):
    case = cast.scene.case_at(CaseStatus.RECEIVED)

    with pytest.raises(PermissionDenied):
        services.accept(case=case, actor=cast.users[who])

    assert fresh(case).status == CaseStatus.RECEIVED


@pytest.mark.parametrize("who", ["reviewer", "other_head", "other_reviewer", "clerk", "supervisor"])
def test_only_the_head_decides_at_the_heads_step(cast, who):
    case = cast.scene.case_at("in_review:last")

    with pytest.raises(PermissionDenied):
        services.approve(case=case, actor=cast.users[who])
    with pytest.raises(PermissionDenied):
        services.review_pass(case=case, actor=cast.users[who])

    services.approve(case=case, actor=cast.head)
    assert fresh(case).status == CaseStatus.APPROVED


def test_a_reviewer_of_another_department_cannot_review(cast):
    case = cast.scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(PermissionDenied):
        services.review_pass(case=case, actor=cast.other_reviewer)
    with pytest.raises(PermissionDenied):
        services.suspend(case=case, actor=cast.other_head, kind="testing", reason="x")

    assert fresh(case).review_step == 0


def test_the_supervisor_sees_but_changes_nothing(cast):
    case = cast.scene.case_at(CaseStatus.READY)

    with pytest.raises(PermissionDenied):
        services.deliver(case=case, actor=cast.supervisor, method=DeliveryMethod.WINDOW)
    assert permissions.performers(cast.supervisor, case) == set()
    assert permissions.visible_cases(cast.supervisor, Case.objects.all()).get() == case
    assert fresh(case).status == CaseStatus.READY


def test_another_citizen_cannot_act_on_a_case(cast):
    case = cast.scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(PermissionDenied):
        services.withdraw(case=case, actor=cast.citizen, reason="恶意撤回")
    with pytest.raises(PermissionDenied):
        services.supply_tolerated(case=case, actor=cast.citizen)

    assert fresh(case).status == CaseStatus.IN_REVIEW


# --- visible cases ------------------------------------------------------------------------------


@pytest.fixture
def two_cases(cast):
    """A case of the cast's item, and one of another department, category and region."""
    mine = cast.scene.case_at(CaseStatus.RECEIVED)
    elsewhere = Scene.make(n=5)
    theirs = elsewhere.case_at(CaseStatus.RECEIVED)
    assert mine.region.parent_id != theirs.region.parent_id
    assert mine.department_id != theirs.department_id
    assert mine.window_category_id != theirs.window_category_id
    return mine, theirs, elsewhere


def visible(user):
    return set(permissions.visible_cases(user, Case.objects.all()))


def test_each_role_sees_its_cases(cast, two_cases):
    mine, theirs, elsewhere = two_cases

    assert visible(cast.applicant) == {mine}
    assert visible(elsewhere.applicant.user) == {theirs}
    assert visible(cast.citizen) == set()
    assert visible(cast.clerk) == {mine}
    assert visible(elsewhere.clerk) == {theirs}
    assert visible(cast.wrong_clerk) == set()
    assert visible(cast.reviewer) == {mine}
    assert visible(cast.head) == {mine}
    assert visible(cast.other_reviewer) == set()
    assert visible(cast.other_head) == set()
    assert visible(cast.supervisor) == {mine, theirs}
    assert visible(cast.anonymous) == set()
    assert visible(None) == set()


def test_a_supervisor_of_a_region_sees_its_cases_only(cast, two_cases):
    mine, theirs, _elsewhere = two_cases
    city = grant(UserFactory(), Role.SUPERVISOR, region=mine.region.parent)
    district = grant(UserFactory(), Role.SUPERVISOR, region=theirs.region)

    assert visible(city) == {mine}
    assert visible(district) == {theirs}


def test_a_superuser_sees_every_case(two_cases):
    boss = UserFactory(is_superuser=True)

    assert visible(boss) == set(two_cases[:2])


def test_a_user_with_several_roles_sees_the_union(cast, two_cases):
    mine, theirs, _elsewhere = two_cases
    grant(cast.reviewer, Role.REVIEWER, department=theirs.department)

    assert visible(cast.reviewer) == {mine, theirs}


def test_the_list_filter_keeps_the_callers_query(cast, two_cases):
    mine, _theirs, _elsewhere = two_cases
    accepted = cast.scene.case_at(CaseStatus.IN_REVIEW)

    cases = permissions.visible_cases(cast.supervisor, Case.objects.filter(status="in_review"))

    assert list(cases) == [accepted]
    assert mine not in cases
