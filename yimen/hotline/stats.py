"""The figures of the 12345 hotline over a period (a month by default, or any span of days):
what the monthly operation bulletin (运行情况通报), the statistics page and the workbook all
state. One function, `figures(period)`, computes them with aggregate queries: a fixed number
of queries whatever the number of orders (the rows it reads back are groups — by channel ×
type × top-level category, by unit × day, by month — never one row per order).

A period is whole local days (the site's time zone), `first` to `last` inclusive. Which
orders a figure counts depends on the event it measures:

- **received** (受理量), the breakdowns by channel, type and top-level category, the
  instant-answer rate and the duplicates: orders *received* in the period;
  instant-answer rate (即时答复率) = orders among them closed with Resolution.INSTANT /
  orders received; duplicates (重复件) = orders among them linked to a master order (a
  linked order keeps its master when it closes with it).
- **on-time sign rate and on-time reply rate** (按时签收率 / 按时回复率): the deadlines of
  purpose OrderClock.SIGN (resp. REPLY) *started* in the period — each dispatch starts a
  sign and a reply deadline, and a reopened order (caller dissatisfied) a new reply
  deadline, so these are the deadlines of the orders dispatched in the period. A deadline
  is *on time* when its clock stopped on or before its `due_at`; *late* when it stopped
  after it, or is still running past it at `now`. Rate = on time / (on time + late);
  deadlines still running before their due time (and paused ones) are not judged yet and
  count in neither. A deadline stopped because the order was returned (退单) counts like
  any other: it was met if the unit gave the order back in time.
- **satisfaction** (满意率), its breakdown, **average handling days** and **closed**: orders
  *closed* in the period. Satisfaction = (satisfied + basically satisfied) / verdicts given,
  where "verdicts given" are satisfied + basic + dissatisfied (a caller not reached gave
  none); each order counts once, with its final verdict. Average handling days = the mean,
  over orders closed after being handled by a unit (Resolution.HANDLED), of the WORKING
  days (yimen.common.workdays, the editable holiday calendar) from the dispatch day to the
  closing day, local dates, the dispatch day not counted (the statute's convention: an
  order closed on the day it was dispatched took 0 days). The sum is computed as
  Σ W(closing day) − Σ W(dispatch day), W being a cumulative working-day count, so only
  per-day groups are read.
- **returns and extensions** (退单 / 延期): requests *made* in the period (asked) and those of
  them approved (by now); **supervision orders** (督办): *issued* in the period (and of
  them answered); **cards** (黄牌 / 红牌): *issued* in the period.

The unit ranking (承办单位排名) lists every unit with something in the period:
- received: the orders dispatched to it as lead unit in the period (by the center, or
  re-dispatched to it by its parent unit), each order once;
- closed, satisfaction, average days: the orders closed in the period (handled) of which it
  was the lead unit at the end;
- on-time sign / reply: the deadlines it held — the unit of the latest lead dispatch made
  before the clock stopped (on time) or fell due (late); the sweep's cards use the same
  rule (yimen.hotline.orders._unit_for);
- returns, cards and supervision orders: its own (their `unit`).
Units are ranked by satisfaction, then the on-time reply rate, then the on-time sign rate
(each highest first, a unit with no figure yet after those with one), then fewer red cards,
fewer yellow cards, more orders closed, and the name. Satisfaction leads because it is the
figure the bulletin is judged on; the deadlines break ties because they are what a unit
controls before the callback.

The trend covers the six months ending with the period's last month: orders received and
the satisfaction of the orders closed in each month.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import workdays
from yimen.common.models import Clock
from yimen.org.models import Department

from .choices import (
    AssignmentRole,
    CardColour,
    OrderChannel,
    OrderClock,
    OrderType,
    RequestKind,
    RequestStatus,
    Resolution,
    Satisfaction,
)
from .models import Assignment, Card, OrderRequest, Supervision, WorkOrder

MAX_SPAN_DAYS = 366
TREND_MONTHS = 6
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2099
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASIC)
VERDICTS = (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED)
PERCENT = Decimal("0.01")
RATIO = Decimal("0.0001")
DAYS = Decimal("0.01")


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` inclusive; `is_month` when it is a calendar month."""

    first: dt.date
    last: dt.date
    is_month: bool = False

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        return cls(first, _next_month(first) - dt.timedelta(days=1), is_month=True)

    @classmethod
    def span(cls, first: dt.date, last: dt.date) -> Period:
        """The days from `first` to `last`; a ValidationError (keyed `to`) when they are in
        the wrong order or too far apart. A span that is exactly a month is that month."""
        if last < first:
            raise ValidationError({"to": _("The last day comes before the first.")})
        if (last - first).days + 1 > MAX_SPAN_DAYS:
            raise ValidationError(
                {"to": _("Choose at most %(days)d days.") % {"days": MAX_SPAN_DAYS}}
            )
        whole = first.day == 1 and last == _next_month(first) - dt.timedelta(days=1)
        return cls(first, last, is_month=whole)

    @property
    def start(self) -> dt.datetime:
        return _midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period."""
        return _midnight(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def month_param(self) -> str:
        """`2026-11` for a month (the query parameter); empty for another span."""
        return f"{self.first:%Y-%m}" if self.is_month else ""

    @property
    def query(self) -> dict[str, str]:
        """The query parameters that name this period."""
        if self.is_month:
            return {"month": self.month_param}
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    @property
    def label_zh(self) -> str:
        """2026年11月, or 2026年11月3日至2026年11月20日."""
        if self.is_month:
            return f"{self.first.year}年{self.first.month}月"
        return f"{_date_zh(self.first)}至{_date_zh(self.last)}"


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _months_back(first: dt.date, n: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> Period:
    """`2026-11` → that month; a ValidationError keyed `month` otherwise."""
    match = MONTH.match((text or "").strip())
    if match is None:
        raise ValidationError({"month": _("Enter a month as YYYY-MM, e.g. 2026-11.")})
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValidationError({"month": _("A month is numbered 01 to 12.")})
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"month": _year_error()})
    return Period.month(year, month)


def parse_day(text: str, name: str) -> dt.date:
    """`2026-11-03` → that date; a ValidationError keyed `name` otherwise."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationError({name: _("Enter a date as YYYY-MM-DD.")}) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError({name: _year_error()})
    return day


def _year_error() -> str:
    return _("Choose a year from %(first)d to %(last)d.") % {
        "first": FIRST_YEAR,
        "last": LAST_YEAR,
    }


def period_from(params, *, today: dt.date | None = None) -> Period:
    """The period a query names: `from` and `to` (both, as YYYY-MM-DD) when given, else
    `month` (YYYY-MM), else the current month. A ValidationError names each bad parameter."""
    first, last = (params.get(name) or "" for name in ("from", "to"))
    if first or last:
        errors = {}
        days = {}
        for name, text in (("from", first), ("to", last)):
            if not text:
                errors[name] = [_("Give both the first and the last day.")]
                continue
            try:
                days[name] = parse_day(text, name)
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)
        return Period.span(days["from"], days["to"])
    month = params.get("month") or ""
    if month:
        return parse_month(month)
    today = today or timezone.localdate()
    return Period.month(today.year, today.month)


# --- the figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """`part` out of `whole`; no value when `whole` is 0. Shown as a percentage with two
    decimals, rounded half up (99.93%): the page, the workbook and the bulletin all use
    `percent` / `ratio`, so they state the same number."""

    part: int = 0
    whole: int = 0

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.part, self.whole) if self.whole else None

    @property
    def ratio(self) -> Decimal | None:
        """0.9993: the percentage's value as a fraction of one, at the shown precision."""
        percent = self.percent
        return None if percent is None else (percent / 100).quantize(RATIO)

    @property
    def percent(self) -> Decimal | None:
        """99.93"""
        if not self.whole:
            return None
        return (Decimal(self.part) * 100 / Decimal(self.whole)).quantize(PERCENT, ROUND_HALF_UP)

    def __str__(self) -> str:
        percent = self.percent
        return "–" if percent is None else f"{percent}%"

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.part + other.part, self.whole + other.whole)


def days_text(value: Decimal | None) -> str:
    return "–" if value is None else f"{value}"


@dataclass
class Deadlines:
    """Sign or reply deadlines: met, missed (stopped late, or running past due)."""

    on_time: int = 0
    stopped_late: int = 0
    running_late: int = 0

    @property
    def late(self) -> int:
        return self.stopped_late + self.running_late

    @property
    def rate(self) -> Rate:
        return Rate(self.on_time, self.on_time + self.late)


@dataclass
class Verdicts:
    """The callback verdicts of closed orders."""

    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unreachable: int = 0

    def add(self, verdict: str, n: int) -> None:
        if verdict in Satisfaction.values:
            setattr(self, verdict, getattr(self, verdict) + n)

    @property
    def given(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def rate(self) -> Rate:
        return Rate(self.satisfied + self.basic, self.given)

    def items(self) -> list[tuple[str, int]]:
        return [(value, getattr(self, value)) for value in Satisfaction.values]


@dataclass
class Handling:
    """Orders closed after handling, and their working days from dispatch to close."""

    orders: int = 0
    workdays: int = 0
    confirmed: bool = True

    @property
    def average(self) -> Decimal | None:
        if not self.orders:
            return None
        return (Decimal(self.workdays) / Decimal(self.orders)).quantize(DAYS, ROUND_HALF_UP)


@dataclass
class Requests:
    asked: int = 0
    approved: int = 0


class _Outcomes:
    """The rates of a unit's row and of the whole period, from their counts."""

    sign: Deadlines
    reply: Deadlines
    verdicts: Verdicts
    handling: Handling
    yellow_cards: int
    red_cards: int

    @property
    def satisfaction(self) -> Rate:
        return self.verdicts.rate

    @property
    def sign_rate(self) -> Rate:
        return self.sign.rate

    @property
    def reply_rate(self) -> Rate:
        return self.reply.rate

    @property
    def average_days(self) -> Decimal | None:
        return self.handling.average

    @property
    def cards(self) -> int:
        return self.yellow_cards + self.red_cards


@dataclass
class UnitRow(_Outcomes):
    """One unit's line of the ranking."""

    unit_id: int
    name: str
    received: int = 0
    closed: int = 0
    sign: Deadlines = field(default_factory=Deadlines)
    reply: Deadlines = field(default_factory=Deadlines)
    verdicts: Verdicts = field(default_factory=Verdicts)
    handling: Handling = field(default_factory=Handling)
    returns: Requests = field(default_factory=Requests)
    extensions: Requests = field(default_factory=Requests)
    supervisions: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    rank: int = 0


@dataclass(frozen=True)
class MonthPoint:
    month: dt.date  # its first day
    received: int
    satisfaction: Rate

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"


@dataclass
class Figures(_Outcomes):
    """Everything reported for one period (see the module's docstring for each definition)."""

    period: Period
    now: dt.datetime
    received: int = 0
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    by_type: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)  # name ("" = none)
    instant: int = 0
    duplicates: int = 0
    dispatched: int = 0  # dispatches by the center (an order dispatched again counts again)
    closed: int = 0
    sign: Deadlines = field(default_factory=Deadlines)
    reply: Deadlines = field(default_factory=Deadlines)
    verdicts: Verdicts = field(default_factory=Verdicts)
    handling: Handling = field(default_factory=Handling)
    returns: Requests = field(default_factory=Requests)
    extensions: Requests = field(default_factory=Requests)
    supervisions: int = 0
    supervisions_answered: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    units: list[UnitRow] = field(default_factory=list)
    trend: list[MonthPoint] = field(default_factory=list)

    @property
    def instant_rate(self) -> Rate:
        return Rate(self.instant, self.received)


@dataclass(frozen=True)
class Headline:
    """One headline figure: a count, a Rate or a number of days."""

    key: str
    label: str
    value: int | Rate | Decimal | None

    @property
    def kind(self) -> str:
        if isinstance(self.value, Rate):
            return "rate"
        return "count" if isinstance(self.value, int) else "days"

    def __str__(self) -> str:
        if self.kind == "days":
            return days_text(self.value)
        return str(self.value)


def headlines(figures: Figures) -> list[Headline]:
    """The headline figures in the order every output shows them."""
    f = figures
    return [
        Headline("received", _("Orders received"), f.received),
        Headline("instant_rate", _("Instant-answer rate"), f.instant_rate),
        Headline("dispatched", _("Dispatches to units"), f.dispatched),
        Headline("closed", _("Orders closed"), f.closed),
        Headline("sign_rate", _("On-time sign rate"), f.sign_rate),
        Headline("reply_rate", _("On-time reply rate"), f.reply_rate),
        Headline("satisfaction", _("Satisfaction"), f.satisfaction),
        Headline("average_days", _("Average handling (working days)"), f.average_days),
        Headline("returns_asked", _("Returns asked"), f.returns.asked),
        Headline("returns_approved", _("Returns approved"), f.returns.approved),
        Headline("extensions_asked", _("Extensions asked"), f.extensions.asked),
        Headline("extensions_approved", _("Extensions approved"), f.extensions.approved),
        Headline("duplicates", _("Duplicates linked"), f.duplicates),
        Headline("supervisions", _("Supervision orders"), f.supervisions),
        Headline("yellow_cards", _("Yellow cards"), f.yellow_cards),
        Headline("red_cards", _("Red cards"), f.red_cards),
    ]


def figures(period: Period, *, now: dt.datetime | None = None) -> Figures:
    """The hotline's figures over `period`; `now` judges the deadlines still running (the
    current time by default). Twelve queries, plus the working-day calendar's two when its
    in-process cache is cold."""
    result = Figures(period=period, now=now or timezone.now())
    units: dict[int, UnitRow] = {}

    def unit(unit_id: int | None) -> UnitRow | None:
        if unit_id is None:
            return None
        if unit_id not in units:
            units[unit_id] = UnitRow(unit_id=unit_id, name="")
        return units[unit_id]

    _received(result, period)
    _dispatched(result, period, unit)
    _deadlines(result, period, unit)
    _closed(result, period, unit)
    _handling_days(result, period, unit)
    _requests(result, period, unit)
    _supervisions(result, period, unit)
    _cards(result, period, unit)
    names = dict(Department.objects.filter(pk__in=list(units)).order_by().values_list("pk", "name"))
    for row in units.values():
        row.name = names.get(row.unit_id, str(row.unit_id))
    result.units = ranked(units.values())
    result.trend = _trend(period)
    return result


def ranked(rows: Iterable[UnitRow]) -> list[UnitRow]:
    """The rows in ranking order (see the module's docstring), each with its `rank`."""

    def best_first(rate: Rate) -> Fraction:
        value = rate.fraction
        return -value if value is not None else Fraction(1)  # no figure: after every figure

    ordered = sorted(
        rows,
        key=lambda r: (
            best_first(r.satisfaction),
            best_first(r.reply_rate),
            best_first(r.sign_rate),
            r.red_cards,
            r.yellow_cards,
            -r.closed,
            r.name,
            r.unit_id,
        ),
    )
    for position, row in enumerate(ordered, start=1):
        row.rank = position
    return ordered


def _between(name: str, period: Period) -> Q:
    return Q(**{f"{name}__gte": period.start, f"{name}__lt": period.end})


def _received(result: Figures, period: Period) -> None:
    """One query: received orders grouped by channel × type × top-level category."""
    rows = (
        WorkOrder.objects.filter(_between("received_at", period))
        .annotate(
            top=Coalesce(
                "category__parent__parent__name", "category__parent__name", "category__name"
            )
        )
        .order_by()
        .values("channel", "order_type", "top")
        .annotate(
            n=Count("pk"),
            instant=Count("pk", filter=Q(resolution=Resolution.INSTANT)),
            duplicates=Count("pk", filter=Q(master__isnull=False)),
        )
    )
    channels: dict[str, int] = defaultdict(int)
    types: dict[str, int] = defaultdict(int)
    categories: dict[str, int] = defaultdict(int)
    for row in rows:
        n = row["n"]
        result.received += n
        result.instant += row["instant"]
        result.duplicates += row["duplicates"]
        channels[row["channel"]] += n
        types[row["order_type"]] += n
        categories[row["top"] or ""] += n
    result.by_channel = _in_choice_order(channels, OrderChannel.values)
    result.by_type = _in_choice_order(types, OrderType.values)
    result.by_category = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0] == "", kv[0]))


def _in_choice_order(counts: dict[str, int], values: list[str]) -> list[tuple[str, int]]:
    """Every choice (zeros too), then any stored value no longer a choice."""
    known = [(value, counts.get(value, 0)) for value in values]
    return known + sorted((k, n) for k, n in counts.items() if k not in values)


def _dispatched(result: Figures, period: Period, unit) -> None:
    """One query: lead dispatches made in the period, by unit and level."""
    rows = (
        Assignment.objects.filter(_between("dispatched_at", period), role=AssignmentRole.LEAD)
        .order_by()
        .values("unit", "level")
        .annotate(n=Count("pk"), orders=Count("order", distinct=True))
    )
    for row in rows:
        if row["level"] == 1:
            result.dispatched += row["n"]
        unit(row["unit"]).received += row["orders"]


def _holder() -> Subquery:
    """The unit of the latest lead dispatch of the clock's order made by the moment that
    decided the deadline (the stop when it was met, else the due time)."""
    return Subquery(
        Assignment.objects.filter(
            order_id=Cast(OuterRef("subject_id"), BigIntegerField()),
            role=AssignmentRole.LEAD,
            dispatched_at__lte=OuterRef("decided_at"),
        )
        .order_by("-dispatched_at", "-pk")
        .values("unit_id")[:1]
    )


def _deadlines(result: Figures, period: Period, unit) -> None:
    """One query: sign and reply deadlines started in the period, judged, by holder."""
    now = result.now
    stopped = Q(status=Clock.Status.STOPPED)
    on_time = stopped & Q(stopped_at__lte=F("due_at"))
    stopped_late = stopped & Q(stopped_at__gt=F("due_at"))
    running_late = Q(status=Clock.Status.RUNNING, due_at__lt=now)
    rows = (
        Clock.objects.filter(
            _between("started_at", period),
            purpose__in=[OrderClock.SIGN, OrderClock.REPLY],
            due_at__isnull=False,
        )
        .filter(on_time | stopped_late | running_late)
        .annotate(
            decided_at=Case(
                When(on_time, then=F("stopped_at")),
                default=F("due_at"),
            )
        )
        .annotate(holder=_holder())
        .order_by()
        .values("holder", "purpose")
        .annotate(
            on_time=Count("pk", filter=on_time),
            stopped_late=Count("pk", filter=stopped_late),
            running_late=Count("pk", filter=running_late),
        )
    )
    for row in rows:
        target = unit(row["holder"])
        name = "sign" if row["purpose"] == OrderClock.SIGN else "reply"
        for deadlines in (getattr(result, name), getattr(target, name, None)):
            if deadlines is None:
                continue
            deadlines.on_time += row["on_time"]
            deadlines.stopped_late += row["stopped_late"]
            deadlines.running_late += row["running_late"]


def _closed(result: Figures, period: Period, unit) -> None:
    """One query: orders closed in the period, by lead unit, resolution and verdict."""
    rows = (
        WorkOrder.objects.filter(_between("closed_at", period))
        .order_by()
        .values("lead_unit", "resolution", "satisfaction")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        n, target = row["n"], unit(row["lead_unit"])
        result.closed += n
        result.verdicts.add(row["satisfaction"], n)
        if target is not None and row["resolution"] == Resolution.HANDLED:
            target.closed += n
            target.verdicts.add(row["satisfaction"], n)


def _handling_days(result: Figures, period: Period, unit) -> None:
    """Two queries: handled orders closed in the period counted by lead unit × closing day,
    and by lead unit × dispatch day; the working days are W(close) − W(dispatch) summed."""
    handled = WorkOrder.objects.filter(
        _between("closed_at", period), resolution=Resolution.HANDLED, dispatched_at__isnull=False
    ).order_by()
    closes = list(
        handled.annotate(day=TruncDate("closed_at"))
        .values("lead_unit", "day")
        .annotate(n=Count("pk"))
    )
    dispatches = list(
        handled.annotate(day=TruncDate("dispatched_at"))
        .values("lead_unit", "day")
        .annotate(n=Count("pk"))
    )
    if not closes:
        return
    calendar = workdays.get_calendar()
    days = [row["day"] for row in closes + dispatches]
    epoch = min(days) - dt.timedelta(days=1)
    confirmed = calendar.knows_span(epoch + dt.timedelta(days=1), max(days))

    def cumulative(day: dt.date) -> int:
        return calendar.count_workdays(epoch, day).days

    for rows, sign in ((closes, 1), (dispatches, -1)):
        for row in rows:
            amount = sign * row["n"] * cumulative(row["day"])
            targets = [result.handling, getattr(unit(row["lead_unit"]), "handling", None)]
            for handling in targets:
                if handling is None:
                    continue
                handling.workdays += amount
                handling.confirmed = handling.confirmed and confirmed
                if sign == 1:
                    handling.orders += row["n"]


def _requests(result: Figures, period: Period, unit) -> None:
    """One query: return and extension requests made in the period, by unit."""
    rows = (
        OrderRequest.objects.filter(_between("requested_at", period))
        .order_by()
        .values("unit", "kind")
        .annotate(asked=Count("pk"), approved=Count("pk", filter=Q(status=RequestStatus.APPROVED)))
    )
    for row in rows:
        name = "returns" if row["kind"] == RequestKind.RETURN else "extensions"
        for requests in (getattr(result, name), getattr(unit(row["unit"]), name)):
            requests.asked += row["asked"]
            requests.approved += row["approved"]


def _supervisions(result: Figures, period: Period, unit) -> None:
    """One query: supervision orders issued in the period, by unit."""
    rows = (
        Supervision.objects.filter(_between("issued_at", period))
        .order_by()
        .values("unit")
        .annotate(n=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    for row in rows:
        result.supervisions += row["n"]
        result.supervisions_answered += row["answered"]
        unit(row["unit"]).supervisions += row["n"]


def _cards(result: Figures, period: Period, unit) -> None:
    """One query: cards issued in the period, by unit and colour."""
    rows = (
        Card.objects.filter(_between("issued_at", period))
        .order_by()
        .values("unit", "colour")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        name = "red_cards" if row["colour"] == CardColour.RED else "yellow_cards"
        target = unit(row["unit"])
        setattr(result, name, getattr(result, name) + row["n"])
        setattr(target, name, getattr(target, name) + row["n"])


def _month_of(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return value.replace(day=1)


def _trend(period: Period) -> list[MonthPoint]:
    """Two queries: orders received per month, and the verdicts of orders closed per month,
    over the six months ending with the period's last month."""
    last = period.last.replace(day=1)
    first = _months_back(last, TREND_MONTHS - 1)
    start, end = _midnight(first), _midnight(_next_month(last))
    received = defaultdict(int)
    for row in (
        WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(month=TruncMonth("received_at"))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
    ):
        received[_month_of(row["month"])] += row["n"]
    verdicts: dict[dt.date, Verdicts] = defaultdict(Verdicts)
    for row in (
        WorkOrder.objects.filter(
            closed_at__gte=start, closed_at__lt=end, satisfaction__in=Satisfaction.values
        )
        .annotate(month=TruncMonth("closed_at"))
        .order_by()
        .values("month", "satisfaction")
        .annotate(n=Count("pk"))
    ):
        verdicts[_month_of(row["month"])].add(row["satisfaction"], row["n"])
    months = [_months_back(last, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    return [MonthPoint(month, received[month], verdicts[month].rate) for month in months]
