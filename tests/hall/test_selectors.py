"""The reads of the hall (yimen.hall.selectors): free appointment places, the place of a
ticket in its queue, the board, a window's panel and the queue statistics, with exact
numbers and bounded queries."""

import datetime as dt
from collections import Counter

import pytest

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.org.factories import HallFactory, WindowCategoryFactory, WindowFactory
from yimen.hall import selectors, services
from yimen.hall.choices import Period, TicketStatus
from yimen.hall.models import AppointmentQuota
from yimen.org.choices import Role

from .factories import Floor, person

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


def book(floor, applicant, *, day=MONDAY, period="am", category=None):
    return services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=category or floor.people,
        day=day,
        period=period,
    )


def take(floor, category=None):
    return services.ticket_take(hall=floor.hall, category=category or floor.people)


def call(floor, window="a"):
    return services.ticket_call_next(
        window=getattr(floor, f"window_{window}"), clerk=getattr(floor, f"clerk_{window}")
    )


def check_in(floor, applicant, category=None):
    appointment = book(floor, applicant, category=category)
    return services.appointment_check_in(appointment=appointment, hall=floor.hall)


# --- appointment places ---------------------------------------------------------------------


def test_slots_list_every_bookable_half_day_with_its_free_places(floor, clock):
    # Given Monday morning: one booked, one checked in, one cancelled; Tuesday afternoon one
    book(floor, person(n=1))
    services.appointment_check_in(appointment=book(floor, person(n=2)), hall=floor.hall)
    cancelled = book(floor, person(n=3), day=TUESDAY)
    services.appointment_cancel(appointment=cancelled, actor=cancelled.applicant.user)
    book(floor, person(n=4), day=TUESDAY, period="pm")
    book(floor, person(n=5), category=floor.firms)  # another queue
    # When the slots of the A queue are read at 12:00 on Monday
    clock.to(2026, 11, 23, 12)
    slots = selectors.slots(hall=floor.hall, category=floor.people)
    # Then every bookable day has a morning and an afternoon
    assert len(slots) == 16
    assert [(s.day, s.period) for s in slots[:4]] == [
        (MONDAY, "am"),
        (MONDAY, "pm"),
        (TUESDAY, "am"),
        (TUESDAY, "pm"),
    ]
    assert slots[-1].day == dt.date(2026, 12, 2)
    monday_am, monday_pm, tuesday_am, tuesday_pm = slots[:4]
    # Monday morning is full (booked + checked in) and over
    assert (monday_am.capacity, monday_am.taken, monday_am.left) == (2, 2, 0)
    assert monday_am.is_over and not monday_am.is_open
    # the cancelled place is free again; one taken on Tuesday afternoon
    assert (monday_pm.taken, monday_pm.is_open) == (0, True)
    assert (tuesday_am.taken, tuesday_am.left) == (0, 2)
    assert (tuesday_pm.taken, tuesday_pm.left, tuesday_pm.is_open) == (1, 1, True)
    assert monday_pm.period_label == Period.AFTERNOON.label


def test_a_slot_past_its_end_is_closed_though_places_are_left(floor, clock):
    clock.to(2026, 11, 23, 17, 30)
    monday = selectors.slots(hall=floor.hall, category=floor.people)[:2]
    assert [s.is_over for s in monday] == [True, True]
    assert not any(s.is_open for s in monday)


def test_a_slot_never_shows_fewer_than_zero_places(floor):
    book(floor, person(n=1))
    book(floor, person(n=2))
    AppointmentQuota.objects.filter(category=floor.people, period="am").update(capacity=1)
    slot = selectors.slots(hall=floor.hall, category=floor.people)[0]
    assert (slot.taken, slot.left, slot.is_open) == (2, 0, False)


def test_only_the_periods_with_a_quota_are_offered(floor):
    AppointmentQuota.objects.filter(category=floor.people, period="pm").delete()
    slots = selectors.slots(hall=floor.hall, category=floor.people)
    assert {s.period for s in slots} == {"am"} and len(slots) == 8


def test_no_quota_no_slots(floor):
    other = WindowCategoryFactory(queue_prefix="C")
    assert selectors.slots(hall=floor.hall, category=other) == []


def test_slots_take_two_queries(floor, django_assert_num_queries):
    book(floor, person(n=1))
    with django_assert_num_queries(2):
        selectors.slots(hall=floor.hall, category=floor.people)


def test_open_halls_are_the_active_halls_with_quotas(floor):
    HallFactory()  # no quotas
    closed = Floor.make().hall
    closed.is_active = False
    closed.save()
    assert list(selectors.open_halls()) == [floor.hall]


def test_bookable_categories_are_the_active_ones_with_a_quota_there(floor):
    retired = WindowCategoryFactory(queue_prefix="C", is_active=False)
    AppointmentQuota.objects.create(hall=floor.hall, category=retired, period="am", capacity=1)
    elsewhere = Floor.make()
    AppointmentQuota.objects.filter(hall=elsewhere.hall, category=elsewhere.firms).delete()
    assert set(selectors.bookable_categories(floor.hall)) == {floor.people, floor.firms}
    assert list(selectors.bookable_categories(elsewhere.hall)) == [floor.people]


def test_an_applicant_sees_their_own_appointments_newest_first(floor):
    mine, other = person(n=1), person(n=2)
    monday_am = book(floor, mine)
    tuesday_pm = book(floor, mine, day=TUESDAY, period="pm")
    tuesday_am = book(floor, mine, day=TUESDAY)
    book(floor, other)
    assert list(selectors.appointments_of(mine)) == [tuesday_pm, tuesday_am, monday_am]


def test_an_appointment_is_found_by_its_code(floor):
    appointment = book(floor, person())
    hall = floor.hall
    assert selectors.appointment_by_code(appointment.code, hall=hall) == appointment
    assert selectors.appointment_by_code(f" {appointment.code} ", hall=hall) == appointment
    unknown = f"{(int(appointment.code) + 1) % 10**8:08d}"
    for code in (unknown, appointment.code[:7], "abcdefgh", "", None, appointment.code + "0"):
        assert selectors.appointment_by_code(code, hall=hall) is None, code
    # another hall's kiosk learns nothing of it
    assert selectors.appointment_by_code(appointment.code, hall=HallFactory()) is None


# --- the queue ------------------------------------------------------------------------------


def test_served_categories_are_those_of_the_active_windows(floor):
    closed = WindowCategoryFactory(queue_prefix="C")
    WindowFactory(hall=floor.hall, number="09", categories=[closed], is_active=False)
    retired = WindowCategoryFactory(queue_prefix="D", is_active=False)
    WindowFactory(hall=floor.hall, number="10", categories=[retired, floor.people])
    assert list(selectors.served_categories(floor.hall)) == [floor.people, floor.firms]


def test_waiting_ahead_counts_who_is_called_before(floor, clock):
    # Given, in order: walk-ins W1, W2; appointment P1; walk-in W3; appointment P2; a B ticket
    w1, w2 = take(floor), take(floor)
    clock.to(2026, 11, 23, 8, 40)
    p1 = check_in(floor, person(n=1))
    clock.to(2026, 11, 23, 8, 50)
    w3 = take(floor)
    p2 = check_in(floor, person(n=2))
    take(floor, floor.firms)
    # Then appointments count only appointments before them; walk-ins count every appointment
    ahead = {t.number: selectors.waiting_ahead(t) for t in (w1, w2, p1, w3, p2)}
    assert ahead == {"A001": 2, "A002": 3, "A003": 0, "A004": 4, "A005": 1}
    # When the window calls the first / then everyone moves up, the called one has none ahead
    called = call(floor)
    assert called == p1
    p1.refresh_from_db()
    assert selectors.waiting_ahead(p1) == 0
    assert [selectors.waiting_ahead(t) for t in (w1, w2, w3, p2)] == [1, 2, 3, 0]


def test_tickets_taken_at_the_same_moment_queue_in_the_order_given(floor):
    # Given three tickets with one timestamp (the clock is frozen)
    tickets = [take(floor) for _ in range(3)]
    assert [selectors.waiting_ahead(t) for t in tickets] == [0, 1, 2]
    assert call(floor) == tickets[0]


def test_waiting_ahead_counts_only_its_own_hall_and_day(floor, clock):
    take(Floor.make())
    take(floor)
    clock.to(2026, 11, 24, 9)
    tomorrow = take(floor)
    assert selectors.waiting_ahead(tomorrow) == 0


def test_a_transferred_ticket_has_only_earlier_priority_tickets_ahead(floor, clock):
    take(floor, floor.firms)
    take(floor)
    ticket = call(floor)
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="x")
    ticket.refresh_from_db()
    assert selectors.waiting_ahead(ticket) == 0


def test_the_board_shows_the_latest_calls_and_who_waits(floor, clock, django_assert_num_queries):
    # Given three A and two B tickets; A001 served, A002 at window A, B001 at window B
    for _ in range(3):
        take(floor)
    take(floor, floor.firms)
    take(floor, floor.firms)
    clock.to(2026, 11, 23, 9)
    first = call(floor)
    services.ticket_start(ticket=first, clerk=floor.clerk_a)
    services.ticket_finish(ticket=first, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 10)
    call(floor)
    clock.to(2026, 11, 23, 9, 5)
    call(floor, "b")
    # and a third queue served by a window with nobody waiting
    quiet = WindowCategoryFactory(name="其他", queue_prefix="D")
    WindowFactory(hall=floor.hall, number="09", categories=[quiet])
    # When the board is read
    with django_assert_num_queries(3):
        board = selectors.board(floor.hall)
        calls = [(t.number, t.window.number) for t in board.calls]
        queues = [(line.category.name, line.waiting) for line in board.queues]
    # Then the latest call comes first, and every served queue shows who waits
    assert calls == [("A002", "01"), ("B001", "02")]
    assert sorted(queues) == sorted([("个人办事", 1), ("企业办事", 1), ("其他", 0)])
    assert board.hall == floor.hall


def test_the_board_shows_at_most_the_asked_number_of_calls(floor):
    windows = [
        WindowFactory(hall=floor.hall, number=f"1{n}", categories=[floor.people]) for n in range(3)
    ]
    for window in windows:
        take(floor)
        clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall, window=window)
        services.ticket_call_next(window=window, clerk=clerk)
    assert len(selectors.board(floor.hall, calls=2).calls) == 2
    assert len(selectors.board(floor.hall).calls) == 3


def test_the_board_shows_today_only(floor, clock):
    take(floor)
    call(floor)
    take(floor)
    clock.to(2026, 11, 24, 9)
    board = selectors.board(floor.hall)
    assert board.calls == []
    assert {line.waiting for line in board.queues} == {0}


def test_a_window_panel_shows_its_ticket_and_its_queues(floor, clock):
    take(floor)
    take(floor)
    take(floor, floor.firms)
    # Nothing at the window yet
    assert selectors.ticket_at(floor.window_a) is None
    assert selectors.in_service(clerk=floor.clerk_a) is None
    ticket = call(floor)
    assert selectors.ticket_at(floor.window_a) == ticket
    assert selectors.in_service(clerk=floor.clerk_a) is None  # called, not yet served
    services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
    assert selectors.in_service(clerk=floor.clerk_a) == ticket
    assert selectors.in_service(clerk=floor.clerk_b) is None
    lines = selectors.waiting_for(floor.window_a)
    assert [(line.category, line.waiting) for line in lines] == [(floor.people, 1)]
    services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)
    assert selectors.ticket_at(floor.window_a) is None


def test_served_today_lists_the_clerks_finished_tickets_of_the_day(floor, clock):
    # Given yesterday's service, then today two tickets dealt with and one at the window
    take(floor)
    services.ticket_no_show(ticket=call(floor), clerk=floor.clerk_a)
    clock.to(2026, 11, 24, 9)
    for _ in range(3):
        take(floor)
    first = call(floor)
    services.ticket_start(ticket=first, clerk=floor.clerk_a)
    services.ticket_finish(ticket=first, clerk=floor.clerk_a)
    second = call(floor)
    services.ticket_no_show(ticket=second, clerk=floor.clerk_a)
    call(floor)
    # Then today's finished ones are listed, not the one at the window nor yesterday's
    served = selectors.served_today(clerk=floor.clerk_a)
    assert {(t.number, t.status) for t in served} == {
        ("A001", TicketStatus.DONE),
        ("A002", TicketStatus.NO_SHOW),
    }
    assert list(selectors.served_today(clerk=floor.clerk_b)) == []


def test_served_today_lists_the_latest_first(floor, clock):
    # Given, at window A: a no-show at 09:05, a service ended 09:15, a no-show at 09:20
    for _ in range(3):
        take(floor)
    clock.to(2026, 11, 23, 9, 5)
    early = call(floor)
    services.ticket_no_show(ticket=early, clerk=floor.clerk_a)
    served = call(floor)
    services.ticket_start(ticket=served, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 15)
    services.ticket_finish(ticket=served, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 20)
    late = call(floor)
    services.ticket_no_show(ticket=late, clerk=floor.clerk_a)
    # Then the list runs from the latest to the earliest
    assert list(selectors.served_today(clerk=floor.clerk_a)) == [late, served, early]


# --- statistics -----------------------------------------------------------------------------


@pytest.fixture
def monday(floor, clock):
    """A morning and an afternoon of Monday 2026-11-23 with known times:

    A001 09:00 → called 09:10, served 09:11–09:21, rated 5
    A002 09:05 → called 09:25, served 09:26–09:31, rated 2 (等太久)
    A003 09:06 → called 09:40, did not come
    B001 appointment, checked in 10:00 → called 10:06, served 10:07–10:22, rated 4
    B002 14:30 → still waiting
    """
    appointment = book(floor, person(n=1), category=floor.firms)

    def step(hour, minute, action, *args, **kwargs):
        clock.to(2026, 11, 23, hour, minute)
        return action(*args, **kwargs)

    for minute in (0, 5, 6):
        step(9, minute, take, floor)
    for called, started, finished, rating in (
        ((9, 10), (9, 11), (9, 21), 5),
        ((9, 25), (9, 26), (9, 31), 2),
    ):
        ticket = step(*called, call, floor)
        step(*started, services.ticket_start, ticket=ticket, clerk=floor.clerk_a)
        step(*finished, services.ticket_finish, ticket=ticket, clerk=floor.clerk_a)
        services.ticket_rate(ticket=ticket, rating=rating, comment="等太久" if rating < 3 else "")
    missing = step(9, 40, call, floor)
    step(9, 45, services.ticket_no_show, ticket=missing, clerk=floor.clerk_a)
    step(10, 0, services.appointment_check_in, appointment=appointment, hall=floor.hall)
    ticket = step(10, 6, call, floor, "b")
    step(10, 7, services.ticket_start, ticket=ticket, clerk=floor.clerk_b)
    step(10, 22, services.ticket_finish, ticket=ticket, clerk=floor.clerk_b)
    services.ticket_rate(ticket=ticket, rating=4)
    step(14, 30, take, floor, floor.firms)
    return floor


def test_hall_figures_of_a_day(monday, django_assert_num_queries):
    with django_assert_num_queries(1):
        figures = selectors.hall_figures(monday.hall, first=MONDAY, last=MONDAY)
    total = figures.total
    assert (total.tickets, total.served, total.no_shows, total.appointments) == (5, 3, 1, 1)
    # waits 10, 20, 34 and 6 minutes; services 10, 5 and 15
    assert (total.average_wait, total.longest_wait, total.average_service) == (17.5, 34.0, 10.0)
    assert total.rated == 3 and total.ratings == Counter({5: 1, 4: 1, 2: 1})
    assert total.satisfaction == 66.7
    assert figures.by_hour == {9: 3, 10: 1, 14: 1}
    assert (figures.first, figures.last, figures.hall) == (MONDAY, MONDAY, monday.hall)


def test_hall_figures_per_queue_busiest_first(monday):
    people, firms = selectors.hall_figures(monday.hall, first=MONDAY, last=MONDAY).queues
    assert (people.label, firms.label) == ("个人办事", "企业办事")
    assert (people.tickets, people.served, people.no_shows, people.appointments) == (3, 2, 1, 0)
    assert (people.average_wait, people.longest_wait, people.average_service) == (21.3, 34.0, 7.5)
    assert (people.rated, people.satisfaction) == (2, 50.0)
    assert (firms.tickets, firms.served, firms.no_shows, firms.appointments) == (2, 1, 0, 1)
    assert (firms.average_wait, firms.longest_wait, firms.average_service) == (6.0, 6.0, 15.0)
    assert (firms.rated, firms.satisfaction) == (1, 100.0)


def test_hall_figures_keep_to_their_days_and_their_hall(monday, clock):
    # Given a ticket on Tuesday and tickets of another hall
    clock.to(2026, 11, 24, 9)
    take(monday)
    take(Floor.make())
    # Then Monday alone still counts five, Monday and Tuesday six
    assert selectors.hall_figures(monday.hall, first=MONDAY, last=MONDAY).total.tickets == 5
    both = selectors.hall_figures(monday.hall, first=MONDAY, last=TUESDAY)
    assert both.total.tickets == 6
    assert selectors.hall_figures(monday.hall, first=TUESDAY, last=TUESDAY).total.tickets == 1


def test_a_transferred_ticket_counts_in_its_last_queue_with_its_first_wait(floor, clock):
    take(floor)
    clock.to(2026, 11, 23, 8, 42)
    ticket = call(floor)
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="x")
    clock.to(2026, 11, 23, 9, 30)
    call(floor, "b")
    [firms] = selectors.hall_figures(floor.hall, first=MONDAY, last=MONDAY).queues
    assert (firms.label, firms.tickets, firms.average_wait) == ("企业办事", 1, 12.0)


def test_a_day_without_tickets_has_no_averages(floor):
    figures = selectors.hall_figures(floor.hall, first=MONDAY, last=MONDAY)
    total = figures.total
    assert (total.tickets, total.average_wait, total.longest_wait) == (0, None, None)
    assert (total.average_service, total.satisfaction, total.rated) == (None, None, 0)
    assert figures.queues == [] and figures.by_hour == {}
