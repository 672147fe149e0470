"""Working-day arithmetic on the editable holiday calendar.

Chinese administrative deadlines count working days (行政许可法 Art. 82): Saturdays, Sundays
and statutory holidays are skipped, and make-up working days (调休上班, usually a Saturday or
Sunday) count. A year's arrangement is only known once the State Council publishes its notice,
so the calendar knows a set of years (CalendarYear) and the dates that break the weekday rule
(CalendarDay). A date in any other year falls back to Monday–Friday and never raises; every
result says whether all the years it depended on were known (`confirmed`), so a deadline
computed on a guess can be shown as 「日历未确认」 and recomputed once the year is imported.

Conventions, the statute's own:
- `add_workdays(start, n)`: the start day is not counted; the result is the n-th working day
  after it (n = 0 gives the start day itself).
- `count_workdays(after, until)`: the working days in (after, until]; negative when `until`
  is before `after`, so "remaining" and "overdue by" are one number.
- `add_natural_days(start, n)`: start + n calendar days, moved forward to the next working
  day when it lands on a day off.

The database calendar is cached in-process for `CACHE_SECONDS`; whatever changes the tables
(the import service, the admin) calls `invalidate()`, and other processes catch up within
the TTL.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

ONE_DAY = dt.timedelta(days=1)
CACHE_SECONDS = 60.0

# chinesecalendar's English holiday names → the names used in State Council notices.
HOLIDAY_NAMES_ZH: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def holiday_name_zh(name: str) -> str:
    """The Chinese name of a chinesecalendar holiday; an unknown name is kept as it is, so a
    newer package release never breaks the seed."""
    return HOLIDAY_NAMES_ZH.get(name, name)


@dataclass(frozen=True, slots=True)
class DayResult:
    """A date computed on the calendar, and whether every year it depended on was known."""

    date: dt.date
    confirmed: bool


@dataclass(frozen=True, slots=True)
class DayCount:
    """A number of days counted on the calendar, and whether every year counted was known."""

    days: int
    confirmed: bool


def _weekdays_through(day: dt.date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) through `day`, in constant time."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkCalendar:
    """The known years and exception days, answering working-day questions.

    Built from the tables by `from_database()`, or from plain data in tests. Exception days
    are honoured even in a year that is not known (an admin may enter a single day early),
    but results touching such a year stay unconfirmed until the whole year is known.
    """

    __slots__ = ("_extra_workdays", "_holidays", "_known_years", "_lost_workdays", "_workdays")

    def __init__(
        self,
        *,
        known_years: Iterable[int] = (),
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
    ):
        self._known_years = frozenset(known_years)
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        both = self._holidays & self._workdays
        if both:
            raise ValueError(f"dates both holiday and workday: {sorted(both)}")
        # Only exceptions that change the weekday rule matter to counting.
        self._lost_workdays = sorted(d for d in self._holidays if d.weekday() < 5)
        self._extra_workdays = sorted(d for d in self._workdays if d.weekday() >= 5)

    @classmethod
    def from_database(cls) -> WorkCalendar:
        """Two queries: the known years and every exception day."""
        from .models import CalendarDay, CalendarYear

        days = list(CalendarDay.objects.values_list("date", "kind"))
        return cls(
            known_years=CalendarYear.objects.values_list("year", flat=True),
            holidays=[d for d, kind in days if kind == CalendarDay.Kind.HOLIDAY],
            workdays=[d for d, kind in days if kind == CalendarDay.Kind.WORKDAY],
        )

    @property
    def known_years(self) -> frozenset[int]:
        return self._known_years

    def knows(self, year: int) -> bool:
        return year in self._known_years

    def knows_span(self, first: dt.date, last: dt.date) -> bool:
        """Whether every year from `first` through `last` is known (an empty span is)."""
        if first > last:
            return True
        return all(self.knows(year) for year in range(first.year, last.year + 1))

    def is_workday(self, day: dt.date) -> bool:
        """Whether `day` is a working day; in an unknown year, Monday to Friday are.
        Use `knows(day.year)` to tell whether the answer is confirmed."""
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    def next_workday(self, day: dt.date) -> DayResult:
        """`day` itself if it is a working day, otherwise the first working day after it."""
        found = day
        while not self.is_workday(found):
            found += ONE_DAY
        return DayResult(found, self.knows_span(day, found))

    def add_workdays(self, start: dt.date, n: int) -> DayResult:
        """The n-th working day after `start` (which is not counted)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, left = start, n
        while left:
            day += ONE_DAY
            if self.is_workday(day):
                left -= 1
        return DayResult(day, self.knows_span(start + ONE_DAY, day))

    def count_workdays(self, after: dt.date, until: dt.date) -> DayCount:
        """The working days in (after, until]; the negated count of (until, after] when
        `until` is earlier. Constant in the span's length (bisection over the exceptions)."""
        if until < after:
            backwards = self.count_workdays(until, after)
            return DayCount(-backwards.days, backwards.confirmed)
        weekdays = _weekdays_through(until) - _weekdays_through(after)
        lost = self._in_span(self._lost_workdays, after, until)
        extra = self._in_span(self._extra_workdays, after, until)
        return DayCount(weekdays - lost + extra, self.knows_span(after + ONE_DAY, until))

    def add_natural_days(self, start: dt.date, n: int) -> DayResult:
        """start + n calendar days, moved to the next working day if that is a day off. Only
        the landing day's year (and any it moves into) matters to confirmation."""
        if n < 0:
            raise ValueError("n must not be negative")
        return self.next_workday(start + dt.timedelta(days=n))

    @staticmethod
    def _in_span(sorted_days: list[dt.date], after: dt.date, until: dt.date) -> int:
        return bisect.bisect_right(sorted_days, until) - bisect.bisect_right(sorted_days, after)


class _CalendarCache:
    """One calendar per process, reloaded after `ttl` seconds or on `clear()`."""

    def __init__(self, ttl: float):
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entry: tuple[WorkCalendar, float] | None = None

    def get(self, load: Callable[[], WorkCalendar]) -> WorkCalendar:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[1] < self._ttl:
            return entry[0]
        with self._lock:
            calendar = load()
            self._entry = (calendar, time.monotonic())
        return calendar

    def clear(self) -> None:
        self._entry = None


_cache = _CalendarCache(CACHE_SECONDS)


def get_calendar() -> WorkCalendar:
    """The database calendar, cached in-process for CACHE_SECONDS."""
    return _cache.get(WorkCalendar.from_database)


def invalidate() -> None:
    """Forget the cached calendar; call it after any change to CalendarYear or CalendarDay."""
    _cache.clear()


def is_workday(day: dt.date) -> bool:
    return get_calendar().is_workday(day)


def add_workdays(start_date: dt.date, n: int) -> DayResult:
    return get_calendar().add_workdays(start_date, n)


def count_workdays(after_date: dt.date, until_date: dt.date) -> DayCount:
    return get_calendar().count_workdays(after_date, until_date)


def add_natural_days(start_date: dt.date, n: int) -> DayResult:
    return get_calendar().add_natural_days(start_date, n)


def warn_from(year: int) -> dt.date:
    """The day of `year` from which next year's missing calendar is worth a warning
    (settings.YIMEN_CALENDAR_WARN_FROM, "MM-DD")."""
    value = settings.YIMEN_CALENDAR_WARN_FROM
    try:
        month, day = (int(part) for part in value.split("-"))
        return dt.date(year, month, day)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"YIMEN_CALENDAR_WARN_FROM must be MM-DD, not {value!r}"
        ) from error


def missing_calendar_years(
    today: dt.date | None = None, *, calendar: WorkCalendar | None = None
) -> list[int]:
    """The years an administrator should import now: the current year if it is unknown,
    and the next one too once `today` reaches YIMEN_CALENDAR_WARN_FROM."""
    if today is None:
        today = timezone.localdate(timezone=timezone.get_default_timezone())
    calendar = calendar if calendar is not None else get_calendar()
    wanted = [today.year]
    if today >= warn_from(today.year):
        wanted.append(today.year + 1)
    return [year for year in wanted if not calendar.knows(year)]


@dataclass(frozen=True)
class YearOverview:
    """What the calendar tables say about one year (for status pages and commands)."""

    year: int
    known: bool
    source: str
    notice: str
    holidays: int
    workdays: int


def year_overview(year: int) -> YearOverview:
    """Two queries: the year's row, and its exception days counted by kind."""
    from django.db.models import Count

    from .models import CalendarDay, CalendarYear

    row = CalendarYear.objects.filter(year=year).first()
    counts = dict(
        CalendarDay.objects.filter(date__year=year)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return YearOverview(
        year=year,
        known=row is not None,
        source=row.get_source_display() if row is not None else "",
        notice=row.notice if row is not None else "",
        holidays=counts.get(CalendarDay.Kind.HOLIDAY, 0),
        workdays=counts.get(CalendarDay.Kind.WORKDAY, 0),
    )
