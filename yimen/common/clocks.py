"""Services on the stored Clock: start, pause, resume, extend, stop, and read its state.

Each write runs in its own transaction, locks the clock row, checks the transition, saves
with `update_fields` and stores the recomputed deadline (`due_at`, `calendar_confirmed`).
These services do NOT write audit rows: a clock always belongs to something (a case, a work
order, a disclosure request) whose own service records the transition it is part of, in the
same transaction. The arithmetic is in yimen.common.clock.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import clock as arithmetic
from .clock import ClockSpec, ClockState, Thresholds
from .models import Clock, ClockExtension, ClockPause

Status = Clock.Status


def clock_spec(clock: Clock) -> ClockSpec:
    """The pure description of a stored clock. Uses prefetched `pauses` and `extensions`
    when the queryset has them (no query then)."""
    pauses = sorted(clock.pauses.all(), key=lambda pause: (pause.started_at, pause.pk))
    return ClockSpec(
        started_at=clock.started_at,
        unit=clock.unit,
        limit=clock.limit,
        pauses=tuple((pause.started_at, pause.ended_at) for pause in pauses),
        extensions=tuple(extension.amount for extension in clock.extensions.all()),
        stopped_at=clock.stopped_at,
    )


def clock_state(
    clock: Clock, *, now: dt.datetime | None = None, thresholds: Thresholds | None = None
) -> ClockState:
    """The light, remaining time, deadline and confirmation of a clock. With pauses and
    extensions prefetched and the calendar cached, it makes no query. A stopped clock is
    judged against the deadline stored when it stopped."""
    fixed = clock.due_at if clock.status == Status.STOPPED else None
    return arithmetic.evaluate(
        clock_spec(clock), now=now, thresholds=thresholds, fixed_due_at=fixed
    )


def clock_start(
    *,
    purpose: str,
    subject: models.Model | None = None,
    unit: str,
    limit: int,
    started_at: dt.datetime | None = None,
) -> Clock:
    """Start a clock of `limit` units for `subject` (any model instance, or none)."""
    if not purpose or len(purpose) > Clock._meta.get_field("purpose").max_length:
        raise ValidationError(
            _("A clock needs a purpose of at most 64 characters."), code="purpose"
        )
    if unit not in Clock.Unit.values:
        raise ValidationError(
            _("Unknown clock unit “%(unit)s”."), code="unit", params={"unit": unit}
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValidationError(_("The limit must be a whole number of at least 0."), code="limit")
    started_at = _moment(started_at)
    clock = Clock(purpose=purpose, unit=unit, limit=limit, started_at=started_at)
    if subject is not None:
        clock.subject_type = ContentType.objects.get_for_model(subject)
        clock.subject_id = str(subject.pk)
    with transaction.atomic():
        _apply_due(clock, ClockSpec(started_at=started_at, unit=unit, limit=limit), started_at)
        clock.save()
    return clock


def clock_pause(
    *, clock: Clock, kind: str, reason: str, at: dt.datetime | None = None
) -> ClockPause:
    """Pause a running clock (特别程序, 补正, consultation…); it has no deadline until resumed."""
    at = _moment(at)
    if not kind or not reason:
        raise ValidationError(_("A pause needs a kind and a reason."), code="pause_reason")
    with transaction.atomic():
        _lock(clock)
        _require_not_stopped(clock)
        if clock.status == Status.PAUSED:
            raise ValidationError(_("The clock is already paused."), code="already_paused")
        _require_not_before_last_change(clock, at)
        pause = ClockPause.objects.create(clock=clock, kind=kind, reason=reason, started_at=at)
        clock.status = Status.PAUSED
        _save(clock, at)
    return pause


def clock_resume(*, clock: Clock, at: dt.datetime | None = None) -> Clock:
    """Resume a paused clock; the working days of the pause move the deadline."""
    at = _moment(at)
    with transaction.atomic():
        _lock(clock)
        _require_not_stopped(clock)
        if clock.status != Status.PAUSED:
            raise ValidationError(_("The clock is not paused."), code="not_paused")
        _require_not_before_last_change(clock, at)
        _end_open_pause(clock, at)
        clock.status = Status.RUNNING
        _save(clock, at)
    return clock


def clock_extend(
    *, clock: Clock, amount: int, reason: str, approved_by, at: dt.datetime | None = None
) -> ClockExtension:
    """Add `amount` units (延期) approved by `approved_by`; allowed while paused too."""
    at = _moment(at)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError(
            _("An extension must be a whole number of at least 1."), code="amount"
        )
    if not reason:
        raise ValidationError(_("An extension needs a written reason."), code="extension_reason")
    if approved_by is None:
        raise ValidationError(_("An extension needs the approver."), code="approver")
    with transaction.atomic():
        _lock(clock)
        _require_not_stopped(clock)
        extension = ClockExtension.objects.create(
            clock=clock, amount=amount, reason=reason, approved_by=approved_by, approved_at=at
        )
        _save(clock, at)
    return extension


def clock_stop(*, clock: Clock, at: dt.datetime | None = None) -> Clock:
    """Stop a clock for good; an open pause ends at the stop. The deadline is kept."""
    at = _moment(at)
    with transaction.atomic():
        _lock(clock)
        _require_not_stopped(clock)
        _require_not_before_last_change(clock, at)
        if clock.status == Status.PAUSED:
            _end_open_pause(clock, at)
        clock.status = Status.STOPPED
        clock.stopped_at = at
        _save(clock, at, extra_fields=("stopped_at",))
    return clock


def clock_stop_running(*clocks_: Clock | None, at: dt.datetime | None = None) -> None:
    """Stop those of `clocks_` still running or paused (an object ending early: withdrawn,
    terminated), none before it started."""
    at = _moment(at)
    for clock in clocks_:
        if clock is not None and clock.status != Status.STOPPED:
            clock_stop(clock=clock, at=max(at, clock.started_at))


def recompute_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """Recompute the deadline of every running or paused clock whose calendar was not
    confirmed; called after a calendar year is imported. Returns how many were checked."""
    now = _moment(now)
    with transaction.atomic():
        clocks = list(
            Clock.objects.select_for_update()
            .filter(status__in=[Status.RUNNING, Status.PAUSED], calendar_confirmed=False)
            .prefetch_related("pauses", "extensions")
        )
        for clock in clocks:
            _apply_due(clock, clock_spec(clock), now)
        Clock.objects.bulk_update(clocks, ["due_at", "calendar_confirmed"], batch_size=500)
    return len(clocks)


def _moment(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValidationError(_("The time must include a time zone."), code="naive_time")
    return at


def _lock(clock: Clock) -> None:
    """Reload the clock under a row lock, so two writers never interleave."""
    clock.refresh_from_db(from_queryset=Clock.objects.select_for_update())


def _require_not_stopped(clock: Clock) -> None:
    if clock.status == Status.STOPPED:
        raise ValidationError(_("The clock has stopped; it cannot change."), code="stopped")


def _require_not_before_last_change(clock: Clock, at: dt.datetime) -> None:
    """Pauses, resumptions and the stop happen in time order, after the start."""
    last = clock.pauses.order_by("-started_at", "-pk").first()
    latest = clock.started_at if last is None else (last.ended_at or last.started_at)
    if at < latest:
        raise ValidationError(
            _("%(at)s is earlier than the clock's last change (%(latest)s)."),
            code="time_order",
            params={"at": at.isoformat(), "latest": latest.isoformat()},
        )


def _end_open_pause(clock: Clock, at: dt.datetime) -> None:
    pause = clock.pauses.get(ended_at__isnull=True)
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])


def _apply_due(clock: Clock, spec: ClockSpec, now: dt.datetime) -> None:
    computed = arithmetic.due(spec, now=now)
    clock.due_at, clock.calendar_confirmed = computed.at, computed.confirmed


def _save(clock: Clock, at: dt.datetime, *, extra_fields: tuple[str, ...] = ()) -> None:
    """Recompute the deadline from the stored pauses and extensions and save the clock."""
    _apply_due(clock, clock_spec(clock), at)
    clock.save(update_fields=["status", "due_at", "calendar_confirmed", *extra_fields])
