"""Services on the stored Clock: transitions, stored deadlines, state reads, recomputation."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from yimen.common import workdays
from yimen.common.calendar_import import import_year, numbered
from yimen.common.clock import Light, Thresholds, end_of_day
from yimen.common.clocks import (
    clock_extend,
    clock_pause,
    clock_resume,
    clock_start,
    clock_state,
    clock_stop,
    recompute_unconfirmed,
)
from yimen.common.models import AuditEvent, Clock, ClockPause

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAIN = Thresholds(days=2, hours=2, ratio=0.2)


def at(year, month, day, hour=9, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def head():
    return get_user_model().objects.create_user(username="head", password="x")


@pytest.fixture
def decision_clock():
    """20 working days from Monday 2026-09-21: due Monday 10-26 (Mid-autumn, National Day)."""
    return clock_start(
        purpose="case.decision", unit=Clock.Unit.WORKDAYS, limit=20, started_at=at(2026, 9, 21)
    )


def stored(clock):
    return Clock.objects.get(pk=clock.pk)


# --- the happy path -------------------------------------------------------------------------


def test_starting_a_clock_stores_its_deadline(decision_clock):
    clock = stored(decision_clock)
    assert clock.status == Clock.Status.RUNNING
    assert clock.due_at == end_of_day(dt.date(2026, 10, 26))
    assert clock.calendar_confirmed


def test_a_clock_points_at_its_subject(head):
    clock = clock_start(purpose="order.reply", subject=head, unit=Clock.Unit.HOURS, limit=24)
    clock = stored(clock)
    assert clock.subject_type == ContentType.objects.get_for_model(head)
    assert clock.subject == head


def test_a_pause_across_national_day_then_resume(decision_clock):
    # When paused on 09-29 for an expert review
    pause = clock_pause(
        clock=decision_clock, kind="expert_review", reason="专家评审", at=at(2026, 9, 29, 16)
    )
    # then it has no deadline while paused
    clock = stored(decision_clock)
    assert (clock.status, clock.due_at) == (Clock.Status.PAUSED, None)
    assert pause.ended_at is None
    # when resumed on 10-09: 09-30, 10-08 and 10-09 are skipped
    clock_resume(clock=decision_clock, at=at(2026, 10, 9, 10))
    clock = stored(decision_clock)
    assert clock.status == Clock.Status.RUNNING
    assert clock.due_at == end_of_day(dt.date(2026, 10, 29))
    assert ClockPause.objects.get(pk=pause.pk).ended_at == at(2026, 10, 9, 10)


def test_an_extension_moves_the_deadline_and_records_the_approver(decision_clock, head):
    extension = clock_extend(
        clock=decision_clock, amount=10, reason="情况复杂，经负责人批准", approved_by=head
    )
    assert extension.approved_by == head
    assert stored(decision_clock).due_at == end_of_day(dt.date(2026, 11, 9))


def test_an_extension_while_paused_counts_once_resumed(decision_clock, head):
    clock_pause(clock=decision_clock, kind="correction", reason="补正", at=at(2026, 10, 12))
    clock_extend(clock=decision_clock, amount=10, reason="批准延期", approved_by=head)
    assert stored(decision_clock).due_at is None
    clock_resume(clock=decision_clock, at=at(2026, 10, 12, 17))
    assert stored(decision_clock).due_at == end_of_day(dt.date(2026, 11, 9))


def test_a_stopped_clock_keeps_its_deadline_and_says_it_was_on_time(decision_clock):
    clock_stop(clock=decision_clock, at=at(2026, 10, 20, 11))
    clock = Clock.objects.prefetch_related("pauses", "extensions").get(pk=decision_clock.pk)
    assert (clock.status, clock.stopped_at) == (Clock.Status.STOPPED, at(2026, 10, 20, 11))
    assert clock.due_at == end_of_day(dt.date(2026, 10, 26))
    state = clock_state(clock, now=at(2026, 12, 1), thresholds=PLAIN)
    assert (state.light, state.on_time, state.due_at) == (Light.STOPPED, True, clock.due_at)


def test_stopping_a_paused_clock_ends_its_pause(decision_clock):
    pause = clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    clock_stop(clock=decision_clock, at=at(2026, 10, 14, 9))
    assert ClockPause.objects.get(pk=pause.pk).ended_at == at(2026, 10, 14, 9)
    # (10-12, 10-14] skipped two working days: 10-26 → 10-28
    assert stored(decision_clock).due_at == end_of_day(dt.date(2026, 10, 28))


def test_an_hours_clock_with_a_pause():
    clock = clock_start(
        purpose="order.urgent", unit=Clock.Unit.HOURS, limit=24, started_at=at(2026, 11, 23, 10)
    )
    clock_pause(clock=clock, kind="consultation", reason="征求意见", at=at(2026, 11, 23, 14))
    clock_resume(clock=clock, at=at(2026, 11, 23, 16, 30))
    assert stored(clock).due_at == at(2026, 11, 24, 12, 30)


def test_the_services_do_not_audit(decision_clock, head):
    clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    clock_resume(clock=decision_clock, at=at(2026, 10, 13))
    clock_extend(clock=decision_clock, amount=1, reason="批准", approved_by=head)
    clock_stop(clock=decision_clock)
    assert not AuditEvent.objects.exists()


# --- the state read -------------------------------------------------------------------------


def test_reading_states_makes_no_query_with_prefetching(
    decision_clock, head, django_assert_num_queries
):
    clock_extend(clock=decision_clock, amount=2, reason="批准", approved_by=head)
    clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    clocks = list(Clock.objects.prefetch_related("pauses", "extensions"))
    workdays.get_calendar()
    with django_assert_num_queries(0):
        states = [clock_state(clock, now=at(2026, 10, 14), thresholds=PLAIN) for clock in clocks]
    assert states[0].light == Light.PAUSED


def test_the_state_of_a_running_clock(decision_clock):
    clock = Clock.objects.prefetch_related("pauses", "extensions").get(pk=decision_clock.pk)
    state = clock_state(clock, now=at(2026, 10, 23, 10), thresholds=PLAIN)
    # Friday 10-23, due Monday 10-26: one working day left
    assert (state.light, state.remaining, state.confirmed) == (Light.YELLOW, 1, True)
    assert clock_state(clock, now=at(2026, 10, 27), thresholds=PLAIN).light == Light.RED


# --- bad transitions ------------------------------------------------------------------------


def codes(error):
    return {e.code for e in error.value.error_list}


def test_pausing_a_paused_clock_is_refused(decision_clock):
    clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    with pytest.raises(ValidationError) as error:
        clock_pause(clock=decision_clock, kind="hearing", reason="again", at=at(2026, 10, 13))
    assert codes(error) == {"already_paused"}


def test_resuming_a_running_clock_is_refused(decision_clock):
    with pytest.raises(ValidationError) as error:
        clock_resume(clock=decision_clock)
    assert codes(error) == {"not_paused"}


@pytest.mark.parametrize(
    ("amount", "code"), [(0, "amount"), (-3, "amount"), (1.5, "amount"), (True, "amount")]
)
def test_an_extension_must_be_a_positive_whole_number(decision_clock, head, amount, code):
    with pytest.raises(ValidationError) as error:
        clock_extend(clock=decision_clock, amount=amount, reason="批准", approved_by=head)
    assert codes(error) == {code}


def test_an_extension_needs_a_reason_and_an_approver(decision_clock, head):
    with pytest.raises(ValidationError) as error:
        clock_extend(clock=decision_clock, amount=5, reason="", approved_by=head)
    assert codes(error) == {"extension_reason"}
    with pytest.raises(ValidationError) as error:
        clock_extend(clock=decision_clock, amount=5, reason="批准", approved_by=None)
    assert codes(error) == {"approver"}


@pytest.mark.parametrize(
    "act",
    [
        lambda clock, user: clock_pause(clock=clock, kind="hearing", reason="听证"),
        lambda clock, user: clock_resume(clock=clock),
        lambda clock, user: clock_extend(clock=clock, amount=1, reason="批准", approved_by=user),
        lambda clock, user: clock_stop(clock=clock),
    ],
    ids=["pause", "resume", "extend", "stop"],
)
def test_a_stopped_clock_refuses_every_change(decision_clock, head, act):
    clock_stop(clock=decision_clock, at=at(2026, 10, 20))
    with pytest.raises(ValidationError) as error:
        act(decision_clock, head)
    assert codes(error) == {"stopped"}
    assert stored(decision_clock).stopped_at == at(2026, 10, 20)


def test_a_stale_instance_cannot_bypass_the_state_check(decision_clock):
    # Given another request holds an old copy of the clock that says "running"
    stale = Clock.objects.get(pk=decision_clock.pk)
    clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    # when it pauses again, the service reloads the row and refuses
    with pytest.raises(ValidationError):
        clock_pause(clock=stale, kind="hearing", reason="again", at=at(2026, 10, 13))
    assert ClockPause.objects.count() == 1


@pytest.mark.parametrize(
    "act",
    [
        lambda clock: clock_pause(clock=clock, kind="hearing", reason="听证", at=at(2026, 9, 20)),
        lambda clock: clock_stop(clock=clock, at=at(2026, 9, 21, 8)),
        lambda clock: clock_stop(clock=clock, at=dt.datetime(2026, 10, 1, 9)),  # naive
    ],
    ids=["pause-before-start", "stop-before-start", "naive-time"],
)
def test_times_must_be_aware_and_in_order(decision_clock, act):
    with pytest.raises(ValidationError):
        act(decision_clock)
    assert stored(decision_clock).status == Clock.Status.RUNNING


def test_a_resume_cannot_precede_its_pause(decision_clock):
    clock_pause(clock=decision_clock, kind="hearing", reason="听证", at=at(2026, 10, 12))
    with pytest.raises(ValidationError) as error:
        clock_resume(clock=decision_clock, at=at(2026, 10, 9))
    assert codes(error) == {"time_order"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"unit": "weeks", "limit": 1}, "unit"),
        ({"unit": Clock.Unit.DAYS, "limit": -1}, "limit"),
        ({"unit": Clock.Unit.DAYS, "limit": 2.5}, "limit"),
        ({"unit": Clock.Unit.DAYS, "limit": 1, "purpose": ""}, "purpose"),
    ],
)
def test_a_bad_start_is_refused(kwargs, code):
    with pytest.raises(ValidationError) as error:
        clock_start(**{"purpose": "case.decision", **kwargs})
    assert codes(error) == {code}
    assert not Clock.objects.exists()


def test_a_pause_needs_a_reason(decision_clock):
    with pytest.raises(ValidationError) as error:
        clock_pause(clock=decision_clock, kind="hearing", reason="")
    assert codes(error) == {"pause_reason"}


# --- the unknown year and its import --------------------------------------------------------

NOTICE_2027 = "国务院办公厅关于2027年部分节假日安排的通知"


def test_a_clock_reaching_2027_is_unconfirmed_until_the_year_is_imported():
    # Given a clock of 10 working days from Monday 2026-12-21, computed on the weekdays guess
    clock = clock_start(
        purpose="case.decision", unit=Clock.Unit.WORKDAYS, limit=10, started_at=at(2026, 12, 21)
    )
    assert stored(clock).due_at == end_of_day(dt.date(2027, 1, 4))
    assert not stored(clock).calendar_confirmed
    # and a stopped one that must not change
    stopped = clock_start(
        purpose="case.decision", unit=Clock.Unit.WORKDAYS, limit=10, started_at=at(2026, 12, 21)
    )
    clock_stop(clock=stopped, at=at(2026, 12, 30))
    # when the 2027 notice is imported with 01-01 off
    import_year(year=2027, rows=numbered([("2027-01-01", "holiday", "元旦")]), notice=NOTICE_2027)
    # then the running clock is recomputed: 01-01 is skipped, due Tuesday 01-05, confirmed
    clock = stored(clock)
    assert clock.due_at == end_of_day(dt.date(2027, 1, 5))
    assert clock.calendar_confirmed
    # and the stopped one keeps what it had
    assert stored(stopped).due_at == end_of_day(dt.date(2027, 1, 4))


def test_recomputing_also_confirms_paused_clocks_without_giving_them_a_deadline():
    clock = clock_start(
        purpose="case.decision", unit=Clock.Unit.WORKDAYS, limit=10, started_at=at(2026, 12, 21)
    )
    clock_pause(clock=clock, kind="hearing", reason="听证", at=at(2026, 12, 22))
    Clock.objects.filter(pk=clock.pk).update(calendar_confirmed=False)
    import_year(year=2027, rows=numbered([("2027-01-01", "holiday", "元旦")]), notice=NOTICE_2027)
    clock = stored(clock)
    assert (clock.due_at, clock.status, clock.calendar_confirmed) == (
        None,
        Clock.Status.PAUSED,
        True,
    )


def test_recompute_leaves_confirmed_clocks_alone(decision_clock):
    Clock.objects.filter(pk=decision_clock.pk).update(due_at=at(2030, 1, 1))
    assert recompute_unconfirmed() == 0
    assert stored(decision_clock).due_at == at(2030, 1, 1)


def test_the_clock_admin_lists_clocks_with_their_light(admin_client, decision_clock):
    response = admin_client.get("/admin/common/clock/")
    assert response.status_code == 200
    assert "case.decision" in response.content.decode()
    assert admin_client.get(f"/admin/common/clock/{decision_clock.pk}/change/").status_code == 200
    assert admin_client.get("/admin/common/clock/add/").status_code == 403


def test_the_database_allows_one_open_pause_per_clock():
    from django.db import IntegrityError, transaction

    clock = clock_start(
        purpose="case.decision", unit="workdays", limit=20, started_at=at(2026, 3, 2)
    )
    clock_pause(clock=clock, kind="correction", reason="补正", at=at(2026, 3, 3))
    # given a writer that bypasses the services, the constraint still holds
    with pytest.raises(IntegrityError), transaction.atomic():
        ClockPause.objects.create(clock=clock, kind="x", reason="x", started_at=at(2026, 3, 4))
