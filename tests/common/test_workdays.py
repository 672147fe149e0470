"""The working-day calendar: arithmetic, the seeded table, the unknown-year fallback, the cache."""

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yimen.common import workdays
from yimen.common.models import CalendarDay, CalendarYear
from yimen.common.workdays import (
    DayCount,
    DayResult,
    WorkCalendar,
    add_natural_days,
    add_workdays,
    count_workdays,
    holiday_name_zh,
    is_workday,
    missing_calendar_years,
)

D = dt.date
PACKAGE_YEARS = range(2004, 2027)

# The package's own data, as the seed migration stores it: a calendar for pure tests.
PACKAGE_CALENDAR = WorkCalendar(
    known_years=PACKAGE_YEARS,
    holidays=chinese_calendar.holidays,
    workdays=chinese_calendar.workdays,
)

# Spans the known years and the unknown ones on both sides.
any_date = st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 12, 31))
any_n = st.integers(min_value=0, max_value=400)


def brute_force_count(calendar, after, until):
    day, count = after, 0
    while day < until:
        day += dt.timedelta(days=1)
        count += calendar.is_workday(day)
    return count


# --- properties ---------------------------------------------------------------------------


@given(start=any_date, n=any_n)
def test_counting_the_days_added_gives_n_back(start, n):
    # Given any start and n, when n working days are added
    result = PACKAGE_CALENDAR.add_workdays(start, n)
    # then exactly n working days lie in (start, result]
    assert PACKAGE_CALENDAR.count_workdays(start, result.date).days == n


@given(start=any_date, n=st.integers(min_value=1, max_value=400))
def test_adding_working_days_lands_on_a_working_day(start, n):
    assert PACKAGE_CALENDAR.is_workday(PACKAGE_CALENDAR.add_workdays(start, n).date)


@given(start=any_date, n=any_n)
def test_a_result_is_confirmed_exactly_when_every_year_it_spans_is_known(start, n):
    result = PACKAGE_CALENDAR.add_workdays(start, n)
    first = start + dt.timedelta(days=1)
    spanned = range(first.year, result.date.year + 1) if n else range(0)
    assert result.confirmed == all(year in PACKAGE_YEARS for year in spanned)


@given(after=any_date, until=any_date)
def test_the_fast_count_matches_walking_day_by_day(after, until):
    expected = brute_force_count(PACKAGE_CALENDAR, min(after, until), max(after, until))
    if until < after:
        expected = -expected
    assert PACKAGE_CALENDAR.count_workdays(after, until).days == expected


@given(a=any_date, b=any_date, c=any_date)
def test_counts_over_adjacent_spans_add_up(a, b, c):
    count = PACKAGE_CALENDAR.count_workdays
    assert count(a, b).days + count(b, c).days == count(a, c).days


@given(start=any_date, n=st.integers(min_value=0, max_value=60))
def test_natural_days_land_on_the_first_working_day_from_start_plus_n(start, n):
    result = PACKAGE_CALENDAR.add_natural_days(start, n)
    target = start + dt.timedelta(days=n)
    assert result.date >= target
    assert PACKAGE_CALENDAR.is_workday(result.date)
    assert PACKAGE_CALENDAR.count_workdays(target - dt.timedelta(days=1), result.date).days == 1


# --- plain-data behaviour -------------------------------------------------------------------


def test_adding_zero_working_days_keeps_the_start_day_even_on_a_weekend():
    assert PACKAGE_CALENDAR.add_workdays(D(2026, 11, 21), 0) == DayResult(D(2026, 11, 21), True)


def test_negative_amounts_are_a_programming_error():
    with pytest.raises(ValueError):
        PACKAGE_CALENDAR.add_workdays(D(2026, 1, 1), -1)
    with pytest.raises(ValueError):
        PACKAGE_CALENDAR.add_natural_days(D(2026, 1, 1), -1)


def test_counting_backwards_is_negative():
    # Given 2026-10-09 (Fri) and 2026-10-12 (Mon), with the make-up Saturday between
    assert PACKAGE_CALENDAR.count_workdays(D(2026, 10, 12), D(2026, 10, 9)) == DayCount(-2, True)


def test_a_date_cannot_be_both_holiday_and_workday():
    with pytest.raises(ValueError):
        WorkCalendar(known_years=[2026], holidays=[D(2026, 1, 1)], workdays=[D(2026, 1, 1)])


def test_an_exception_day_in_an_unknown_year_is_honoured_but_unconfirmed():
    # Given 2027 is not known but its New Year's Day has been entered early
    calendar = WorkCalendar(known_years=[2026], holidays=[D(2027, 1, 1)])
    # when a working day is added from 2026-12-31 (Thu)
    result = calendar.add_workdays(D(2026, 12, 31), 1)
    # then the holiday is skipped, but the answer stays unconfirmed
    assert result == DayResult(D(2027, 1, 4), False)


def test_holiday_names_are_translated_to_the_notice_names():
    names = {holiday_name_zh(name) for name in chinese_calendar.holidays.values()}
    assert names == {
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
        "抗战胜利纪念日",
    }
    assert holiday_name_zh("Some New Day") == "Some New Day"


# --- the seeded table -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seed_holds_exactly_the_package_calendar():
    seeded = WorkCalendar.from_database()
    assert seeded.known_years == frozenset(PACKAGE_YEARS)
    stored = dict(CalendarDay.objects.values_list("date", "kind"))
    expected = {day: "holiday" for day in chinese_calendar.holidays}
    expected |= {day: "workday" for day in chinese_calendar.workdays}
    assert stored == expected
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {"seed"}


@pytest.mark.django_db
def test_the_seed_names_days_in_chinese():
    names = dict(CalendarDay.objects.values_list("date", "name"))
    assert names[D(2026, 10, 1)] == "国庆节"
    assert names[D(2026, 9, 20)] == "国庆节"  # the make-up day carries its holiday's name
    assert names[D(2015, 9, 3)] == "抗战胜利纪念日"


@pytest.mark.django_db
def test_2026_national_day():
    # 10-01..10-07 are off; Sunday 09-20 and Saturday 10-10 are worked
    assert not any(is_workday(D(2026, 10, day)) for day in range(1, 8))
    assert is_workday(D(2026, 9, 20))
    assert is_workday(D(2026, 10, 10))
    # A case accepted on Wednesday 09-30 has its 1st working day on Thursday 10-08
    assert add_workdays(D(2026, 9, 30), 1) == DayResult(D(2026, 10, 8), True)
    # and its 3rd on the make-up Saturday
    assert add_workdays(D(2026, 9, 30), 3) == DayResult(D(2026, 10, 10), True)
    # 10 working days from Monday 09-28 end on Friday 10-16
    assert add_workdays(D(2026, 9, 28), 10) == DayResult(D(2026, 10, 16), True)
    assert count_workdays(D(2026, 9, 30), D(2026, 10, 10)) == DayCount(3, True)


@pytest.mark.django_db
def test_2026_spring_festival():
    # 02-15..02-23 are off; Saturdays 02-14 and 02-28 are worked
    assert not any(is_workday(D(2026, 2, day)) for day in range(15, 24))
    assert is_workday(D(2026, 2, 14))
    assert is_workday(D(2026, 2, 28))
    # From Friday 02-13: the make-up Saturday, then Tuesday 02-24
    assert add_workdays(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert add_workdays(D(2026, 2, 13), 2).date == D(2026, 2, 24)
    assert count_workdays(D(2026, 2, 13), D(2026, 2, 28)) == DayCount(6, True)


@pytest.mark.django_db
def test_natural_days_landing_on_national_day_move_to_the_next_working_day():
    # 2026-09-24 + 7 days = 10-01, a holiday → Thursday 10-08
    assert add_natural_days(D(2026, 9, 24), 7) == DayResult(D(2026, 10, 8), True)
    # 2026-10-03 + 7 days = the make-up Saturday 10-10: it stays
    assert add_natural_days(D(2026, 10, 3), 7) == DayResult(D(2026, 10, 10), True)


# --- the unknown year -----------------------------------------------------------------------


@pytest.mark.django_db
def test_2027_falls_back_to_weekends_only_and_is_unconfirmed():
    # Given 2027 is not in the table: New Year's Day (a Friday) counts as a working day
    assert is_workday(D(2027, 1, 1))
    assert not is_workday(D(2027, 1, 2))
    # 10 working days from Monday 2026-12-21 end on Monday 2027-01-04, unconfirmed
    assert add_workdays(D(2026, 12, 21), 10) == DayResult(D(2027, 1, 4), False)
    # a span that stays inside 2026 is still confirmed
    assert add_workdays(D(2026, 12, 21), 8) == DayResult(D(2026, 12, 31), True)
    assert count_workdays(D(2026, 12, 31), D(2027, 1, 8)) == DayCount(6, False)
    # and far-future dates never raise
    assert add_workdays(D(2099, 12, 30), 5) == DayResult(D(2100, 1, 6), False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (D(2026, 11, 23), [2027]),  # after 10-01, next year unknown
        (D(2026, 9, 30), []),  # before the warning season
        (D(2026, 10, 1), [2027]),  # on the first day of it
        (D(2027, 3, 1), [2027]),  # the current year itself is unknown
        (D(2027, 10, 1), [2027, 2028]),
    ],
)
def test_missing_calendar_years(today, missing):
    assert missing_calendar_years(today) == missing


@pytest.mark.django_db
def test_the_warning_season_is_configurable(settings):
    settings.YIMEN_CALENDAR_WARN_FROM = "12-01"
    assert missing_calendar_years(D(2026, 11, 23)) == []
    assert missing_calendar_years(D(2026, 12, 1)) == [2027]


def test_the_missing_years_work_on_a_calendar_from_plain_data():
    calendar = WorkCalendar(known_years=[2026, 2027])
    assert missing_calendar_years(D(2026, 11, 23), calendar=calendar) == []


# --- the cache ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_is_cached_until_invalidated(django_assert_num_queries):
    # Given a loaded calendar
    workdays.get_calendar()
    # when asked again, no query is made
    with django_assert_num_queries(0):
        assert not is_workday(D(2026, 10, 1))
    # when an admin makes 10-01 a make-up day without invalidating, the cache still says no
    CalendarDay.objects.filter(date=D(2026, 10, 1)).update(kind=CalendarDay.Kind.WORKDAY)
    assert not is_workday(D(2026, 10, 1))
    # and after invalidate() the change is seen
    workdays.invalidate()
    assert is_workday(D(2026, 10, 1))


@pytest.mark.django_db
def test_the_cache_expires_after_its_ttl(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(workdays.time, "monotonic", lambda: clock[0])
    workdays.get_calendar()
    CalendarYear.objects.create(year=2027, source=CalendarYear.Source.MANUAL)
    clock[0] += workdays.CACHE_SECONDS - 1
    assert not workdays.get_calendar().knows(2027)
    clock[0] += 2
    assert workdays.get_calendar().knows(2027)
