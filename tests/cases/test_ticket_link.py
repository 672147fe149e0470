"""A case started at the desk while the clerk serves a queue ticket records the ticket (nodes
1 预约 and 2 取号), and its history begins with the ticket's booking, taking and call."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from yimen.cases import selectors
from yimen.cases.models import Case
from yimen.hall import services as hall_services
from yimen.hall.models import AppointmentQuota
from yimen.org.models import Membership

from ..org.factories import WindowFactory
from .factories import FrozenTime, Scene, at, person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23, 9, 0))


@pytest.fixture
def scene(clock):
    """The guide's clerk sits at a window of their hall that serves the guide's category."""
    scene = Scene.make()
    hall = Membership.objects.get(user=scene.clerk).hall
    scene.window = WindowFactory(hall=hall, number="01", categories=[scene.version.window_category])
    scene.hall = hall
    return scene


def signed_in(user) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def serve(scene, *, applicant=None, appointment=None):
    """A ticket taken (or checked in), called to the clerk's window and being served."""
    if appointment is not None:
        ticket = hall_services.appointment_check_in(appointment=appointment, hall=scene.hall)
    else:
        ticket = hall_services.ticket_take(
            hall=scene.hall, category=scene.version.window_category, applicant=applicant
        )
    called = hall_services.ticket_call_next(window=scene.window, clerk=scene.clerk)
    assert called == ticket
    return hall_services.ticket_start(ticket=ticket, clerk=scene.clerk)


def accept_at_the_desk(scene, applicant=None) -> Case:
    applicant = applicant or scene.applicant
    materials = list(scene.version.materials.all())
    url = reverse(
        "desk:checklist", args=[applicant.public_id, scene.version.item.implementation_code]
    )
    data = {
        "version": scene.version.pk,
        "idempotency_key": f"k-{applicant.pk}",
        "decision": "accept",
        "f-shop_name": "示例小店",
        **{f"seen_{m.pk}": "on" for m in materials},
    }
    response = signed_in(scene.clerk).post(url, data)
    assert response.status_code == 302, response.content
    return Case.objects.select_related("applicant").get(applicant=applicant)


def test_a_case_started_while_serving_the_applicants_ticket_records_it(scene):
    ticket = serve(scene, applicant=scene.applicant)
    case = accept_at_the_desk(scene)
    assert case.ticket == ticket


def test_a_walk_in_ticket_without_an_applicant_is_recorded_too(scene):
    ticket = serve(scene)
    assert accept_at_the_desk(scene).ticket == ticket


def test_the_ticket_of_another_applicant_is_not_recorded(scene):
    # Given the clerk serves someone else's ticket
    serve(scene, applicant=person(n=2))
    # When a case of this applicant is started at the desk
    case = accept_at_the_desk(scene)
    # Then it is started, without the ticket
    assert case.ticket is None


def test_no_ticket_being_served_no_ticket_recorded(scene):
    ticket = serve(scene, applicant=scene.applicant)
    hall_services.ticket_finish(ticket=ticket, clerk=scene.clerk)
    assert accept_at_the_desk(scene).ticket is None


def test_the_history_begins_with_the_booking_the_ticket_and_the_call(
    scene, clock, django_assert_num_queries
):
    # Given the applicant booked the morning, checked in at 09:05 and was called at 09:20
    category = scene.version.window_category
    AppointmentQuota.objects.create(hall=scene.hall, category=category, period="am", capacity=5)
    clock.to(2026, 11, 20, 15, 0)
    appointment = hall_services.appointment_book(
        applicant=scene.applicant,
        booked_by=scene.applicant.user,
        hall=scene.hall,
        category=category,
        day=at(2026, 11, 23).date(),
        period="am",
    )
    clock.to(2026, 11, 23, 9, 5)
    hall_services.appointment_check_in(appointment=appointment, hall=scene.hall)
    clock.to(2026, 11, 23, 9, 20)
    ticket = hall_services.ticket_call_next(window=scene.window, clerk=scene.clerk)
    hall_services.ticket_start(ticket=ticket, clerk=scene.clerk)
    # When the case is accepted at 09:30
    clock.to(2026, 11, 23, 9, 30)
    case = accept_at_the_desk(scene)
    # And the ticket moves on afterwards (finished, recalled by no one)
    clock.to(2026, 11, 23, 9, 45)
    hall_services.ticket_finish(ticket=ticket, clerk=scene.clerk)
    # Then the history reads, in one query: 预约, 取号, 叫号, then the case's own steps
    with django_assert_num_queries(1):
        events = selectors.timeline(case)
    labels = [str(e.label) for e in events]
    assert labels[:4] == [
        "Appointment booked",
        "Queue ticket taken",
        "Called to a window",
        "Application submitted",
    ]
    assert len(labels) == 5  # … and the acceptance; nothing of the ticket after the case
    booked, taken, called = events[:3]
    assert booked.at == at(2026, 11, 20, 15, 0) and str(booked.who) == "Applicant"
    assert taken.at == at(2026, 11, 23, 9, 5) and str(taken.who) == "Self-service kiosk"
    assert called.at == at(2026, 11, 23, 9, 20) and called.who == str(scene.clerk)
    assert str(called.reason) == "Window 01"
    # And the case page shows them
    page = signed_in(scene.clerk).get(reverse("cases:case", args=[case.number])).text
    assert "Queue ticket taken" in page and "Appointment booked" in page


def test_a_case_without_a_ticket_keeps_its_own_history(scene):
    # Given a ticket of this applicant served earlier, but a case submitted online
    ticket = serve(scene, applicant=scene.applicant)
    hall_services.ticket_finish(ticket=ticket, clerk=scene.clerk)
    case = scene.submit()
    # Then nothing of the ticket shows
    assert [str(e.label) for e in selectors.timeline(case)] == ["Application submitted"]


def test_another_tickets_events_do_not_leak_into_the_history(scene, clock):
    # Given two walk-in tickets, the second served when the case is started
    first = hall_services.ticket_take(hall=scene.hall, category=scene.version.window_category)
    hall_services.ticket_call_next(window=scene.window, clerk=scene.clerk)
    hall_services.ticket_no_show(ticket=first, clerk=scene.clerk)
    clock.to(2026, 11, 23, 9, 10)
    ticket = serve(scene)
    case = accept_at_the_desk(scene)
    events = selectors.timeline(case)
    # Then only the served ticket's taking and call show
    hall_events = [e for e in events if e.action.startswith("hall.ticket.")]
    assert [e.action for e in hall_events] == ["hall.ticket.take", "hall.ticket.call"]
    assert all(e.at >= at(2026, 11, 23, 9, 10) for e in hall_events)
    assert case.ticket == ticket


def test_the_api_history_begins_with_the_ticket_too(scene):
    # Given a case accepted at the desk while its applicant's ticket was being served
    serve(scene, applicant=scene.applicant)
    case = accept_at_the_desk(scene)
    # When the applicant reads it through the API
    client = signed_in(scene.applicant.user)
    body = client.get(f"/api/v1/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").json()
    # Then the history starts with the ticket's taking and call, without case statuses
    first, second = body["timeline"][:2]
    assert (first["label"], second["label"]) == ("Queue ticket taken", "Called to a window")
    assert first["to_status"] is None and second["from_status"] is None
    assert body["timeline"][2]["action"] == "submit"
