"""The hall's public pages: my appointments and booking, the kiosk (取号, check-in), the
ticket slip with its rating, the display board and the index; who may open which."""

import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import UserFactory, citizen_id, uscc
from tests.cases.factories import guide
from tests.hall.factories import at, person
from tests.org.factories import HallFactory, WindowCategoryFactory, WindowFactory
from yimen.common.choices import Channel
from yimen.hall import services
from yimen.hall.choices import AppointmentStatus, TicketStatus
from yimen.hall.models import Appointment, Ticket

pytestmark = pytest.mark.django_db

MONDAY = at(2026, 11, 23).date()
TUESDAY = at(2026, 11, 24).date()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the kiosk counts requests per address
    yield
    cache.clear()


@pytest.fixture
def applicant():
    return person(n=1)


def english(client: Client) -> Client:
    """Pages in English, so assertions read like the source strings."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = english(Client())
    client.force_login(user)
    return client


def htmx(client: Client, url: str, **params):
    return client.get(url, params, HTTP_HX_REQUEST="true")


def book_url(**params) -> str:
    url = reverse("hall:book")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def booking(floor, day=MONDAY, period="am", **overrides) -> dict:
    data = {
        "hall": floor.hall.pk,
        "category": floor.people.pk,
        "slot": f"{day.isoformat()}|{period}",
    }
    data.update(overrides)
    return data


def book(floor, applicant, day=MONDAY, period="am", **kwargs) -> Appointment:
    return services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=kwargs.pop("category", floor.people),
        day=day,
        period=period,
        **kwargs,
    )


def kiosk_url(hall) -> str:
    return reverse("hall:kiosk", args=[hall.pk])


def slip_url(ticket) -> str:
    return reverse("hall:ticket", args=[ticket.public_id])


def served(floor, ticket) -> Ticket:
    """The ticket called, served and finished at window A."""
    called = services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    assert called == ticket
    services.ticket_start(ticket=called, clerk=floor.clerk_a)
    return services.ticket_finish(ticket=called, clerk=floor.clerk_a)


# --- the index --------------------------------------------------------------------------------


def test_the_index_lists_active_halls_in_chinese_by_default(floor):
    closed = HallFactory(name="已关闭的大厅", is_active=False)

    response = Client().get(reverse("hall:index"))

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text
    assert floor.hall.name in response.text and closed.name not in response.text
    assert kiosk_url(floor.hall) in response.text
    assert reverse("hall:board", args=[floor.hall.pk]) in response.text
    # Anonymous: asked to sign in before booking.
    assert reverse("accounts:login") in response.text


def test_the_index_offers_booking_to_an_applicant_only_where_the_hall_takes_it(floor, applicant):
    without_quotas = HallFactory(name="便民服务站")

    response = signed_in(applicant.user).get(reverse("hall:index"))

    assert f'href="{book_url(hall=floor.hall.pk)}"' in response.text
    assert f'href="{book_url(hall=without_quotas.pk)}"' not in response.text
    assert kiosk_url(without_quotas) in response.text


# --- my appointments --------------------------------------------------------------------------


def test_my_appointments_needs_a_sign_in():
    response = Client().get(reverse("hall:appointments"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_staff_account_without_an_applicant_profile_gets_a_friendly_page(floor):
    client = signed_in(floor.clerk_a)
    for url in (reverse("hall:appointments"), reverse("hall:book")):
        response = client.get(url)
        assert response.status_code == 403
        assert "has no applicant profile" in response.text


def test_my_appointments_shows_upcoming_first_with_the_code_then_the_past(floor, applicant, clock):
    # Given an appointment kept last week, one cancelled and one upcoming
    clock.to(2026, 11, 16, 8, 30)
    kept = book(floor, applicant, day=at(2026, 11, 16).date())
    services.appointment_check_in(appointment=kept, hall=floor.hall)
    clock.to(2026, 11, 23, 8, 30)
    cancelled = book(floor, applicant, day=TUESDAY, period="pm")
    services.appointment_cancel(appointment=cancelled, actor=applicant.user, reason="有事")
    upcoming = book(floor, applicant, day=TUESDAY)
    someone_else = book(floor, person(n=2), day=TUESDAY)

    # When the applicant opens the list
    response = signed_in(applicant.user).get(reverse("hall:appointments"))

    # Then the upcoming one comes first, its code large, with a cancel form
    assert response.status_code == 200
    text = response.text
    assert someone_else.code not in text
    assert text.index(upcoming.code) < text.index(cancelled.code) < text.index(kept.code)
    assert re.search(rf'class="hall-code[^"]*" role="group"[^>]*>{upcoming.code}<', text)
    assert reverse("hall:cancel", args=[upcoming.public_id]) in text
    assert reverse("hall:cancel", args=[cancelled.public_id]) not in text
    assert "有事" in text and "Cancelled" in text and "Checked in" in text
    assert slip_url(kept.ticket) in text
    assert floor.hall.name in text and "个人办事" in text


def test_my_appointments_in_chinese_by_default(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    client = Client()
    client.force_login(applicant.user)
    response = client.get(reverse("hall:appointments"))
    assert '<html lang="zh-hans">' in response.text and appointment.code in response.text


def test_the_applicant_cancels_an_appointment_with_a_reason(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    client = signed_in(applicant.user)

    response = client.post(
        reverse("hall:cancel", args=[appointment.public_id]), {"reason": "时间冲突"}, follow=True
    )

    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "时间冲突")
    assert f"Your appointment {appointment.code} has been cancelled." in response.text


def test_a_cancel_once_the_period_has_begun_is_refused_with_the_reason(floor, applicant, clock):
    appointment = book(floor, applicant)
    clock.to(2026, 11, 23, 9, 5)

    response = signed_in(applicant.user).post(
        reverse("hall:cancel", args=[appointment.public_id]), {"reason": ""}
    )

    assert response.status_code == 400
    assert "The period has begun: it can no longer be cancelled." in response.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_nobody_cancels_someone_elses_appointment(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    other = person(n=2)
    url = reverse("hall:cancel", args=[appointment.public_id])
    assert signed_in(other.user).post(url).status_code == 404
    assert Client().post(url).status_code == 302  # to the sign-in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


# --- booking ----------------------------------------------------------------------------------


def test_the_booking_page_needs_a_sign_in():
    response = Client().get(reverse("hall:book"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_booking_page_preselects_the_only_hall_and_shows_its_categories(floor, applicant):
    client = Client()  # Chinese
    client.force_login(applicant.user)
    response = client.get(reverse("hall:book"))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text
    assert f'<option value="{floor.hall.pk}" selected>' in response.text
    assert "个人办事" in response.text and "企业办事" in response.text
    assert 'name="slot"' not in response.text  # no category chosen yet


def test_the_grid_shows_the_bookable_half_days_with_places_left(floor, applicant):
    book(floor, person(n=2), day=TUESDAY)  # one of two morning places taken on Tuesday
    client = signed_in(applicant.user)

    response = client.get(
        reverse("hall:book"), {"hall": floor.hall.pk, "category": floor.people.pk}
    )

    assert response.status_code == 200
    grid = response.context["grid"]
    assert grid[0]["day"] == MONDAY and len(grid) == 8  # today and 7 working days
    tuesday_am = grid[1]["cells"][0]["slot"]
    assert (tuesday_am.day, tuesday_am.period, tuesday_am.left) == (TUESDAY, "am", 1)
    assert 'value="2026-11-24|am"' in response.text
    assert "1 place left" in response.text and "2 places left" in response.text


def test_a_full_or_past_half_day_has_no_radio(floor, applicant, clock):
    for n in (2, 3):
        book(floor, person(n=n), day=TUESDAY)
    clock.to(2026, 11, 23, 12, 30)
    response = signed_in(applicant.user).get(
        reverse("hall:book"), {"hall": floor.hall.pk, "category": floor.people.pk}
    )
    assert 'value="2026-11-24|am"' not in response.text
    assert 'value="2026-11-23|am"' not in response.text
    assert 'value="2026-11-23|pm"' in response.text
    assert "Fully booked" in response.text and "Over" in response.text


def test_htmx_redraws_only_the_booking_part(floor, applicant):
    client = signed_in(applicant.user)
    response = htmx(client, reverse("hall:book"), hall=floor.hall.pk, category=floor.firms.pk)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="booking">')
    assert 'value="2026-11-23|am"' in response.text


def test_the_grid_partial_reads_in_few_queries(floor, applicant, django_assert_max_num_queries):
    for n in range(2, 6):
        book(floor, person(n=n), day=TUESDAY if n % 2 else MONDAY, period="pm")
    client = signed_in(applicant.user)
    htmx(client, reverse("hall:book"), hall=floor.hall.pk, category=floor.people.pk)  # calendar
    # session, user, applicant; halls, categories; the quotas and the bookings counted
    with django_assert_max_num_queries(7):
        response = htmx(client, reverse("hall:book"), hall=floor.hall.pk, category=floor.people.pk)
    assert response.status_code == 200


def test_an_applicant_books_and_sees_the_code(floor, applicant):
    client = signed_in(applicant.user)

    response = client.post(reverse("hall:book"), booking(floor, day=TUESDAY))

    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("hall:appointments")
    assert (appointment.applicant, appointment.booked_by) == (applicant, applicant.user)
    assert (appointment.day, appointment.period, appointment.channel) == (TUESDAY, "am", "online")
    page = client.get(response["Location"])
    assert f"Your appointment code is {appointment.code}" in page.text


def test_a_double_post_books_once_and_says_why(floor, applicant):
    client = signed_in(applicant.user)
    first = client.post(reverse("hall:book"), booking(floor))
    second = client.post(reverse("hall:book"), booking(floor))
    assert first.status_code == 302
    assert second.status_code == 400
    assert "You already have an appointment for this period." in second.text
    assert reverse("hall:appointments") in second.text
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slot": "2026-12-24|am"}, "Choose a working day from today to 7 working days ahead."),
        ({"slot": "2026-11-28|am"}, "Choose a working day from today to 7 working days ahead."),
        ({"slot": "2026-11-24|night"}, "Choose the morning or the afternoon."),
        ({"slot": "next tuesday"}, "Choose a half-day with places left."),
        ({"slot": ""}, "Choose a half-day with places left."),
    ],
)
def test_a_bad_half_day_is_refused_on_the_form(floor, applicant, data, message):
    response = signed_in(applicant.user).post(reverse("hall:book"), booking(floor, **data))
    assert response.status_code == 400
    assert message in response.text
    assert not Appointment.objects.exists()


def test_a_full_half_day_is_refused(floor, applicant):
    for n in (2, 3):
        book(floor, person(n=n), day=TUESDAY)
    response = signed_in(applicant.user).post(reverse("hall:book"), booking(floor, day=TUESDAY))
    assert response.status_code == 400
    assert "This period is fully booked." in response.text
    assert Appointment.objects.count() == 2


def test_a_half_day_that_is_over_is_refused(floor, applicant, clock):
    clock.to(2026, 11, 23, 12, 30)
    response = signed_in(applicant.user).post(reverse("hall:book"), booking(floor))
    assert response.status_code == 400
    assert "This period is over: choose a later one." in response.text


def test_a_category_the_hall_takes_no_appointments_for_is_refused(floor, applicant):
    other = WindowCategoryFactory(code="works", name="工程建设", queue_prefix="C")
    response = signed_in(applicant.user).post(
        reverse("hall:book"), booking(floor, category=other.pk)
    )
    assert response.status_code == 400
    assert "This hall takes no appointments for this window category." in response.text


def test_a_closed_hall_is_refused(floor, applicant):
    closed = HallFactory(is_active=False)
    response = signed_in(applicant.user).post(reverse("hall:book"), booking(floor, hall=closed.pk))
    assert response.status_code == 400
    assert "This hall is closed." in response.text


def test_booking_for_an_item_preselects_its_category_and_records_it(floor, applicant):
    version = guide(category=floor.firms)
    code = version.item.implementation_code
    client = signed_in(applicant.user)

    page = client.get(reverse("hall:book"), {"item": code})
    assert page.status_code == 200
    assert page.context["category"] == floor.firms
    assert version.name in page.text and 'value="2026-11-24|pm"' in page.text

    response = client.post(
        reverse("hall:book"), booking(floor, category=floor.firms.pk, item=code, period="pm")
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.item, appointment.category) == (version.item, floor.firms)
    assert version.name in client.get(reverse("hall:appointments")).text


def test_booking_an_item_at_another_category_is_refused(floor, applicant):
    version = guide(category=floor.firms)
    response = signed_in(applicant.user).post(
        reverse("hall:book"),
        booking(floor, category=floor.people.pk, item=version.item.implementation_code),
    )
    assert response.status_code == 400
    assert "This item is handled at another window category." in response.text
    assert not Appointment.objects.exists()


def test_an_unknown_item_is_not_found(floor, applicant):
    response = signed_in(applicant.user).get(reverse("hall:book"), {"item": "nope"})
    assert response.status_code == 404


def test_booking_an_unknown_item_is_refused_on_the_form(floor, applicant):
    response = signed_in(applicant.user).post(
        reverse("hall:book"), booking(floor, day=TUESDAY, item="nope")
    )
    assert response.status_code == 400
    assert "No service in force has this code." in response.text
    assert not Appointment.objects.exists()


def test_booking_for_an_item_offers_only_its_category(floor, applicant):
    # Given an item handled at the firms' windows, in a hall taking both categories
    version = guide(category=floor.firms)
    # When the booking page is opened for it, naming the other category even
    page = signed_in(applicant.user).get(
        reverse("hall:book"),
        {
            "item": version.item.implementation_code,
            "hall": floor.hall.pk,
            "category": floor.people.pk,
        },
    )
    # Then only the item's category is offered, and chosen
    assert page.status_code == 200
    assert page.context["categories"] == [floor.firms]
    assert page.context["category"] == floor.firms
    offered = page.text.split('id="booking-category"')[1].split("</select>")[0]
    assert floor.firms.name in offered and floor.people.name not in offered


@pytest.mark.parametrize(
    "query",
    [{"hall": "²"}, {"hall": "1", "category": "²"}, {"hall": "¹²"}],
    ids=["hall", "category", "hall-superscripts"],
)
def test_superscript_digits_in_the_booking_choice_are_ignored(floor, applicant, query):
    if query["hall"] == "1":
        query["hall"] = str(floor.hall.pk)
    response = signed_in(applicant.user).get(reverse("hall:book"), query)
    assert response.status_code == 200


# --- the kiosk --------------------------------------------------------------------------------


def test_the_kiosk_offers_each_served_queue_with_its_waiting_count(floor):
    services.ticket_take(hall=floor.hall, category=floor.people)

    response = Client().get(kiosk_url(floor.hall))  # anonymous, Chinese

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text
    assert "个人办事" in response.text and "企业办事" in response.text
    assert response.context["queues"][0].waiting == 1
    assert f'name="category" value="{floor.people.pk}"' in response.text


def test_taking_a_ticket_at_the_kiosk_leads_to_the_slip(floor):
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "take", "category": floor.people.pk}
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == slip_url(ticket)
    assert (ticket.number, ticket.channel, ticket.applicant) == ("A001", Channel.KIOSK, None)


def test_a_ticket_taken_on_a_phone_keeps_its_slip(floor):
    # Given the kiosk page opened on a phone (from the index: no ?kiosk=1)
    client = english(Client())
    page = client.get(kiosk_url(floor.hall))
    assert 'name="kiosk"' not in page.text
    # When a ticket is taken there
    response = client.post(kiosk_url(floor.hall), {"action": "take", "category": floor.people.pk})
    # Then the slip stays: no return to the kiosk, no "Done" button
    slip = client.get(response["Location"])
    assert "?kiosk=1" not in response["Location"]
    assert 'http-equiv="refresh"' not in slip.text
    assert "The kiosk returns to its start" not in slip.text


def test_the_halls_kiosk_carries_kiosk_mode_to_the_slip_and_back(floor):
    # Given the kiosk's own browser, which opens the page with ?kiosk=1
    client = english(Client())
    page = client.get(kiosk_url(floor.hall) + "?kiosk=1")
    assert page.text.count('<input type="hidden" name="kiosk" value="1">') == 2
    # When a ticket is taken there
    response = client.post(
        kiosk_url(floor.hall), {"action": "take", "category": floor.people.pk, "kiosk": "1"}
    )
    # Then the slip goes back to the kiosk, in kiosk mode, after 45 s or on "Done"
    ticket = Ticket.objects.get()
    assert response["Location"] == slip_url(ticket) + "?kiosk=1"
    slip = client.get(response["Location"])
    back = kiosk_url(floor.hall) + "?kiosk=1"
    assert f'<meta http-equiv="refresh" content="45;url={back}">' in slip.text
    assert f'href="{back}"' in slip.text


def test_a_known_id_number_attaches_the_applicant_and_an_unknown_one_does_not(floor, applicant):
    client = english(Client())
    client.post(
        kiosk_url(floor.hall),
        {"action": "take", "category": floor.firms.pk, "identifier": citizen_id(1).lower()},
    )
    client.post(
        kiosk_url(floor.hall),
        {"action": "take", "category": floor.firms.pk, "identifier": citizen_id(7)},
    )
    first, second = Ticket.objects.order_by("number")
    assert (first.number, first.applicant) == ("B001", applicant)
    assert (second.number, second.applicant) == ("B002", None)


def test_a_malformed_id_number_is_refused_on_the_form(floor):
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "take", "category": floor.people.pk, "identifier": "1234"}
    )
    assert response.status_code == 400
    assert "Type all 18 characters of the number" in response.text
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (citizen_id(1)[:17] + ("1" if citizen_id(1)[17] != "1" else "2"), "check character"),
        ("991011199001010011", "The first six digits are not a region code."),
        (uscc(1)[:17] + ("1" if uscc(1)[17] != "1" else "2"), "please check the code"),
        ("ABCDEFGHIJKLMNOPQR", "Only digits and upper-case letters"),
    ],
    ids=["id-check-character", "id-region", "uscc-check-character", "not-a-number"],
)
def test_a_number_that_is_neither_an_id_nor_a_credit_code_is_refused_unechoed(
    floor, typed, message
):
    # When a wrong 18-character number is typed at the kiosk
    response = english(Client()).post(
        kiosk_url(floor.hall) + "?kiosk=1",
        {"action": "take", "category": floor.people.pk, "identifier": typed, "kiosk": "1"},
    )
    # Then no ticket, the reason on the field, and the number is not shown to the next person
    assert response.status_code == 400
    assert message in response.text
    assert 'name="identifier"' in response.text and 'aria-invalid="true"' in response.text
    assert typed not in response.text and typed.lower() not in response.text
    # And the page goes back to the (kiosk mode) start after a minute
    back = kiosk_url(floor.hall) + "?kiosk=1"
    assert f'<meta http-equiv="refresh" content="60;url={back}">' in response.text
    assert not Ticket.objects.exists()


def test_a_credit_code_is_taken_and_full_width_digits_are_read(floor, applicant):
    client = english(Client())
    full_width = citizen_id(1).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789X"})
    for identifier in (uscc(1), full_width):
        response = client.post(
            kiosk_url(floor.hall),
            {"action": "take", "category": floor.people.pk, "identifier": identifier},
        )
        assert response.status_code == 302
    firm, citizen = Ticket.objects.order_by("number")
    assert firm.applicant is None  # a valid code nobody registered
    assert citizen.applicant == applicant


def test_a_full_width_appointment_code_checks_in(floor, applicant):
    appointment = book(floor, applicant)
    full_width = appointment.code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "check_in", "code": f"{full_width[:4]}　{full_width[4:]}"}
    )
    assert response.status_code == 302
    assert Ticket.objects.get().appointment == appointment


def test_a_superscript_code_is_refused_not_a_500(floor):
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "check_in", "code": "1234567²"}
    )
    assert response.status_code == 400
    assert "No appointment has this code." in response.text
    assert '<meta http-equiv="refresh" content="60;url=' in response.text


def test_a_queue_the_hall_does_not_serve_is_refused(floor):
    elsewhere = WindowCategoryFactory(code="works", name="工程建设", queue_prefix="C")
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "take", "category": elsewhere.pk}
    )
    assert response.status_code == 400
    assert "No window of this hall serves this category." in response.text


def test_an_appointment_checks_in_at_the_kiosk_and_goes_first(floor, applicant):
    services.ticket_take(hall=floor.hall, category=floor.people)
    appointment = book(floor, applicant)

    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "check_in", "code": appointment.code, "kiosk": "1"}
    )

    ticket = Ticket.objects.get(appointment=appointment)
    assert response["Location"] == slip_url(ticket) + "?kiosk=1"
    assert ticket.is_priority and ticket.applicant == applicant
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    slip = english(Client()).get(response["Location"])
    assert "You are next." in slip.text


def test_a_check_in_at_another_hall_is_refused(floor, applicant):
    appointment = book(floor, applicant)
    elsewhere = HallFactory(name="另一个大厅")
    WindowFactory(hall=elsewhere, number="01", categories=[floor.people])

    response = english(Client()).post(
        kiosk_url(elsewhere), {"action": "check_in", "code": appointment.code}
    )

    assert response.status_code == 400
    assert "No appointment has this code." in response.text
    assert not Ticket.objects.exists()


def test_a_check_in_on_another_day_is_refused(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    response = english(Client()).post(
        kiosk_url(floor.hall), {"action": "check_in", "code": appointment.code}
    )
    assert response.status_code == 400
    assert "Check in on 2026-11-24, Morning (09:00–12:00)." in response.text
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [("12345678", "No appointment has this code."), ("12ab", "The appointment code has 8 digits.")],
)
def test_an_unknown_or_malformed_code_is_refused(floor, code, message):
    response = english(Client()).post(kiosk_url(floor.hall), {"action": "check_in", "code": code})
    assert response.status_code == 400
    assert message in response.text


def test_a_used_code_is_refused(floor, applicant):
    appointment = book(floor, applicant)
    client = english(Client())
    client.post(kiosk_url(floor.hall), {"action": "check_in", "code": appointment.code})
    response = client.post(kiosk_url(floor.hall), {"action": "check_in", "code": appointment.code})
    assert response.status_code == 400
    assert "The appointment is now “Checked in”." in response.text
    assert Ticket.objects.count() == 1


def test_the_kiosk_limits_posts_per_address(floor):
    client = english(Client())
    for _i in range(30):
        client.post(kiosk_url(floor.hall), {"action": "check_in", "code": "00000000"})
    response = client.post(kiosk_url(floor.hall), {"action": "take", "category": floor.people.pk})
    assert response.status_code == 429
    assert "Too many requests from this kiosk." in response.text
    assert not Ticket.objects.exists()


def test_an_unknown_or_closed_hall_has_no_kiosk_nor_board(floor):
    closed = HallFactory(is_active=False)
    client = Client()
    for hall_id in (closed.pk, 999999):
        for name in ("hall:kiosk", "hall:board", "hall:board_live"):
            assert client.get(reverse(name, args=[hall_id])).status_code == 404
    assert client.post(kiosk_url(closed), {"action": "take"}).status_code == 404


# --- the slip ---------------------------------------------------------------------------------


def test_the_slip_shows_the_number_and_how_many_wait_ahead(floor):
    services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.people)
    mine = services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.firms)  # another queue

    response = english(Client()).get(slip_url(mine))

    assert response.status_code == 200
    assert "A003" in response.text and "个人办事" in response.text
    assert "2 people ahead of you" in response.text
    assert "2026-11-23 08:30" in response.text
    assert 'hx-trigger="every 15s"' in response.text
    assert response.context["qr"].startswith("data:image/svg+xml;base64,")


def test_the_slip_is_chinese_by_default_and_unknown_ones_are_not_found(floor):
    ticket = services.ticket_take(hall=floor.hall, category=floor.people)
    response = Client().get(slip_url(ticket))
    assert '<html lang="zh-hans">' in response.text and "A001" in response.text
    assert Client().get(reverse("hall:ticket", args=[Appointment().public_id])).status_code == 404


def test_the_slip_status_answers_204_until_something_changes(floor):
    ticket = services.ticket_take(hall=floor.hall, category=floor.people)
    client = english(Client())
    url = reverse("hall:ticket_status", args=[ticket.public_id])
    first = client.get(url)
    key = first.context["key"]
    assert first.status_code == 200 and "You are next." in first.text

    assert client.get(url, {"seen": key}).status_code == 204

    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    changed = client.get(url, {"seen": key})
    assert changed.status_code == 200
    assert "Please go to window 01." in changed.text
    assert changed.context["key"] != key


def test_a_finished_slip_stops_polling_and_offers_the_rating(floor):
    ticket = served(floor, services.ticket_take(hall=floor.hall, category=floor.people))
    response = english(Client()).get(slip_url(ticket))
    assert "hx-trigger" not in response.text
    assert response.text.count('name="rating"') == 5
    assert reverse("hall:rate", args=[ticket.public_id]) in response.text


def test_a_rating_is_recorded_once(floor):
    ticket = served(floor, services.ticket_take(hall=floor.hall, category=floor.people))
    client = english(Client())
    url = reverse("hall:rate", args=[ticket.public_id])

    response = client.post(url, {"rating": 5, "kiosk": "1"}, follow=True)

    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (5, "")
    assert "Thank you for your rating." in response.text
    assert 'name="rating"' not in response.text
    assert "You rated this service: Very satisfied." in response.text
    again = client.post(url, {"rating": 1, "comment": "改主意了"})
    assert again.status_code == 400
    assert "This service has been rated already." in again.text
    ticket.refresh_from_db()
    assert ticket.rating == 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": 1}, "Tell us what went wrong."),
        ({"rating": 2, "comment": "  "}, "Tell us what went wrong."),
        ({}, "Choose one of the five levels."),
        ({"rating": 9}, "Select a valid choice."),
    ],
)
def test_a_bad_rating_comes_back_on_the_form(floor, data, message):
    ticket = served(floor, services.ticket_take(hall=floor.hall, category=floor.people))
    response = english(Client()).post(reverse("hall:rate", args=[ticket.public_id]), data)
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    ticket.refresh_from_db()
    assert ticket.rating is None


def test_a_low_rating_with_its_reason_is_recorded(floor):
    ticket = served(floor, services.ticket_take(hall=floor.hall, category=floor.people))
    english(Client()).post(
        reverse("hall:rate", args=[ticket.public_id]), {"rating": 1, "comment": "等了很久"}
    )
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (1, "等了很久")


def test_a_ticket_never_called_says_so_on_its_slip(floor, clock):
    # Given a ticket still waiting when the hall closed, closed by the night's sweep
    ticket = services.ticket_take(hall=floor.hall, category=floor.people)
    clock.to(2026, 11, 24, 0, 15)
    services.sweep()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.EXPIRED
    # When its slip is opened the next day / then it says why, and asks for a new ticket
    response = english(Client()).get(slip_url(ticket))
    assert "This ticket was not called that day. Please take a new one." in response.text
    assert "hx-trigger" not in response.text and 'name="rating"' not in response.text


def test_a_ticket_still_waiting_cannot_be_rated(floor):
    ticket = services.ticket_take(hall=floor.hall, category=floor.people)
    response = english(Client()).post(reverse("hall:rate", args=[ticket.public_id]), {"rating": 5})
    assert response.status_code == 400
    assert "Rate a service once it is over." in response.text


# --- the board --------------------------------------------------------------------------------


def test_the_board_shows_the_calls_and_the_queues(floor):
    services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.firms)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)

    response = Client().get(reverse("hall:board", args=[floor.hall.pk]))

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text and floor.hall.name in response.text
    assert 'hx-trigger="every 5s"' in response.text
    assert 'aria-live="assertive"' in response.text
    queues = {line.category.queue_prefix: line.waiting for line in response.context["board"].queues}
    assert queues == {"A": 1, "B": 1}


def test_the_board_partial_shows_the_newest_call_first_and_announces_it(floor, clock):
    for _i in range(2):
        services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_take(hall=floor.hall, category=floor.firms)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    client = english(Client())
    live = reverse("hall:board_live", args=[floor.hall.pk])
    before = client.get(reverse("hall:board", args=[floor.hall.pk])).context
    assert before["announce"] == []

    clock.to(2026, 11, 23, 9, 1)
    services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    since = re.search(r"since=(\d+)", before["live_url"]).group(1)
    response = client.get(live, {"seen": before["key"], "since": since})

    assert response.status_code == 200
    text = response.text
    assert "<html" not in text
    rows = re.findall(r'<tr class="hall-call( hall-call-new)?">\s*<td>(\w+)', text)
    assert rows == [(" hall-call-new", "B001"), ("", "A001")]
    assert 'hx-swap-oob="innerHTML"' in text
    assert "Number B001, please go to window 02." in text
    assert "Number A001, please go to window" not in text  # announced before


def test_the_board_partial_answers_204_while_nothing_changes(floor):
    services.ticket_take(hall=floor.hall, category=floor.people)
    client = Client()
    context = client.get(reverse("hall:board", args=[floor.hall.pk])).context
    live = reverse("hall:board_live", args=[floor.hall.pk])
    assert client.get(live, {"seen": context["key"], "since": "0"}).status_code == 204
    services.ticket_take(hall=floor.hall, category=floor.people)
    changed = client.get(live, {"seen": context["key"], "since": "0"})
    assert changed.status_code == 200 and "hx-swap-oob" not in changed.text


def test_the_board_partial_ignores_a_superscript_since(floor):
    services.ticket_take(hall=floor.hall, category=floor.people)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    live = reverse("hall:board_live", args=[floor.hall.pk])
    response = english(Client()).get(live, {"since": "²"})
    assert response.status_code == 200 and response.context["announce"] == []


def test_the_board_is_never_cached_and_its_date_turns_at_midnight(floor, clock):
    # Given the board read late on Monday
    clock.to(2026, 11, 23, 23, 59)
    client = english(Client())
    board = client.get(reverse("hall:board", args=[floor.hall.pk]))
    assert "no-store" in board["Cache-Control"]
    assert '<time datetime="2026-11-23">2026-11-23 Monday</time>' in board.text
    live = reverse("hall:board_live", args=[floor.hall.pk])
    seen = {"seen": board.context["key"], "since": "0"}
    assert client.get(live, seen).status_code == 204
    # When midnight passes with nobody called / then the live part brings the new date
    clock.to(2026, 11, 24, 0, 1)
    response = client.get(live, seen)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert '<time datetime="2026-11-24">2026-11-24 Tuesday</time>' in response.text


def test_the_board_partial_reads_in_few_queries(floor, django_assert_max_num_queries):
    for _i in range(6):
        services.ticket_take(hall=floor.hall, category=floor.people)
        services.ticket_take(hall=floor.hall, category=floor.firms)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    # the hall; the calls, the waiting counts and the served categories
    with django_assert_max_num_queries(4):
        response = Client().get(reverse("hall:board_live", args=[floor.hall.pk]))
    assert response.status_code == 200


# --- the catalog's button and the navigation --------------------------------------------------


def test_the_guide_offers_booking_when_its_process_has_the_appointment_node(floor):
    with_node = guide(category=floor.people)
    without_node = guide(category=floor.people, nodes=[n for n in range(2, 14)])
    client = english(Client())

    page = client.get(reverse("catalog:item", args=[with_node.item.implementation_code]))
    other = client.get(reverse("catalog:item", args=[without_node.item.implementation_code]))

    assert f"{reverse('hall:book')}?item={with_node.item.implementation_code}" in page.text
    assert "Book an appointment" in page.text
    assert "Book an appointment" not in other.text


def test_my_appointments_is_in_the_navigation_of_applicants_only(floor, applicant):
    url = reverse("hall:appointments")
    assert f'href="{url}"' in signed_in(applicant.user).get(reverse("home")).text
    assert f'href="{url}"' not in signed_in(floor.clerk_a).get(reverse("home")).text
    assert f'href="{url}"' not in Client().get(reverse("home")).text


def test_staff_and_anonymous_use_the_kiosk_alike(floor):
    staff = signed_in(UserFactory())
    response = staff.post(kiosk_url(floor.hall), {"action": "take", "category": floor.firms.pk})
    assert response.status_code == 302
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_my_appointments_reads_in_few_queries(
    floor, applicant, clock, django_assert_max_num_queries
):
    version = guide(category=floor.people)
    for day in (at(2026, 11, 16).date(), at(2026, 11, 17).date(), at(2026, 11, 18).date()):
        clock.to(day.year, day.month, day.day, 8, 30)
        kept = book(floor, applicant, day=day, item=version.item)
        services.appointment_check_in(appointment=kept, hall=floor.hall)
    clock.to(2026, 11, 23, 8, 30)
    for day in (MONDAY, TUESDAY):
        for period in ("am", "pm"):
            book(floor, applicant, day=day, period=period, item=version.item)
    client = signed_in(applicant.user)
    # session, user, applicant; the upcoming ones, the count and the page of the others
    with django_assert_max_num_queries(6):
        response = client.get(reverse("hall:appointments"))
    assert response.status_code == 200
    assert response.text.count('class="hall-code') == 4


def test_a_too_long_cancel_reason_is_refused_on_its_field(floor, applicant):
    appointment = book(floor, applicant, day=TUESDAY)
    response = signed_in(applicant.user).post(
        reverse("hall:cancel", args=[appointment.public_id]), {"reason": "很" * 201}
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.text
    assert 'aria-invalid="true"' in response.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
