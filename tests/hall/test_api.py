"""The hall API: each role on each endpoint, bad input named by field, 409 on stale double
actions, 204 when nobody waits, the kiosk's rate limit, no personal data in what the public
sees, query counts of the lists, and the published schema.

The clock stands at Monday 2026-11-23 08:30 unless a test moves it: the morning period
(09:00–12:00) has not begun, check-in for it is open (from 08:00)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.cases.factories import guide
from tests.conftest import grant
from tests.org.factories import HallFactory, WindowCategoryFactory, WindowFactory
from yimen.common import ratelimit
from yimen.hall import services
from yimen.hall.api import views
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, Ticket
from yimen.org.choices import Role

from .factories import Floor, FrozenTime, at, person

pytestmark = pytest.mark.django_db

BASE = "/api/v1/hall"
MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23, 8, 30))


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the kiosk counts tickets per address
    yield
    cache.clear()


@pytest.fixture
def elsewhere():
    """Another hall with its own windows and clerks (the same two queues)."""
    return Floor.make()


@pytest.fixture
def citizen():
    return person(n=1)


@pytest.fixture
def other_citizen():
    return person(n=2)


@pytest.fixture
def supervisor():
    return grant(UserFactory(), Role.SUPERVISOR)


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # the API speaks the caller's language
    client.default_format = "json"  # the hall API reads JSON only
    if user is not None:
        client.force_login(user)
    return client


def book(applicant, floor, *, day=MONDAY, period="am", category=None) -> Appointment:
    return services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=category or floor.people,
        day=day,
        period=period,
    )


def take(floor, category=None) -> Ticket:
    return services.ticket_take(hall=floor.hall, category=category or floor.people)


def called(floor) -> Ticket:
    """A walk-in ticket of queue A, called to window 01 by its clerk."""
    take(floor)
    return services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)


def errors(response, code: int = 400) -> dict:
    assert response.status_code == code, (response.status_code, response.content)
    return response.json()


def private_bits(applicant) -> list[str]:
    user = applicant.user
    return [
        applicant.name,
        applicant.id_number,
        str(applicant.public_id),
        user.full_name,
        user.email,
    ]


# --- halls, free places, the board (public) --------------------------------------------------


class TestHalls:
    def test_everyone_sees_the_active_halls_and_their_queues(self, floor, citizen, supervisor):
        # given a hall with a third queue served without appointments, and a closed hall
        tax = WindowCategoryFactory(code="tax", name="税务", queue_prefix="C")
        WindowFactory(hall=floor.hall, number="03", categories=[tax])
        closed = HallFactory(is_active=False)
        for user in (None, citizen.user, floor.clerk_a, supervisor):
            # when anyone asks
            response = client_for(user).get(f"{BASE}/halls/")
            # then only the active hall is listed, with each queue's ways in
            assert response.status_code == 200
            rows = {row["id"]: row for row in response.json()["results"]}
            assert set(rows) == {floor.hall.pk} and closed.pk not in rows
            row = rows[floor.hall.pk]
            assert row["takes_appointments"] is True
            assert [(c["code"], c["tickets"], c["appointments"]) for c in row["categories"]] == [
                ("people", True, True),
                ("firms", True, True),
                ("tax", True, False),
            ]

    def test_a_hall_without_quotas_takes_no_appointments(self):
        hall = HallFactory()
        WindowFactory(hall=hall, categories=[WindowCategoryFactory(code="walk-in")])
        row = client_for().get(f"{BASE}/halls/").json()["results"][0]
        assert row["takes_appointments"] is False
        assert row["categories"][0]["appointments"] is False

    # Halls, their count, their open windows and categories, the quotas.
    MAX_LIST_QUERIES = 5

    def test_queries_do_not_grow_with_halls(self, django_assert_max_num_queries):
        counts = []
        for _round in range(2):
            Floor.make()
            Floor.make()
            with django_assert_max_num_queries(self.MAX_LIST_QUERIES) as captured:
                response = client_for().get(f"{BASE}/halls/")
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert response.json()["count"] == 4
        assert counts[0] == counts[1]


class TestSlots:
    def test_free_places_of_a_queue(self, floor, other_citizen):
        # given one place of Monday morning taken
        book(other_citizen, floor)
        # when anyone asks for queue A
        response = client_for().get(f"{BASE}/halls/{floor.hall.pk}/slots/?category=people")
        # then today and the next 7 working days show, morning and afternoon
        assert response.status_code == 200
        slots = response.json()
        assert len(slots) == 16
        assert slots[0] == {
            "day": "2026-11-23",
            "period": "am",
            "period_label": "Morning (09:00–12:00)",
            "capacity": 2,
            "left": 1,
            "open": True,
        }
        assert {s["day"] for s in slots} >= {"2026-11-24", "2026-12-02"}
        assert "2026-11-28" not in {s["day"] for s in slots}  # a Saturday

    def test_a_period_over_is_not_open(self, floor, clock):
        clock.to(2026, 11, 23, 12, 30)
        slots = client_for().get(f"{BASE}/halls/{floor.hall.pk}/slots/?category=people").json()
        assert (slots[0]["period"], slots[0]["open"], slots[0]["left"]) == ("am", False, 2)
        assert slots[1]["open"] is True

    @pytest.mark.parametrize("query", ["", "?category=", "?category=nonsense"])
    def test_the_queue_must_be_known(self, floor, query):
        response = client_for().get(f"{BASE}/halls/{floor.hall.pk}/slots/{query}")
        assert "category" in errors(response)

    def test_a_queue_without_appointments_has_no_places(self, floor):
        WindowCategoryFactory(code="tax", queue_prefix="C")
        response = client_for().get(f"{BASE}/halls/{floor.hall.pk}/slots/?category=tax")
        assert response.status_code == 200 and response.json() == []

    def test_a_closed_or_unknown_hall_is_a_404(self, floor):
        closed = HallFactory(is_active=False)
        for pk in (closed.pk, 999_999):
            assert client_for().get(f"{BASE}/halls/{pk}/slots/?category=people").status_code == 404

    def test_queries_do_not_grow_with_bookings(
        self, floor, citizen, other_citizen, django_assert_max_num_queries
    ):
        url = f"{BASE}/halls/{floor.hall.pk}/slots/?category=people"
        client_for().get(url)  # warm the calendar cache
        book(citizen, floor)
        book(other_citizen, floor, day=TUESDAY, period="pm")
        # the hall, the category, the quotas, the bookings
        with django_assert_max_num_queries(4):
            assert client_for().get(url).status_code == 200


class TestBoard:
    def test_the_board_shows_calls_and_queues_and_nobody(
        self, floor, citizen, django_assert_max_num_queries
    ):
        # given the citizen checked in and was called to window 01, and one more waits
        appointment = book(citizen, floor)
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
        first = services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
        take(floor)
        take(floor, floor.firms)
        # when anyone looks at the board
        with django_assert_max_num_queries(4):
            response = client_for().get(f"{BASE}/halls/{floor.hall.pk}/board/")
        # then the call and the queues show, and no personal data
        assert response.status_code == 200
        board = response.json()
        assert board["hall"] == {"id": floor.hall.pk, "name": floor.hall.name}
        assert [(c["number"], c["window"]) for c in board["calls"]] == [(first.number, "01")]
        assert board["calls"][0]["called_at"]
        assert [(q["code"], q["waiting"]) for q in board["queues"]] == [
            ("people", 1),
            ("firms", 1),
        ]
        for bit in private_bits(citizen):
            assert bit not in response.content.decode()

    def test_a_closed_hall_has_no_board(self):
        hall = HallFactory(is_active=False)
        assert client_for().get(f"{BASE}/halls/{hall.pk}/board/").status_code == 404


# --- appointments (the applicant's own) ------------------------------------------------------


def booking(floor, **overrides) -> dict:
    return {
        "hall": floor.hall.pk,
        "category": "people",
        "day": "2026-11-24",
        "period": "am",
        **overrides,
    }


class TestAppointmentList:
    def test_each_sees_their_own(self, floor, elsewhere, citizen, other_citizen, supervisor):
        mine = book(citizen, floor)
        book(other_citizen, floor)
        assert client_for().get(f"{BASE}/appointments/").status_code == 403
        rows = client_for(citizen.user).get(f"{BASE}/appointments/").json()["results"]
        assert [r["public_id"] for r in rows] == [str(mine.public_id)]
        assert rows[0]["code"] == mine.code and rows[0]["can_cancel"] is True
        assert rows[0]["ticket"] is None and rows[0]["status"] == "booked"
        # staff are not applicants: they have none of their own
        for user in (floor.clerk_a, elsewhere.clerk_a, supervisor):
            response = client_for(user).get(f"{BASE}/appointments/")
            assert response.status_code == 200 and response.json()["results"] == []

    def test_a_checked_in_appointment_names_its_ticket(self, floor, citizen):
        appointment = book(citizen, floor)
        ticket = services.appointment_check_in(appointment=appointment, hall=floor.hall)
        row = client_for(citizen.user).get(f"{BASE}/appointments/").json()["results"][0]
        assert row["status"] == "checked_in" and row["can_cancel"] is False
        assert row["ticket"] == {"public_id": str(ticket.public_id), "number": ticket.number}

    # Session, user (with their applicant); the count, the page (hall, category, item and
    # ticket joined).
    MAX_LIST_QUERIES = 4

    def test_queries_do_not_grow_with_rows(self, floor, citizen, django_assert_max_num_queries):
        version = guide(category=floor.people)
        client = client_for(citizen.user)
        periods = [(MONDAY, "am"), (MONDAY, "pm"), (TUESDAY, "am"), (TUESDAY, "pm")]
        counts = []
        for batch in (periods[:1], periods[1:]):
            for day, period in batch:
                services.appointment_book(
                    applicant=citizen, booked_by=citizen.user, hall=floor.hall,
                    category=floor.people, day=day, period=period, item=version.item,
                )  # fmt: skip
            with django_assert_max_num_queries(self.MAX_LIST_QUERIES) as captured:
                response = client.get(f"{BASE}/appointments/")
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert response.json()["count"] == 4
        assert response.json()["results"][0]["item"] == version.item.implementation_code
        assert counts[0] == counts[1]


class TestBooking:
    def test_an_applicant_books_for_themselves(self, floor, citizen):
        version = guide(category=floor.people)
        data = booking(floor, item=version.item.implementation_code)
        response = client_for(citizen.user).post(f"{BASE}/appointments/", data, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        appointment = Appointment.objects.get(public_id=body["public_id"])
        assert appointment.applicant == citizen and appointment.booked_by == citizen.user
        assert (
            len(body["code"]) == 8 and body["code"].isdigit() and body["code"] == appointment.code
        )
        assert (body["day"], body["period"], body["status"]) == ("2026-11-24", "am", "booked")
        assert body["item"] == version.item.implementation_code
        assert body["hall"]["id"] == floor.hall.pk and body["category"]["code"] == "people"

    def test_only_applicants_book(self, floor, supervisor):
        assert client_for().post(f"{BASE}/appointments/", booking(floor)).status_code == 403
        for staff in (floor.clerk_a, supervisor):
            response = client_for(staff).post(f"{BASE}/appointments/", booking(floor))
            assert response.status_code == 403
        assert not Appointment.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"day": "2026-13-01"}, "day"),
            ({"day": "23/11/2026"}, "day"),
            ({"day": "2026-11-29"}, "day"),  # a Sunday
            ({"day": "2026-11-20"}, "day"),  # last Friday
            ({"day": "2027-01-29"}, "day"),  # beyond the bookable days
            ({"category": "nonsense"}, "category"),
            ({"category": ""}, "category"),
            ({"period": "night"}, "period"),
            ({"hall": 999_999}, "hall"),
            ({"item": "nonsense"}, "item"),
        ],
    )
    def test_bad_input_names_its_field(self, floor, citizen, overrides, field):
        response = client_for(citizen.user).post(
            f"{BASE}/appointments/", booking(floor, **overrides), format="json"
        )
        assert field in errors(response), response.json()
        assert not Appointment.objects.exists()

    def test_a_queue_without_quota(self, floor, citizen):
        tax = WindowCategoryFactory(code="tax", queue_prefix="C")
        WindowFactory(hall=floor.hall, number="03", categories=[tax])
        response = client_for(citizen.user).post(
            f"{BASE}/appointments/", booking(floor, category="tax"), format="json"
        )
        assert "category" in errors(response)

    def test_an_item_of_another_queue(self, floor, citizen):
        version = guide(category=floor.firms)
        data = booking(floor, item=version.item.implementation_code)
        response = client_for(citizen.user).post(f"{BASE}/appointments/", data, format="json")
        assert "item" in errors(response)

    def test_a_full_period(self, floor, citizen):
        for n in (2, 3):
            book(person(n=n), floor, day=TUESDAY)
        response = client_for(citizen.user).post(f"{BASE}/appointments/", booking(floor))
        assert "period" in errors(response)
        assert not citizen.appointments.exists()

    def test_a_period_over(self, floor, citizen, clock):
        clock.to(2026, 11, 23, 12, 30)
        data = booking(floor, day="2026-11-23", period="am")
        response = client_for(citizen.user).post(f"{BASE}/appointments/", data)
        assert "period" in errors(response)
        data["period"] = "pm"
        assert client_for(citizen.user).post(f"{BASE}/appointments/", data).status_code == 201

    def test_one_booking_per_period(self, floor, citizen):
        client = client_for(citizen.user)
        assert client.post(f"{BASE}/appointments/", booking(floor)).status_code == 201
        response = client.post(f"{BASE}/appointments/", booking(floor, category="firms"))
        assert "period" in errors(response)
        assert citizen.appointments.count() == 1

    def test_a_closed_hall(self, citizen):
        closed = Floor.make()
        closed.hall.is_active = False
        closed.hall.save()
        response = client_for(citizen.user).post(f"{BASE}/appointments/", booking(closed))
        assert "hall" in errors(response)


class TestCancel:
    def url(self, appointment) -> str:
        return f"{BASE}/appointments/{appointment.public_id}/cancel/"

    def test_the_applicant_cancels_once(self, floor, citizen):
        appointment = book(citizen, floor, day=TUESDAY)
        client = client_for(citizen.user)
        # when they cancel
        response = client.post(self.url(appointment), {"reason": "有事"}, format="json")
        # then it is cancelled with the reason
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["cancel_reason"]) == (
            "cancelled",
            "有事",
        )
        # and a second click is a conflict, naming the status now
        again = errors(client.post(self.url(appointment), {}), 409)
        assert again == {"appointment": ["The appointment is now “Cancelled”."]}

    def test_nobody_else_cancels(self, floor, citizen, other_citizen, supervisor):
        appointment = book(citizen, floor, day=TUESDAY)
        assert client_for().post(self.url(appointment)).status_code == 403
        for user in (other_citizen.user, floor.clerk_a, supervisor):
            assert client_for(user).post(self.url(appointment)).status_code == 404
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.BOOKED

    def test_not_once_the_period_has_begun(self, floor, citizen, clock):
        appointment = book(citizen, floor)
        clock.to(2026, 11, 23, 9, 30)
        response = client_for(citizen.user).post(self.url(appointment))
        assert "appointment" in errors(response, 400)

    def test_a_checked_in_appointment_is_a_conflict(self, floor, citizen):
        appointment = book(citizen, floor)
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
        response = client_for(citizen.user).post(self.url(appointment))
        assert errors(response, 409) == {"appointment": ["The appointment is now “Checked in”."]}

    def test_a_reason_too_long(self, floor, citizen):
        appointment = book(citizen, floor, day=TUESDAY)
        response = client_for(citizen.user).post(self.url(appointment), {"reason": "x" * 201})
        assert "reason" in errors(response)


# --- the kiosk and the slip (public) ---------------------------------------------------------


class TestTakeTicket:
    def url(self, floor) -> str:
        return f"{BASE}/halls/{floor.hall.pk}/tickets/"

    def test_anyone_takes_a_ticket(self, floor):
        kiosk = client_for()
        first = kiosk.post(self.url(floor), {"category": "people"}, format="json")
        second = kiosk.post(self.url(floor), {"category": "people"}, format="json")
        assert first.status_code == second.status_code == 201
        assert (first.json()["number"], first.json()["waiting_ahead"]) == ("A001", 0)
        assert (second.json()["number"], second.json()["waiting_ahead"]) == ("A002", 1)
        assert second.json()["status"] == "waiting" and second.json()["window"] is None
        ticket = Ticket.objects.get(public_id=second.json()["public_id"])
        assert ticket.channel == "api" and ticket.applicant is None

    def test_a_signed_in_applicant_is_known_at_the_window(self, floor, citizen):
        response = client_for(citizen.user).post(self.url(floor), {"category": "people"})
        ticket = Ticket.objects.get(public_id=response.json()["public_id"])
        assert ticket.applicant == citizen
        assert citizen.name not in response.content.decode()

    def test_checking_in_by_code(self, floor, citizen):
        # given a walk-in waits, and the citizen booked this morning
        take(floor)
        appointment = book(citizen, floor)
        kiosk = client_for()
        # when the code is typed at the kiosk
        response = kiosk.post(self.url(floor), {"appointment_code": appointment.code})
        # then a priority ticket is issued, ahead of the walk-in, with no personal data
        assert response.status_code == 201, response.json()
        slip = response.json()
        assert (slip["number"], slip["is_priority"], slip["waiting_ahead"]) == ("A002", True, 0)
        for bit in private_bits(citizen):
            assert bit not in response.content.decode()
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CHECKED_IN
        # and the same code again is a conflict
        again = kiosk.post(self.url(floor), {"appointment_code": appointment.code})
        assert errors(again, 409) == {"appointment_code": ["The appointment is now “Checked in”."]}
        assert Ticket.objects.count() == 2

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({}, "category"),
            ({"category": "nonsense"}, "category"),
            ({"appointment_code": "1234"}, "appointment_code"),
            ({"appointment_code": "abcdefgh"}, "appointment_code"),
            ({"appointment_code": "00000000"}, "appointment_code"),  # nobody's
        ],
    )
    def test_bad_input_names_its_field(self, floor, data, field):
        response = client_for().post(self.url(floor), data, format="json")
        assert field in errors(response)
        assert not Ticket.objects.exists()

    def test_a_queue_the_hall_does_not_serve(self, floor):
        WindowCategoryFactory(code="tax", queue_prefix="C")
        response = client_for().post(self.url(floor), {"category": "tax"})
        assert "category" in errors(response)

    def test_an_appointment_of_another_hall_or_time(self, floor, elsewhere, citizen):
        today = book(citizen, floor)
        tomorrow = book(citizen, floor, day=TUESDAY)
        response = client_for().post(self.url(elsewhere), {"appointment_code": today.code})
        assert "appointment_code" in errors(response)
        response = client_for().post(self.url(floor), {"appointment_code": tomorrow.code})
        assert "appointment_code" in errors(response)
        assert not Ticket.objects.exists()

    def test_a_closed_or_unknown_hall(self, floor):
        floor.hall.is_active = False
        floor.hall.save()
        assert "hall" in errors(client_for().post(self.url(floor), {"category": "people"}))
        assert client_for().post(f"{BASE}/halls/999999/tickets/", {}).status_code == 404

    def test_the_kiosk_is_rate_limited(self, floor, monkeypatch):
        monkeypatch.setattr(views, "TICKETS_PER_MINUTE", 2)
        # one minute of the limit's clock throughout (no new minute starting mid-test)
        monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_795_000_000.0))
        kiosk = client_for()
        for _ in range(2):
            assert kiosk.post(self.url(floor), {"category": "people"}).status_code == 201
        # the third ticket (or guess of a code) within the minute is refused
        assert kiosk.post(self.url(floor), {"category": "people"}).status_code == 429
        assert kiosk.post(self.url(floor), {"appointment_code": "12345678"}).status_code == 429
        assert Ticket.objects.count() == 2
        # another address is not held up
        other = client_for()
        other.defaults["REMOTE_ADDR"] = "10.0.0.9"
        assert other.post(self.url(floor), {"category": "people"}).status_code == 201


class TestSlip:
    def test_anyone_follows_a_ticket(self, floor, citizen):
        appointment = book(citizen, floor)
        mine = services.appointment_check_in(appointment=appointment, hall=floor.hall)
        for user in (None, citizen.user, floor.clerk_b):
            response = client_for(user).get(f"{BASE}/tickets/{mine.public_id}/")
            assert response.status_code == 200
            assert response.json()["status"] == "waiting" and response.json()["window"] is None
        services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
        response = client_for().get(f"{BASE}/tickets/{mine.public_id}/")
        slip = response.json()
        assert (slip["status"], slip["window"], slip["may_rate"]) == ("called", "01", False)
        for bit in private_bits(citizen):
            assert bit not in response.content.decode()

    def test_an_unknown_ticket_is_a_404(self):
        response = client_for().get(f"{BASE}/tickets/6f1c1d6e-0000-4000-8000-000000000000/")
        assert response.status_code == 404
        assert client_for().get(f"{BASE}/tickets/A001/").status_code == 404


class TestRating:
    def url(self, ticket) -> str:
        return f"{BASE}/tickets/{ticket.public_id}/rate/"

    def served(self, floor) -> Ticket:
        ticket = called(floor)
        services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
        return services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)

    def test_a_service_is_rated_once(self, floor):
        ticket = self.served(floor)
        kiosk = client_for()
        assert kiosk.get(f"{BASE}/tickets/{ticket.public_id}/").json()["may_rate"] is True
        response = kiosk.post(self.url(ticket), {"rating": 5}, format="json")
        assert response.status_code == 200
        assert (response.json()["rating"], response.json()["may_rate"]) == (5, False)
        again = kiosk.post(self.url(ticket), {"rating": 4}, format="json")
        assert errors(again, 409) == {"rating": ["This service has been rated already."]}
        ticket.refresh_from_db()
        assert ticket.rating == 5

    def test_not_before_the_service_is_over(self, floor):
        ticket = called(floor)
        response = client_for().post(self.url(ticket), {"rating": 5})
        assert errors(response, 409) == {"rating": ["Rate a service once it is over."]}

    @pytest.mark.parametrize(
        ("data", "field"),
        [({}, "rating"), ({"rating": 9}, "rating"), ({"rating": "good"}, "rating"),
         ({"rating": 1}, "comment"), ({"rating": 2, "comment": "  "}, "comment")],
    )  # fmt: skip
    def test_bad_input_names_its_field(self, floor, data, field):
        ticket = self.served(floor)
        assert field in errors(client_for().post(self.url(ticket), data, format="json"))
        ticket.refresh_from_db()
        assert ticket.rating is None

    def test_a_low_rating_with_its_reason(self, floor):
        ticket = self.served(floor)
        response = client_for().post(self.url(ticket), {"rating": 1, "comment": "等太久"})
        assert response.status_code == 200
        ticket.refresh_from_db()
        assert (ticket.rating, ticket.rating_comment) == (1, "等太久")

    def test_not_on_another_day(self, floor, clock):
        ticket = self.served(floor)
        clock.to(2026, 11, 24, 9, 0)
        assert "rating" in errors(client_for().post(self.url(ticket), {"rating": 5}))


# --- windows (clerks) ------------------------------------------------------------------------


class TestWindows:
    def test_only_clerks_have_windows(self, floor, citizen, supervisor):
        for user in (None, citizen.user, supervisor):
            assert client_for(user).get(f"{BASE}/windows/").status_code == 403

    def test_a_clerk_sees_the_windows_they_may_use(self, floor, elsewhere, citizen):
        # given the citizen's appointment called to window 01, and one more of A waiting
        appointment = book(citizen, floor)
        services.appointment_check_in(appointment=appointment, hall=floor.hall)
        at_a = services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
        take(floor)
        # when the clerk of window 01 asks
        panels = client_for(floor.clerk_a).get(f"{BASE}/windows/").json()
        # then only that window shows, with its ticket and its queue
        assert [p["id"] for p in panels] == [floor.window_a.pk]
        panel = panels[0]
        assert panel["ticket"]["number"] == at_a.number
        assert panel["ticket"]["applicant"] == str(citizen.public_id)
        assert panel["waiting"] == [{"code": "people", "name": "个人办事", "waiting": 1}]
        # the clerk of another hall sees their own windows only
        panels = client_for(elsewhere.clerk_a).get(f"{BASE}/windows/").json()
        assert [(p["id"], p["ticket"], p["waiting"][0]["waiting"]) for p in panels] == [
            (elsewhere.window_a.pk, None, 0)
        ]

    def test_a_clerk_of_the_whole_hall_sees_every_window(self, floor):
        anywhere = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
        panels = client_for(anywhere).get(f"{BASE}/windows/").json()
        assert {p["id"] for p in panels} == {floor.window_a.pk, floor.window_b.pk}

    # Session, user, memberships and their categories; the windows, their categories, the
    # tickets at them, the waiting counts.
    MAX_LIST_QUERIES = 8

    def test_queries_do_not_grow_with_windows(self, floor, django_assert_max_num_queries):
        anywhere = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
        client = client_for(anywhere)
        counts = []
        for n in (1, 2):
            new = [
                WindowFactory(hall=floor.hall, number=number, categories=[floor.people])
                for number in (f"1{n}", f"2{n}")
            ]
            take(floor)
            caller = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
            services.ticket_call_next(window=new[0], clerk=caller)
            take(floor, floor.firms)
            with django_assert_max_num_queries(self.MAX_LIST_QUERIES) as captured:
                response = client.get(f"{BASE}/windows/")
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert len(response.json()) == 6
        assert counts[0] == counts[1]


class TestCallNext:
    def url(self, window) -> str:
        return f"{BASE}/windows/{window.pk}/call-next/"

    def test_nobody_waits(self, floor):
        response = client_for(floor.clerk_a).post(self.url(floor.window_a))
        assert response.status_code == 204 and response.content == b""

    def test_the_next_is_called_then_the_window_is_busy(self, floor):
        walk_in = take(floor)
        take(floor)
        client = client_for(floor.clerk_a)
        response = client.post(self.url(floor.window_a))
        assert response.status_code == 200
        body = response.json()
        assert (body["number"], body["status"], body["window"]) == ("A001", "called", "01")
        assert body["public_id"] == str(walk_in.public_id)
        # a second click before serving the first is a conflict
        again = client.post(self.url(floor.window_a))
        assert errors(again, 409) == {
            "window": ["Finish the ticket at this window before calling the next."]
        }
        assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 1

    def test_only_the_clerks_of_the_window(self, floor, elsewhere, citizen, supervisor):
        take(floor)
        for user in (None, citizen.user, supervisor):
            assert client_for(user).post(self.url(floor.window_a)).status_code == 403
        # a clerk of the other window, or of another hall
        for clerk in (floor.clerk_b, elsewhere.clerk_a):
            assert client_for(clerk).post(self.url(floor.window_a)).status_code == 403
        assert (
            client_for(floor.clerk_a).post(f"{BASE}/windows/999999/call-next/").status_code == 404
        )
        assert not Ticket.objects.exclude(status=TicketStatus.WAITING).exists()


class TestTicketActions:
    def act(self, user, ticket, action, data=None):
        url = f"{BASE}/tickets/{ticket.public_id}/{action}/"
        return client_for(user).post(url, data or {}, format="json")

    def test_a_whole_service(self, floor):
        ticket = called(floor)
        clerk = floor.clerk_a
        recalled = self.act(clerk, ticket, "recall")
        assert recalled.status_code == 200 and recalled.json()["calls"] == 2
        started = self.act(clerk, ticket, "start")
        assert started.json()["status"] == "serving" and started.json()["started_at"]
        finished = self.act(clerk, ticket, "finish")
        assert finished.json()["status"] == "done" and finished.json()["finished_at"]

    @pytest.mark.parametrize(
        ("steps", "action", "now"),
        [
            ([], "finish", "Called"),
            (["start"], "start", "Being served"),
            (["start"], "recall", "Being served"),
            (["start", "finish"], "finish", "Served"),
            (["start", "finish"], "transfer", "Served"),
            (["no-show"], "no-show", "Did not come"),
        ],
    )
    def test_a_stale_step_is_a_conflict(self, floor, steps, action, now):
        ticket = called(floor)
        for step in steps:
            assert self.act(floor.clerk_a, ticket, step).status_code == 200
        response = self.act(floor.clerk_a, ticket, action, {"category": "firms", "reason": "企业"})
        assert errors(response, 409) == {"ticket": [f"The ticket is now “{now}”."]}

    def test_a_waiting_ticket_cannot_be_started(self, floor):
        ticket = take(floor)
        response = self.act(floor.clerk_a, ticket, "start")
        assert errors(response, 409) == {"ticket": ["The ticket is now “Waiting”."]}

    def test_a_race_lost_under_the_lock_is_a_conflict(self, floor, monkeypatch):
        # given another tab finishes the ticket between the check and the service's lock
        ticket = called(floor)
        services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
        finish = views.TICKET_ACTIONS["finish"]

        def raced(*, ticket, clerk):
            services.ticket_finish(ticket=Ticket.objects.get(pk=ticket.pk), clerk=clerk)
            return finish.service(ticket=ticket, clerk=clerk)

        monkeypatch.setitem(
            views.TICKET_ACTIONS, "finish", dataclasses.replace(finish, service=raced)
        )
        # when the clerk's own click reaches the service, then it is a 409, not a 403
        response = self.act(floor.clerk_a, ticket, "finish")
        assert errors(response, 409) == {"ticket": ["The ticket is now “Served”."]}

    @pytest.mark.parametrize("action", ["recall", "start", "no-show", "transfer"])
    def test_only_the_clerk_who_called_it(self, floor, elsewhere, citizen, supervisor, action):
        ticket = called(floor)
        data = {"category": "firms", "reason": "企业"}
        for user in (None, citizen.user, supervisor):
            assert self.act(user, ticket, action, data).status_code == 403
        # a clerk of another hall, and the clerk of another window of the hall
        for clerk in (elsewhere.clerk_a, floor.clerk_b):
            assert self.act(clerk, ticket, action, data).status_code == 403
        ticket.refresh_from_db()
        assert (ticket.status, ticket.calls, ticket.window) == (
            TicketStatus.CALLED,
            1,
            floor.window_a,
        )

    def test_an_unknown_ticket_is_a_404(self, floor):
        url = f"{BASE}/tickets/6f1c1d6e-0000-4000-8000-000000000000/start/"
        assert client_for(floor.clerk_a).post(url).status_code == 404

    def test_a_transfer(self, floor):
        ticket = called(floor)
        response = self.act(
            floor.clerk_a, ticket, "transfer", {"category": "firms", "reason": "企业"}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["category"]["code"], body["window"]) == (
            "waiting",
            "firms",
            None,
        )
        assert (body["is_priority"], body["transfers"]) == (True, 1)
        # and window 02 calls it first
        nxt = client_for(floor.clerk_b).post(f"{BASE}/windows/{floor.window_b.pk}/call-next/")
        assert nxt.json()["number"] == ticket.number

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"category": "firms"}, "reason"),
            ({"category": "firms", "reason": "   "}, "reason"),
            ({"reason": "企业"}, "category"),
            ({"category": "nonsense", "reason": "企业"}, "category"),
            ({"category": "people", "reason": "企业"}, "category"),  # its own queue
            ({"category": "tax", "reason": "企业"}, "category"),  # no window serves it
        ],
    )
    def test_a_bad_transfer_names_its_field(self, floor, data, field):
        WindowCategoryFactory(code="tax", queue_prefix="C")
        ticket = called(floor)
        assert field in errors(self.act(floor.clerk_a, ticket, "transfer", data))
        ticket.refresh_from_db()
        assert (ticket.status, ticket.category) == (TicketStatus.CALLED, floor.people)


# --- figures ---------------------------------------------------------------------------------


class TestFigures:
    def url(self, floor, query="?first=2026-11-01&last=2026-11-30") -> str:
        return f"{BASE}/halls/{floor.hall.pk}/figures/{query}"

    def test_who_reads_them(self, floor, elsewhere, citizen, supervisor, sysadmin):
        assert client_for().get(self.url(floor)).status_code == 403
        for user in (citizen.user, elsewhere.clerk_a):
            assert client_for(user).get(self.url(floor)).status_code == 404
        for user in (floor.clerk_a, supervisor, sysadmin):
            assert client_for(user).get(self.url(floor)).status_code == 200

    def test_the_figures(self, floor, clock):
        ticket = called(floor)
        clock.to(2026, 11, 23, 8, 40)
        services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
        clock.to(2026, 11, 23, 8, 52)
        services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)
        services.ticket_rate(ticket=ticket, rating=4)
        take(floor, floor.firms)
        response = client_for(floor.clerk_b).get(self.url(floor))
        assert response.status_code == 200
        figures = response.json()
        assert (figures["first"], figures["last"]) == ("2026-11-01", "2026-11-30")
        total = figures["total"]
        assert (total["tickets"], total["served"], total["rated"]) == (2, 1, 1)
        assert (total["average_service"], total["satisfaction"]) == (12.0, 100.0)
        assert {r["rating"]: r["count"] for r in total["ratings"]} == {5: 0, 4: 1, 3: 0, 2: 0, 1: 0}
        assert [q["label"] for q in figures["queues"]] == ["个人办事", "企业办事"]
        assert figures["by_hour"] == [{"hour": 8, "tickets": 2}]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("", "first"),
            ("?first=2026-11-01", "last"),
            ("?first=2026-02-30&last=2026-03-01", "first"),
            ("?first=yesterday&last=2026-03-01", "first"),
            ("?first=2026-11-30&last=2026-11-01", "last"),
            ("?first=2025-11-23&last=2026-11-24", "last"),  # 367 days
        ],
    )
    def test_bad_days_name_their_field(self, floor, supervisor, query, field):
        assert field in errors(client_for(supervisor).get(self.url(floor, query)))

    def test_a_year_and_a_day_is_the_most(self, floor, supervisor):
        query = "?first=2025-11-23&last=2026-11-23"  # 366 days
        assert client_for(supervisor).get(self.url(floor, query)).status_code == 200


# --- the schema ------------------------------------------------------------------------------


def test_schema_lists_the_hall_paths_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    # A message names the source file, and the view and serializers it was found in.
    ours = ["yimen/hall/", "yimen.hall."] + [
        name for name, value in vars(views).items() if name.endswith("View") and value
    ]
    troubles = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if any(mark in message for mark in ours)
    ]
    assert troubles == []
    paths = response.json()["paths"]
    expected = {
        "halls/": {"get"},
        "halls/{id}/slots/": {"get"},
        "halls/{id}/board/": {"get"},
        "halls/{id}/tickets/": {"post"},
        "halls/{id}/figures/": {"get"},
        "appointments/": {"get", "post"},
        "appointments/{public_id}/cancel/": {"post"},
        "tickets/{public_id}/": {"get"},
        "tickets/{public_id}/rate/": {"post"},
        "windows/": {"get"},
        "windows/{id}/call-next/": {"post"},
        **{f"tickets/{{public_id}}/{a}/": {"post"} for a in views.TICKET_ACTIONS},
    }
    for path, methods in expected.items():
        assert set(paths[f"{BASE}/{path}"]) == methods, path
        for method in methods:
            assert paths[f"{BASE}/{path}"][method]["tags"] == ["hall"], path
    for action in views.TICKET_ACTIONS:
        responses = paths[f"{BASE}/tickets/{{public_id}}/{action}/"]["post"]["responses"]
        assert {"200", "400", "403", "404", "409"} <= set(responses), action
    assert {"200", "204", "409"} <= set(
        paths[f"{BASE}/windows/{{id}}/call-next/"]["post"]["responses"]
    )
    assert "429" in paths[f"{BASE}/halls/{{id}}/tickets/"]["post"]["responses"]
