"""The pure clock arithmetic: deadlines, pauses, extensions, lights (no database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yimen.common.clock import (
    ClockSpec,
    Light,
    Thresholds,
    Unit,
    due,
    end_of_day,
    evaluate,
)
from yimen.common.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar(
    known_years=range(2004, 2027),
    holidays=chinese_calendar.holidays,
    workdays=chinese_calendar.workdays,
)
PLAIN = Thresholds(days=2, hours=2, ratio=0.2)


def at(year, month, day, hour=9, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def due_of(spec, now=None):
    return due(spec, calendar=CALENDAR, now=now or at(2026, 11, 23))


def state_of(spec, now, thresholds=PLAIN):
    return evaluate(spec, now=now, calendar=CALENDAR, thresholds=thresholds)


def workday_clock(started_at, limit, **kwargs):
    return ClockSpec(started_at=started_at, unit=Unit.WORKDAYS, limit=limit, **kwargs)


# --- deadlines on the 2026 calendar ---------------------------------------------------------


def test_working_days_skip_national_day_and_count_the_make_up_saturday():
    # Given a clock of 10 working days started on Monday 2026-09-28
    spec = workday_clock(at(2026, 9, 28, 15), 10)
    # then it is due at the very end of Friday 10-16
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 16))
    assert due_of(spec).at == dt.datetime(2026, 10, 16, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert due_of(spec).confirmed


def test_the_start_day_is_the_local_date_not_the_utc_one():
    # 2026-09-28 01:00 in Shanghai is still 09-27 in UTC; the local date counts
    started = at(2026, 9, 28, 1).astimezone(dt.UTC)
    assert due_of(workday_clock(started, 10)).at == end_of_day(dt.date(2026, 10, 16))


def test_working_days_across_the_2026_spring_festival():
    # From Friday 02-13, 1 working day is the make-up Saturday 02-14, 2 is Tuesday 02-24
    assert due_of(workday_clock(at(2026, 2, 13), 1)).at == end_of_day(dt.date(2026, 2, 14))
    assert due_of(workday_clock(at(2026, 2, 13), 2)).at == end_of_day(dt.date(2026, 2, 24))


def test_a_pause_across_national_day_skips_only_its_working_days():
    # Given 10 working days from Monday 2026-09-21, with Mid-autumn (09-25..27) and National
    # Day (10-01..07) off and Saturday 10-10 worked: 09-22..24, 28..30, 10-08..10, 10-12
    plain = workday_clock(at(2026, 9, 21), 10)
    assert due_of(plain).at == end_of_day(dt.date(2026, 10, 12))
    # when paused on 09-29 and resumed on 10-09: (09-29, 10-09] holds 09-30, 10-08, 10-09
    paused = workday_clock(at(2026, 9, 21), 10, pauses=((at(2026, 9, 29), at(2026, 10, 9)),))
    # then the deadline moves three working days: 10-13, 10-14, 10-15
    assert due_of(paused).at == end_of_day(dt.date(2026, 10, 15))


def test_a_pause_resumed_the_same_day_changes_nothing():
    spec = workday_clock(at(2026, 9, 21), 10, pauses=((at(2026, 9, 29, 9), at(2026, 9, 29, 17)),))
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 12))


def test_a_pause_on_the_due_day_still_moves_the_deadline():
    # Due Monday 10-12; paused that day and resumed on Tuesday 10-13: one working day skipped
    spec = workday_clock(at(2026, 9, 21), 10, pauses=((at(2026, 10, 12), at(2026, 10, 13)),))
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 13))


def test_pausing_an_overdue_clock_freezes_its_lateness_without_rescuing_it():
    # Given a clock due Monday 10-12, one working day late when paused on Tuesday 10-13
    spec = workday_clock(at(2026, 9, 21), 10, pauses=((at(2026, 10, 13), at(2026, 10, 20)),))
    # then the 5 paused working days (10-14..16, 19, 20) move the deadline to 10-19,
    # which is still before the resume day
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 19))
    # and on the resume day it is still late by the one working day it was late before
    state = state_of(spec, at(2026, 10, 20, 10))
    assert (state.light, state.remaining) == (Light.RED, -1)


def test_an_extension_adds_working_days():
    # 20 working days from 2026-09-21 end on 10-26; the 10-day extension ends on 11-09
    spec = workday_clock(at(2026, 9, 21), 20)
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 26))
    extended = workday_clock(at(2026, 9, 21), 20, extensions=(10,))
    assert due_of(extended).at == end_of_day(dt.date(2026, 11, 9))


def test_the_worked_example_of_the_administrators_guide():
    # docs/calendar.md: accepted Monday 2026-09-28, 20 working days → Friday 10-30
    started = at(2026, 9, 28)
    assert due_of(workday_clock(started, 20)).at == end_of_day(dt.date(2026, 10, 30))
    # corrections asked on 09-30, materials back on 10-09 → Tuesday 11-03
    correction = ((at(2026, 9, 30), at(2026, 10, 9)),)
    paused = workday_clock(started, 20, pauses=correction)
    assert due_of(paused).at == end_of_day(dt.date(2026, 11, 3))
    # and the 10-day extension → Tuesday 11-17
    extended = workday_clock(started, 20, pauses=correction, extensions=(10,))
    assert due_of(extended).at == end_of_day(dt.date(2026, 11, 17))


def test_a_natural_day_clock_landing_on_a_holiday_moves_to_the_next_working_day():
    # 7 natural days from 2026-09-24 land on 10-01 (国庆节) → Thursday 10-08
    spec = ClockSpec(started_at=at(2026, 9, 24), unit=Unit.DAYS, limit=7)
    assert due_of(spec).at == end_of_day(dt.date(2026, 10, 8))


def test_a_natural_day_pause_adds_calendar_days():
    # 15 days from 2026-11-02 = 11-17; paused 11-05 → 11-09 adds 4 days: Saturday 11-21 → 11-23
    spec = ClockSpec(
        started_at=at(2026, 11, 2),
        unit=Unit.DAYS,
        limit=15,
        pauses=((at(2026, 11, 5), at(2026, 11, 9)),),
    )
    assert due_of(spec).at == end_of_day(dt.date(2026, 11, 23))


def test_an_hours_clock_runs_on_the_wall_clock_and_adds_paused_time_exactly():
    # Given a 24-hour clock started on 2026-11-23 10:00, paused 14:00 → 16:30
    spec = ClockSpec(
        started_at=at(2026, 11, 23, 10),
        unit=Unit.HOURS,
        limit=24,
        pauses=((at(2026, 11, 23, 14), at(2026, 11, 23, 16, 30)),),
    )
    # then it is due 24 h 30 min... plus 2 h 30 min after the start, holidays or not
    assert due_of(spec).at == at(2026, 11, 24, 12, 30)
    assert due_of(spec).confirmed


def test_an_hours_clock_ignores_holidays():
    spec = ClockSpec(started_at=at(2026, 9, 30, 20), unit=Unit.HOURS, limit=12)
    assert due_of(spec).at == at(2026, 10, 1, 8)


def test_a_deadline_in_an_unknown_year_falls_back_to_weekdays_and_is_unconfirmed():
    # 10 working days from 2026-12-21: 2027-01-01 (a Friday) counts on the weekdays-only guess
    spec = workday_clock(at(2026, 12, 21), 10)
    computed = due_of(spec)
    assert computed.at == end_of_day(dt.date(2027, 1, 4))
    assert not computed.confirmed


# --- paused and stopped clocks --------------------------------------------------------------


def test_a_paused_clock_has_no_deadline_and_its_remaining_days_are_frozen():
    # Given 10 working days from 2026-11-02 (due 11-16), paused on 11-06 with 6 left
    spec = workday_clock(at(2026, 11, 2), 10, pauses=((at(2026, 11, 6), None),))
    assert due_of(spec, now=at(2026, 11, 10)).at is None
    # then whenever it is looked at, it shows PAUSED with the same 6 days left
    for now in (at(2026, 11, 6, 18), at(2026, 11, 10), at(2026, 11, 30)):
        state = state_of(spec, now)
        assert (state.light, state.due_at, state.remaining) == (Light.PAUSED, None, 6)


def test_a_paused_hours_clock_freezes_its_remaining_time():
    spec = ClockSpec(
        started_at=at(2026, 11, 23, 10),
        unit=Unit.HOURS,
        limit=8,
        pauses=((at(2026, 11, 23, 13), None),),
    )
    assert state_of(spec, at(2026, 11, 24, 9)).remaining == dt.timedelta(hours=5)


def test_a_clock_stopped_in_time_is_on_time():
    spec = workday_clock(at(2026, 11, 2), 10, stopped_at=at(2026, 11, 16, 17))
    state = state_of(spec, now=at(2026, 12, 1))
    assert state.light == Light.STOPPED
    assert state.due_at == end_of_day(dt.date(2026, 11, 16))
    assert (state.on_time, state.overdue, state.remaining) == (True, False, 0)


def test_a_clock_stopped_late_is_not_on_time():
    spec = workday_clock(at(2026, 11, 2), 10, stopped_at=at(2026, 11, 18, 9))
    state = state_of(spec, now=at(2026, 12, 1))
    assert (state.light, state.on_time, state.overdue, state.remaining) == (
        Light.STOPPED,
        False,
        True,
        -2,
    )


def test_a_stopped_clock_keeps_a_fixed_deadline():
    spec = workday_clock(at(2026, 11, 2), 10, stopped_at=at(2026, 11, 18, 9))
    fixed = end_of_day(dt.date(2026, 11, 20))
    state = evaluate(
        spec, now=at(2026, 12, 1), calendar=CALENDAR, thresholds=PLAIN, fixed_due_at=fixed
    )
    assert (state.due_at, state.on_time) == (fixed, True)


def test_stopping_a_paused_clock_ends_the_pause_at_the_stop():
    spec = workday_clock(
        at(2026, 11, 2), 10, pauses=((at(2026, 11, 6), None),), stopped_at=at(2026, 11, 9)
    )
    # (11-06, 11-09] holds one working day (Monday 11-09): due 11-17
    assert due_of(spec).at == end_of_day(dt.date(2026, 11, 17))


# --- lights ---------------------------------------------------------------------------------

# 20 working days from Monday 2026-11-02 (no holidays in November): due Monday 11-30.
TWENTY = workday_clock(at(2026, 11, 2), 20)


@pytest.mark.parametrize(
    ("now", "ratio", "light", "left"),
    [
        (at(2026, 11, 23), 0.2, Light.GREEN, 5),
        (at(2026, 11, 24), 0.2, Light.YELLOW, 4),  # 4 ≤ 20 % of 20
        (at(2026, 11, 25), 0.0, Light.GREEN, 3),
        (at(2026, 11, 26), 0.0, Light.YELLOW, 2),  # 2 ≤ 2 working days
        (at(2026, 11, 30, 23, 59), 0.0, Light.YELLOW, 0),  # the last day is still in time
        (at(2026, 12, 1, 0, 0), 0.0, Light.RED, -1),
    ],
)
def test_working_day_lights(now, ratio, light, left):
    state = state_of(TWENTY, now, Thresholds(days=2, hours=2, ratio=ratio))
    assert (state.light, state.remaining) == (light, left)
    assert state.overdue == (light == Light.RED)


def test_the_deadline_itself_is_still_in_time():
    due_at = end_of_day(dt.date(2026, 11, 30))
    assert state_of(TWENTY, due_at).light == Light.YELLOW
    assert state_of(TWENTY, due_at + dt.timedelta(microseconds=1)).light == Light.RED


def test_the_thresholds_come_from_the_settings(settings):
    settings.YIMEN_CLOCK_YELLOW_DAYS = 5
    settings.YIMEN_CLOCK_YELLOW_RATIO = 0
    state = evaluate(TWENTY, now=at(2026, 11, 23), calendar=CALENDAR)
    assert (state.light, state.remaining) == (Light.YELLOW, 5)
    settings.YIMEN_CLOCK_YELLOW_DAYS = 4
    assert evaluate(TWENTY, now=at(2026, 11, 23), calendar=CALENDAR).light == Light.GREEN


def test_natural_day_lights_count_natural_days():
    # 10 natural days from 2026-11-02: due Thursday 11-12
    spec = ClockSpec(started_at=at(2026, 11, 2), unit=Unit.DAYS, limit=10)
    assert state_of(spec, at(2026, 11, 9)).remaining == 3
    assert state_of(spec, at(2026, 11, 9)).light == Light.GREEN
    assert state_of(spec, at(2026, 11, 10)).light == Light.YELLOW


@pytest.mark.parametrize(
    ("left", "ratio", "light"),
    [
        (dt.timedelta(hours=5), 0.2, Light.GREEN),
        (dt.timedelta(hours=4, minutes=48), 0.2, Light.YELLOW),  # 20 % of 24 h
        (dt.timedelta(hours=2, minutes=1), 0.0, Light.GREEN),
        (dt.timedelta(hours=2), 0.0, Light.YELLOW),
        (dt.timedelta(0), 0.0, Light.YELLOW),
        (-dt.timedelta(seconds=1), 0.0, Light.RED),
    ],
)
def test_hours_lights(left, ratio, light):
    spec = ClockSpec(started_at=at(2026, 11, 23, 10), unit=Unit.HOURS, limit=24)
    state = state_of(spec, at(2026, 11, 24, 10) - left, Thresholds(days=2, hours=2, ratio=ratio))
    assert (state.light, state.remaining) == (light, left)


# --- what a spec refuses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"unit": "weeks"},
        {"limit": -1},
        {"extensions": (0,)},
        {"started_at": dt.datetime(2026, 11, 2, 9)},
        {"pauses": ((at(2026, 11, 1), at(2026, 11, 3)),)},  # before the start
        {"pauses": ((at(2026, 11, 5), at(2026, 11, 4)),)},  # resumed before paused
        {"pauses": ((at(2026, 11, 3), None), (at(2026, 11, 5), at(2026, 11, 6)))},
        {"pauses": ((at(2026, 11, 3), at(2026, 11, 6)), (at(2026, 11, 5), None))},
    ],
)
def test_an_inconsistent_spec_is_refused(changes):
    fields = {"started_at": at(2026, 11, 2), "unit": Unit.WORKDAYS, "limit": 10} | changes
    with pytest.raises(ValueError):
        ClockSpec(**fields)


# --- properties -----------------------------------------------------------------------------

starts = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2027, 6, 30),
    timezones=st.just(SHANGHAI),
)
limits = st.integers(min_value=0, max_value=60)
units = st.sampled_from([Unit.WORKDAYS, Unit.DAYS, Unit.HOURS])


@st.composite
def pause_lists(draw, started_at):
    """Up to three closed, ordered pauses of up to 40 days starting after `started_at`."""
    pauses, cursor = [], started_at
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        start = cursor + dt.timedelta(
            minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 40))
        )
        end = start + dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 40)))
        pauses.append((start, end))
        cursor = end
    return tuple(pauses)


@given(data=st.data(), started_at=starts, limit=limits, unit=units)
def test_pauses_never_make_the_deadline_earlier(data, started_at, limit, unit):
    pauses = data.draw(pause_lists(started_at))
    plain = ClockSpec(started_at=started_at, unit=unit, limit=limit)
    paused = ClockSpec(started_at=started_at, unit=unit, limit=limit, pauses=pauses)
    assert due_of(paused).at >= due_of(plain).at
    for kept in range(len(pauses)):  # and each further pause only moves it later
        fewer = ClockSpec(started_at=started_at, unit=unit, limit=limit, pauses=pauses[:kept])
        assert due_of(paused).at >= due_of(fewer).at


@given(data=st.data(), started_at=starts, limit=limits, k=st.integers(min_value=1, max_value=30))
def test_an_extension_by_k_adds_exactly_k_working_days(data, started_at, limit, k):
    pauses = data.draw(pause_lists(started_at))
    before = due_of(workday_clock(started_at, limit, pauses=pauses)).at.date()
    after = due_of(workday_clock(started_at, limit, pauses=pauses, extensions=(k,))).at.date()
    assert CALENDAR.count_workdays(before, after).days == k


@given(started_at=starts, limit=st.integers(min_value=1, max_value=60))
def test_a_working_day_deadline_ends_a_working_day(started_at, limit):
    due_at = due_of(workday_clock(started_at, limit)).at
    assert CALENDAR.is_workday(due_at.date())
    assert (due_at.hour, due_at.minute, due_at.microsecond) == (23, 59, 999999)
