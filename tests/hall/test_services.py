"""The writes of the hall (yimen.hall.services): booking, cancelling and checking in
appointments, taking, calling, serving, transferring and rating queue tickets. Each success,
each refusal, and the audit row of every transition.

The clock stands on Monday 2026-11-23 (a working day) unless a test moves it."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from tests.accounts.factories import UserFactory
from tests.catalog.factories import make_item
from tests.conftest import grant
from tests.org.factories import HallFactory, WindowCategoryFactory, WindowFactory
from yimen.catalog.choices import VersionStatus
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.hall import periods, services
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, Ticket, TicketCounter
from yimen.org.choices import Role

from .factories import Floor, FrozenTime, at, person

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def applicant():
    return person()


def refusal(call, *args, **kwargs) -> dict[str, list[str]]:
    """The field errors of a refused write."""
    with pytest.raises(ValidationError) as refused:
        call(*args, **kwargs)
    return refused.value.message_dict


def forbidden(call, *args, **kwargs) -> str:
    with pytest.raises(PermissionDenied) as refused:
        call(*args, **kwargs)
    return str(refused.value)


def book(floor, applicant, *, day=MONDAY, period="am", category=None, by=None, **extra):
    return services.appointment_book(
        applicant=applicant,
        booked_by=by or applicant.user,
        hall=extra.pop("hall", floor.hall),
        category=category or floor.people,
        day=day,
        period=period,
        **extra,
    )


def events(obj, action=None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("pk")
    return list(found.filter(action=action) if action else found)


def transitions(obj) -> list[tuple[str, str, str]]:
    return [(e.action, e.from_state, e.to_state) for e in events(obj)]


def take(floor, category=None, **kwargs) -> Ticket:
    return services.ticket_take(hall=floor.hall, category=category or floor.people, **kwargs)


def call(floor, window="a") -> Ticket | None:
    return services.ticket_call_next(
        window=getattr(floor, f"window_{window}"), clerk=getattr(floor, f"clerk_{window}")
    )


def serve(floor, ticket, window="a") -> Ticket:
    clerk = getattr(floor, f"clerk_{window}")
    services.ticket_start(ticket=ticket, clerk=clerk)
    return services.ticket_finish(ticket=ticket, clerk=clerk)


def done(floor) -> Ticket:
    """A walk-in served at window A, from taking to the end of the service."""
    take(floor)
    return serve(floor, call(floor))


# --- period_bounds and bookable_days ---------------------------------------------------------


def test_a_period_runs_from_its_opening_to_its_closing_hour_local_time():
    assert periods.period_bounds(MONDAY, "am") == (at(2026, 11, 23, 9), at(2026, 11, 23, 12))
    assert periods.period_bounds(MONDAY, "pm") == (
        at(2026, 11, 23, 14),
        at(2026, 11, 23, 17, 30),
    )


def test_bookable_days_are_today_and_seven_working_days_ahead():
    # Given Monday 2026-11-23 / then today and the 7 working days after it, weekend skipped
    assert periods.bookable_days(today=MONDAY) == [
        MONDAY,
        TUESDAY,
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 26),
        dt.date(2026, 11, 27),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 2),
    ]


def test_bookable_days_skip_national_day_and_count_the_make_up_saturday():
    # Given Wednesday 2026-09-30, the eve of National Day (10-01..07 off, Saturday 10-10 worked)
    days = periods.bookable_days(today=dt.date(2026, 9, 30))
    # then the holiday week is skipped and the make-up Saturday is bookable
    assert days == [
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 12),
        dt.date(2026, 10, 13),
        dt.date(2026, 10, 14),
        dt.date(2026, 10, 15),
    ]


def test_on_a_sunday_today_is_not_bookable():
    days = periods.bookable_days(today=dt.date(2026, 11, 22))
    assert days[0] == MONDAY and len(days) == 7


def test_the_setting_sets_how_far_ahead_one_books(settings):
    settings.YIMEN_APPOINTMENT_DAYS = 2
    assert periods.bookable_days(today=MONDAY) == [MONDAY, TUESDAY, dt.date(2026, 11, 25)]


# --- appointment_book -------------------------------------------------------------------------


def test_an_applicant_books_a_half_day_for_themselves(floor, applicant):
    # When 张三 books Monday morning online
    appointment = book(floor, applicant)
    # Then he holds a booked appointment with an 8-digit code
    stored = Appointment.objects.get()
    assert stored == appointment
    assert stored.status == AppointmentStatus.BOOKED
    assert len(stored.code) == 8 and stored.code.isdigit()
    assert (stored.applicant, stored.booked_by) == (applicant, applicant.user)
    assert (stored.hall, stored.category, stored.day, stored.period) == (
        floor.hall,
        floor.people,
        MONDAY,
        "am",
    )
    assert stored.channel == Channel.ONLINE and stored.item is None
    # and one audit row says he booked it
    [event] = events(stored)
    assert (event.action, event.from_state, event.to_state) == (
        "hall.appointment.book",
        "",
        AppointmentStatus.BOOKED,
    )
    assert event.actor == applicant.user and event.channel == Channel.ONLINE


def test_codes_differ_from_one_appointment_to_the_next(floor):
    applicants = [person(n=1), person(n=2)]
    codes = {book(floor, a, period=p).code for a in applicants for p in ("am", "pm")}
    assert len(codes) == 4


def test_a_clerk_books_for_a_walk_in_at_the_window(floor):
    # Given an applicant without an online account
    walk_in = person()
    # When the clerk books for them at the window
    appointment = book(floor, walk_in, by=floor.clerk_a, channel=Channel.WINDOW, day=TUESDAY)
    # Then the appointment is theirs, booked by the clerk
    assert appointment.applicant == walk_in and appointment.booked_by == floor.clerk_a
    [event] = events(appointment)
    assert event.actor == floor.clerk_a and event.channel == Channel.WINDOW


@pytest.mark.parametrize("who", ["another citizen", "anonymous", "nobody"])
def test_nobody_else_books_for_an_applicant(floor, applicant, who):
    by = {"another citizen": UserFactory(), "anonymous": AnonymousUser(), "nobody": None}[who]
    message = forbidden(
        services.appointment_book,
        applicant=applicant,
        booked_by=by,
        hall=floor.hall,
        category=floor.people,
        day=MONDAY,
        period="am",
    )
    assert message == "You may book only for yourself."
    assert not Appointment.objects.exists()


def test_a_staff_member_who_is_no_clerk_does_not_book_for_others(floor, applicant):
    sysadmin = grant(UserFactory(), Role.SYSTEM_ADMIN)
    assert forbidden(book, floor, applicant, by=sysadmin) == "You may book only for yourself."


def test_a_period_that_does_not_exist_is_refused(floor, applicant):
    assert refusal(book, floor, applicant, period="night") == {
        "period": ["Choose the morning or the afternoon."]
    }


def test_a_closed_hall_takes_no_bookings(floor, applicant):
    floor.hall.is_active = False
    floor.hall.save()
    assert refusal(book, floor, applicant) == {"hall": ["This hall is closed."]}


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 11, 20),  # last Friday
        dt.date(2026, 11, 28),  # Saturday
        dt.date(2026, 11, 29),  # Sunday
        dt.date(2026, 12, 3),  # the 8th working day ahead
    ],
)
def test_days_outside_the_window_are_refused(floor, applicant, day):
    assert refusal(book, floor, applicant, day=day) == {
        "day": ["Choose a working day from today to 7 working days ahead."]
    }


def test_the_first_and_last_days_of_the_window_are_bookable(floor, applicant):
    assert book(floor, applicant, day=MONDAY).day == MONDAY
    assert book(floor, applicant, day=dt.date(2026, 12, 2)).day == dt.date(2026, 12, 2)


def test_national_day_is_refused_and_the_make_up_saturday_taken(monkeypatch, applicant):
    # Given the eve of National Day 2026
    FrozenTime(monkeypatch, at(2026, 9, 30, 10))
    floor = Floor.make()
    # When 张三 tries the holiday, then the make-up Saturday
    refused = refusal(book, floor, applicant, day=dt.date(2026, 10, 1))
    booked = book(floor, applicant, day=dt.date(2026, 10, 10))
    # Then the holiday is refused and the worked Saturday booked
    assert list(refused) == ["day"]
    assert booked.day == dt.date(2026, 10, 10)


def test_the_setting_narrows_the_window(floor, applicant, settings):
    settings.YIMEN_APPOINTMENT_DAYS = 2
    assert refusal(book, floor, applicant, day=dt.date(2026, 11, 26)) == {
        "day": ["Choose a working day from today to 2 working days ahead."]
    }
    assert book(floor, applicant, day=dt.date(2026, 11, 25)).status == AppointmentStatus.BOOKED


def test_a_period_that_is_over_cannot_be_booked(floor, applicant, clock):
    # Given Monday 12:00, when the morning ends
    clock.to(2026, 11, 23, 12)
    # Then this morning is refused and this afternoon booked
    assert refusal(book, floor, applicant, period="am") == {
        "period": ["This period is over: choose a later one."]
    }
    assert book(floor, applicant, period="pm").period == "pm"


def test_a_period_that_has_begun_can_still_be_booked(floor, applicant, clock):
    clock.to(2026, 11, 23, 11, 59)
    assert book(floor, applicant, period="am").status == AppointmentStatus.BOOKED


def test_a_category_without_a_quota_takes_no_appointments(floor, applicant):
    other = WindowCategoryFactory(queue_prefix="C")
    WindowFactory(hall=floor.hall, number="09", categories=[other])
    assert refusal(book, floor, applicant, category=other) == {
        "category": ["This hall takes no appointments for this window category."]
    }


def test_a_quota_of_another_hall_does_not_count(floor, applicant):
    # Given the same categories in another hall without quotas
    elsewhere = HallFactory()
    assert refusal(book, floor, applicant, hall=elsewhere) == {
        "category": ["This hall takes no appointments for this window category."]
    }


def test_a_full_period_is_refused(floor):
    # Given the two places of Monday morning taken
    book(floor, person(n=1))
    book(floor, person(n=2))
    # When a third applicant books it / then it is full
    third = person(n=3)
    assert refusal(book, floor, third) == {"period": ["This period is fully booked."]}
    # but the afternoon, another day and another queue are free
    assert book(floor, third, period="pm").period == "pm"
    assert book(floor, person(n=4), day=TUESDAY).day == TUESDAY
    assert book(floor, person(n=5), category=floor.firms).category == floor.firms
    assert Appointment.objects.count() == 5


def test_a_cancelled_booking_frees_its_place_a_checked_in_one_does_not(floor, clock):
    # Given Monday morning full: one appointment checked in, one cancelled then rebooked
    first, second = book(floor, person(n=1)), book(floor, person(n=2))
    services.appointment_check_in(appointment=first, hall=floor.hall)
    services.appointment_cancel(appointment=second, actor=second.applicant.user)
    # When another applicant books / then the cancelled place is theirs
    assert book(floor, person(n=3)).status == AppointmentStatus.BOOKED
    # and then the period is full again
    assert refusal(book, floor, person(n=4)) == {"period": ["This period is fully booked."]}


def test_one_applicant_holds_one_booking_per_period(floor, applicant):
    # Given 张三 booked Monday morning
    book(floor, applicant)
    # When he books it again, even in another queue / then he is told he has one
    assert refusal(book, floor, applicant) == {
        "period": ["You already have an appointment for this period."]
    }
    assert refusal(book, floor, applicant, category=floor.firms) == {
        "period": ["You already have an appointment for this period."]
    }
    # but the afternoon is his to book
    assert book(floor, applicant, period="pm").period == "pm"
    assert Appointment.objects.filter(applicant=applicant).count() == 2
    assert AuditEvent.objects.filter(action="hall.appointment.book").count() == 2


def test_after_cancelling_one_books_the_period_again(floor, applicant):
    first = book(floor, applicant)
    services.appointment_cancel(appointment=first, actor=applicant.user)
    assert book(floor, applicant).status == AppointmentStatus.BOOKED


def test_an_appointment_names_an_item_of_its_window_category(floor, applicant):
    version = make_item(window_category=floor.people)
    appointment = book(floor, applicant, item=version.item)
    assert appointment.item == version.item


def test_an_item_of_another_window_category_is_refused(floor, applicant):
    version = make_item(window_category=floor.firms)
    assert refusal(book, floor, applicant, item=version.item) == {
        "item": ["This item is handled at another window category."]
    }


def test_an_item_without_a_published_guide_is_refused(floor, applicant):
    draft = make_item(window_category=floor.people, status=VersionStatus.DRAFT)
    assert refusal(book, floor, applicant, item=draft.item) == {
        "item": ["This item has no published guide."]
    }
    assert not Appointment.objects.exists()


# --- appointment_cancel -----------------------------------------------------------------------


def test_the_applicant_cancels_before_the_period(floor, applicant):
    # Given 张三's booking for Tuesday
    appointment = book(floor, applicant, day=TUESDAY)
    # When he cancels it with a reason
    services.appointment_cancel(appointment=appointment, actor=applicant.user, reason="  改期  ")
    # Then it is cancelled, the reason kept, and the instance passed in is up to date
    assert appointment.status == AppointmentStatus.CANCELLED
    stored = Appointment.objects.get()
    assert stored.status == AppointmentStatus.CANCELLED and stored.cancel_reason == "改期"
    assert transitions(stored) == [
        ("hall.appointment.book", "", "booked"),
        ("hall.appointment.cancel", "booked", "cancelled"),
    ]
    assert events(stored)[-1].reason == "改期"


def test_a_clerk_cancels_for_the_applicant(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    services.appointment_cancel(
        appointment=appointment, actor=floor.clerk_b, channel=Channel.WINDOW
    )
    event = events(appointment)[-1]
    assert (event.actor, event.channel) == (floor.clerk_b, Channel.WINDOW)


def test_nobody_else_cancels(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    assert forbidden(services.appointment_cancel, appointment=appointment, actor=UserFactory()) == (
        "You may cancel only your own appointments."
    )
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_once_the_period_has_begun_it_cannot_be_cancelled(floor, applicant, clock):
    appointment = book(floor, applicant)
    clock.to(2026, 11, 23, 9)
    assert refusal(services.appointment_cancel, appointment=appointment, actor=applicant.user) == {
        "appointment": ["The period has begun: it can no longer be cancelled."]
    }


def test_a_cancelled_or_checked_in_appointment_is_not_cancelled_again(floor, clock):
    cancelled, checked_in = book(floor, person(n=1)), book(floor, person(n=2))
    services.appointment_cancel(appointment=cancelled, actor=cancelled.applicant.user)
    services.appointment_check_in(appointment=checked_in, hall=floor.hall)
    assert refusal(
        services.appointment_cancel, appointment=cancelled, actor=cancelled.applicant.user
    ) == {"appointment": ["The appointment is now “Cancelled”."]}
    assert refusal(
        services.appointment_cancel, appointment=checked_in, actor=checked_in.applicant.user
    ) == {"appointment": ["The appointment is now “Checked in”."]}
    assert AuditEvent.objects.filter(action="hall.appointment.cancel").count() == 1


def test_cancelling_reads_the_stored_state_not_the_stale_copy(floor, applicant):
    # Given a copy loaded before the appointment was cancelled elsewhere
    appointment = book(floor, applicant, day=TUESDAY)
    stale = Appointment.objects.get(pk=appointment.pk)
    services.appointment_cancel(appointment=appointment, actor=applicant.user)
    # When the stale copy is cancelled / then it is refused
    assert list(refusal(services.appointment_cancel, appointment=stale, actor=applicant.user)) == [
        "appointment"
    ]


# --- appointment_check_in --------------------------------------------------------------------


def test_checking_in_an_hour_early_gives_a_ticket_called_first(floor, applicant, clock):
    # Given 张三's booking for Monday morning, at 08:00
    appointment = book(floor, applicant)
    clock.to(2026, 11, 23, 8)
    # When he checks in at the kiosk
    ticket = services.appointment_check_in(appointment=appointment, hall=floor.hall)
    # Then he gets the queue's next number, called first, tied to him and his appointment
    assert ticket.number == "A001" and ticket.is_priority
    assert (ticket.hall, ticket.category, ticket.day) == (floor.hall, floor.people, MONDAY)
    assert (ticket.applicant, ticket.appointment) == (applicant, appointment)
    assert ticket.status == TicketStatus.WAITING and ticket.issued_at == at(2026, 11, 23, 8)
    assert ticket.channel == Channel.KIOSK
    # and the appointment is checked in
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert Appointment.objects.get().status == AppointmentStatus.CHECKED_IN
    assert transitions(appointment)[-1] == ("hall.appointment.check_in", "booked", "checked_in")
    assert events(appointment)[-1].payload == {"ticket": "A001"}
    assert transitions(ticket) == [("hall.ticket.take", "", "waiting")]


def test_a_clerk_checks_in_at_the_reception(floor, applicant):
    appointment = book(floor, applicant)
    ticket = services.appointment_check_in(
        appointment=appointment, hall=floor.hall, actor=floor.clerk_a, channel=Channel.WINDOW
    )
    assert ticket.channel == Channel.WINDOW
    assert events(ticket)[0].actor == floor.clerk_a


@pytest.mark.parametrize(
    ("moment", "period"),
    [
        ((2026, 11, 23, 7, 59), "am"),  # more than an hour early
        ((2026, 11, 23, 12, 1), "am"),  # after the morning
        ((2026, 11, 23, 12, 59), "pm"),  # lunch, more than an hour before the afternoon
        ((2026, 11, 24, 9, 0), "am"),  # the next day
    ],
)
def test_check_in_outside_its_time_is_refused(floor, applicant, clock, moment, period):
    appointment = book(floor, applicant, period=period)
    clock.to(*moment)
    message = "Morning (09:00–12:00)" if period == "am" else "Afternoon (14:00–17:30)"
    assert refusal(services.appointment_check_in, appointment=appointment, hall=floor.hall) == {
        "code": [f"Check in on 2026-11-23, {message}."]
    }
    assert not Ticket.objects.exists()
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("moment", [(2026, 11, 23, 13, 0), (2026, 11, 23, 17, 30)])
def test_check_in_opens_an_hour_before_and_closes_at_the_end(floor, applicant, clock, moment):
    appointment = book(floor, applicant, period="pm")
    clock.to(*moment)
    assert services.appointment_check_in(appointment=appointment, hall=floor.hall).is_priority


def test_check_in_at_another_hall_is_refused(floor, applicant):
    appointment = book(floor, applicant)
    elsewhere = Floor.make().hall
    # the kiosk of another hall learns nothing of the appointment
    assert refusal(services.appointment_check_in, appointment=appointment, hall=elsewhere) == {
        "code": ["No appointment has this code."]
    }


def test_an_appointment_checks_in_once(floor, applicant):
    appointment = book(floor, applicant)
    services.appointment_check_in(appointment=appointment, hall=floor.hall)
    assert refusal(services.appointment_check_in, appointment=appointment, hall=floor.hall) == {
        "appointment": ["The appointment is now “Checked in”."]
    }
    assert Ticket.objects.count() == 1


def test_a_cancelled_appointment_does_not_check_in(floor, applicant):
    appointment = book(floor, applicant)
    services.appointment_cancel(appointment=appointment, actor=applicant.user)
    assert list(
        refusal(services.appointment_check_in, appointment=appointment, hall=floor.hall)
    ) == ["appointment"]


# --- ticket_take: the numbers ---------------------------------------------------------------------


def test_walk_in_tickets_are_numbered_per_letter(floor):
    # When three people take tickets for the A queue and one for the B queue
    numbers = [take(floor).number, take(floor).number, take(floor, floor.firms).number]
    numbers.append(take(floor).number)
    # Then each letter counts on its own
    assert numbers == ["A001", "A002", "B001", "A003"]
    counters = dict(TicketCounter.objects.values_list("prefix", "last"))
    assert counters == {"A": 3, "B": 1}


def test_appointments_and_walk_ins_share_the_queue_numbers(floor, applicant):
    take(floor)
    checked_in = services.appointment_check_in(appointment=book(floor, applicant), hall=floor.hall)
    assert (checked_in.number, take(floor).number) == ("A002", "A003")


def test_each_hall_counts_its_own_numbers(floor):
    # Given a second hall with the same queues
    other = Floor.make()
    take(floor)
    take(floor)
    # When its first ticket is taken / then it starts at 001
    assert take(other).number == "A001"
    assert take(floor).number == "A003"


def test_numbers_start_again_the_next_day(floor, clock):
    take(floor)
    take(floor)
    clock.to(2026, 11, 24, 8, 30)
    ticket = take(floor)
    assert (ticket.number, ticket.day) == ("A001", TUESDAY)
    assert TicketCounter.objects.count() == 2


def test_the_day_is_the_local_day(floor, clock):
    # Given 00:30 on Tuesday in Beijing, still Monday in UTC
    clock.to(2026, 11, 24, 0, 30)
    assert take(floor).day == TUESDAY


def test_a_ticket_is_audited_with_its_channel_and_taker(floor, applicant):
    ticket = take(floor, applicant=applicant, actor=floor.clerk_a, channel=Channel.WINDOW)
    [event] = events(ticket)
    assert (event.action, event.from_state, event.to_state) == ("hall.ticket.take", "", "waiting")
    assert (event.actor, event.channel, event.role) == (
        floor.clerk_a,
        Channel.WINDOW,
        Role.WINDOW_CLERK,
    )
    assert ticket.applicant == applicant and not ticket.is_priority


def test_a_closed_hall_gives_no_tickets(floor):
    floor.hall.is_active = False
    floor.hall.save()
    assert refusal(take, floor) == {"hall": ["This hall is closed."]}


def test_no_ticket_for_a_queue_no_window_serves(floor):
    # Given a category served elsewhere, an inactive one and one whose only window is closed
    elsewhere = WindowCategoryFactory(queue_prefix="C")
    WindowFactory(categories=[elsewhere])
    inactive = WindowCategoryFactory(queue_prefix="D", is_active=False)
    WindowFactory(hall=floor.hall, number="09", categories=[inactive])
    closed = WindowCategoryFactory(queue_prefix="E")
    WindowFactory(hall=floor.hall, number="10", categories=[closed], is_active=False)
    # Then none of them gives a ticket here
    for category in (elsewhere, inactive, closed):
        assert refusal(take, floor, category) == {
            "category": ["No window of this hall serves this category."]
        }
    assert not Ticket.objects.exists()
    assert not TicketCounter.objects.exists()


# --- ticket_call_next ---------------------------------------------------------------------------


def test_a_window_calls_appointments_first_then_walk_ins_in_order(floor, clock):
    # Given walk-ins A001, A002, then two appointments checked in (A003, A004), then A005
    take(floor)
    take(floor)
    for n in (1, 2):
        appointment = book(floor, person(n=n))
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
    take(floor)
    # When the window calls five times, serving each
    order = []
    for _ in range(5):
        ticket = call(floor)
        order.append(ticket.number)
        serve(floor, ticket)
    # Then the appointments come first, each group in the order taken
    assert order == ["A003", "A004", "A001", "A002", "A005"]
    # and then nobody waits
    assert call(floor) is None


def test_calling_marks_the_ticket_and_audits_it(floor, clock):
    take(floor)
    clock.to(2026, 11, 23, 9, 12)
    ticket = call(floor)
    stored = Ticket.objects.get()
    assert stored == ticket
    assert stored.status == TicketStatus.CALLED
    assert (stored.window, stored.served_by) == (floor.window_a, floor.clerk_a)
    assert stored.called_at == stored.last_called_at == at(2026, 11, 23, 9, 12)
    assert stored.calls == 1
    event = events(stored)[-1]
    assert (event.action, event.from_state, event.to_state) == (
        "hall.ticket.call",
        "waiting",
        "called",
    )
    assert event.payload == {"window": floor.window_a.number}
    assert (event.actor, event.role, event.channel) == (
        floor.clerk_a,
        Role.WINDOW_CLERK,
        Channel.WINDOW,
    )


def test_a_window_calls_only_its_own_queues(floor):
    take(floor, floor.firms)
    assert call(floor, "a") is None
    assert call(floor, "b").number == "B001"


def test_a_clerk_calls_only_the_queues_their_role_names(floor):
    # Given a window serving both queues and a clerk there who may take only the firms
    both = WindowFactory(hall=floor.hall, number="09", categories=[floor.people, floor.firms])
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall, window=both)
    clerk.memberships.get().categories.set([floor.firms])
    clerk.__dict__.pop("_yimen_memberships", None)
    take(floor)
    take(floor, floor.firms)
    # When the clerk calls / then the firms' ticket comes, and then none
    called = services.ticket_call_next(window=both, clerk=clerk)
    assert called.number == "B001"
    services.ticket_start(ticket=called, clerk=clerk)
    services.ticket_finish(ticket=called, clerk=clerk)
    assert services.ticket_call_next(window=both, clerk=clerk) is None


def test_a_window_of_another_hall_does_not_call_these_tickets(floor):
    other = Floor.make()
    take(floor)
    assert call(other) is None
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_yesterdays_tickets_are_not_called_today(floor, clock):
    take(floor)
    clock.to(2026, 11, 24, 9)
    assert call(floor) is None


def test_nothing_to_call_writes_nothing(floor):
    before = AuditEvent.objects.count()
    assert call(floor) is None
    assert AuditEvent.objects.count() == before


def test_a_window_finishes_its_ticket_before_calling_the_next(floor):
    take(floor)
    take(floor)
    first = call(floor)
    assert refusal(call, floor) == {
        "window": ["Finish the ticket at this window before calling the next."]
    }
    services.ticket_start(ticket=first, clerk=floor.clerk_a)
    assert list(refusal(call, floor)) == ["window"]
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 1


@pytest.mark.parametrize("who", ["clerk of the other window", "citizen", "clerk elsewhere"])
def test_only_a_clerk_of_the_window_calls(floor, who):
    clerk = {
        "clerk of the other window": floor.clerk_b,
        "citizen": UserFactory(),
        "clerk elsewhere": Floor.make().clerk_a,
    }[who]
    take(floor)
    assert forbidden(services.ticket_call_next, window=floor.window_a, clerk=clerk) == (
        "You do not work at this window."
    )
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_a_hall_wide_clerk_calls_at_any_window_of_the_hall(floor):
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
    take(floor, floor.firms)
    assert services.ticket_call_next(window=floor.window_b, clerk=clerk).number == "B001"


def test_a_closed_window_calls_nobody(floor):
    floor.window_a.is_active = False
    floor.window_a.save()
    assert forbidden(call, floor) == "You do not work at this window."


# --- recall, start, finish, no-show --------------------------------------------------------------


def test_a_recall_calls_the_same_number_again(floor, clock):
    take(floor)
    clock.to(2026, 11, 23, 9)
    ticket = call(floor)
    clock.to(2026, 11, 23, 9, 2)
    services.ticket_recall(ticket=ticket, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 4)
    services.ticket_recall(ticket=ticket, clerk=floor.clerk_a)
    stored = Ticket.objects.get()
    assert stored.calls == 3 and stored.status == TicketStatus.CALLED
    assert stored.called_at == at(2026, 11, 23, 9)
    assert stored.last_called_at == at(2026, 11, 23, 9, 4)
    assert transitions(stored)[-2:] == [
        ("hall.ticket.recall", "called", "called"),
        ("hall.ticket.recall", "called", "called"),
    ]


def test_serving_records_when_it_began_and_ended(floor, clock):
    take(floor)
    ticket = call(floor)
    clock.to(2026, 11, 23, 9, 1)
    services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
    assert ticket.status == TicketStatus.SERVING and ticket.started_at == at(2026, 11, 23, 9, 1)
    clock.to(2026, 11, 23, 9, 13)
    services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)
    stored = Ticket.objects.get()
    assert stored.status == TicketStatus.DONE
    assert (stored.started_at, stored.finished_at) == (
        at(2026, 11, 23, 9, 1),
        at(2026, 11, 23, 9, 13),
    )
    assert transitions(stored) == [
        ("hall.ticket.take", "", "waiting"),
        ("hall.ticket.call", "waiting", "called"),
        ("hall.ticket.start", "called", "serving"),
        ("hall.ticket.finish", "serving", "done"),
    ]


def test_a_ticket_not_called_yet_cannot_be_served(floor):
    ticket = take(floor)
    assert refusal(services.ticket_start, ticket=ticket, clerk=floor.clerk_a) == {
        "ticket": ["The ticket is now “Waiting”."]
    }


def test_each_step_needs_the_state_before_it(floor):
    take(floor)
    ticket = call(floor)
    # A called ticket is neither finished
    assert refusal(services.ticket_finish, ticket=ticket, clerk=floor.clerk_a) == {
        "ticket": ["The ticket is now “Called”."]
    }
    services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
    # nor, once served, started again, recalled or marked as not come
    for step in (services.ticket_start, services.ticket_recall, services.ticket_no_show):
        assert refusal(step, ticket=ticket, clerk=floor.clerk_a) == {
            "ticket": ["The ticket is now “Being served”."]
        }
    assert Ticket.objects.get().status == TicketStatus.SERVING


def test_a_second_click_on_finish_is_told_the_ticket_is_served(floor):
    # Given a ticket served and finished
    ticket = done(floor)
    # When the clerk clicks "finish" again (a stale page) / then he is told its state
    assert refusal(services.ticket_finish, ticket=ticket, clerk=floor.clerk_a) == {
        "ticket": ["The ticket is now “Served”."]
    }


def test_a_finished_ticket_is_left_as_it_is(floor):
    ticket = done(floor)
    for step in (services.ticket_finish, services.ticket_start, services.ticket_no_show):
        with pytest.raises((PermissionDenied, ValidationError)):
            step(ticket=ticket, clerk=floor.clerk_a)
    assert Ticket.objects.get().status == TicketStatus.DONE
    assert len(events(ticket)) == 4


def test_another_clerk_cannot_touch_the_ticket(floor):
    take(floor)
    ticket = call(floor)
    colleague = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
    for step in (
        services.ticket_recall,
        services.ticket_start,
        services.ticket_finish,
        services.ticket_no_show,
    ):
        assert forbidden(step, ticket=ticket, clerk=colleague) == (
            "This ticket is not at your window."
        )
    assert forbidden(
        services.ticket_transfer,
        ticket=ticket,
        clerk=colleague,
        category=floor.firms,
        reason="企业事项",
    ) == ("This ticket is not at your window.")
    assert Ticket.objects.get().status == TicketStatus.CALLED


def test_nobody_came_frees_the_window(floor):
    take(floor)
    take(floor)
    ticket = call(floor)
    services.ticket_recall(ticket=ticket, clerk=floor.clerk_a)
    services.ticket_no_show(ticket=ticket, clerk=floor.clerk_a)
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NO_SHOW
    assert transitions(ticket)[-1] == ("hall.ticket.no_show", "called", "no_show")
    # and the window calls the next
    assert call(floor).number == "A002"


# --- ticket_transfer --------------------------------------------------------------------------


def test_a_transfer_sends_the_ticket_to_the_head_of_another_queue(floor, clock):
    # Given B001 and B002 waiting, and A001 called at window A
    take(floor, floor.firms)
    take(floor, floor.firms)
    take(floor)
    clock.to(2026, 11, 23, 9)
    ticket = call(floor)
    # When the clerk sends him to the firms' queue
    clock.to(2026, 11, 23, 9, 3)
    services.ticket_transfer(
        ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="企业事项"
    )
    # Then the ticket waits there, first, keeping its number and its first call
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.status == TicketStatus.WAITING
    assert (stored.category, stored.number, stored.is_priority) == (floor.firms, "A001", True)
    assert (stored.window, stored.served_by, stored.transfers) == (None, None, 1)
    assert stored.called_at == at(2026, 11, 23, 9)
    event = events(stored)[-1]
    assert (event.action, event.from_state, event.to_state) == (
        "hall.ticket.transfer",
        "called",
        "waiting",
    )
    assert (event.reason, event.actor) == ("企业事项", floor.clerk_a)
    # and window B calls it before the walk-ins who came earlier
    clock.to(2026, 11, 23, 9, 5)
    again = call(floor, "b")
    assert again.number == "A001"
    assert again.calls == 2 and again.called_at == at(2026, 11, 23, 9)
    assert again.last_called_at == at(2026, 11, 23, 9, 5)
    # and window A is free
    assert call(floor) is None


def test_a_transferred_ticket_goes_before_appointments_that_came_later(floor, applicant):
    take(floor, floor.firms)
    ticket = (take(floor), call(floor))[1]
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="x")
    services.appointment_check_in(
        appointment=book(floor, applicant, category=floor.firms), hall=floor.hall
    )
    assert [call(floor, "b").number] == ["A001"]


def test_a_ticket_being_served_is_transferred_too(floor):
    take(floor)
    ticket = call(floor)
    services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="x")
    assert transitions(ticket)[-1] == ("hall.ticket.transfer", "serving", "waiting")


def test_a_transfer_needs_a_reason(floor):
    take(floor)
    ticket = call(floor)
    for reason in ("", "   ", None):
        assert refusal(
            services.ticket_transfer,
            ticket=ticket,
            clerk=floor.clerk_a,
            category=floor.firms,
            reason=reason,
        ) == {"reason": ["Say why the applicant goes to another window."]}


def test_a_transfer_goes_to_another_queue_this_hall_serves(floor):
    take(floor)
    ticket = call(floor)
    elsewhere = WindowCategoryFactory(queue_prefix="C")
    WindowFactory(categories=[elsewhere])
    assert refusal(
        services.ticket_transfer,
        ticket=ticket,
        clerk=floor.clerk_a,
        category=floor.people,
        reason="x",
    ) == {"category": ["The ticket already waits in this queue."]}
    assert refusal(
        services.ticket_transfer, ticket=ticket, clerk=floor.clerk_a, category=elsewhere, reason="x"
    ) == {"category": ["No window of this hall serves this category."]}
    stored = Ticket.objects.get()
    assert (stored.status, stored.category, stored.transfers) == ("called", floor.people, 0)
    assert len(events(stored, "hall.ticket.transfer")) == 0


def test_transfers_are_counted(floor):
    take(floor)
    ticket = call(floor)
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="1")
    ticket = call(floor, "b")
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_b, category=floor.people, reason="2")
    stored = Ticket.objects.get()
    assert (stored.transfers, stored.category, stored.calls) == (2, floor.people, 2)


# --- ticket_rate ------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [5, 4, 3])
def test_a_service_is_rated_without_a_comment_from_fair_up(floor, rating):
    ticket = done(floor)
    services.ticket_rate(ticket=ticket, rating=rating)
    stored = Ticket.objects.get()
    assert (stored.rating, stored.rating_comment) == (rating, "")
    event = events(stored)[-1]
    assert (event.action, event.from_state, event.to_state) == ("hall.ticket.rate", "done", "done")
    assert event.payload == {"rating": rating}
    assert (event.actor, event.channel) == (None, Channel.KIOSK)


@pytest.mark.parametrize("rating", [2, 1])
def test_the_two_lowest_ratings_need_a_reason(floor, rating):
    ticket = done(floor)
    assert refusal(services.ticket_rate, ticket=ticket, rating=rating, comment="  ") == {
        "comment": ["Tell us what went wrong."]
    }
    services.ticket_rate(ticket=ticket, rating=rating, comment=" 等太久 ", channel=Channel.MOBILE)
    stored = Ticket.objects.get()
    assert (stored.rating, stored.rating_comment) == (rating, "等太久")
    event = events(stored)[-1]
    assert (event.reason, event.channel) == ("等太久", Channel.MOBILE)


@pytest.mark.parametrize("rating", [0, 6, "5", None, True, 4.5])
def test_a_rating_is_one_of_the_five_levels(floor, rating):
    ticket = done(floor)
    assert refusal(services.ticket_rate, ticket=ticket, rating=rating, comment="x") == {
        "rating": ["Rate from 1 (very poor) to 5 (very good)."]
    }
    assert Ticket.objects.get().rating is None


def test_a_service_is_rated_once(floor):
    ticket = done(floor)
    services.ticket_rate(ticket=ticket, rating=5)
    assert refusal(services.ticket_rate, ticket=ticket, rating=1, comment="改评") == {
        "rating": ["This service has been rated already."]
    }
    assert Ticket.objects.get().rating == 5
    assert len(events(ticket, "hall.ticket.rate")) == 1


def test_only_a_finished_service_is_rated(floor):
    waiting = take(floor)
    take(floor)
    called = call(floor)
    services.ticket_no_show(ticket=called, clerk=floor.clerk_a)
    serving = call(floor)
    services.ticket_start(ticket=serving, clerk=floor.clerk_a)
    for ticket in (waiting, called, serving):
        assert refusal(services.ticket_rate, ticket=ticket, rating=5) == {
            "rating": ["Rate a service once it is over."]
        }


def test_a_service_is_rated_on_its_day(floor, clock):
    ticket = done(floor)
    clock.to(2026, 11, 23, 23, 59)
    same_evening = done(floor)
    services.ticket_rate(ticket=same_evening, rating=4)
    clock.to(2026, 11, 24, 0, 1)
    assert refusal(services.ticket_rate, ticket=ticket, rating=5) == {
        "rating": ["A service is rated on the day it was given."]
    }


# --- the audit trail of a whole visit -----------------------------------------------------------


def test_every_step_of_a_visit_writes_one_audit_row_and_the_chain_holds(floor, applicant, clock):
    # Given a visit: booked, checked in, called twice, transferred, served, rated
    appointment = book(floor, applicant)
    ticket = services.appointment_check_in(appointment=appointment, hall=floor.hall)
    clock.to(2026, 11, 23, 9)
    call(floor)
    services.ticket_recall(ticket=ticket, clerk=floor.clerk_a)
    services.ticket_transfer(ticket=ticket, clerk=floor.clerk_a, category=floor.firms, reason="x")
    call(floor, "b")
    serve(floor, ticket, "b")
    services.ticket_rate(ticket=ticket, rating=5)
    # Then each object's rows chain its states
    assert transitions(appointment) == [
        ("hall.appointment.book", "", "booked"),
        ("hall.appointment.check_in", "booked", "checked_in"),
    ]
    assert transitions(ticket) == [
        ("hall.ticket.take", "", "waiting"),
        ("hall.ticket.call", "waiting", "called"),
        ("hall.ticket.recall", "called", "called"),
        ("hall.ticket.transfer", "called", "waiting"),
        ("hall.ticket.call", "waiting", "called"),
        ("hall.ticket.start", "called", "serving"),
        ("hall.ticket.finish", "serving", "done"),
        ("hall.ticket.rate", "done", "done"),
    ]
    actors = [e.actor for e in events(ticket)]
    assert actors == [None, floor.clerk_a, floor.clerk_a, floor.clerk_a] + [floor.clerk_b] * 3 + [
        None
    ]
    # and the whole chain verifies
    assert audit.verify() is None
