"""The clock arithmetic: deadlines, pauses, extensions and lights, on plain data (no queries).

The stored Clock (yimen.common.models.clock) is turned into a `ClockSpec` by the services in
yimen.common.clocks; everything here is pure, so it can be tested with any calendar.

Rules
-----
Day-based clocks (working days, natural days) compute in local dates (settings.TIME_ZONE,
Asia/Shanghai): the start, pause and resume moments are reduced to their local date. The
deadline is the end of the due day (23:59:59.999999 local) and a clock is overdue when
now > due_at.

- Working days: due date = add_workdays(start date, limit + extensions + paused working
  days). A pause from date P to resume date R skips the working days in (P, R]: the pause
  day itself counts as worked and the resume day is not counted, as if the clock started
  afresh on R with what was left.
- Natural days: the same with calendar days (R − P days per pause), and the due date is then
  moved off a day off to the next working day.
- Hours: wall-clock time. due_at = start + limit + extensions + the exact paused durations.
- Pausing an overdue clock freezes how late it is but does not make it on time again: the
  deadline moves by the pause's working days, which still leaves it before the resume day
  (unless only days off lay between the deadline and the pause).
- While a clock is paused it has no deadline (due_at is None); its remaining time is frozen
  at what was left when it was paused.
- A stopped clock keeps its deadline and tells whether it finished on time
  (stopped_at ≤ due_at). Stopping a paused clock ends the pause at the stop.

Remaining is counted from today (or from the stop) to the due day, in the clock's unit:
working days in (today, due date], natural days, or a timedelta for hour clocks; negative
once overdue. The light of a running clock is RED when overdue, YELLOW when remaining is at
most `Thresholds.days` (`hours` for hour clocks) or at most `Thresholds.ratio` of the total
(limit + extensions), otherwise GREEN; a paused clock is PAUSED and a stopped one STOPPED.

`confirmed` is False when any date the deadline depended on lies in a year the calendar does
not know (「日历未确认」); hour clocks never depend on the calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models.clock import Clock
from .workdays import DayResult, WorkCalendar, get_calendar

Unit = Clock.Unit
Pause = tuple[dt.datetime, dt.datetime | None]


class Light(models.TextChoices):
    """The traffic light of a clock; derived, never stored."""

    GREEN = "green", _("On time")
    YELLOW = "yellow", _("Due soon")
    RED = "red", _("Overdue")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


@dataclass(frozen=True)
class Thresholds:
    """When a running clock turns yellow: at most `days` (day clocks) or `hours` (hour clocks)
    left, or at most `ratio` of its total left."""

    days: int
    hours: int
    ratio: float

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            days=settings.YIMEN_CLOCK_YELLOW_DAYS,
            hours=settings.YIMEN_CLOCK_YELLOW_HOURS,
            ratio=settings.YIMEN_CLOCK_YELLOW_RATIO,
        )


@dataclass(frozen=True)
class ClockSpec:
    """Everything a deadline depends on. Pauses are (paused at, resumed at or None) pairs in
    time order, not overlapping, at most the last one open; extensions are amounts in the
    clock's unit."""

    started_at: dt.datetime
    unit: str
    limit: int
    pauses: tuple[Pause, ...] = ()
    extensions: tuple[int, ...] = ()
    stopped_at: dt.datetime | None = None

    def __post_init__(self):
        if self.unit not in Unit.values:
            raise ValueError(f"unknown clock unit {self.unit!r}")
        if self.limit < 0 or any(amount <= 0 for amount in self.extensions):
            raise ValueError("the limit must not be negative and extensions must be positive")
        moments = [self.started_at, self.stopped_at, *(m for pause in self.pauses for m in pause)]
        if any(m is not None and timezone.is_naive(m) for m in moments):
            raise ValueError("clock moments must be timezone-aware")
        self._check_pauses()

    def _check_pauses(self) -> None:
        previous_end = self.started_at
        for index, (start, end) in enumerate(self.pauses):
            if start < previous_end or (end is not None and end < start):
                raise ValueError("pauses must follow the start and each other in time order")
            if end is None and index != len(self.pauses) - 1:
                raise ValueError("only the last pause may be open")
            previous_end = end if end is not None else start

    @property
    def total(self) -> int:
        """The limit plus every extension, in the clock's unit."""
        return self.limit + sum(self.extensions)

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def is_paused(self) -> bool:
        return not self.is_stopped and bool(self.pauses) and self.pauses[-1][1] is None

    def closed_pauses(self, *, open_until: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The pauses with an open one ended at the stop, or else at `open_until` (never
        before the pause began)."""
        end_of_open = self.stopped_at or open_until
        return [(start, end or max(start, end_of_open)) for start, end in self.pauses]


@dataclass(frozen=True)
class Due:
    """A deadline: `at` is None while the clock is paused."""

    at: dt.datetime | None
    confirmed: bool


@dataclass(frozen=True)
class ClockState:
    """What a clock shows. `remaining` is an int (working or natural days) for day clocks
    and a timedelta for hour clocks, negative when overdue; `on_time` is set only once the
    clock is stopped."""

    light: Light
    due_at: dt.datetime | None
    confirmed: bool
    remaining: int | dt.timedelta
    overdue: bool
    on_time: bool | None = None


def local_date(moment: dt.datetime) -> dt.date:
    """The date of `moment` in the project's time zone (not the request's)."""
    return timezone.localdate(moment, timezone=timezone.get_default_timezone())


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59.999999 of `day`, local time."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=timezone.get_default_timezone())


def _workday_due(spec: ClockSpec, pauses, calendar: WorkCalendar) -> DayResult:
    skipped = [calendar.count_workdays(local_date(p), local_date(r)) for p, r in pauses]
    total = spec.total + sum(count.days for count in skipped)
    due = calendar.add_workdays(local_date(spec.started_at), total)
    return DayResult(due.date, due.confirmed and all(count.confirmed for count in skipped))


def _natural_due(spec: ClockSpec, pauses, calendar: WorkCalendar) -> DayResult:
    skipped = sum((local_date(r) - local_date(p)).days for p, r in pauses)
    return calendar.add_natural_days(local_date(spec.started_at), spec.total + skipped)


def _hours_due(spec: ClockSpec, pauses) -> dt.datetime:
    paused = sum((r - p for p, r in pauses), dt.timedelta())
    return spec.started_at + dt.timedelta(hours=spec.total) + paused


def _projected_due(spec: ClockSpec, *, now: dt.datetime, calendar: WorkCalendar) -> Due:
    """The deadline as if an open pause ended at `now` (or at the stop)."""
    pauses = spec.closed_pauses(open_until=now)
    if spec.unit == Unit.HOURS:
        return Due(_hours_due(spec, pauses), True)
    compute = _workday_due if spec.unit == Unit.WORKDAYS else _natural_due
    result = compute(spec, pauses, calendar)
    return Due(end_of_day(result.date), result.confirmed)


def due(
    spec: ClockSpec, *, now: dt.datetime | None = None, calendar: WorkCalendar | None = None
) -> Due:
    """The deadline to store: None while paused (with the confirmation it would have if
    resumed `now`), otherwise the due moment."""
    now = now or timezone.now()
    calendar = calendar if calendar is not None else get_calendar()
    projected = _projected_due(spec, now=now, calendar=calendar)
    return Due(None, projected.confirmed) if spec.is_paused else projected


def remaining(
    spec: ClockSpec, *, due_at: dt.datetime, moment: dt.datetime, calendar: WorkCalendar
) -> int | dt.timedelta:
    """What is left at `moment` until `due_at`, in the clock's unit (see the module rules)."""
    if spec.unit == Unit.HOURS:
        return due_at - moment
    today, due_day = local_date(moment), local_date(due_at)
    if spec.unit == Unit.WORKDAYS:
        return calendar.count_workdays(today, due_day).days
    return (due_day - today).days


def is_yellow(spec: ClockSpec, left: int | dt.timedelta, thresholds: Thresholds) -> bool:
    """At most the absolute threshold, or at most the ratio of the total, is left."""
    if isinstance(left, dt.timedelta):
        total = dt.timedelta(hours=spec.total)
        return left <= dt.timedelta(hours=thresholds.hours) or left <= total * thresholds.ratio
    return left <= thresholds.days or left <= spec.total * thresholds.ratio


def evaluate(
    spec: ClockSpec,
    *,
    now: dt.datetime | None = None,
    calendar: WorkCalendar | None = None,
    thresholds: Thresholds | None = None,
    fixed_due_at: dt.datetime | None = None,
) -> ClockState:
    """The state of a clock at `now`.

    `fixed_due_at` is a deadline recorded earlier that must not move (a stopped clock keeps
    the deadline it stopped against even if the calendar is edited later)."""
    now = now or timezone.now()
    calendar = calendar if calendar is not None else get_calendar()
    thresholds = thresholds or Thresholds.from_settings()
    projected = _projected_due(spec, now=now, calendar=calendar)
    due_at = fixed_due_at or projected.at
    if spec.is_stopped:
        on_time = spec.stopped_at <= due_at
        left = remaining(spec, due_at=due_at, moment=spec.stopped_at, calendar=calendar)
        return ClockState(Light.STOPPED, due_at, projected.confirmed, left, not on_time, on_time)
    left = remaining(spec, due_at=due_at, moment=now, calendar=calendar)
    overdue = now > due_at
    if spec.is_paused:
        return ClockState(Light.PAUSED, None, projected.confirmed, left, overdue)
    if overdue:
        light = Light.RED
    elif is_yellow(spec, left, thresholds):
        light = Light.YELLOW
    else:
        light = Light.GREEN
    return ClockState(light, due_at, projected.confirmed, left, overdue)
