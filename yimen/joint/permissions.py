"""Who may see a joint application and who takes each of its steps.

- the applicant: the user whose applicant profile it is for;
- a clerk: a window clerk of its window category (受审分离: whatever departments its items
  belong to), or the clerk who accepted it;
- the staff of a department with a case in it see the application (each still works on
  its own case only); its heads may extend the joint time limit (45 + 15 working days);
- supervisors see every application (within their region when their role names one).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yimen.cases.choices import Performer
from yimen.org.choices import Role
from yimen.org.roles import (
    active_memberships,
    departments_for,
    has_role,
    window_categories_for,
)

from .workflow import Step


def performers(user, joint) -> set[str]:
    if user is None:
        return {Performer.SYSTEM}
    found: set[str] = set()
    if user.is_authenticated and joint.applicant.user_id == user.pk:
        found.add(Performer.APPLICANT)
    if joint.window_category_id in window_categories_for(user) or (
        joint.accepted_by_id is not None and joint.accepted_by_id == user.pk
    ):
        found.add(Performer.CLERK)
    heads = departments_for(user, Role.DEPARTMENT_HEAD)
    if heads and joint.cases.filter(department__in=heads).exists():
        found.add(Performer.HEAD)  # a head of a department reviewing one of its items
    return found


def sees_internal(user, joint) -> bool:
    """Staff who may see the application also see the departments' correction requests
    before the window sends them; the applicant sees what was sent."""
    return bool(user and user.is_authenticated and joint.applicant.user_id != user.pk)


def readable_form_keys(user, joint) -> set[str] | None:
    """The keys of the one form `user` may read (None: all of them). The applicant, the
    window and supervisors read it whole; a department's staff read the fields of their
    own items only."""
    if (
        user.is_superuser
        or performers(user, joint) & {Performer.APPLICANT, Performer.CLERK}
        or has_role(user, Role.SUPERVISOR)
    ):
        return None
    departments = departments_for(user, Role.REVIEWER, Role.DEPARTMENT_HEAD)
    keys: set[str] = set()
    for data in joint.cases.filter(department__in=departments).values_list("form_data", flat=True):
        keys |= set(data)
    return keys


def may_perform(user, joint, step: Step) -> bool:
    return bool(performers(user, joint) & step.performers)


def may_open_files(user, joint) -> bool:
    """The applicant's papers are for the applicant and the window that handles them;
    departments open them on their own cases."""
    return user is not None and bool(
        performers(user, joint) & {Performer.APPLICANT, Performer.CLERK}
    )


def visible(user, applications: QuerySet) -> QuerySet:
    """The applications `user` may see: the filter every list and lookup goes through."""
    if not (user and user.is_authenticated):
        return applications.none()
    if user.is_superuser:
        return applications
    seen = Q(applicant__user=user) | Q(accepted_by=user)
    if categories := window_categories_for(user):
        seen |= Q(window_category__in=categories)
    if departments := departments_for(user, Role.REVIEWER, Role.DEPARTMENT_HEAD):
        seen |= Q(cases__department__in=departments)
    for membership in active_memberships(user):
        if membership.role == Role.SUPERVISOR:
            if membership.region_id is None:
                return applications
            seen |= Q(region__code__startswith=membership.region.scope_prefix)
    return applications.filter(seen).distinct()


def visible_projects(user, projects: QuerySet) -> QuerySet:
    """A project is seen by whoever sees one of its applications, and by its applicant."""
    from .models import JointCase

    if not (user and user.is_authenticated):
        return projects.none()
    if user.is_superuser:
        return projects
    seen = visible(user, JointCase.objects.exclude(project=None)).values("project")
    return projects.filter(Q(applicant__user=user) | Q(pk__in=seen))
