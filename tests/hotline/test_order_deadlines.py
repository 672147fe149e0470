"""The clocks of a work order on the real calendar, and the sweep that cards missed deadlines.

From the dispatch, three clocks run: to sign, to reply and to close, by the order's type ×
urgency (a DeadlineRule row, else yimen.hotline.services.DEFAULT_DEADLINES): wall-clock
hours for urgent orders, working days otherwise. Around National Day 2026 the days off are
10-01…10-07 with Sunday 09-20 and Saturday 10-10 worked; around the Spring Festival they are
02-15…02-23 with Saturday 02-14 and Saturday 02-28 worked. November 2026 has no holiday.
Time is held still with `Frozen` (django.utils.timezone.now patched)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import override_settings

from yimen.common import workdays
from yimen.common.clock import Light, end_of_day
from yimen.common.models import AuditEvent, Clock
from yimen.common.models.calendar import CalendarYear
from yimen.hotline import orders, selectors
from yimen.hotline.choices import (
    CardColour,
    NoticeKind,
    OrderClock,
    RequestStatus,
    Resolution,
    Satisfaction,
)
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.models import Card, DeadlineRule, Notice, OrderRequest, WorkOrder
from yimen.hotline.workflow import StepRefused

from .factories import Frozen, OrderScene, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _calendar_2026():
    """The seeded calendar (a transactional test elsewhere may have flushed it)."""
    if not CalendarYear.objects.filter(year=2026).exists():
        importlib.import_module("yimen.common.migrations.0002_seed_calendar").seed(apps, None)
        workdays.invalidate()
    assert not workdays.is_workday(dt.date(2026, 10, 1))
    assert workdays.is_workday(dt.date(2026, 10, 10))
    assert workdays.is_workday(dt.date(2026, 2, 14))


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:  # a Monday
        yield frozen


@pytest.fixture
def scene(time):
    return OrderScene()


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def clocks_of(order) -> tuple[Clock, Clock, Clock]:
    order = fresh(order)
    return order.sign_clock, order.reply_clock, order.close_clock


def due_days(order) -> tuple[dt.date, dt.date, dt.date]:
    """The due dates of the sign, reply and close clocks (each the end of its day)."""
    days = []
    for clock in clocks_of(order):
        day = clock.due_at.astimezone(at(2026, 1, 1).tzinfo).date()
        assert clock.due_at == end_of_day(day)
        assert clock.calendar_confirmed
        days.append(day)
    return tuple(days)


def dispatched(scene, **data) -> WorkOrder:
    return scene.order_at(S.DISPATCHED, **data)


def approve(scene, order, kind, amount=None):
    request = orders.order_request(
        order=order, actor=scene.handler, kind=kind, reason="需要协调多部门", amount=amount
    )
    return orders.order_decide_request(request=request, actor=scene.agent, approve=True)


# --- hours for urgent orders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "hours"), [("urgent", (4, 24, 48)), ("very_urgent", (2, 12, 24))]
)
def test_an_urgent_orders_clocks_run_in_wall_clock_hours_by_default(scene, time, urgency, hours):
    # Given an urgent order dispatched late on a holiday evening
    time.to(2026, 10, 3, 22, 30)
    order = dispatched(scene, urgency=urgency)
    # Then its clocks run in hours, holidays or not
    started = at(2026, 10, 3, 22, 30)
    clocks = clocks_of(order)
    assert [c.unit for c in clocks] == ["hours"] * 3
    assert [c.limit for c in clocks] == list(hours)
    assert [c.due_at for c in clocks] == [started + dt.timedelta(hours=h) for h in hours]
    assert all(c.started_at == started for c in clocks)


def test_an_urgent_orders_clocks_follow_its_deadline_rule(scene, time):
    # Given a rule of 1 / 6 / 12 hours for urgent complaints
    DeadlineRule.objects.create(
        order_type="complaint",
        urgency="urgent",
        unit="hours",
        sign_limit=1,
        reply_limit=6,
        close_limit=12,
    )
    order = dispatched(scene, urgency="urgent")
    assert [c.due_at for c in clocks_of(order)] == [
        at(2026, 11, 2, 11),
        at(2026, 11, 2, 16),
        at(2026, 11, 2, 22),
    ]


def test_an_urgent_orders_light_turns_yellow_then_red_by_the_hour(scene, time):
    order = dispatched(scene, urgency="urgent")  # sign within 4 hours: by 14:00
    assert selectors.light(fresh(order), now=at(2026, 11, 2, 11)).light == Light.GREEN
    assert selectors.light(fresh(order), now=at(2026, 11, 2, 12, 30)).light == Light.YELLOW
    assert selectors.light(fresh(order), now=at(2026, 11, 2, 14, 1)).light == Light.RED


# --- working days for the others ------------------------------------------------------------------


def test_a_normal_order_counts_working_days_across_national_day(scene, time):
    # Given a complaint (1 / 5 / 15 working days) dispatched the day before National Day
    time.to(2026, 9, 30)
    order = dispatched(scene)
    # Then sign by 10-08; reply by 10-13 (10-08, 10-09, the worked Saturday 10-10, 10-12,
    # 10-13); close by 10-27
    assert due_days(order) == (dt.date(2026, 10, 8), dt.date(2026, 10, 13), dt.date(2026, 10, 27))
    assert [c.unit for c in clocks_of(order)] == ["workdays"] * 3


def test_a_consultation_counts_working_days_across_the_spring_festival(scene, time):
    # Given a consultation (1 / 3 / 5 working days) dispatched on the Friday before it
    time.to(2026, 2, 13, 16)
    order = dispatched(scene, order_type="consultation")
    # Then sign on the worked Saturday 02-14; reply by 02-25; close by 02-27
    assert due_days(order) == (dt.date(2026, 2, 14), dt.date(2026, 2, 25), dt.date(2026, 2, 27))


def test_a_working_day_rule_row_replaces_the_default(scene, time):
    DeadlineRule.objects.create(
        order_type="complaint",
        urgency="normal",
        unit="workdays",
        sign_limit=2,
        reply_limit=4,
        close_limit=10,
    )
    order = dispatched(scene)
    assert due_days(order) == (dt.date(2026, 11, 4), dt.date(2026, 11, 6), dt.date(2026, 11, 16))


def test_the_governing_clock_follows_the_state(scene, time):
    order = dispatched(scene)
    sign, reply, close = clocks_of(order)
    assert selectors.governing_clock(fresh(order)) == sign
    orders.order_sign(order=order, actor=scene.handler)
    assert selectors.governing_clock(fresh(order)) == reply
    orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    assert selectors.governing_clock(fresh(order)) == close
    orders.order_send_back(order=order, actor=scene.agent, reason="不完整")
    # sent back: a new reply clock governs (the old one stopped at the reply)
    again = fresh(order).reply_clock
    assert again.pk != reply.pk
    assert selectors.governing_clock(fresh(order)) == again
    assert selectors.light(scene.register()) is None


# --- extensions -----------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_reply_and_close_deadlines(scene, time):
    # Given a complaint dispatched on Monday 11-02: sign 11-03, reply 11-09, close 11-23
    order = dispatched(scene)
    assert due_days(order) == (dt.date(2026, 11, 3), dt.date(2026, 11, 9), dt.date(2026, 11, 23))
    orders.order_sign(order=order, actor=scene.handler)
    # When the center approves 3 more working days
    request = approve(scene, order, "extension", amount=3)
    # Then the reply and close deadlines move by 3 working days, the sign one stays
    assert due_days(order) == (dt.date(2026, 11, 3), dt.date(2026, 11, 12), dt.date(2026, 11, 26))
    _sign, reply, close = clocks_of(order)
    for clock in (reply, close):
        extension = clock.extensions.get()
        assert (extension.amount, extension.approved_by) == (3, scene.agent)
    assert (request.status, request.decided_by) == (RequestStatus.APPROVED, scene.agent)
    assert Notice.objects.filter(unit=scene.unit, kind=NoticeKind.DECISION).count() == 1
    event = AuditEvent.objects.get(action="hotline.order.decide_request")
    assert event.payload == {"request": request.pk, "kind": "extension", "approved": True}


def test_an_urgent_extension_is_in_hours(scene, time):
    order = dispatched(scene, urgency="urgent")  # reply by 11-03 10:00, close by 11-04 10:00
    with pytest.raises(ValidationError) as error:
        orders.order_request(
            order=order, actor=scene.handler, kind="extension", reason="x", amount=49
        )
    assert "Between 1 and 48" in error.value.message_dict["amount"][0]
    approve(scene, order, "extension", amount=6)
    _sign, reply, close = clocks_of(order)
    assert (reply.due_at, close.due_at) == (at(2026, 11, 3, 16), at(2026, 11, 4, 16))


def test_a_rejected_extension_moves_nothing(scene, time):
    order = dispatched(scene)
    before = due_days(order)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="x", amount=5
    )
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="不予延期")
    assert due_days(order) == before
    assert OrderRequest.objects.get().status == RequestStatus.REJECTED


def test_a_reply_sent_back_gets_a_new_reply_deadline_and_extensions_move_it(scene, time):
    # Given an order replied on Monday 11-02 (close by 11-23), sent back on Wednesday
    order = scene.order_at(S.REPLIED)
    _sign, old_reply, close = clocks_of(order)
    assert close.status == Clock.Status.PAUSED  # the center's review is not the unit's time
    time.to(2026, 11, 4, 10)
    orders.order_send_back(order=order, actor=scene.agent, reason="不完整")
    # Then the unit has 5 new working days to reply, and the close deadline moved by the 2
    # working days of the review (11-03, 11-04)
    _sign, reply, close = clocks_of(order)
    assert reply.pk != old_reply.pk and reply.started_at == at(2026, 11, 4, 10)
    assert (reply.status, close.status) == (Clock.Status.RUNNING, Clock.Status.RUNNING)
    assert close.pauses.get().kind == "hotline.review"
    assert due_days(order)[1:] == (dt.date(2026, 11, 11), dt.date(2026, 11, 25))
    # When the center approves 2 more working days
    approve(scene, order, "extension", amount=2)
    # Then the new reply and the close deadlines move; the stopped reply clock is left alone
    assert due_days(order)[1:] == (dt.date(2026, 11, 13), dt.date(2026, 11, 27))
    old_reply.refresh_from_db()
    assert not old_reply.extensions.exists()


def test_the_centers_review_and_callback_do_not_run_the_units_close_clock(scene, time):
    # Given an order replied on time on Monday 11-02 (close by 11-23)
    order = scene.order_at(S.REPLIED)
    # When the center accepts the reply and calls back only in December
    time.to(2026, 12, 10)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    orders.order_accept_reply(order=order, actor=scene.agent)
    assert fresh(order).close_clock.status == Clock.Status.PAUSED
    orders.order_callback(order=order, actor=scene.agent, result="satisfied")
    # Then the close clock stopped on time (the wait was the center's) and nobody is carded
    close = fresh(order).close_clock
    assert (close.status, close.stopped_at) == (Clock.Status.STOPPED, at(2026, 12, 10))
    assert close.stopped_at <= close.due_at
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


# --- reopening ------------------------------------------------------------------------------------


def test_a_dissatisfied_caller_reopens_the_order_with_fresh_reply_and_close_clocks(scene, time):
    # Given an order replied on Wednesday and called back on Friday 11-06
    order = scene.order_at(S.HANDLING)
    old_sign, old_reply, old_close = clocks_of(order)
    time.to(2026, 11, 4)
    orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    orders.order_accept_reply(order=order, actor=scene.agent)
    time.to(2026, 11, 6, 15)
    # When the caller is dissatisfied
    orders.order_callback(order=order, actor=scene.agent, result="unsatisfied", note="仍不亮")
    # Then the unit handles it again: new reply and close clocks from now
    order = fresh(order)
    assert (order.status, order.reopen_count, order.satisfaction) == (
        S.HANDLING,
        1,
        Satisfaction.UNSATISFIED,
    )
    sign, reply, close = clocks_of(order)
    assert sign == old_sign
    assert reply.pk != old_reply.pk and close.pk != old_close.pk
    assert reply.started_at == close.started_at == at(2026, 11, 6, 15)
    assert due_days(order) == (dt.date(2026, 11, 3), dt.date(2026, 11, 13), dt.date(2026, 11, 27))
    # the old close clock stopped at the callback
    old_close.refresh_from_db()
    assert (old_close.status, old_close.stopped_at) == (Clock.Status.STOPPED, at(2026, 11, 6, 15))
    notice = Notice.objects.get(kind=NoticeKind.REOPENED)
    assert (notice.unit, notice.detail) == (scene.unit, "仍不亮")
    event = AuditEvent.objects.get(action="hotline.order.callback")
    assert (event.from_state, event.to_state) == (S.CALLBACK, S.HANDLING)
    assert event.payload == {"result": "unsatisfied", "reopened": 1}
    # and it closes at the next satisfied callback
    scene.walk(order, S.CLOSED)
    order = fresh(order)
    assert (order.status, order.satisfaction) == (S.CLOSED, Satisfaction.SATISFIED)
    assert order.close_clock.status == Clock.Status.STOPPED


def callback_unsatisfied(scene, order):
    orders.order_reply(order=order, actor=scene.handler, reply="已办")
    orders.order_accept_reply(order=order, actor=scene.agent)
    orders.order_callback(order=order, actor=scene.agent, result="unsatisfied")
    return fresh(order)


@override_settings(YIMEN_HOTLINE_REOPEN_LIMIT=1)
def test_past_the_reopen_limit_a_dissatisfied_caller_closes_the_order(scene):
    order = scene.order_at(S.HANDLING)
    assert callback_unsatisfied(scene, order).status == S.HANDLING
    order = callback_unsatisfied(scene, order)
    assert (order.status, order.reopen_count, order.satisfaction, order.resolution) == (
        S.CLOSED,
        1,
        Satisfaction.UNSATISFIED,
        Resolution.HANDLED,
    )
    assert order.close_clock.status == Clock.Status.STOPPED


@override_settings(YIMEN_HOTLINE_REOPEN_LIMIT=0)
def test_with_no_reopening_allowed_a_dissatisfied_caller_closes_the_order(scene):
    order = callback_unsatisfied(scene, scene.order_at(S.HANDLING))
    assert (order.status, order.reopen_count) == (S.CLOSED, 0)


def test_the_default_reopen_limit_is_two(scene, settings):
    assert settings.YIMEN_HOTLINE_REOPEN_LIMIT == 2
    order = scene.order_at(S.HANDLING)
    assert [callback_unsatisfied(scene, order).status for _ in range(3)] == [
        S.HANDLING,
        S.HANDLING,
        S.CLOSED,
    ]


# --- returns --------------------------------------------------------------------------------------


def test_an_approved_return_stops_the_clocks_and_redispatch_starts_fresh_ones(scene, time):
    # Given an order the unit signed, with an extension waiting too
    order = scene.order_at(S.HANDLING)
    old = clocks_of(order)
    orders.order_request(order=order, actor=scene.handler, kind="extension", reason="x", amount=2)
    # When its return is approved the next day
    time.to(2026, 11, 3, 9)
    approve(scene, order, "return")
    # Then the order waits for the center again, no unit holds it, its clocks stopped
    order = fresh(order)
    assert (order.status, order.lead_unit, order.signed_at) == (S.REGISTERED, None, None)
    assert not order.assignments.filter(is_active=True).exists()
    for clock in old:
        clock.refresh_from_db()
        assert clock.status == Clock.Status.STOPPED
    assert [c.stopped_at for c in old[1:]] == [at(2026, 11, 3, 9)] * 2
    assert selectors.light(order) is None
    # and the waiting extension was rejected; the co-handler was told it is taken back
    extension = OrderRequest.objects.get(kind="extension")
    assert extension.status == RequestStatus.REJECTED
    assert Notice.objects.filter(unit=scene.co_unit, kind=NoticeKind.RECALLED).exists()
    assert not Notice.objects.filter(unit=scene.unit, kind=NoticeKind.RECALLED).exists()
    # When the center dispatches it to the right unit on Thursday
    time.to(2026, 11, 5, 11)
    orders.order_dispatch(order=order, actor=scene.agent, lead=scene.other_unit)
    # Then three new clocks run from then
    new = clocks_of(order)
    assert not {c.pk for c in new} & {c.pk for c in old}
    assert all(c.started_at == at(2026, 11, 5, 11) for c in new)
    assert all(c.status == Clock.Status.RUNNING for c in new)
    assert due_days(order) == (dt.date(2026, 11, 6), dt.date(2026, 11, 12), dt.date(2026, 11, 26))
    # and a sweep long after cards the new unit only, and nothing for the returned clocks
    time.to(2026, 11, 9)
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    assert Card.objects.get().unit == scene.other_unit


def ask_return(scene, order, reason="非本单位职责"):
    return orders.order_request(order=order, actor=scene.handler, kind="return", reason=reason)


def test_a_return_pauses_the_units_clocks_until_the_center_rejects_it(scene, time):
    # Given an order signed on Monday 11-02: reply by 11-09, close by 11-23
    order = scene.order_at(S.HANDLING)
    sign, reply, close = clocks_of(order)
    # When the unit asks on Tuesday to return it
    time.to(2026, 11, 3, 10)
    request = ask_return(scene, order)
    # Then its running clocks pause (the stopped sign clock stays as it was)
    sign, reply, close = clocks_of(order)
    assert sign.status == Clock.Status.STOPPED and not sign.pauses.exists()
    for clock in (reply, close):
        assert (clock.status, clock.due_at) == (Clock.Status.PAUSED, None)
        pause = clock.pauses.get()
        assert (pause.kind, pause.reason, pause.started_at, pause.ended_at) == (
            "hotline.return",
            "非本单位职责",
            at(2026, 11, 3, 10),
            None,
        )
    assert selectors.light(fresh(order)).light == Light.PAUSED
    # When the center decides only on Tuesday 11-10, after the reply deadline
    time.to(2026, 11, 10, 10)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    assert "card" not in {s.action for s in selectors.offered_steps(scene.supervisor, order)}
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属贵单位")
    # Then the clocks run again, their deadlines moved by the 5 working days of the wait
    # (11-04, 11-05, 11-06, 11-09, 11-10)
    _sign, reply, close = clocks_of(order)
    assert (reply.status, close.status) == (Clock.Status.RUNNING, Clock.Status.RUNNING)
    assert [c.pauses.get().ended_at for c in (reply, close)] == [at(2026, 11, 10, 10)] * 2
    assert due_days(order) == (dt.date(2026, 11, 3), dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    # and the center's late decision earns the unit no card
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    assert selectors.light(fresh(order)).light != Light.RED
    # while the moved deadline, once missed, is carded
    time.to(2026, 11, 17)
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    assert Card.objects.get().deadline == OrderClock.REPLY


def test_a_return_asked_before_signing_pauses_the_sign_clock_too(scene, time):
    # Given an order dispatched on Monday (sign by 11-03), which the unit asks to return
    order = dispatched(scene)
    time.to(2026, 11, 2, 15)
    request = ask_return(scene, order)
    assert {c.status for c in clocks_of(order)} == {Clock.Status.PAUSED}
    # When the center rejects it on Thursday
    time.to(2026, 11, 5, 9)
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属贵单位")
    # Then all three deadlines move by the 3 working days of the wait, none missed
    assert due_days(order) == (dt.date(2026, 11, 6), dt.date(2026, 11, 12), dt.date(2026, 11, 26))
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


def test_an_urgent_orders_hours_pause_for_the_exact_wait(scene, time):
    order = dispatched(scene, urgency="urgent")  # sign by 14:00, reply and close 24 / 48 h on
    time.forward(hours=1)
    request = ask_return(scene, order)
    time.forward(hours=30)
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属贵单位")
    assert [c.due_at for c in clocks_of(order)] == [
        at(2026, 11, 3, 20),
        at(2026, 11, 4, 16),
        at(2026, 11, 5, 16),
    ]
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


def test_a_return_approved_late_stops_the_clocks_and_cards_nobody(scene, time):
    # Given an order the unit asked to return on the day it was dispatched
    order = dispatched(scene)
    time.to(2026, 11, 2, 15)
    request = ask_return(scene, order)
    # When the center approves it only on Friday 11-13, past the sign and reply deadlines
    time.to(2026, 11, 13, 16)
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    # Then the order is the center's again; its clocks stopped then, their pause ended there
    assert fresh(order).status == S.REGISTERED
    for clock in clocks_of(order):
        assert (clock.status, clock.stopped_at) == (Clock.Status.STOPPED, at(2026, 11, 13, 16))
        assert clock.pauses.get().ended_at == at(2026, 11, 13, 16)
        assert clock.stopped_at <= clock.due_at  # on time: the wait was the center's
    # and no deadline of it is ever carded
    time.to(2026, 12, 31)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    assert (
        not orders.overdue_clocks(at(2026, 12, 31))
        .filter(pk__in=orders.order_clocks(order))
        .exists()
    )


def test_a_return_asked_after_a_deadline_was_missed_does_not_excuse_it(scene, time):
    # Given an order left unsigned past its deadline (the end of Tuesday), not swept yet
    order = dispatched(scene)
    time.to(2026, 11, 5, 9)
    # When the unit asks to return it then, and the center approves the next day
    request = ask_return(scene, order)
    time.to(2026, 11, 6, 9)
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    # Then the sign deadline, missed before the wait began, is still carded to the unit
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    card = Card.objects.get()
    assert (card.unit, card.deadline) == (scene.unit, OrderClock.SIGN)


def test_a_late_rejected_return_leaves_no_card_to_give(scene, time):
    # Given an order whose return waited past the original sign deadline
    order = dispatched(scene)
    request = ask_return(scene, order)
    time.to(2026, 11, 9)
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属贵单位")
    # Then a supervisor is not offered a card, and one tried is refused
    order = fresh(order)
    assert "card" not in {s.action for s in selectors.offered_steps(scene.supervisor, order)}
    with pytest.raises(ValidationError):
        orders.order_card(order=order, actor=scene.supervisor, reason="超时未签收")
    assert not Card.objects.exists()


# --- the sweep ------------------------------------------------------------------------------------


def test_an_overdue_sign_gets_a_yellow_card_with_a_notice_and_an_event(scene, time):
    # Given an order dispatched Monday and not signed by the end of Tuesday
    order = dispatched(scene)
    time.to(2026, 11, 3, 23, 59)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}  # not yet overdue
    time.to(2026, 11, 4, 0, 15)
    # When the sweep runs
    counts = orders.sweep()
    # Then the lead unit gets a yellow card for the sign deadline
    assert counts == {"yellow_cards": 1, "red_cards": 0}
    card = Card.objects.get()
    assert (card.order, card.unit, card.colour, card.deadline) == (
        fresh(order),
        scene.unit,
        CardColour.YELLOW,
        OrderClock.SIGN,
    )
    assert card.clock == fresh(order).sign_clock
    assert (card.issued_at, card.issued_by) == (at(2026, 11, 4, 0, 15), None)
    notice = Notice.objects.get(kind=NoticeKind.CARD)
    assert notice.unit == scene.unit and "Yellow card" in notice.detail
    event = AuditEvent.objects.get(action="hotline.order.card")
    assert (event.actor, event.channel, event.from_state, event.to_state) == (
        None,
        "system",
        S.DISPATCHED,
        S.DISPATCHED,
    )
    assert event.payload == {"card": card.pk, "colour": "yellow", "deadline": "hotline.sign"}


def test_a_later_missed_reply_on_the_same_order_gets_a_red_card(scene, time):
    order = dispatched(scene)
    time.to(2026, 11, 4)
    orders.sweep()
    time.to(2026, 11, 10)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 1}
    red = Card.objects.get(colour=CardColour.RED)
    assert (red.order, red.unit, red.deadline) == (fresh(order), scene.unit, OrderClock.REPLY)


@override_settings(YIMEN_HOTLINE_YELLOWS_BEFORE_RED=2)
def test_red_comes_after_the_configured_number_of_yellows(scene, time):
    dispatched(scene)
    time.to(2026, 12, 31)  # sign, reply and close all missed
    assert orders.sweep() == {"yellow_cards": 2, "red_cards": 1}
    assert list(Card.objects.order_by("clock__due_at").values_list("deadline", "colour")) == [
        (OrderClock.SIGN, CardColour.YELLOW),
        (OrderClock.REPLY, CardColour.YELLOW),
        (OrderClock.CLOSE, CardColour.RED),
    ]


def test_a_unit_is_carded_per_order(scene, time):
    dispatched(scene)
    dispatched(scene)
    time.to(2026, 11, 4)
    assert orders.sweep() == {"yellow_cards": 2, "red_cards": 0}


def test_a_clock_stopped_late_is_carded_too(scene, time):
    # Given an order signed on Thursday, after its Tuesday deadline, before any sweep
    order = dispatched(scene)
    time.to(2026, 11, 5, 9)
    orders.order_sign(order=order, actor=scene.handler)
    # When the sweep runs
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    # Then the late signature is carded
    card = Card.objects.get()
    assert (card.deadline, card.unit) == (OrderClock.SIGN, scene.unit)
    assert AuditEvent.objects.get(action="hotline.order.card").from_state == S.HANDLING


def test_a_clock_stopped_in_time_is_never_carded(scene, time):
    scene.order_at(S.CLOSED)
    time.to(2027, 3, 1)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


def test_nothing_is_carded_twice(scene, time):
    dispatched(scene)
    time.to(2026, 11, 4)
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    events = AuditEvent.objects.count()
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    assert Card.objects.count() == 1
    assert Notice.objects.filter(kind=NoticeKind.CARD).count() == 1
    assert AuditEvent.objects.count() == events


def test_a_missed_supervision_deadline_is_carded_to_its_unit(scene, time):
    # Given a supervision order (2 working days) on an order the unit is handling
    order = scene.order_at(S.HANDLING)
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    assert supervision.clock.due_at == end_of_day(dt.date(2026, 11, 4))
    # When it is left unanswered past its deadline
    time.to(2026, 11, 5)
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    # Then the unit is carded for it
    card = Card.objects.get()
    assert (card.deadline, card.unit, card.clock) == (
        OrderClock.SUPERVISION,
        scene.unit,
        supervision.clock,
    )
    # and an answer now is late: that clock is not carded again
    orders.order_answer_supervision(supervision=supervision, actor=scene.handler, answer="已办")
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


def test_a_supervision_answered_late_is_carded(scene, time):
    order = scene.order_at(S.HANDLING, urgency="urgent")
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    time.forward(hours=13)  # 12 hours to answer
    orders.order_answer_supervision(supervision=supervision, actor=scene.handler, answer="已办")
    orders.sweep()
    assert Card.objects.filter(deadline=OrderClock.SUPERVISION).count() == 1


def test_the_card_goes_to_the_sub_unit_that_held_the_order_when_the_deadline_passed(scene, time):
    # Given an order passed to the sub-unit on Tuesday, before the parent's sign deadline:
    # the sub-unit has a sign clock of its own, due at the end of Wednesday
    order = dispatched(scene)
    parent_sign = fresh(order).sign_clock
    time.to(2026, 11, 3, 9)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    sign = fresh(order).sign_clock
    assert sign.due_at == end_of_day(dt.date(2026, 11, 4))
    # When the parent's deadline passes, Then nobody is carded (it passed the order on in time)
    time.to(2026, 11, 4)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    # When the sub-unit's own deadline passes unsigned
    time.to(2026, 11, 5)
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    # Then the sub-unit is carded, for its sign clock
    card = Card.objects.get()
    assert (card.unit, card.deadline, card.clock) == (scene.sub_unit, OrderClock.SIGN, sign)
    assert not Card.objects.filter(clock=parent_sign).exists()


def test_the_card_goes_to_the_parent_that_held_the_order_when_the_deadline_passed(scene, time):
    # Given an order the lead unit passed on only after its sign deadline, before a sweep
    order = dispatched(scene)
    time.to(2026, 11, 4, 9)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    time.to(2026, 11, 4, 10)
    orders.sweep()
    # Then the parent unit is carded for it
    card = Card.objects.get()
    assert (card.unit, card.deadline) == (scene.unit, OrderClock.SIGN)
    assert Notice.objects.get(kind=NoticeKind.CARD).unit == scene.unit


def test_a_manual_card_needs_an_overdue_deadline_and_is_not_doubled_by_the_sweep(scene, time):
    order = dispatched(scene)
    events = AuditEvent.objects.count()
    # When a supervisor cards an order that is on time, Then it is refused, nothing written
    with pytest.raises(ValidationError) as error:
        orders.order_card(order=order, actor=scene.supervisor, reason="催办")
    assert set(error.value.message_dict) == {"reason"}
    assert not Card.objects.exists() and AuditEvent.objects.count() == events
    assert not Notice.objects.filter(kind=NoticeKind.CARD).exists()
    # When they card it once the sign deadline passed
    time.to(2026, 11, 4, 9)
    card = orders.order_card(order=order, actor=scene.supervisor, reason="超时未签收")
    # Then the card is theirs, with their reason, and the event says so
    assert (card.colour, card.deadline, card.unit) == (
        CardColour.YELLOW,
        OrderClock.SIGN,
        scene.unit,
    )
    assert (card.issued_by, card.reason) == (scene.supervisor, "超时未签收")
    event = AuditEvent.objects.get(action="hotline.order.card")
    assert (event.actor, event.reason) == (scene.supervisor, "超时未签收")
    # and the sweep does not card that deadline again, nor a second manual card
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}
    with pytest.raises(ValidationError):
        orders.order_card(order=order, actor=scene.supervisor, reason="再次")
    assert Card.objects.count() == 1


def test_only_the_deadlines_already_missed_are_carded(scene, time):
    urgent = dispatched(scene, urgency="very_urgent")
    normal = dispatched(scene)
    time.forward(hours=3)  # past the very urgent sign deadline (2 hours) only
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    assert Card.objects.get().order == fresh(urgent)
    assert not Card.objects.filter(order=normal).exists()


def test_an_approved_return_ends_the_units_open_supervision_clock(scene, time):
    # Given a supervision order to the unit, which then rightly returns the order
    order = scene.order_at(S.HANDLING)
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    approve(scene, order, "return")
    # Then the unit, which may not answer it any more, is not carded for it later
    with pytest.raises(StepRefused):
        orders.order_answer_supervision(supervision=supervision, actor=scene.handler, answer="x")
    supervision.clock.refresh_from_db()
    assert supervision.clock.status == Clock.Status.STOPPED
    time.to(2026, 11, 30)
    assert orders.sweep() == {"yellow_cards": 0, "red_cards": 0}


def test_an_order_passed_on_after_it_was_signed_is_judged_by_the_sub_units_sign_clock(scene, time):
    # Given an order the lead unit signed on Monday, then passed to its sub-unit on Tuesday
    order = scene.order_at(S.HANDLING)
    old_sign, reply, close = clocks_of(order)
    time.to(2026, 11, 3, 9)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    order = fresh(order)
    # Then it is dispatched again, with a fresh sign clock for the sub-unit, unsigned (the
    # parent's signature stays on its dispatch); the reply and close clocks run on
    assert order.status == S.DISPATCHED
    sign = order.sign_clock
    assert sign.pk != old_sign.pk
    assert (sign.started_at, sign.status) == (at(2026, 11, 3, 9), Clock.Status.RUNNING)
    assert sign.due_at == end_of_day(dt.date(2026, 11, 4))
    assert (order.reply_clock, order.close_clock) == (reply, close)
    assert order.signed_at is None
    assert order.assignments.get(unit=scene.unit).signed_at == at(2026, 11, 2)
    # and it is judged by that clock
    assert selectors.governing_clock(order) == sign
    assert selectors.light(order, now=at(2026, 11, 4, 12)).light == Light.YELLOW
    # and once it passed unsigned, a supervisor is offered the card
    assert "card" not in {s.action for s in selectors.offered_steps(scene.supervisor, order)}
    time.to(2026, 11, 5)
    assert selectors.light(order).light == Light.RED
    assert "card" in {s.action for s in selectors.offered_steps(scene.supervisor, order)}
    # When the sub-unit signs on Thursday
    time.to(2026, 11, 5, 8)
    orders.order_sign(order=order, actor=scene.sub_handler)
    # Then the order records the latest signature, and the sub-unit's clock stopped late
    order = fresh(order)
    assert (order.status, order.signed_at) == (S.HANDLING, at(2026, 11, 5, 8))
    assert order.assignments.get(unit=scene.sub_unit).signed_at == at(2026, 11, 5, 8)
    assert order.assignments.get(unit=scene.unit).signed_at == at(2026, 11, 2)
    assert (order.sign_clock.status, order.sign_clock.stopped_at) == (
        Clock.Status.STOPPED,
        at(2026, 11, 5, 8),
    )
    assert selectors.governing_clock(order) == reply
    assert orders.sweep() == {"yellow_cards": 1, "red_cards": 0}
    assert (Card.objects.get().unit, Card.objects.get().clock) == (scene.sub_unit, sign)


def test_a_redispatch_before_signing_stops_the_parents_sign_clock(scene, time):
    # Given an order dispatched on Monday, passed on unsigned on Tuesday
    order = dispatched(scene)
    parent_sign = fresh(order).sign_clock
    time.to(2026, 11, 3, 15)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    # Then the parent's sign clock stopped then, in time; the sub-unit's runs from then
    parent_sign.refresh_from_db()
    assert (parent_sign.status, parent_sign.stopped_at) == (
        Clock.Status.STOPPED,
        at(2026, 11, 3, 15),
    )
    assert parent_sign.stopped_at <= parent_sign.due_at
    order = fresh(order)
    assert order.sign_clock.started_at == at(2026, 11, 3, 15)
    assert order.signed_at is None
    assert Clock.objects.filter(purpose=OrderClock.SIGN, status=Clock.Status.RUNNING).count() == 1
