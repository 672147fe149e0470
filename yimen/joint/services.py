"""Writes of joint handling (主题式联审联办).

An applicant (or a clerk at the window) applies for a theme, or one stage of it: the
scenario answers select the items; ONE merged form (by field-dictionary key) and ONE
material set (by material type) serve them all, and a valid licence of the applicant
stands for a material it replaces (零提交). ONE acceptance opens a case per item, which
its department reviews in parallel on its own chain and clock (yimen.cases); the
application runs on the joint limit. Departments' correction requests are sent to the
applicant in ONE notice and answered once. When every case is decided, every licence is
issued at once (多证同发) and delivered in ONE delivery. A refusal stops the other items
only when the theme says so. A project (项目) ties the stages of a staged theme: a stage is
applied for once every item of the stage before it is granted.

Each step locks the application row first (its cases' steps take it first too, so the two
never wait on each other in opposite order), checks the step against yimen.joint.workflow
and the actor against yimen.joint.permissions, changes it and writes one audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.cases import selectors as case_selectors
from yimen.cases import services as cases
from yimen.cases.choices import OPEN_STATES as CASE_OPEN_STATES
from yimen.cases.choices import CaseStatus, DeliveryMethod, PauseKind, Performer
from yimen.cases.models import Case, CaseMaterial
from yimen.catalog.choices import LimitUnit, Target
from yimen.catalog.models import MaterialType, Theme, ThemeStage
from yimen.catalog.selectors import Merge, answers_given, theme_plan, theme_with_items
from yimen.common import audit, clocks, counters
from yimen.common.choices import Channel
from yimen.common.ratings import checked_rating
from yimen.licences import selectors as licence_selectors
from yimen.org.choices import Role
from yimen.org.roles import window_categories_for

from . import documents, permissions, workflow
from .choices import ClockPurpose, JointDocumentKind, JointStatus
from .models import (
    CorrectionRequest,
    JointCase,
    JointCounter,
    JointMaterial,
    Project,
    ProjectCounter,
)

ACCEPTANCE_LIMIT = cases.ACCEPTANCE_LIMIT  # working days (行政许可法 Art. 32)
JOINT_LIMIT = 45  # working days of joint handling (Art. 42), when the theme promises none
JOINT_EXTENSION = 15

# --- numbers ----------------------------------------------------------------------------------


def next_number(region, *, day: dt.date | None = None) -> str:
    """The next application number of a region's day, e.g. LB440604-20261207-0003."""
    day = day or timezone.localdate()
    prefix = region.code[:6]
    last = counters.bump(JointCounter, region_prefix=prefix, day=day)
    return f"LB{prefix}-{day:%Y%m%d}-{last:04d}"


def next_project_code(region, *, year: int | None = None) -> str:
    """A project code in the shape of the investment projects platform's:
    year-region-industry-kind-serial (48: civil engineering; 03: filed projects)."""
    year = year or timezone.localdate().year
    prefix = region.code[:6]
    last = counters.bump(ProjectCounter, region_prefix=prefix, year=year)
    return f"{year}-{prefix}-48-03-{last:06d}"


# --- the one form and the one material set ----------------------------------------------------


@dataclass
class SetUpload:
    """A file for one material type of the application's material set: a new file, or
    (`reused`) the file of an earlier case of the applicant picked again."""

    material_type: MaterialType
    file: Any = None
    reused: CaseMaterial | None = None
    checked: tuple[str, int, str] | None = field(default=None, init=False, repr=False)


def form_for(merge: Merge, data: Mapping[str, Any] | None = None) -> forms.Form:
    """The one form of the merged items: each dictionary key once, required when any item
    requires it."""
    fields = {m.field.key: m.field.formfield(required=m.required) for m in merge.fields}
    return type("JointApplicationForm", (forms.Form,), fields)(data=data)


def _clean_form(merge: Merge, data: Mapping[str, Any]) -> tuple[dict, dict[str, list]]:
    form = form_for(merge, data)
    if not form.is_valid():
        return {}, {f"form.{key}": messages for key, messages in form.errors.items()}
    return {
        key: (str(value) if isinstance(value, Decimal | dt.date) else value)
        for key, value in form.cleaned_data.items()
    }, {}


def _check_uploads(merge: Merge, uploads: Sequence[SetUpload], applicant) -> dict[str, list]:
    """Errors by upload (`materials.<index>`): a type the set does not ask for, a second
    file of one type, a file that is not acceptable, a reused file that may not be."""
    asked = {m.material_type.pk for m in merge.materials}
    errors: dict[str, list] = {}
    seen: set[int] = set()
    reusable = None
    for index, upload in enumerate(uploads):
        key = f"materials.{index}"
        type_id = upload.material_type.pk
        if type_id not in asked:
            errors[key] = [_("This material is not asked for by the items applied for.")]
            continue
        if type_id in seen:
            errors[key] = [_("One file per material: this one is given twice.")]
            continue
        seen.add(type_id)
        try:
            if upload.reused is not None:
                if reusable is None:
                    found = case_selectors.reusable_materials(applicant=applicant)
                    reusable = {r.row.pk: r.row for r in found}
                picked = reusable.get(upload.reused.pk)
                if picked is None:
                    raise ValidationError(_("That earlier file can no longer be used."))
                if picked.material.material_type_id != type_id:
                    raise ValidationError(_("That earlier file is of another kind of material."))
                upload.reused = picked
                upload.checked = (picked.file_name, picked.size, picked.sha256)
            elif upload.file is None:
                raise ValidationError(_("Give a file or pick an earlier one."))
            else:
                upload.checked = cases.checked_file(upload.file)
        except ValidationError as exc:
            errors[key] = exc.messages
    return errors


def _store_set(
    joint: JointCase,
    uploads: Sequence[SetUpload],
    originals: Iterable[MaterialType],
    actor,
    now: dt.datetime,
) -> list[JointMaterial]:
    """The given files (a reused one shares its stored file) and the originals seen; a
    type given again supersedes its earlier row."""
    seen = {m.pk for m in originals}
    given = {u.material_type.pk for u in uploads} | seen
    joint.materials.filter(material_type__in=given, superseded_at=None).update(superseded_at=now)
    rows = []
    for upload in uploads:
        name, size, sha256 = upload.checked
        row = JointMaterial(
            joint=joint,
            material_type=upload.material_type,
            file_name=name,
            size=size,
            sha256=sha256,
            original_seen=upload.material_type.pk in seen,
            added_at=now,
            added_by=actor,
        )
        if upload.reused is not None:
            row.file = upload.reused.file.name
        else:
            row.file.save(name, upload.file, save=False)
        rows.append(row)
    uploaded = {u.material_type.pk for u in uploads}
    rows += [
        JointMaterial(
            joint=joint, material_type=t, original_seen=True, added_at=now, added_by=actor
        )
        for t in originals
        if t.pk not in uploaded
    ]
    return JointMaterial.objects.bulk_create(rows)


def _licence_rows(joint: JointCase, merge: Merge, actor, now) -> list[JointMaterial]:
    """零提交: each material type of the set nothing was given for that a valid licence of
    the applicant stands for (用证清单)."""
    have = set(joint.materials.filter(superseded_at=None).values_list("material_type", flat=True))
    wanted = {m.material_type.pk for m in merge.materials} - have
    if not wanted:
        return []
    found = licence_selectors.replacing(joint.applicant, set(wanted))
    return JointMaterial.objects.bulk_create(
        JointMaterial(
            joint=joint, material_type_id=type_id, licence=licence, added_at=now, added_by=actor
        )
        for type_id, licence in found.items()
    )


def current_set(joint: JointCase) -> dict[int, JointMaterial]:
    """The application's material set as it stands, by material type id."""
    rows = joint.materials.filter(superseded_at=None).select_related("licence", "material_type")
    return {row.material_type_id: row for row in rows}


def missing_required(joint: JointCase, merge: Merge) -> list[MaterialType]:
    have = current_set(joint)
    return [
        m.material_type for m in merge.materials if m.required and m.material_type.pk not in have
    ]


def plan_of(joint: JointCase) -> Merge:
    """What the application asks, out of the guides it was submitted under."""
    from yimen.catalog.models import ItemVersion
    from yimen.catalog.selectors import merge

    versions = ItemVersion.objects.with_guide().filter(pk__in=joint.item_versions.all())
    place = {
        item: n for n, item in enumerate(joint.theme.theme_items.values_list("item", flat=True))
    }
    ordered = sorted(versions, key=lambda v: place.get(v.item_id, len(place)))  # the theme's order
    return application_merge(merge(ordered), staged=joint.stage_id is not None)


# What a project says itself: the forms of its stages do not ask it again.
PROJECT_FIELDS = {"project_name": "name", "project_code": "code"}


@dataclass(frozen=True)
class Produced:
    """A material an item of the same application issues (its licence): the cases that ask
    for it record where it comes from instead of a file."""

    note: str
    file: Any = None
    file_name: str = ""
    size: int | None = None
    sha256: str = ""
    original_seen: bool = False
    licence: Any = None


def produced(versions: Sequence) -> dict[int, Produced]:
    """{material type id: Produced} for the materials that a licence issued by one of these
    items stands for."""
    by_item = {v.item_id: v for v in versions}
    found = licence_selectors.replaced_by_items(list(by_item))
    return {
        type_id: Produced(f"由本次联办事项「{by_item[item_id].name}」核发")
        for type_id, item_id in found.items()
    }


def application_merge(merge: Merge, *, staged: bool) -> Merge:
    """What an application asks of the applicant out of its items' merged guides: not a
    material that an item of the same application issues a licence for (the government
    makes it), nor, for a stage of a project, the project's own name and code."""
    made = produced(merge.versions)
    return Merge(
        merge.versions,
        [m for m in merge.materials if m.material_type.pk not in made],
        [f for f in merge.fields if not (staged and f.field.key in PROJECT_FIELDS)],
    )


# --- stages and projects ----------------------------------------------------------------------


def stage_refusal(
    *, theme: Theme, stage: ThemeStage | None, project: Project | None, applicant
) -> dict[str, list] | None:
    """Why this stage may not be applied for now, by field (None: it may). The first stage
    opens a new project, or is applied for again on a project where nothing holds it; a
    later stage needs the applicant's project of the theme with every item of the stage
    before it granted and issued; no stage is applied for while another application holds
    it (under way, or every item granted)."""
    stages = list(theme.stages.all())
    if not stages:
        if stage is None and project is None:
            return None
        return {"stage": [_("This theme has no stages.")]}
    if stage is None or stage.theme_id != theme.pk:
        return {"stage": [_("Choose the stage of the theme to apply for.")]}
    if project is None:
        if stage.order == stages[0].order:
            return None
        return {"project": [_("Choose the project this stage is for.")]}
    if project.theme_id != theme.pk or project.applicant_id != applicant.pk:
        return {"project": [_("This is not a project of this applicant under this theme.")]}
    if stage.order != stages[0].order:
        earlier = [s for s in stages if s.order < stage.order][-1]
        previous = _stage_application(project, earlier)
        if previous is None or not _all_granted(previous):
            message = _(
                "“%(stage)s” can be applied for once every item of “%(before)s” is granted."
            )
            return {"stage": [message % {"stage": stage.name, "before": earlier.name}]}
    if _stage_application(project, stage) is not None:
        return {"stage": [_("This stage of the project has been applied for already.")]}
    return None


# An application holds its stage while it is under way; once delivered, only if every
# item was granted (after a refusal the stage may be applied for again).
UNDER_WAY = frozenset(
    {JointStatus.RECEIVED, JointStatus.CORRECTION, JointStatus.IN_REVIEW, JointStatus.DECIDED,
     JointStatus.READY}
)  # fmt: skip


def _stage_application(project: Project, stage: ThemeStage) -> JointCase | None:
    """The project's application that holds a stage (the latest), if any."""
    for joint in project.applications.filter(stage=stage).order_by("-submitted_at", "-pk"):
        if joint.status in UNDER_WAY or (
            joint.status == JointStatus.DELIVERED and _all_granted(joint)
        ):
            return joint
    return None


def _all_granted(joint: JointCase) -> bool:
    """Every item granted and its result issued (a grant ended by termination is none)."""
    if joint.status not in (JointStatus.READY, JointStatus.DELIVERED):
        return False
    issued = (CaseStatus.READY, CaseStatus.DELIVERED, CaseStatus.ARCHIVED)
    children = list(joint.cases.all())
    return bool(children) and all(c.granted and c.status in issued for c in children)


# --- applying ---------------------------------------------------------------------------------


def _window_category(theme: Theme, plan_items) -> int | None:
    if theme.window_category_id:
        return theme.window_category_id
    return next((v.window_category_id for v in plan_items if v.window_category_id), None)


def theme_apply(
    *,
    applicant,
    theme: Theme,
    submitted_by,
    channel: str,
    answers: Iterable[str | int] = (),
    form_data: Mapping[str, Any] | None = None,
    uploads: Sequence[SetUpload] = (),
    originals: Sequence[MaterialType] = (),
    stage: ThemeStage | None = None,
    project: Project | None = None,
    project_name: str = "",
    idempotency_key: str = "",
) -> JointCase:
    """A new application of `applicant` for `theme` (its `stage`, for a staged theme).

    `answers` are the ids of the scenario options chosen; they select the items. The one
    form is checked field by field (`form.<key>`), each upload (`materials.<index>`) is a
    type the set asks for; `originals` are material types whose original a clerk saw at the
    window. A material type nothing is given for and that a valid licence of the applicant
    replaces is recorded as given by the licence (零提交). The first stage of a staged
    theme opens a project named `project_name`; a later stage names its `project`.
    The application counts as received at once: its acceptance clock starts. A second
    submission with the same idempotency key returns the first application."""
    key = (idempotency_key or "").strip()[:64]
    if key and (
        done := JointCase.objects.filter(submitted_by=submitted_by, idempotency_key=key).first()
    ):
        return done
    theme = theme_with_items(theme)
    errors: dict[str, list] = {}
    chosen_answers = None
    try:
        chosen_answers = answers_given(theme, list(answers))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    plan = theme_plan(theme, chosen_answers or {})
    stage_plan = next(
        (p for p in plan.stages if (p.stage and p.stage.pk) == (stage and stage.pk)), None
    )
    whole = stage_plan.merge if stage_plan is not None else Merge([], [], [])
    merge = application_merge(whole, staged=stage is not None)
    project_keys = [f.field.key for f in whole.fields if f.field.key in PROJECT_FIELDS]
    category = _window_category(theme, merge.versions)

    if channel == Channel.WINDOW:
        allowed = category is not None and category in window_categories_for(submitted_by)
    else:
        allowed = applicant.user_id is not None and applicant.user_id == submitted_by.pk
    if not allowed:
        raise PermissionDenied(_("You may not apply for this applicant here."))

    if not theme.is_active:
        errors["theme"] = [_("This theme is not offered at present.")]
    elif not Target(theme.target).serves(applicant.kind):
        errors["applicant"] = [_("This theme is not for this kind of applicant.")]
    if refusal := stage_refusal(theme=theme, stage=stage, project=project, applicant=applicant):
        errors.update(refusal)
    if category is None and merge.versions:
        errors["theme"] = [_("No window handles this theme: its window category is not set.")]
    first_stage = stage is not None and project is None
    if first_stage and not project_name.strip():
        errors["project_name"] = [_("Name the project.")]
    if not errors and not merge.versions:
        errors["answer"] = [_("No item of the theme applies to these answers.")]
    if merge.versions:
        cleaned, form_errors = _clean_form(merge, form_data or {})
        errors.update(form_errors)
        errors.update(_check_uploads(merge, uploads, applicant))
    if originals and channel != Channel.WINDOW:
        errors["originals"] = [_("Originals are seen at a window only.")]
    elif originals and not {t.pk for t in originals} <= {
        m.material_type.pk for m in merge.materials
    }:
        errors["originals"] = [_("This material is not asked for by the items applied for.")]
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            return _create(
                applicant=applicant,
                theme=theme,
                stage=stage,
                project=project,
                project_name=project_name.strip(),
                merge=merge,
                category=category,
                answers=_answer_texts(theme, chosen_answers or {}),
                form_data=cleaned,
                uploads=uploads,
                originals=originals,
                submitted_by=submitted_by,
                channel=channel,
                key=key,
                project_keys=project_keys,
            )
    except IntegrityError:
        done = key and JointCase.objects.filter(submitted_by=submitted_by, idempotency_key=key)
        if done and done.exists():
            return done.get()
        raise


def _answer_texts(theme: Theme, answers: Mapping[int, Iterable[int]]) -> list[dict]:
    rows = []
    for question in theme.questions.all():
        picked = set(answers.get(question.pk, ()))
        texts = [o.text for o in question.options.all() if o.pk in picked]
        if texts:
            rows.append({"question": question.text, "answers": texts})
    return rows


def _create(
    *,
    applicant,
    theme,
    stage,
    project,
    project_name,
    merge,
    category,
    answers,
    form_data,
    uploads,
    originals,
    submitted_by,
    channel,
    key,
    project_keys,
) -> JointCase:
    now = timezone.now()
    region = merge.versions[0].item.region
    if project is not None:
        # Two applications for one stage of one project: the second waits, then is refused.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        if refusal := stage_refusal(theme=theme, stage=stage, project=project, applicant=applicant):
            raise ValidationError(refusal)
    elif stage is not None:
        project = Project.objects.create(
            code=next_project_code(region),
            name=project_name,
            theme=theme,
            applicant=applicant,
            region=region,
            created_at=now,
            created_by=submitted_by,
        )
        audit.record(
            action="joint.project.create",
            obj=project,
            actor=submitted_by,
            channel=channel,
            payload={"code": project.code, "name": project.name},
        )
    if project is not None:  # the project's name and code fill its stages' forms
        form_data = {**form_data, **{k: getattr(project, PROJECT_FIELDS[k]) for k in project_keys}}
    joint = JointCase.objects.create(
        number=next_number(region),
        theme=theme,
        stage=stage,
        project=project,
        answers=answers,
        form_data=form_data,
        window_category_id=category,
        region=region,
        applicant=applicant,
        channel=channel,
        status=JointStatus.RECEIVED,
        submitted_by=submitted_by,
        idempotency_key=key,
        submitted_at=now,
    )
    joint.item_versions.set(merge.versions)
    _store_set(joint, uploads, originals, submitted_by, now)
    licensed = _licence_rows(joint, merge, submitted_by, now)
    joint.acceptance_clock = clocks.clock_start(
        purpose=ClockPurpose.ACCEPTANCE,
        subject=joint,
        unit=LimitUnit.WORKDAYS,
        limit=ACCEPTANCE_LIMIT,
        started_at=now,
    )
    joint.save(update_fields=["acceptance_clock"])
    documents.issue(joint=joint, kind=JointDocumentKind.RECEIPT, actor=submitted_by)
    # A new application carries its submit event (a repeated key returns one without).
    joint.written_events = [
        _record(
            joint,
            action="submit",
            actor=submitted_by,
            channel=channel,
            acting={Performer.CLERK} if channel == Channel.WINDOW else {Performer.APPLICANT},
            payload={
                "items": [v.item.implementation_code for v in merge.versions],
                "fields": [merge.fields_before, merge.fields_after],
                "materials": [merge.materials_before, merge.materials_after],
                "licences": [row.licence.identifier for row in licensed],
            },
        )
    ]
    return joint


# --- the shared step --------------------------------------------------------------------------


def _record(
    joint: JointCase,
    *,
    action: str,
    actor,
    channel: str,
    acting=(),
    from_state="",
    reason: str = "",
    payload=None,
):
    role = (
        Role.DEPARTMENT_HEAD if Performer.HEAD in acting
        else Role.WINDOW_CLERK if Performer.CLERK in acting
        else ""
    )  # fmt: skip
    return audit.record(
        action=f"joint.{action}",
        obj=joint,
        actor=actor,
        role=role,
        channel=channel,
        from_state=from_state,
        to_state=joint.status,
        reason=reason,
        payload=payload,
    )


@dataclass
class _State:
    joint: JointCase
    from_state: str
    fields: set[str] = field(default_factory=set)
    payload: dict = field(default_factory=dict)

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.joint, name, value)
            self.fields.add(name)


def _lock(joint: JointCase) -> JointCase:
    return (
        JointCase.objects.select_for_update(of=("self",))
        .select_related("applicant", "theme", "stage", "window_category", "region")
        .get(pk=joint.pk)
    )


@contextmanager
def _step(joint: JointCase, action: str, *, actor, channel: str, reason: str = ""):
    """Lock, look up, check; yields the locked application to change; then saves and
    audits (the pattern of yimen.cases.services._step)."""
    with transaction.atomic():
        locked = _lock(joint)
        found = workflow.step(action, locked.status)
        acting = permissions.performers(actor, locked) & found.performers
        if not acting:
            raise PermissionDenied(_("You may not do this on this application."))
        if found.needs_reason and not (reason or "").strip():
            raise ValidationError({"reason": _("Give the reason: the applicant is told it.")})
        state = _State(locked, locked.status)
        yield state
        locked.save(update_fields=sorted({"status", *state.fields}))
        _record(
            locked,
            action=action,
            actor=actor,
            channel=channel,
            acting=acting,
            from_state=state.from_state,
            reason=(reason or "").strip(),
            payload=state.payload or None,
        )
        joint.__dict__.update(locked.__dict__)


def _require_performer(joint: JointCase, action: str, actor) -> None:
    if not permissions.performers(actor, joint) & workflow.STEPS[action].performers:
        raise PermissionDenied(_("You may not do this on this application."))


# --- acceptance -------------------------------------------------------------------------------


def accept(*, joint: JointCase, actor, channel: str = Channel.WINDOW) -> JointCase:
    """One acceptance: every required material of the set is here; a case opens for each
    item, in its department's review, and the joint clock starts (the theme's promised
    limit, else the statutory 45 working days of joint handling)."""
    with _step(joint, "accept", actor=actor, channel=channel) as state:
        if missing := missing_required(state.joint, plan_of(state.joint)):
            raise ValidationError(
                {"materials": [_("Missing: %(name)s.") % {"name": t.name} for t in missing]}
            )
        _open_cases(state, accepted_at=timezone.now(), actor=actor, channel=channel)
    return joint


def deem_accepted(*, joint: JointCase, now: dt.datetime | None = None) -> JointCase:
    """No decision within 5 working days of receipt (行政许可法 Art. 32): the application is
    accepted from the day it was received, and its cases open."""
    with _step(joint, "deem_accepted", actor=None, channel=Channel.SYSTEM) as state:
        clock = state.joint.acceptance_clock
        if clock.due_at is None or (now or timezone.now()) <= clock.due_at:
            raise ValidationError({"status": _("The acceptance period has not run out.")})
        missing = missing_required(state.joint, plan_of(state.joint))
        _open_cases(state, accepted_at=state.joint.submitted_at, actor=None)
        state.payload.update(deemed=True, missing=[t.name for t in missing])
    return joint


def deem_overdue_acceptances(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep of the 5-day rule. Returns how many applications it accepted."""
    count = 0
    for joint in list(acceptances_due(now=now)):
        try:
            deem_accepted(joint=joint, now=now)
            count += 1
        except ValidationError:
            continue  # decided, or paused for corrections, meanwhile
    return count


def acceptances_due(*, now: dt.datetime | None = None):
    """The applications the 5-working-day rule accepts now."""
    return JointCase.objects.filter(
        status=JointStatus.RECEIVED, acceptance_clock__due_at__lt=now or timezone.now()
    ).order_by("acceptance_clock__due_at", "pk")


def _open_cases(
    state: _State, *, accepted_at: dt.datetime, actor, channel: str = Channel.SYSTEM
) -> None:
    locked = state.joint
    clocks.clock_stop(clock=locked.acceptance_clock, at=timezone.now())
    versions = plan_of(locked).versions
    shared = {**produced(versions), **current_set(locked)}
    children = [
        cases.open_joint_child(
            joint=locked,
            version=v,
            shared=shared,
            actor=actor,
            accepted_at=accepted_at,
            channel=channel,
        )
        for v in versions
    ]
    state.set(
        status=JointStatus.IN_REVIEW,
        accepted_at=accepted_at,
        accepted_by=actor,
        joint_clock=clocks.clock_start(
            purpose=ClockPurpose.JOINT,
            subject=locked,
            unit=LimitUnit.WORKDAYS,
            limit=locked.theme.promised_limit or JOINT_LIMIT,
            started_at=accepted_at,
        ),
    )
    state.payload["cases"] = [c.number for c in children]
    documents.issue(
        joint=locked,
        kind=JointDocumentKind.ACCEPTANCE,
        actor=actor,
        details={"deemed": actor is None},
    )


def refuse(*, joint: JointCase, actor, reason: str, channel: str = Channel.WINDOW) -> JointCase:
    """Do not accept (不予受理), with the reason and the applicant's remedies."""
    with _step(joint, "refuse", actor=actor, channel=channel, reason=reason) as state:
        now = timezone.now()
        clocks.clock_stop(clock=state.joint.acceptance_clock, at=now)
        state.set(status=JointStatus.NOT_ACCEPTED, closed_at=now, close_reason=reason.strip())
        documents.issue(
            joint=state.joint,
            kind=JointDocumentKind.NON_ACCEPTANCE,
            actor=actor,
            details={"reason": reason.strip()},
        )
    return joint


def _checked_items(joint: JointCase, items: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Correction items of the window: `material_type` (an id of the set's types, or empty
    for the form) and `problem`."""
    asked = {str(m.material_type.pk): m.material_type for m in plan_of(joint).materials}
    listed, errors = [], []
    for item in items or ():
        problem = str(item.get("problem") or "").strip()
        key = str(item.get("material_type") or "")
        if not problem:
            errors.append(_("Say what is wrong with each material listed."))
        elif key and key not in asked:
            errors.append(_("This material is not asked for by the items applied for."))
        else:
            listed.append({"material_type": asked.get(key), "problem": problem[:500]})
    if errors or not listed:
        raise ValidationError({"items": errors or [_("List what is to be corrected.")]})
    return listed


def request_correction(
    *, joint: JointCase, actor, items: Sequence[Mapping[str, Any]], channel: str = Channel.WINDOW
) -> JointCase:
    """一次性告知 before acceptance: the window lists everything to correct in the set or the
    form, in one notice. The acceptance clock pauses."""
    _require_performer(joint, "request_correction", actor)
    listed = _checked_items(joint, items)
    reason = "；".join(f"{i['material_type'] or _('the form')}：{i['problem']}" for i in listed)
    with _step(joint, "request_correction", actor=actor, channel=channel, reason=reason) as state:
        now = timezone.now()
        CorrectionRequest.objects.bulk_create(
            CorrectionRequest(
                joint=state.joint,
                material_type=i["material_type"],
                problem=i["problem"],
                asked_at=now,
                asked_by=actor,
            )
            for i in listed
        )
        clocks.clock_pause(
            clock=state.joint.acceptance_clock, kind=PauseKind.CORRECTION, reason=reason
        )
        state.set(status=JointStatus.CORRECTION)
        state.payload["notice"] = _send_notice(state.joint, actor).code
    return joint


def send_corrections(*, joint: JointCase, actor, channel: str = Channel.WINDOW) -> JointCase:
    """The requests the departments have made on their cases, in ONE notice to the
    applicant. The joint clock pauses until the corrected materials arrive."""
    with _step(joint, "send_corrections", actor=actor, channel=channel) as state:
        asked = state.joint.corrections.filter(notice=None, case__status=CaseStatus.CORRECTION)
        if not asked.exists():
            raise ValidationError({"status": _("No department has asked for corrections.")})
        clocks.clock_pause(
            clock=state.joint.joint_clock,
            kind=PauseKind.CORRECTION,
            reason=str(_("Corrections asked by the departments")),
        )
        state.set(status=JointStatus.CORRECTION)
        state.payload["notice"] = _send_notice(state.joint, actor).code
    return joint


def _send_notice(joint: JointCase, actor):
    """The combined notice of every request not yet sent, grouped by department (a case
    ended meanwhile asks for nothing any more)."""
    pending = list(
        joint.corrections.filter(notice=None)
        .filter(Q(case=None) | Q(case__status=CaseStatus.CORRECTION))
        .select_related("case__department", "material_type")
        .order_by("case__department__name", "pk")
    )
    items = [
        {
            "department": r.case.department.name if r.case_id else "",
            "material": r.material_type.name if r.material_type_id else "",
            "problem": r.problem,
        }
        for r in pending
    ]
    notice = documents.issue(
        joint=joint, kind=JointDocumentKind.CORRECTION, actor=actor, details={"items": items}
    )
    CorrectionRequest.objects.filter(pk__in=[r.pk for r in pending]).update(notice=notice)
    return notice


def resubmit(
    *,
    joint: JointCase,
    actor,
    uploads: Sequence[SetUpload] = (),
    form_data: Mapping[str, Any] | None = None,
    channel: str = Channel.ONLINE,
) -> JointCase:
    """The corrected materials (and form values), once, for every request of the notice:
    before acceptance the application is received again (its acceptance clock resumes);
    after it, every case waiting for corrections takes the new materials and goes back to
    review, and the joint clock resumes."""
    _require_performer(joint, "resubmit", actor)
    merge = plan_of(joint)
    errors = _check_uploads(merge, uploads, joint.applicant)
    changed: dict = {}
    if form_data:
        keys = {m.field.key for m in merge.fields}
        if unknown := set(form_data) - keys:
            errors["form"] = [
                _("Not a field of this application: %(keys)s.")
                % {"keys": ", ".join(sorted(unknown))}
            ]
        else:
            merged, form_errors = _clean_form(merge, {**joint.form_data, **form_data})
            errors.update(form_errors)
            changed = {k: merged[k] for k in form_data if k in merged}
    if not uploads and not changed and not errors:
        errors["materials"] = [_("Give the corrected materials.")]
    if errors:
        raise ValidationError(errors)
    with _step(joint, "resubmit", actor=actor, channel=channel) as state:
        locked, now = state.joint, timezone.now()
        rows = _store_set(locked, uploads, (), actor, now)
        if changed:
            state.set(form_data={**locked.form_data, **changed})
        answered = locked.corrections.exclude(notice=None).filter(answered_at=None)
        # The cases whose requests the notice carried (one asked since waits for the next).
        asking = set(answered.exclude(case=None).values_list("case", flat=True))
        answered.update(answered_at=now)
        if locked.accepted_at is None:
            clocks.clock_resume(clock=locked.acceptance_clock)
            state.set(status=JointStatus.RECEIVED)
        else:
            shared = {row.material_type_id: row for row in rows}
            for child in locked.cases.filter(status=CaseStatus.CORRECTION, pk__in=asking):
                cases.correction_answered(
                    case=child, actor=actor, shared=shared, form_data=changed, channel=channel
                )
            clocks.clock_resume(clock=locked.joint_clock)
            state.set(status=JointStatus.IN_REVIEW)
        state.payload["materials"] = [row.material_type.name for row in rows]
        if changed:
            state.payload["form"] = sorted(changed)
    return joint


# --- the cases report back --------------------------------------------------------------------


def child_stepped(*, case: Case, action: str, actor, payload: Mapping[str, Any]) -> None:
    """A department took `action` on its case of the application (inside that step's
    transaction, the application row locked first): a correction request is gathered for
    the combined notice; a refusal (or a termination) stops the items that cannot stand
    without it — all of them when the theme says so, else those needing a licence it was
    to issue; once every case is decided the results are issued together."""
    joint = _lock(JointCase(pk=case.joint_id))
    if action == "ask_correction":
        now = timezone.now()
        CorrectionRequest.objects.bulk_create(
            CorrectionRequest(
                joint=joint,
                case=case,
                material_type_id=i.get("material_type"),
                problem=i["problem"],
                asked_at=now,
                asked_by=actor,
            )
            for i in payload.get("items", ())
        )
        return
    if action in ("deny", "terminate"):
        _stop_dependents(joint, case)
        _release_corrections(joint)
    if action in ("approve", "deny", "terminate", "record_fee", "supply_tolerated"):
        _settle(joint)


def _stop_dependents(joint: JointCase, ended: Case) -> None:
    """The cases that cannot stand without `ended` (every other one when the theme grants
    its items together or not at all; else those whose material its licence was to be)
    are terminated, with the reason."""
    others = joint.cases.exclude(pk=ended.pk).filter(
        status__in=CASE_OPEN_STATES | {CaseStatus.APPROVED}
    )
    if joint.theme.denial_blocks_all:
        reason = _(
            "“%(item)s” was not granted, and this theme's items are granted together or not at all."
        ) % {"item": ended.item_version.name}
    else:
        needed = set(licence_selectors.replaced_by_items([ended.item_version.item_id]))
        others = others.filter(item_version__materials__material_type__in=needed).distinct()
        reason = _("It needs the licence that “%(item)s” was to issue, which was not granted.") % {
            "item": ended.item_version.name
        }
    for other in others:
        cases.terminate(
            case=other, actor=None, reason=str(reason), channel=Channel.SYSTEM, by_theme=True
        )


def _release_corrections(joint: JointCase) -> None:
    """An application waiting for corrections that no remaining case asks for any more (the
    cases that asked were ended) goes back to review, and its clock runs again."""
    if joint.status != JointStatus.CORRECTION or joint.accepted_at is None:
        return
    awaited = joint.corrections.exclude(notice=None).filter(
        answered_at=None, case__status=CaseStatus.CORRECTION
    )
    if awaited.exists():
        return
    clocks.clock_resume(clock=joint.joint_clock)
    joint.status = JointStatus.IN_REVIEW
    joint.save(update_fields=["status"])
    _record(
        joint,
        action="corrections_void",
        actor=None,
        channel=Channel.SYSTEM,
        from_state=JointStatus.CORRECTION,
        reason=str(_("The cases that asked for corrections have ended.")),
    )


def _settle(joint: JointCase) -> None:
    """Every case decided: the joint clock stops; once every granted case may have its
    result made (fees paid, promised materials in), every licence is issued at once
    (多证同发) and the results wait for their one delivery."""
    if joint.status not in (JointStatus.IN_REVIEW, JointStatus.CORRECTION, JointStatus.DECIDED):
        return
    children = list(joint.cases.select_related("item_version"))
    if any(c.status in CASE_OPEN_STATES for c in children):
        return
    now, from_state, fields = timezone.now(), joint.status, {"status"}
    if joint.decided_at is None:
        clocks.clock_stop(clock=joint.joint_clock, at=now)  # a pause ends with it
        joint.decided_at = now
        fields.add("decided_at")
    granted = [c for c in children if c.status == CaseStatus.APPROVED]
    waiting = [
        c for c in granted if (c.fee_amount and c.fee_paid_at is None) or cases.tolerated_pending(c)
    ]
    payload: dict[str, Any] = {}
    if waiting:
        joint.status = JointStatus.DECIDED
        payload["waiting"] = [c.number for c in waiting]
    else:
        decided = [c for c in children if c.status in (CaseStatus.APPROVED, CaseStatus.DENIED)]
        for child in granted:
            cases.produce(case=child, actor=None, channel=Channel.SYSTEM, by_theme=True)
        for child in decided:  # the results go out together: their delivery time starts
            cases.start_joint_delivery(case=child, at=now)
        joint.status, joint.issued_at = JointStatus.READY, now
        fields.add("issued_at")
        payload["issued"] = [c.number for c in granted]
        payload["licences"] = list(
            licence_selectors.issued_for_cases(granted).values_list("identifier", flat=True)
        )
    if joint.status == from_state and not {"decided_at", "issued_at"} & fields:
        return
    joint.save(update_fields=sorted(fields))
    _record(
        joint,
        action="settle",
        actor=None,
        channel=Channel.SYSTEM,
        from_state=from_state,
        payload=payload,
    )


# --- the end ----------------------------------------------------------------------------------


def deliver(
    *,
    joint: JointCase,
    actor,
    method: str,
    tracking_number: str = "",
    originals_checked: bool = False,
    channel: str = Channel.WINDOW,
) -> JointCase:
    """One delivery of every result (licences granted and refusals alike), with one proof
    of service for the whole application."""
    _require_performer(joint, "deliver", actor)
    if method not in DeliveryMethod.values:
        raise ValidationError({"method": _("Choose how the results are delivered.")})
    if method == DeliveryMethod.POST and not tracking_number.strip():
        raise ValidationError({"tracking_number": _("Give the post's tracking number.")})
    with _step(joint, "deliver", actor=actor, channel=channel) as state:
        locked, now = state.joint, timezone.now()
        delivered = []
        for child in locked.cases.filter(status__in=(CaseStatus.READY, CaseStatus.DENIED)):
            cases.deliver(
                case=child,
                actor=actor,
                method=method,
                tracking_number=tracking_number,
                originals_checked=originals_checked,
                channel=channel,
                by_theme=True,
            )
            delivered.append(child.number)
        state.set(
            status=JointStatus.DELIVERED,
            delivery_method=method,
            tracking_number=tracking_number.strip(),
            delivered_at=now,
            closed_at=now,
        )
        state.payload["cases"] = delivered
        documents.issue(joint=locked, kind=JointDocumentKind.SERVICE_RECEIPT, actor=actor)
    return joint


def extend(
    *,
    joint: JointCase,
    actor,
    reason: str,
    days: int = JOINT_EXTENSION,
    channel: str = Channel.ADMIN,
) -> JointCase:
    """延期: a head of a department reviewing one of the items adds working days to the joint
    limit, with a written reason; at most 15 in all (行政许可法 Art. 42)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError({"days": _("Extend by a whole number of days, at least 1.")})
    with _step(joint, "extend", actor=actor, channel=channel, reason=reason) as state:
        clock = state.joint.joint_clock
        granted = sum(e.amount for e in clock.extensions.all())
        if granted + days > JOINT_EXTENSION:
            raise ValidationError(
                {"days": _("At most %(n)d more days: the statutory limit caps the extension.")
                 % {"n": max(JOINT_EXTENSION - granted, 0)}}
            )  # fmt: skip
        clocks.clock_extend(clock=clock, amount=days, reason=reason.strip(), approved_by=actor)
        state.payload["days"] = days
        documents.issue(
            joint=state.joint,
            kind=JointDocumentKind.EXTENSION,
            actor=actor,
            details={"days": days, "reason": reason.strip()},
        )
    return joint


def withdraw(*, joint: JointCase, actor, reason: str, channel: str = Channel.ONLINE) -> JointCase:
    """The applicant withdraws the whole application: every case still under way is
    withdrawn, a granted one whose result is not made yet ends with it, and a refusal
    already decided is served electronically (the applicant finds it in 我的空间)."""
    with _step(joint, "withdraw", actor=actor, channel=channel, reason=reason) as state:
        locked, now = state.joint, timezone.now()
        for child in locked.cases.filter(status__in=CASE_OPEN_STATES):
            cases.withdraw(case=child, actor=actor, reason=reason, channel=channel, by_theme=True)
        for child in locked.cases.filter(status=CaseStatus.APPROVED):
            cases.terminate(
                case=child, actor=None, reason=reason, channel=Channel.SYSTEM, by_theme=True
            )
        for child in locked.cases.filter(status=CaseStatus.DENIED):
            cases.deliver(
                case=child, actor=None, method=DeliveryMethod.ELECTRONIC,
                channel=Channel.SYSTEM, by_theme=True,
            )  # fmt: skip
        clocks.clock_stop_running(locked.acceptance_clock, locked.joint_clock, at=now)
        state.set(status=JointStatus.WITHDRAWN, closed_at=now, close_reason=reason.strip())
    return joint


def evaluate(
    *, joint: JointCase, actor, rating: int, comment: str = "", channel: str = Channel.ONLINE
) -> JointCase:
    """一事一评: the applicant rates the whole application once."""
    _require_performer(joint, "evaluate", actor)
    rating, comment = checked_rating(rating, comment)
    with _step(joint, "evaluate", actor=actor, channel=channel, reason=comment) as state:
        if state.joint.rating is not None:
            raise ValidationError({"rating": _("This application has been rated already.")})
        state.set(rating=rating, rating_comment=comment)
        state.payload["rating"] = rating
    return joint
