"""The demo hall: `load_demo` gives each demo hall its quotas, a month of believable queue
history (waits averaging about 12 minutes), today's queue walked through the services
(the demo clerk serving, people waiting, an appointment checked in) and upcoming
appointments, 张三's among them; loading again adds nothing.

The demo is loaded with the clock on Monday 2026-11-23 at 10:30, so today's picture is
known; the loader's own moments (the live span, the check-in) and a load of the hall alone
at other hours come first, before the module's demo is loaded."""

import datetime as dt
from collections import Counter, defaultdict
from io import StringIO
from itertools import pairwise
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from tests.cases.factories import at
from yimen.accounts.models import Applicant, User
from yimen.common import audit, workdays
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.demo import city
from yimen.demo import hall as demo_hall
from yimen.demo.loader import (
    STEPS,
    Report,
    load_applicants,
    load_departments,
    load_halls,
    load_regions,
    load_staff,
    load_window_categories,
)
from yimen.hall import periods, selectors, services
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, AppointmentQuota, Ticket, TicketCounter
from yimen.org.models import Hall

NOW = at(2026, 11, 23, 10, 30)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city loaded once for this module at NOW, rolled back after; the clock stays
    at NOW while the module's tests run."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        django_db_blocker.unblock(),
        translation.override("en"),
        mock.patch("django.utils.timezone.now", return_value=NOW),
        transaction.atomic(),
    ):
        call_command("load_demo", "--no-progress", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def halls(demo, db):
    return {key: Hall.objects.get(name=name) for key, name, *_rest in city.HALLS}


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _history():
    return Ticket.objects.filter(day__lt=TODAY)


def _while_open(moment: dt.datetime) -> bool:
    """Whether the hall is open at `moment`: a working day, in one of its half-days."""
    local = timezone.localtime(moment)
    return workdays.is_workday(local.date()) and any(
        begins <= local < ends
        for begins, ends in (periods.period_bounds(local.date(), p) for p in ("am", "pm"))
    )


# --- the moments of today's queue ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "span"),
    [
        ((2026, 11, 23, 10, 30), ((9, 0), (10, 29))),
        ((2026, 11, 23, 15, 0), ((12, 29), (14, 59))),
        ((2026, 11, 23, 21, 0), ((14, 55), (17, 25))),
        ((2026, 11, 23, 9, 30), ((9, 0), (9, 29))),
        ((2026, 11, 23, 9, 29), None),  # the hall has barely opened
        ((2026, 11, 23, 7, 0), None),
        ((2026, 11, 23, 0, 5), None),
        ((2026, 11, 28, 10, 30), None),  # Saturday
        ((2026, 10, 1, 15, 0), None),  # National Day
        ((2026, 10, 10, 10, 30), ((9, 0), (10, 29))),  # a make-up working Saturday
    ],
)
def test_todays_queue_runs_in_the_hours_before_the_load(db, now, span):
    found = demo_hall.live_span(at(*now))
    if span is None:
        assert found is None
    else:
        assert found == (at(*now[:3], *span[0]), at(*now[:3], *span[1]))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ((2026, 11, 23, 10, 30), ("am", (10, 27))),
        ((2026, 11, 23, 13, 30), ("pm", (13, 27))),
        ((2026, 11, 23, 21, 0), ("pm", (17, 23))),
        ((2026, 11, 23, 12, 50), ("am", (12, 0))),
        ((2026, 11, 23, 9, 31), ("am", (9, 28))),
        ((2026, 11, 23, 7, 30), None),  # no queue yet
        ((2026, 11, 28, 10, 30), None),  # Saturday
        ((2026, 10, 1, 10, 30), None),  # National Day
    ],
)
def test_the_appointment_checks_in_within_its_time(db, now, expected):
    span = demo_hall.live_span(at(*now))
    found = demo_hall.check_in_moment(span) if span else None
    if expected is None:
        assert found is None
    else:
        period, (hour, minute) = expected
        assert found == (period, at(*now[:3], hour, minute))


@pytest.mark.parametrize(
    ("now", "queue"),
    [
        ((2026, 11, 28, 20, 0), False),
        ((2026, 11, 23, 0, 3), False),
        ((2026, 11, 23, 9, 0), False),
        ((2026, 10, 1, 11, 0), False),
        ((2026, 11, 24, 12, 40), True),
    ],
    ids=["saturday-evening", "midnight", "just-opened", "national-day", "lunch-break"],
)
def test_the_hall_loads_at_any_hour(db, settings, tmp_path, monkeypatch, now, queue):
    # Given the demo city's halls, staff and applicants (not its catalogue nor cases), and
    # no hall data (should the module's demo be loaded already)
    settings.MEDIA_ROOT = tmp_path
    moment = at(*now)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    for model in (Ticket, TicketCounter, Appointment, AppointmentQuota):
        model.objects.all().delete()
    report = Report()
    for step in (load_regions, load_window_categories, load_departments, load_halls):
        step(report)
    load_staff(report)
    load_applicants(report)
    # When the hall is loaded (without items for the appointments)
    created = demo_hall.load({})
    # Then the month is there, today's queue only on a working day after 09:30, and the
    # bookings
    assert created["quotas"] == 20 and created["tickets"] > 500
    today = Ticket.objects.filter(day=moment.date())
    assert today.exists() == queue
    assert today.filter(appointment__isnull=False).exists() == queue
    for appointment in Appointment.objects.filter(channel=Channel.WINDOW, day__lte=moment.date()):
        assert _while_open(appointment.created_at), appointment.created_at
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == len(
        demo_hall.UPCOMING
    )
    assert audit.verify() is None


# --- quotas -------------------------------------------------------------------------------------


def test_every_queue_of_every_demo_hall_takes_20_appointments_a_half_day(halls):
    for key, hall in halls.items():
        served = {c.code for c in selectors.served_categories(hall)}
        quotas = AppointmentQuota.objects.filter(hall=hall)
        assert {(q.category.code, q.period) for q in quotas} == {
            (code, period) for code in served for period in ("am", "pm")
        }, key
        assert {q.capacity for q in quotas} == {20}
    assert AuditEvent.objects.filter(action="hall.quota.create").count() == 20


# --- the history --------------------------------------------------------------------------------


def test_the_history_covers_the_working_days_of_the_last_month(halls):
    days = set(_history().values_list("day", flat=True))
    assert 1000 <= _history().count() <= 4000
    assert min(days) >= TODAY - dt.timedelta(days=30)
    # every working day of the month, in every hall, and no day off
    assert 19 <= len(days) <= 23
    assert all(workdays.is_workday(day) for day in days)
    for hall in halls.values():
        assert set(_history().filter(hall=hall).values_list("day", flat=True)) == days


def test_past_tickets_are_all_closed_and_the_sweep_finds_nothing(halls):
    statuses = Counter(_history().values_list("status", flat=True))
    assert set(statuses) == {TicketStatus.DONE, TicketStatus.NO_SHOW}
    assert 0.02 <= statuses[TicketStatus.NO_SHOW] / sum(statuses.values()) <= 0.08
    assert not Appointment.objects.filter(day__lt=TODAY, status=AppointmentStatus.BOOKED)
    assert services.sweep() == (0, 0)


def test_waits_average_about_12_minutes_and_services_5_to_20(halls):
    # Given the month's figures of the three halls together
    last = TODAY - dt.timedelta(days=1)
    figures = [
        selectors.hall_figures(h, first=TODAY - dt.timedelta(days=30), last=last)
        for h in halls.values()
    ]
    waits = [w for f in figures for w in f.total.waits]
    service_times = [s for f in figures for s in f.total.services]
    # Then waits are mostly 5–25 minutes and average about 12
    assert 11 <= sum(waits) / len(waits) <= 13.5
    assert sum(5 <= w <= 25 for w in waits) / len(waits) >= 0.75
    # and services take 5–20 minutes, about 11 on average
    assert min(service_times) >= 5 and max(service_times) <= 20
    assert 9 <= sum(service_times) / len(service_times) <= 13
    # and every hall has its morning and afternoon rushes
    for f in figures:
        assert set(f.by_hour) == {9, 10, 11, 14, 15, 16, 17}
        assert f.by_hour[10] > f.by_hour[11] and f.by_hour[15] > f.by_hour[17]


def test_ratings_are_mostly_good_and_the_low_ones_say_why(halls):
    rated = _history().exclude(rating=None)
    ratings = Counter(rated.values_list("rating", flat=True))
    assert set(ratings) == {1, 2, 3, 4, 5}
    assert (ratings[5] + ratings[4]) / rated.count() >= 0.85
    assert 0.4 <= rated.count() / _history().filter(status=TicketStatus.DONE).count() <= 0.7
    assert not rated.filter(rating__lte=2, rating_comment="").exists()
    assert not _history().filter(rating__isnull=False).exclude(status=TicketStatus.DONE)


def test_appointments_are_called_first_and_some_tickets_were_transferred(halls):
    with_appointment = _history().filter(appointment__isnull=False)
    assert 0.05 <= with_appointment.count() / _history().count() <= 0.2
    assert not with_appointment.filter(is_priority=False).exists()
    assert set(with_appointment.values_list("appointment__status", flat=True)) == {"checked_in"}
    for ticket in with_appointment.select_related("appointment")[:50]:
        appointment = ticket.appointment
        assert (appointment.day, appointment.hall_id) == (ticket.day, ticket.hall_id)
        assert appointment.created_at < ticket.issued_at
        begins, ends = periods.period_bounds(appointment.day, appointment.period)
        assert begins - services.CHECK_IN_EARLY <= ticket.issued_at <= ends
    transferred = _history().filter(transfers=1)
    assert transferred.exists()
    for ticket in transferred:
        assert ticket.is_priority and ticket.calls == 2
        assert ticket.number[0] != ticket.category.queue_prefix
    assert Appointment.objects.filter(status=AppointmentStatus.MISSED, day__lt=TODAY).exists()
    cancelled = Appointment.objects.filter(status=AppointmentStatus.CANCELLED)
    assert cancelled.exists() and not cancelled.filter(cancel_reason="").exists()


def test_bookings_at_a_window_were_made_while_the_hall_was_open(halls):
    at_window = Appointment.objects.filter(channel=Channel.WINDOW, day__lte=TODAY)
    assert at_window.count() >= 50
    for appointment in at_window:
        assert _while_open(appointment.created_at), appointment.created_at
        assert appointment.created_at.date() < appointment.day or appointment.day == TODAY
    # Those booked online may be made at any hour
    online = Appointment.objects.filter(channel=Channel.ONLINE, day__lt=TODAY)
    assert not all(_while_open(a.created_at) for a in online)


def test_numbers_count_up_per_hall_day_and_letter_as_the_counters_say(halls):
    numbers = defaultdict(list)
    for hall_id, day, number in Ticket.objects.values_list("hall_id", "day", "number"):
        numbers[(hall_id, day, number[0])].append(int(number[1:]))
    counters = {(c.hall_id, c.day, c.prefix): c.last for c in TicketCounter.objects.all()}
    assert set(counters) == set(numbers)
    for key, seen in numbers.items():
        assert sorted(seen) == list(range(1, counters[key] + 1)), key


def test_a_ticket_is_called_after_it_was_taken_and_served_after_the_call(halls):
    for issued, called, last, started, finished in _history().values_list(
        "issued_at", "called_at", "last_called_at", "started_at", "finished_at"
    ):
        assert issued < called <= last
        if started:
            assert called < started < finished


def test_a_window_serves_one_ticket_at_a_time(halls):
    spans = defaultdict(list)
    for window, started, finished in (
        _history()
        .filter(status=TicketStatus.DONE)
        .values_list("window_id", "started_at", "finished_at")
    ):
        spans[window].append((started, finished))
    for window, served in spans.items():
        for (_s1, end), (start, _e2) in pairwise(sorted(served)):
            assert end <= start, window


# --- today --------------------------------------------------------------------------------------


def test_the_demo_clerk_is_serving_and_people_wait(halls):
    clerk = _user("clerk")
    ticket = selectors.in_service(clerk=clerk)
    assert ticket is not None and ticket.window.number == "A01"
    assert ticket.hall == halls["city"] and ticket.day == TODAY
    assert ticket.started_at <= NOW
    board = selectors.board(halls["city"])
    assert ticket in board.calls
    assert sum(line.waiting for line in board.queues) >= 3
    assert selectors.served_today(clerk=clerk).filter(status=TicketStatus.DONE).count() >= 2


def test_today_has_served_rated_missing_and_transferred_tickets(halls):
    today = Ticket.objects.filter(day=TODAY)
    statuses = Counter(today.values_list("status", flat=True))
    assert statuses[TicketStatus.DONE] >= 5
    assert statuses[TicketStatus.WAITING] >= 3
    assert statuses[TicketStatus.NO_SHOW] == 1
    assert today.exclude(rating=None).exists()
    transferred = today.get(transfers=1)
    assert transferred.number.startswith("B") and transferred.category.code == "personal"
    assert all(t.issued_at <= NOW for t in today)


def test_an_appointment_was_checked_in_this_morning(halls):
    ticket = Ticket.objects.get(day=TODAY, appointment__isnull=False)
    appointment = ticket.appointment
    assert appointment.applicant.name == "李四"
    assert (appointment.status, appointment.period) == (AppointmentStatus.CHECKED_IN, "am")
    assert ticket.is_priority and ticket.hall == halls["city"]
    assert ticket.status in (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)


def test_todays_tickets_have_audit_trails_that_chain(halls):
    for ticket in Ticket.objects.filter(day=TODAY):
        events = list(
            AuditEvent.objects.filter(object_type="hall.ticket", object_id=str(ticket.pk)).order_by(
                "pk"
            )
        )
        assert events[0].action == "hall.ticket.take" and events[0].from_state == "", ticket
        for before, after in pairwise(events):
            assert after.from_state == before.to_state, (ticket, after.action)
            assert after.occurred_at >= before.occurred_at
        assert events[-1].to_state == ticket.status, ticket
        assert events[0].occurred_at == ticket.issued_at
    assert audit.verify() is None


def test_the_history_has_no_audit_rows(halls):
    past = set(map(str, _history().values_list("pk", flat=True)))
    logged = set(
        AuditEvent.objects.filter(object_type="hall.ticket").values_list("object_id", flat=True)
    )
    assert not past & logged


# --- upcoming appointments ---------------------------------------------------------------------


def test_zhang_san_has_an_appointment_tomorrow_and_a_history(halls):
    mine = list(selectors.appointments_of(Applicant.objects.get(user__username="citizen")))
    booked = [a for a in mine if a.status == AppointmentStatus.BOOKED]
    assert len(booked) == 1
    [upcoming] = booked
    assert (upcoming.day, upcoming.period) == (dt.date(2026, 11, 24), "am")
    assert upcoming.hall == halls["city"]
    assert upcoming.item.versions.get(status="published").name == "普通护照签发"
    assert upcoming.booked_by.username == "citizen"
    assert {a.status for a in mine} == {"booked", "checked_in", "cancelled"}
    served = next(a for a in mine if a.status == AppointmentStatus.CHECKED_IN)
    assert served.ticket.rating == 5


def test_upcoming_appointments_lie_in_the_booking_window(halls):
    upcoming = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    assert upcoming.count() == len(demo_hall.UPCOMING)
    days = periods.bookable_days(today=TODAY)
    assert all(a.day in days and a.day > TODAY for a in upcoming)
    halls_booked = {hall for _name, hall, *_rest in demo_hall.UPCOMING}
    assert {a.hall.name for a in upcoming} == {
        name for key, name, *_r in city.HALLS if key in halls_booked
    }
    company = upcoming.get(applicant__user__username="company")
    assert company.category.code == "enterprise" and company.item is not None


def test_the_admin_lists_the_demo_tickets(halls, client):
    client.force_login(_user("admin"))
    response = client.get(reverse("admin:hall_ticket_changelist"), {"day__gte": "2026-11-23"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == Ticket.objects.filter(day=TODAY).count()


def test_a_second_load_creates_nothing(halls):
    counts = (Ticket.objects.count(), Appointment.objects.count(), AuditEvent.objects.count())
    report = Report()
    for _label, step in STEPS:
        step(report)
    assert report.created == {}
    assert (
        Ticket.objects.count(),
        Appointment.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
