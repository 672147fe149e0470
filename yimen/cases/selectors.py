"""Reads of the cases module for the applicant's pages and the case page: each loads what
its page shows in a fixed number of queries, whatever the number of cases, materials,
documents or events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.accounts.selectors import applicant_by_identifier
from yimen.catalog.choices import FieldType
from yimen.catalog.models import FieldDefinition, FormField, Material
from yimen.common.audit import object_label
from yimen.common.choices import Channel
from yimen.common.clock import ClockState
from yimen.common.clocks import clock_state
from yimen.common.masking import mask_citizen_id, mask_phone
from yimen.common.models import AuditEvent, Clock
from yimen.hall import selectors as hall_selectors

from . import permissions
from .choices import CLOCK_OF_STATUS, FINAL_STATES, CaseStatus, ClockPurpose, MaterialState
from .models import Case, CaseMaterial
from .workflow import TRANSITIONS

CLOCK_FIELDS = ("acceptance_clock", "decision_clock", "delivery_clock")
_CLOCK_PREFETCHES = [f"{c}__{part}" for c in CLOCK_FIELDS for part in ("pauses", "extensions")]


def _with_clocks(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related(*CLOCK_FIELDS).prefetch_related(*_CLOCK_PREFETCHES)


def case_page_queryset() -> QuerySet[Case]:
    """Cases with everything the case page shows: the pinned guide with its materials, form
    and chain, the case's materials and documents, and the clocks with their pauses and
    extensions."""
    return _with_clocks(
        Case.objects.select_related(
            "applicant",
            "item_version__item",
            "department",
            "region",
            "window_category",
            "accepted_by",
        ).prefetch_related(
            Prefetch(
                "materials",
                queryset=CaseMaterial.objects.select_related(
                    "material__material_type", "licence__licence_type", "reused_from__case"
                ),
            ),
            "documents",
            Prefetch(
                "item_version__materials",
                queryset=Material.objects.select_related("material_type"),
            ),
            Prefetch(
                "item_version__form_fields", queryset=FormField.objects.select_related("field")
            ),
            "item_version__review_steps",
        )
    )


def case_for_page(*, user, number: str) -> Case | None:
    """The case numbered `number` if `user` may see it (None otherwise: not found and not
    allowed look the same)."""
    return permissions.visible_cases(user, case_page_queryset()).filter(number=number).first()


def case_by_idempotency_key(*, user, key: str) -> Case | None:
    """The case `user` already submitted with this key (a double submit)."""
    key = (key or "").strip()[:64]
    if not key:
        return None
    return Case.objects.filter(submitted_by=user, idempotency_key=key).first()


def applicant_cases(*, applicant) -> QuerySet[Case]:
    """我的办件: every case of the applicant, newest first, with what the list shows."""
    return _with_clocks(
        Case.objects.filter(applicant=applicant).select_related(
            "item_version", "department", "joint"
        )
    )


@dataclass(frozen=True)
class Reusable:
    """A file of an earlier case that can stand for a material again, until `valid_until`
    (None: its material type does not expire)."""

    row: CaseMaterial
    valid_until: dt.date | None


def reusable_materials(*, applicant, today: dt.date | None = None) -> list[Reusable]:
    """The applicant's files from earlier cases, the latest of each material type, that are
    still valid (an upload counts from the day it was given, for its type's validity)."""
    today = today or timezone.localdate()
    rows = (
        CaseMaterial.objects.filter(
            case__applicant=applicant,
            material__material_type__isnull=False,
            state__in=[MaterialState.PROVIDED, MaterialState.SUPPLIED],
        )
        .exclude(file="")
        .select_related("material__material_type", "case")
        .order_by("-updated_at", "-pk")
    )
    rows = list(rows)
    # A file picked again (reused_from) shares its bytes and sha256 with the first upload:
    # its validity runs from the day those bytes were first given, not from the reuse.
    first_given: dict[str, dt.date] = {}
    for row in rows:
        day = timezone.localdate(row.updated_at)
        first_given[row.sha256] = min(first_given.get(row.sha256, day), day)
    latest: dict[int, Reusable] = {}
    for row in rows:
        material_type = row.material.material_type
        if material_type.pk in latest:
            continue
        days = material_type.validity_days
        given = first_given.get(row.sha256) or timezone.localdate(row.updated_at)
        until = given + dt.timedelta(days=days) if days else None
        if until is None or until >= today:
            latest[material_type.pk] = Reusable(row, until)
    return list(latest.values())


def progress_lookup(*, number: str, identifier: str) -> Case | None:
    """办件查询: the case with this number whose applicant has exactly this ID number or
    credit code; None when either does not match (the caller must not tell which)."""
    number = (number or "").strip().upper()
    applicant = applicant_by_identifier(identifier=identifier or "")
    if not number or applicant is None:
        return None
    return (
        _with_clocks(Case.objects.select_related("applicant", "item_version", "department"))
        .filter(number=number, applicant=applicant)
        .first()
    )


# --- clocks -------------------------------------------------------------------------------------


def running_clock_field(case: Case) -> str | None:
    """The name of the clock field the case's status runs on (None when none runs)."""
    if case.status == CaseStatus.CORRECTION and case.accepted_at is not None:
        return "decision_clock"  # a joint application's case, corrected during review
    return CLOCK_OF_STATUS.get(case.status)


def running_clock(case: Case) -> Clock | None:
    """The clock the case's status runs on (None when none runs)."""
    field = running_clock_field(case)
    return getattr(case, field) if field else None


def running_state(case: Case, *, now: dt.datetime | None = None) -> ClockState | None:
    clock = running_clock(case)
    return clock_state(clock, now=now) if clock is not None else None


@dataclass(frozen=True)
class ClockRow:
    label: str
    clock: Clock
    state: ClockState


def clock_rows(case: Case, *, now: dt.datetime | None = None) -> list[ClockRow]:
    """Every clock the case has started, with its state."""
    rows = []
    for name in CLOCK_FIELDS:
        clock = getattr(case, name)
        if clock is not None:
            known = clock.purpose in ClockPurpose.values
            label = ClockPurpose(clock.purpose).label if known else clock.purpose
            rows.append(ClockRow(label, clock, clock_state(clock, now=now)))
    return rows


# --- the rules that fall due with time ----------------------------------------------------------


def acceptances_due(*, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases the 5-working-day rule accepts now."""
    now = now or timezone.now()
    return (
        Case.objects.filter(status=CaseStatus.RECEIVED, acceptance_clock__due_at__lt=now)
        .select_related("acceptance_clock")
        .order_by("acceptance_clock__due_at", "pk")
    )


def overdue_commitments(*, today: dt.date | None = None) -> QuerySet[CaseMaterial]:
    """The materials promised under 容缺受理 by open cases and past their supply date (for
    the supervisor's alert and, where the department decides so, termination)."""
    today = today or timezone.localdate()
    return (
        CaseMaterial.objects.filter(state=MaterialState.TOLERATED, supply_by__lt=today)
        .exclude(case__status__in=FINAL_STATES)
        .select_related("case", "material__material_type")
        .order_by("supply_by", "case__number", "pk")
    )


# --- what the case says -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One step of a case's history, as the pages show it."""

    at: dt.datetime
    action: str
    label: Any
    who: Any
    reason: str
    status: str


COMMITMENT_OVERDUE = "case.commitment_overdue"
COMMITMENT_OVERDUE_LABEL = _("Promised material overdue")

# The events of a case's history that are not workflow steps.
_EVENT_LABELS = {
    "submit": _("Application submitted"),
    COMMITMENT_OVERDUE.removeprefix("case."): COMMITMENT_OVERDUE_LABEL,
}


def action_label(action: str):
    """What the pages and the API call an event of the case's history ("case.accept" or
    "accept"); an action no one named yet shows as it is written."""
    name = action.removeprefix("case.")
    if found := TRANSITIONS.get(name):
        return found.label
    return _EVENT_LABELS.get(name, action)


def history_events(case: Case) -> QuerySet[AuditEvent]:
    """The audit events of the case's history, oldest first: a case started on a queue
    ticket begins with the ticket's 预约, 取号 and 叫号."""
    object_type, object_id = object_label(case)
    wanted = Q(object_type=object_type, object_id=object_id)
    if case.ticket_id is not None:
        wanted |= hall_selectors.ticket_history(case.ticket_id, until=case.submitted_at)
    return AuditEvent.objects.filter(wanted).order_by("occurred_at", "pk")


def is_ticket_event(event: AuditEvent) -> bool:
    return event.action in hall_selectors.TICKET_HISTORY


def event_label(event: AuditEvent):
    """What the pages and the API call an event of the case's history."""
    return hall_selectors.TICKET_HISTORY.get(event.action) or action_label(event.action)


def timeline(case: Case) -> list[Event]:
    """The case's history for its page, in one query. Staff are named; the applicant is
    called the applicant and the system the system."""
    history = []
    for event in history_events(case):
        of_ticket = is_ticket_event(event)
        if event.actor_id == case.applicant.user_id and not event.role:
            who = _("Applicant")
        elif of_ticket and not event.role:
            # Taken at the kiosk (by whoever stood there) or booked online: name the channel.
            who = Channel(event.channel).label
        elif event.actor_id is None:
            who = _("System")
        else:
            who = event.actor_label
        reason = event.reason
        if of_ticket and event.payload.get("window"):
            reason = _("Window %(window)s") % {"window": event.payload["window"]}
        history.append(
            Event(
                at=event.occurred_at,
                action=event.action,
                label=event_label(event),
                who=who,
                reason=reason,
                status="" if of_ticket else event.to_state,
            )
        )
    return history


def form_rows(case: Case) -> list[tuple[str, Any]]:
    """The application form as (label, value) pairs, labelled by the pinned guide."""
    return labelled_form(case.form_data, [ff.field for ff in case.item_version.form_fields.all()])


# Identifiers and phone numbers are shown masked (DOMAIN §2), to the applicant too.
MASKS = {FieldType.CITIZEN_ID: mask_citizen_id, FieldType.MOBILE: mask_phone}


def labelled_form(data: dict | None, fields) -> list[tuple[str, Any]]:
    """Form values as (label, value) pairs in the order of `fields` (dictionary entries);
    a value no field names is labelled from the dictionary, else by its key, and comes
    last."""
    data = dict(data or {})
    known = {f.key: f for f in fields}
    if others := [key for key in data if key not in known]:
        known.update({f.key: f for f in FieldDefinition.objects.filter(key__in=others)})
    rows = [
        (field.label, _display(data.pop(key), field)) for key, field in known.items() if key in data
    ]
    rows.extend((key, _display(value)) for key, value in data.items())
    return rows


def masked_form(data: dict | None) -> dict:
    """Form values by key as the API shows them: identifiers and phone numbers masked."""
    data = dict(data or {})
    masked = FieldDefinition.objects.filter(key__in=list(data), datatype__in=list(MASKS))
    for field in masked:
        data[field.key] = MASKS[field.datatype](str(data[field.key]))
    return data


def _display(value, field=None) -> Any:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field is not None and (mask := MASKS.get(field.datatype)):
        return mask(str(value))
    return value
