"""Reads of joint handling: an application with its cases' progress, the applicant's
applications and projects, the window's queue, and each theme's reduction report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from yimen.cases import selectors as case_selectors
from yimen.cases.choices import OPEN_STATES as CASE_OPEN_STATES
from yimen.cases.choices import CaseStatus, DocumentKind
from yimen.cases.models import Case, CaseDocument
from yimen.catalog.models import Theme, ThemeStage
from yimen.catalog.selectors import (
    Merge,
    StagePlan,
    ThemePlan,
    guides_in_force,
    theme_plan,
    themes_in_force,
    themes_with_items,
)
from yimen.common.audit import object_label
from yimen.common.clock import ClockState
from yimen.common.clocks import clock_state
from yimen.common.models import AuditEvent, Clock
from yimen.licences import selectors as licence_selectors
from yimen.org.roles import window_categories_for

from . import permissions, workflow
from .choices import JointStatus
from .models import CorrectionRequest, JointCase, Project
from .services import JOINT_EXTENSION, application_merge, stage_refusal


def _page_queryset() -> QuerySet[JointCase]:
    return JointCase.objects.select_related(
        "theme",
        "stage",
        "project",
        "applicant",
        "window_category",
        "region",
        "acceptance_clock",
        "joint_clock",
    ).prefetch_related(
        "acceptance_clock__pauses",
        "acceptance_clock__extensions",
        "joint_clock__pauses",
        "joint_clock__extensions",
    )


def visible_applications(user) -> QuerySet[JointCase]:
    """The applications `user` may see, newest first, ready for a list."""
    return permissions.visible(user, _page_queryset())


def application_for_page(*, user, number: str) -> JointCase | None:
    return visible_applications(user).filter(number=number).first()


def applications_of(applicant) -> QuerySet[JointCase]:
    return _page_queryset().filter(applicant=applicant)


def running_clock(joint: JointCase) -> Clock | None:
    """The clock the application runs on now: acceptance until accepted, then the joint
    clock until every case is decided (paused while corrections are awaited)."""
    if joint.status not in (JointStatus.RECEIVED, JointStatus.CORRECTION, JointStatus.IN_REVIEW):
        return None
    return joint.joint_clock if joint.accepted_at else joint.acceptance_clock


def running_state(joint: JointCase, *, now: dt.datetime | None = None) -> ClockState | None:
    clock = running_clock(joint)
    return clock_state(clock, now=now) if clock is not None else None


@dataclass(frozen=True)
class Progress:
    """One case of an application as its page shows it."""

    case: Case
    state: ClockState | None
    waiting_correction: bool

    @property
    def open(self) -> bool:
        return self.case.status in CASE_OPEN_STATES


def progress(
    joint: JointCase, *, sent_only: bool = False, now: dt.datetime | None = None
) -> list[Progress]:
    """Each case of the application, with its light (parallel review at a glance), and
    whether it waits for corrections (`sent_only`: those the applicant has been told of)."""
    children = case_selectors.case_page_queryset().filter(joint=joint).order_by("pk")
    requests = joint.corrections.filter(answered_at=None, case__status=CaseStatus.CORRECTION)
    if sent_only:
        requests = requests.exclude(notice=None)
    asking = set(requests.values_list("case", flat=True))
    return [Progress(c, case_selectors.running_state(c, now=now), c.pk in asking) for c in children]


@dataclass(frozen=True)
class Result:
    """What one case of the application came to: its decision (准予 / 不予 / 终止 notice)
    and the licences it issued."""

    case: Case
    decision: CaseDocument | None
    licences: list


def results(joint: JointCase) -> list[Result]:
    """The results of the application's cases that have one, in the cases' order."""
    children = list(joint.cases.select_related("item_version", "department").order_by("pk"))
    kinds = (DocumentKind.APPROVAL, DocumentKind.DENIAL, DocumentKind.TERMINATION)
    decisions = {
        d.case_id: d
        for d in CaseDocument.objects.filter(case__joint=joint, kind__in=kinds).order_by(
            "issued_at", "pk"
        )
    }
    licences: dict[int, list] = {}
    for licence in licence_selectors.issued_for_cases(children):
        licences.setdefault(licence.case_id, []).append(licence)
    rows = [Result(c, decisions.get(c.pk), licences.get(c.pk, [])) for c in children]
    return [r for r in rows if r.decision is not None or r.licences]


def history_events(joint: JointCase) -> QuerySet[AuditEvent]:
    """The application's audit events, oldest first."""
    object_type, object_id = object_label(joint)
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by(
        "occurred_at", "pk"
    )


def extension_days_left(joint: JointCase) -> int:
    """What is left of the 15 working days a head may add to the joint limit."""
    if joint.joint_clock is None:
        return 0
    return JOINT_EXTENSION - sum(e.amount for e in joint.joint_clock.extensions.all())


def offered_steps(user, joint: JointCase) -> list:
    """The steps `user` is offered on the application now (pages and API alike): those its
    status allows and `user` takes, less those the service would refuse anyway (nothing
    to send, rated already, no extension left)."""
    acting = permissions.performers(user, joint)
    useless = {
        "send_corrections": lambda: not pending_corrections(joint),
        "evaluate": lambda: joint.rating is not None,
        "extend": lambda: extension_days_left(joint) <= 0,
    }
    return [
        step
        for step in workflow.actions_from(joint.status)
        if acting & step.performers and not useless.get(step.action, lambda: False)()
    ]


def pending_corrections(joint: JointCase) -> list[CorrectionRequest]:
    """The departments' requests not yet sent to the applicant."""
    return list(
        joint.corrections.filter(notice=None).select_related("case__department", "material_type")
    )


def open_corrections(joint: JointCase) -> list[CorrectionRequest]:
    """The requests sent and not yet answered: what the applicant is to correct."""
    return list(
        joint.corrections.exclude(notice=None)
        .filter(answered_at=None)
        .filter(Q(case=None) | Q(case__status=CaseStatus.CORRECTION))
        .select_related("case__department", "material_type")
    )


def window_queue(user) -> dict[str, QuerySet[JointCase]]:
    """What the window has to do on applications: accept, send corrections, deliver."""
    mine = visible_applications(user)
    mine = mine.filter(
        Q(window_category__in=window_categories_for(user)) | Q(accepted_by=user)
    )  # a clerk's own window, whatever else the clerk may see
    pending = Q(corrections__notice=None, corrections__case__status=CaseStatus.CORRECTION)
    return {
        "to_accept": mine.filter(status=JointStatus.RECEIVED).order_by("submitted_at"),
        "to_send": mine.filter(pending, status=JointStatus.IN_REVIEW).distinct(),
        "to_deliver": mine.filter(status=JointStatus.READY).order_by("issued_at"),
    }


# --- projects ---------------------------------------------------------------------------------


def projects_of(applicant) -> QuerySet[Project]:
    return Project.objects.filter(applicant=applicant).select_related("theme")


def project_for_page(*, user, public_id) -> Project | None:
    found = permissions.visible_projects(user, Project.objects.select_related("theme", "applicant"))
    return found.filter(public_id=public_id).first()


@dataclass(frozen=True)
class StageRow:
    """A stage of a project: its application (if any) and whether it may be applied for."""

    stage: ThemeStage
    application: JointCase | None
    refusal: dict | None

    @property
    def may_apply(self) -> bool:
        return self.application is None and self.refusal is None


def project_stages(project: Project, *, user) -> list[StageRow]:
    """The project's stages, each with its latest application that `user` may see (a
    department's staff see the stages their department works on)."""
    applications = {}
    found = (
        permissions.visible(user, project.applications.all())
        .exclude(status__in=(JointStatus.NOT_ACCEPTED, JointStatus.WITHDRAWN))
        .order_by("-submitted_at", "-pk")
        .prefetch_related(
            Prefetch("cases", queryset=Case.objects.select_related("item_version").order_by("pk"))
        )
    )
    for joint in found:
        applications.setdefault(joint.stage_id, joint)
    return [
        StageRow(
            stage,
            applications.get(stage.pk),
            stage_refusal(
                theme=project.theme, stage=stage, project=project, applicant=project.applicant
            ),
        )
        for stage in project.theme.stages.all()
    ]


# --- the reduction report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reduction:
    """What merging saves on a theme (or one stage of it): fields and materials asked
    item by item, and asked once merged."""

    theme: Theme
    stage: ThemeStage | None
    merge: Merge


def as_applied(plan: ThemePlan) -> ThemePlan:
    """The theme's plan as its applications ask it (services.application_merge: not the
    materials the theme's own items issue, nor a project's name and code at each stage).
    A staged theme is applied for stage by stage: its whole is the sum of its stages."""
    staged = any(s.stage for s in plan.stages)
    stages = [
        StagePlan(s.stage, s.theme_items, application_merge(s.merge, staged=staged))
        for s in plan.stages
    ]
    if staged:
        whole = Merge(
            [v for s in stages for v in s.merge.versions],
            [m for s in stages for m in s.merge.materials],
            [f for s in stages for f in s.merge.fields],
        )
    else:
        whole = stages[0].merge if stages else application_merge(plan.whole, staged=False)
    return ThemePlan(plan.theme_items, stages, whole, plan.guides)


def reductions() -> list[Reduction]:
    """Every theme in force, stage by stage (a theme without stages as one), every item
    counted (as an applicant who needs them all would be asked)."""
    themes = list(themes_with_items(themes_in_force()))
    guides = guides_in_force(ti.item_id for t in themes for ti in t.theme_items.all())
    rows = []
    for theme in themes:
        plan = as_applied(theme_plan(theme, guides=guides))
        rows += [Reduction(theme, s.stage, s.merge) for s in plan.stages]
    return rows


def reduction_totals(rows: list[Reduction]) -> dict[str, int]:
    fields_before = sum(r.merge.fields_before for r in rows)
    fields_after = sum(r.merge.fields_after for r in rows)
    materials_before = sum(r.merge.materials_before for r in rows)
    materials_after = sum(r.merge.materials_after for r in rows)
    return {
        "fields_before": fields_before,
        "fields_after": fields_after,
        "fields_cut": Merge._cut(fields_before, fields_after),
        "materials_before": materials_before,
        "materials_after": materials_after,
        "materials_cut": Merge._cut(materials_before, materials_after),
    }
