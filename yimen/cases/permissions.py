"""Who may see a case and who may perform each action on it.

The workflow names performers (applicant, clerk, reviewer of the current step, department
head, system); this module says which of them a user is for a given case:
- the applicant: the user whose applicant profile the case is for;
- a clerk: a window clerk whose window categories include the case's (受审分离: any
  department's item), or the clerk who accepted it;
- the reviewer of the current step: staff of the case's department holding the step's role
  (a department head may act for a reviewer's step, not the other way round);
- the department head: a head of the case's department;
- supervisors see every case (within their region when their role names one) and act on none.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yimen.org.choices import Role
from yimen.org.roles import active_memberships, departments_for, window_categories_for

from .choices import CaseStatus, Performer
from .workflow import Transition


def current_step(case):
    """The review step the case is at (None outside review)."""
    if case.review_step is None:
        return None
    steps = list(case.item_version.review_steps.all())
    return steps[case.review_step] if case.review_step < len(steps) else None


def is_applicant(user, case) -> bool:
    return bool(user and user.is_authenticated and case.applicant.user_id == user.pk)


def performers(user, case) -> set[str]:
    """The performers `user` is for `case` (None is the system)."""
    if user is None:
        return {Performer.SYSTEM}
    found: set[str] = set()
    if is_applicant(user, case):
        found.add(Performer.APPLICANT)
    if case.window_category_id in window_categories_for(user) or (
        case.accepted_by_id == user.pk and case.accepted_by_id is not None
    ):
        found.add(Performer.CLERK)
    heads = departments_for(user, Role.DEPARTMENT_HEAD)
    if case.department_id in heads:
        found.add(Performer.HEAD)
    step = current_step(case) if case.status == CaseStatus.IN_REVIEW else None
    if step is not None:
        holders = (
            {Role.DEPARTMENT_HEAD}
            if step.role == Role.DEPARTMENT_HEAD
            else {Role.REVIEWER, Role.DEPARTMENT_HEAD}
        )
        if case.department_id in departments_for(user, *holders):
            found.add(Performer.REVIEWER)
    elif case.department_id in departments_for(user, Role.REVIEWER, Role.DEPARTMENT_HEAD):
        # Outside the chain (special procedure, fees, production) any reviewer of the
        # department acts.
        found.add(Performer.REVIEWER)
    return found


def may_open_files(user, case) -> bool:
    """Uploaded papers are for the applicant and the staff who work on the case; a
    supervisor sees that they exist, not what they say."""
    return user is not None and bool(performers(user, case) - {Performer.SYSTEM})


def may_perform(user, case, transition: Transition) -> bool:
    return bool(performers(user, case) & transition.performers)


def visible_cases(user, cases: QuerySet) -> QuerySet:
    """The cases `user` may see: the list filter every list and lookup goes through."""
    if not (user and user.is_authenticated):
        return cases.none()
    if user.is_superuser:
        return cases
    # The clerk who accepted a case keeps it, even after leaving its window category.
    seen = Q(applicant__user=user) | Q(accepted_by=user)
    categories = window_categories_for(user)
    if categories:
        seen |= Q(window_category__in=categories)
    departments = departments_for(user, Role.REVIEWER, Role.DEPARTMENT_HEAD)
    if departments:
        seen |= Q(department__in=departments)
    for membership in active_memberships(user):
        if membership.role == Role.SUPERVISOR:
            if membership.region_id is None:
                return cases
            seen |= Q(region__code__startswith=membership.region.scope_prefix)
    return cases.filter(seen)
