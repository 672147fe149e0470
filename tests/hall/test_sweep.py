"""The hall's sweep (services.sweep, the periodic task and `manage.py hall_sweep`):
appointments whose half-day ended unused are missed, tickets of earlier days left in the
queue are closed; a second run changes nothing."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.hall import services
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, Ticket
from yimen.hall.tasks import sweep_hall

from .factories import at, person

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


def book(floor, n, *, day=MONDAY, period="am"):
    applicant = person(n=n)
    return services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=floor.people,
        day=day,
        period=period,
    )


def status(obj) -> str:
    return type(obj).objects.get(pk=obj.pk).status


def sweep_events():
    return list(
        AuditEvent.objects.filter(
            action__in=["hall.appointment.missed", "hall.ticket.close"]
        ).order_by("pk")
    )


def test_an_appointment_whose_period_ended_unused_is_missed(floor, clock):
    # Given Monday: a morning booking left unused, an afternoon booking, Tuesday's booking,
    # a morning booking checked in and one cancelled
    unused = book(floor, 1)
    afternoon = book(floor, 2, period="pm")
    tomorrow = book(floor, 3, day=TUESDAY)
    checked_in = book(floor, 4)
    services.appointment_check_in(appointment=checked_in, hall=floor.hall)
    cancelled = book(floor, 5, day=TUESDAY, period="pm")
    services.appointment_cancel(appointment=cancelled, actor=cancelled.applicant.user)
    # When the sweep runs at 12:00, the end of the morning
    clock.to(2026, 11, 23, 12)
    # Then only the unused morning booking is missed
    assert services.sweep() == (1, 0)
    assert status(unused) == AppointmentStatus.MISSED
    assert [status(a) for a in (afternoon, tomorrow, checked_in, cancelled)] == [
        AppointmentStatus.BOOKED,
        AppointmentStatus.BOOKED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
    ]
    # with one audit row by the system
    [event] = sweep_events()
    assert (event.object_type, event.object_id) == ("hall.appointment", str(unused.pk))
    assert (event.from_state, event.to_state) == ("booked", "missed")
    assert (event.actor, event.channel) == (None, Channel.SYSTEM)


def test_a_period_still_running_is_not_missed(floor, clock):
    book(floor, 1)
    clock.to(2026, 11, 23, 11, 59)
    assert services.sweep() == (0, 0)


def test_bookings_of_earlier_days_are_missed_too(floor, clock):
    # Given bookings of Monday afternoon and Tuesday morning, swept only on Wednesday
    monday_pm = book(floor, 1, period="pm")
    tuesday_am = book(floor, 2, day=TUESDAY)
    clock.to(2026, 11, 25, 8)
    assert services.sweep() == (2, 0)
    assert status(monday_pm) == status(tuesday_am) == AppointmentStatus.MISSED


def test_a_missed_appointment_no_longer_checks_in(floor, clock):
    appointment = book(floor, 1)
    clock.to(2026, 11, 23, 12, 30)
    services.sweep()
    appointment.refresh_from_db()
    clock.to(2026, 11, 23, 11)  # even if the clock were back inside the period
    with pytest.raises(ValidationError) as refused:
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
    assert refused.value.message_dict == {"appointment": ["The appointment is now “Missed”."]}


def test_tickets_left_from_earlier_days_are_closed(floor, clock):
    # Given Monday's queue at closing time at window A: one served, one that did not come,
    # one being served and three waiting
    tickets = [services.ticket_take(hall=floor.hall, category=floor.people) for _ in range(6)]
    call = lambda: services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)  # noqa: E731
    served = call()
    services.ticket_start(ticket=served, clerk=floor.clerk_a)
    services.ticket_finish(ticket=served, clerk=floor.clerk_a)
    absent = call()
    services.ticket_no_show(ticket=absent, clerk=floor.clerk_a)
    serving = call()
    services.ticket_start(ticket=serving, clerk=floor.clerk_a)
    # and one called at window B from the firms' queue
    firm = services.ticket_take(hall=floor.hall, category=floor.firms)
    services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    waiting = tickets[3:]
    # When the sweep runs on Monday evening / then nothing of today is touched
    clock.to(2026, 11, 23, 23, 59)
    assert services.sweep() == (0, 0)
    # When it runs after midnight
    clock.to(2026, 11, 24, 0, 15)
    assert services.sweep() == (0, 5)
    # Then the one being served counts as served, the one called as not come, and those
    # never called as expired (the hall did not serve them: not the applicants' absence)
    assert status(serving) == TicketStatus.DONE
    assert status(firm) == TicketStatus.NO_SHOW
    assert {status(t) for t in waiting} == {TicketStatus.EXPIRED}
    assert (status(served), status(absent)) == (TicketStatus.DONE, TicketStatus.NO_SHOW)
    # each with an audit row of its states
    moves = sorted((e.object_id, e.from_state, e.to_state) for e in sweep_events())
    expected = [(str(serving.pk), "serving", "done"), (str(firm.pk), "called", "no_show")]
    expected += [(str(t.pk), "waiting", "expired") for t in waiting]
    assert moves == sorted(expected)
    # and the windows are free on Tuesday
    assert services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a) is None


def test_a_second_sweep_changes_nothing(floor, clock):
    book(floor, 1)
    services.ticket_take(hall=floor.hall, category=floor.people)
    clock.to(2026, 11, 24, 9)
    assert services.sweep() == (1, 1)
    events = AuditEvent.objects.count()
    assert services.sweep() == (0, 0)
    assert AuditEvent.objects.count() == events
    assert Appointment.objects.get().status == AppointmentStatus.MISSED
    assert Ticket.objects.get().status == TicketStatus.EXPIRED


def test_the_sweep_takes_an_explicit_moment(floor):
    book(floor, 1)
    assert services.sweep(now=at(2026, 11, 23, 11)) == (0, 0)
    assert services.sweep(now=at(2026, 11, 23, 12, 1)) == (1, 0)


def test_the_periodic_task_reports_its_counts(floor, clock):
    book(floor, 1)
    services.ticket_take(hall=floor.hall, category=floor.people)
    clock.to(2026, 11, 24, 9)
    assert sweep_hall.delay().get() == {"appointments_missed": 1, "tickets_closed": 1}


def test_the_command_sweeps_and_says_what_it_did(floor, clock):
    book(floor, 1)
    book(floor, 2)
    services.ticket_take(hall=floor.hall, category=floor.people)
    clock.to(2026, 11, 24, 9)
    out = StringIO()
    call_command("hall_sweep", stdout=out)
    assert out.getvalue().splitlines() == ["2 appointments missed.", "1 ticket closed."]
    out = StringIO()
    call_command("hall_sweep", stdout=out)
    assert out.getvalue().splitlines() == ["0 appointments missed.", "0 tickets closed."]
