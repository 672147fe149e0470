"""Concurrent writers in the hall: windows calling at once never share a ticket, two
applicants never both take the last place, a double click books once, and ticket numbers
are given once each, without gaps.

Each test runs its writers in threads, each with its own connection: on PostgreSQL the row
locks (FOR UPDATE, SKIP LOCKED for the call) decide, on SQLite the IMMEDIATE transactions
serialise the writers (see tests/cases/test_concurrency.py for the shared database)."""

import threading

import pytest
from django.core.exceptions import ValidationError

from tests.accounts.factories import UserFactory
from tests.cases import test_concurrency as cases_concurrency
from tests.conftest import grant
from tests.org.factories import WindowFactory
from yimen.common.models import AuditEvent
from yimen.hall import services
from yimen.hall.choices import TicketStatus
from yimen.hall.models import Appointment, Ticket
from yimen.org.choices import Role

from .factories import Floor, FrozenTime, at, person

pytestmark = pytest.mark.django_db(transaction=True)

shared_database = cases_concurrency.shared_database
run_together = cases_concurrency.run_together


@pytest.fixture
def floor(monkeypatch, shared_database):
    FrozenTime(monkeypatch, at(2026, 11, 23, 8, 30))
    return Floor.make()


def slowly(monkeypatch, name, delay=0.2):
    """Make a services helper that runs under the lock take a while, so that the other
    writer arrives while the first still holds it."""
    original = getattr(services, name)

    def slow(*args, **kwargs):
        threading.Event().wait(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, name, slow)


def test_windows_calling_at_once_never_get_the_same_ticket(floor, monkeypatch):
    # Given three windows of the A queue, each with its clerk, and twelve people waiting
    windows = [(floor.window_a, floor.clerk_a)]
    for number in ("03", "04"):
        window = WindowFactory(hall=floor.hall, number=number, categories=[floor.people])
        windows.append(
            (window, grant(UserFactory(), Role.WINDOW_CLERK, window=window, hall=floor.hall))
        )
    for _ in range(12):
        services.ticket_take(hall=floor.hall, category=floor.people)
    # and each call holds its lock a little while
    slowly(monkeypatch, "_record", delay=0.02)

    def work(window, clerk):
        served = []
        while (ticket := services.ticket_call_next(window=window, clerk=clerk)) is not None:
            services.ticket_start(ticket=ticket, clerk=clerk)
            services.ticket_finish(ticket=ticket, clerk=clerk)
            served.append(ticket.number)
        return served

    # When the three windows call, serve and call again at once until nobody waits
    results = run_together(*(lambda w=w, c=c: work(w, c) for w, c in windows))

    # Then every ticket was called once, by one window
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = [number for served in results for number in served]
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 13)]
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.DONE}
    assert set(Ticket.objects.values_list("calls", flat=True)) == {1}
    assert AuditEvent.objects.filter(action="hall.ticket.call").count() == 12


def test_two_applicants_booking_the_last_place_one_gets_it(floor, monkeypatch):
    # Given Monday morning with one place left
    services.appointment_book(
        applicant=(first := person(n=1)),
        booked_by=first.user,
        hall=floor.hall,
        category=floor.people,
        day=at(2026, 11, 23).date(),
        period="am",
    )
    applicants = [person(n=2), person(n=3)]
    slowly(monkeypatch, "_save_with_new_code")

    def book(applicant):
        return services.appointment_book(
            applicant=applicant,
            booked_by=applicant.user,
            hall=floor.hall,
            category=floor.people,
            day=at(2026, 11, 23).date(),
            period="am",
        )

    # When both book it at once
    results = run_together(*(lambda a=a: book(a) for a in applicants))

    # Then exactly one has it and the other is told the period is full
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(booked), len(refused)) == (1, 1), results
    assert refused[0].message_dict == {"period": ["This period is fully booked."]}
    assert Appointment.objects.count() == 2
    assert AuditEvent.objects.filter(action="hall.appointment.book").count() == 2


def test_a_double_click_books_once(floor, monkeypatch):
    # Given 张三 clicking "book" twice at once
    applicant = person()
    slowly(monkeypatch, "_save_with_new_code")

    def book():
        return services.appointment_book(
            applicant=applicant,
            booked_by=applicant.user,
            hall=floor.hall,
            category=floor.people,
            day=at(2026, 11, 23).date(),
            period="pm",
        )

    results = run_together(book, book)

    # Then one appointment is made and the other click is told so
    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    [refused] = [r for r in results if isinstance(r, ValidationError)]
    assert refused.message_dict == {"period": ["You already have an appointment for this period."]}
    assert Appointment.objects.filter(applicant=applicant).count() == 1
    assert AuditEvent.objects.filter(action="hall.appointment.book").count() == 1


def test_tickets_taken_at_once_are_numbered_once_each_without_gaps(floor):
    per_kiosk = 5

    def take_many():
        return [
            services.ticket_take(hall=floor.hall, category=floor.people).number
            for _ in range(per_kiosk)
        ]

    results = run_together(*(take_many for _ in range(4)))

    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == [f"A{n:03d}" for n in range(1, 4 * per_kiosk + 1)]
