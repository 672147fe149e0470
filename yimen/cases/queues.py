"""Reads of the staff consoles: the window clerk's queue, the reviewer's inbox and the
supervisors' list of every case.

Each list is sorted by the due date of the clock that runs in the case's state (acceptance
while the materials are at the window, decision during review, delivery after the decision)
and shows that clock's light. Sorting and filtering happen in the database; a page of rows
then costs a fixed number of queries (clocks with their pauses and extensions, the pinned
guide's review chain), whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yimen.catalog.choices import Target
from yimen.catalog.models import ReviewStep
from yimen.catalog.search import rank
from yimen.catalog.selectors import versions_in_force
from yimen.common.clock import ClockState, Light
from yimen.common.clocks import clock_state
from yimen.common.models import Clock
from yimen.org.choices import Role
from yimen.org.models import Department
from yimen.org.roles import departments_for, has_role, window_categories_for

from . import permissions
from .choices import CLOCK_OF_STATUS, CaseStatus
from .models import Case

S = CaseStatus

# What waits for the window: pre-review, receipt, acceptance, corrections coming back, and
# results (or refusals) to hand over.
CLERK_STATES = (S.SUBMITTED, S.PREREVIEWED, S.RECEIVED, S.CORRECTION, S.READY, S.DENIED)
# What waits for a department besides the steps of the chain.
DEPARTMENT_STATES = (S.SUSPENDED, S.APPROVED)
INBOX_STATES = (S.IN_REVIEW, *DEPARTMENT_STATES)

# Lists sort finished cases by the clock they finished on; those ended early by the last
# one they ran on.
_FINISHED_ON = {
    S.NOT_ACCEPTED: "acceptance_clock",
    S.DELIVERED: "delivery_clock",
    S.ARCHIVED: "delivery_clock",
}
_ENDED_EARLY = (S.WITHDRAWN, S.TERMINATED)

PAGE_SIZE = 25


# --- who uses which console -------------------------------------------------------------------


def uses_desk(user) -> bool:
    return has_role(user, Role.WINDOW_CLERK)


def uses_inbox(user) -> bool:
    return has_role(user, Role.REVIEWER, Role.DEPARTMENT_HEAD)


def sees_all_cases(user) -> bool:
    return bool(getattr(user, "is_superuser", False) or has_role(user, Role.SUPERVISOR))


# --- the clock of a state ---------------------------------------------------------------------


def _by_state(suffix: str, output_field) -> models.Case:
    def field(name):
        return F(f"{name}{suffix}")

    statuses_of = defaultdict(list)
    for status, name in {**CLOCK_OF_STATUS, **_FINISHED_ON}.items():
        statuses_of[name].append(status)
    return models.Case(
        *(models.When(status__in=sts, then=field(name)) for name, sts in statuses_of.items()),
        models.When(
            status__in=_ENDED_EARLY,
            then=Coalesce(field("decision_clock"), field("acceptance_clock")),
        ),
        default=None,
        output_field=output_field,
    )


def with_due(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate the clock of each case's state (`clock_ref`) and its due date (`due`), and
    sort by it: soonest first, paused and clockless cases last, oldest first among them."""
    return cases.annotate(
        clock_ref=_by_state("_id", models.BigIntegerField()),
        due=_by_state("__due_at", models.DateTimeField()),
    ).order_by(F("due").asc(nulls_last=True), "submitted_at", "pk")


def with_light(cases: QuerySet[Case], light: str, *, now: dt.datetime | None = None):
    """The cases (annotated by `with_due`) whose clock shows `light`. Paused and stopped are
    the clock's status; the other lights need the calendar, so the running clocks are judged
    here (three queries, however many)."""
    clocks = Clock.objects.filter(pk__in=cases.order_by().values("clock_ref"))
    if light == Light.PAUSED:
        return cases.filter(clock_ref__in=clocks.filter(status=Clock.Status.PAUSED).values("pk"))
    if light == Light.STOPPED:
        return cases.filter(clock_ref__in=clocks.filter(status=Clock.Status.STOPPED).values("pk"))
    running = clocks.filter(status=Clock.Status.RUNNING).prefetch_related("pauses", "extensions")
    now = now or timezone.now()
    return cases.filter(
        clock_ref__in=[c.pk for c in running if clock_state(c, now=now).light == light]
    )


def _listed(cases: QuerySet[Case]) -> QuerySet[Case]:
    return with_due(
        cases.select_related("item_version", "department", "applicant").prefetch_related(
            "item_version__review_steps"
        )
    )


# --- the lists --------------------------------------------------------------------------------


def clerk_queue(user) -> QuerySet[Case]:
    """The cases of the clerk's window categories that wait for the window."""
    cases = Case.objects.filter(
        window_category__in=window_categories_for(user), status__in=CLERK_STATES
    )
    return _listed(permissions.visible_cases(user, cases))


def _head_steps(cases: QuerySet[Case]) -> Q | None:
    """The (guide version, step index) pairs among `cases` whose step only a department head
    performs, as a filter (None when there are none)."""
    steps = ReviewStep.objects.filter(
        version__in=cases.order_by().values("item_version")
    ).values_list("version_id", "role")
    index: dict[int, int] = {}
    heads: dict[int, list[int]] = {}
    for version_id, role in steps.order_by("version_id", "order", "pk"):
        position = index.get(version_id, 0)
        index[version_id] = position + 1
        if role == Role.DEPARTMENT_HEAD:
            heads.setdefault(version_id, []).append(position)
    found = None
    for version_id, positions in heads.items():
        term = Q(item_version_id=version_id, review_step__in=positions)
        found = term if found is None else found | term
    return found


def inbox(user) -> QuerySet[Case]:
    """The cases of the user's departments whose current step is theirs (a reviewer's step
    for reviewers; any step for department heads, who may also extend or suspend), plus the
    department's cases in a special procedure or approved (fees, production)."""
    heads = departments_for(user, Role.DEPARTMENT_HEAD)
    reviewers = departments_for(user, Role.REVIEWER) - heads
    wanted = Q(department__in=heads | reviewers, status__in=DEPARTMENT_STATES)
    if heads:
        wanted |= Q(department__in=heads, status=S.IN_REVIEW)
    if reviewers:
        in_review = Case.objects.filter(department__in=reviewers, status=S.IN_REVIEW)
        theirs = Q(department__in=reviewers, status=S.IN_REVIEW)
        if (head_steps := _head_steps(in_review)) is not None:
            theirs &= ~head_steps
        wanted |= theirs
    return _listed(permissions.visible_cases(user, Case.objects.filter(wanted)))


def all_cases(user) -> QuerySet[Case]:
    """Every case the user may see (supervisors: all, or their region's)."""
    return _listed(permissions.visible_cases(user, Case.objects.all()))


def supervised_departments(user) -> QuerySet[Department]:
    """The departments of the cases the user may see (the all-cases filter's choices)."""
    visible = permissions.visible_cases(user, Case.objects.all())
    return Department.objects.filter(pk__in=visible.values("department"))


# --- what a row shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """The light of a case's clock, its deadline and what is left, ready to print."""

    light: str
    light_label: str
    due_at: dt.datetime | None
    remaining: str
    confirmed: bool


def _remaining(clock: Clock, state: ClockState) -> str:
    left = state.remaining
    if state.light == Light.STOPPED:
        return _("on time") if state.on_time else _("late")
    if isinstance(left, dt.timedelta):
        left = int(left.total_seconds() // 3600)
        unit = "hours"
    else:
        unit = clock.unit
    if left < 0:
        texts = {
            Clock.Unit.WORKDAYS: ngettext(
                "%(n)d working day overdue", "%(n)d working days overdue", -left
            ),
            Clock.Unit.DAYS: ngettext("%(n)d day overdue", "%(n)d days overdue", -left),
            "hours": ngettext("%(n)d hour overdue", "%(n)d hours overdue", -left),
        }
        return texts[unit] % {"n": -left}
    texts = {
        Clock.Unit.WORKDAYS: ngettext("%(n)d working day left", "%(n)d working days left", left),
        Clock.Unit.DAYS: ngettext("%(n)d day left", "%(n)d days left", left),
        "hours": ngettext("%(n)d hour left", "%(n)d hours left", left),
    }
    return texts[unit] % {"n": left}


def rows(cases, *, now: dt.datetime | None = None) -> list[Case]:
    """The cases of a page with `timing` (None without a clock) and `step` (the current
    review step's name, or "") set: three queries for the clocks, none per row."""
    cases = list(cases)
    wanted = {c.clock_ref for c in cases if c.clock_ref is not None}
    loaded = (
        {
            c.pk: c
            for c in Clock.objects.filter(pk__in=wanted).prefetch_related("pauses", "extensions")
        }
        if wanted
        else {}
    )
    now = now or timezone.now()
    for case in cases:
        clock = loaded.get(case.clock_ref)
        case.timing = None
        if clock is not None:
            state = clock_state(clock, now=now)
            case.timing = Timing(
                light=state.light,
                light_label=str(state.light.label),
                due_at=state.due_at,
                remaining=_remaining(clock, state),
                confirmed=state.confirmed,
            )
        step = permissions.current_step(case) if case.status == S.IN_REVIEW else None
        case.step = step.name if step else ""
    return cases


# --- the desk's reads -------------------------------------------------------------------------


def desk_guides(user, *, applicant=None, query: str = "", limit: int = 20):
    """The guides in force that the clerk's window categories cover (and that serve the
    applicant's kind), best match first."""
    versions = versions_in_force().filter(window_category__in=window_categories_for(user))
    if applicant is not None:
        versions = versions.filter(target__in=[applicant.kind, Target.BOTH])
    versions = rank(versions, query) if query.strip() else versions.order_by("name", "pk")
    return list(versions[:limit])


def desk_guide(user, implementation_code: str):
    """The guide in force of an item the clerk may accept (None otherwise)."""
    return (
        versions_in_force()
        .filter(
            item__implementation_code=implementation_code,
            window_category__in=window_categories_for(user),
        )
        .first()
    )


def desk_case(user, number: str) -> Case | None:
    """A case the clerk may see, with its documents (the page after the acceptance)."""
    return (
        permissions.visible_cases(user, Case.objects.all())
        .select_related("item_version", "applicant", "department")
        .prefetch_related("documents")
        .filter(number=number)
        .first()
    )
