"""The window clerk's calling panel (叫号) and the hall statistics: who reaches what, the whole
panel flow through HTTP, stale clicks, the figures, the chart and the xlsx export."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.hall.factories import Floor, FrozenTime, at, person
from tests.org.factories import WindowCategoryFactory, WindowFactory
from yimen.hall import services
from yimen.hall.choices import TicketStatus
from yimen.hall.models import Ticket
from yimen.hall.window_views import SESSION_WINDOW
from yimen.org.choices import Role

pytestmark = pytest.mark.django_db

PANEL, STATS, EXPORT = (reverse(f"window:{n}") for n in ("panel", "stats", "stats_export"))
DAY = dt.date(2026, 11, 23)  # a Monday, a working day


def url(name: str) -> str:
    return reverse(f"window:{name}")


def signed_in(user) -> Client:
    """A client of `user` that reads the pages in English, like the source strings."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23, 9, 0))


@pytest.fixture
def floor(clock):
    return Floor.make()


def take(floor, category=None, **kwargs) -> Ticket:
    return services.ticket_take(hall=floor.hall, category=category or floor.people, **kwargs)


def seen(ticket) -> str:
    ticket.refresh_from_db()
    return f"{ticket.public_id}:{ticket.status}:{ticket.calls}"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- who reaches what -------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in(floor, client):
    for response in (
        client.get(PANEL),
        client.get(STATS),
        client.get(EXPORT),
        client.post(url("call"), {"window": floor.window_a.pk}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert not Ticket.objects.exists()


def test_each_role_reaches_only_its_pages(floor, reviewer):
    # Given a citizen, a reviewer, a supervisor and the hall's clerk
    citizen = person().user
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    expected = {
        citizen: {PANEL: 403, STATS: 403, EXPORT: 403},
        reviewer: {PANEL: 403, STATS: 403, EXPORT: 403},
        supervisor: {PANEL: 403, STATS: 200, EXPORT: 200},
        floor.clerk_a: {PANEL: 200, STATS: 200, EXPORT: 200},
    }
    # When each opens each page, then only theirs open
    for user, pages in expected.items():
        client = signed_in(user)
        assert {page: client.get(page).status_code for page in pages} == pages, user
    # And nobody but a clerk may call a ticket
    take(floor)
    for user in (citizen, reviewer, supervisor):
        assert signed_in(user).post(url("call"), {"window": floor.window_a.pk}).status_code == 403
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_a_clerk_of_another_hall_may_not_act_at_this_halls_window(floor):
    # Given a ticket waiting at this hall and a clerk of another hall
    ticket = take(floor)
    stranger = Floor.make().clerk_a
    client = signed_in(stranger)
    # When the stranger calls or sits at this hall's window
    called = client.post(url("call"), {"window": floor.window_a.pk})
    sat = client.post(url("choose"), {"window": floor.window_a.pk})
    # Then both are refused with the reason, and the ticket still waits
    assert called.status_code == 403 and sat.status_code == 403
    assert "You do not work at this window." in messages_of(called)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING and ticket.calls == 0
    # And this hall's figures are not theirs
    assert client.get(STATS, {"hall": floor.hall.pk}).status_code == 400
    assert client.get(EXPORT, {"hall": floor.hall.pk}).status_code == 400


def test_the_consoles_and_the_navigation_offer_the_panel_and_the_statistics(floor):
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    clerk_page = signed_in(floor.clerk_a).get(reverse("desk:desk")).text
    assert f'href="{PANEL}"' in clerk_page and f'href="{STATS}"' in clerk_page
    supervisor_page = signed_in(supervisor).get(reverse("desk:all")).text
    assert f'href="{STATS}"' in supervisor_page and f'href="{PANEL}"' not in supervisor_page
    citizen_page = signed_in(person().user).get(reverse("accounts:home")).text
    assert f'href="{STATS}"' not in citizen_page and f'href="{PANEL}"' not in citizen_page


# --- choosing the window ----------------------------------------------------------------------


def test_a_clerk_whose_role_names_a_window_sits_there_directly(floor):
    client = signed_in(floor.clerk_a)
    page = client.get(PANEL)
    assert page.status_code == 200 and page.context["window"] == floor.window_a
    assert client.session[SESSION_WINDOW] == floor.window_a.pk
    assert 'data-key="n"' in page.text and "Window 01" in page.text


def test_a_clerk_of_the_whole_hall_chooses_a_window_and_it_is_remembered(floor):
    # Given a clerk of the hall without a window of their own
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall)
    client = signed_in(clerk)
    first = client.get(PANEL)
    assert first.context["window"] is None
    assert 'name="window"' in first.text and 'data-key="n"' not in first.text
    # When they sit at window 02
    response = client.post(url("choose"), {"window": floor.window_b.pk})
    # Then the panel is window 02's from now on
    assert response.status_code == 302 and response["Location"] == PANEL
    assert client.get(PANEL).context["window"] == floor.window_b
    # And garbage is a 400, never a 500
    assert client.post(url("choose"), {"window": "x"}).status_code == 400
    assert client.get(url("choose")).status_code == 405


# --- the panel flow ---------------------------------------------------------------------------


def test_call_recall_start_finish_through_http(floor, clock):
    # Given a walk-in ticket in queue A
    ticket = take(floor)
    client = signed_in(floor.clerk_a)
    window = floor.window_a.pk
    # When the clerk calls the next
    clock.to(2026, 11, 23, 9, 10)
    response = client.post(url("call"), {"window": window})
    # Then it is called to window 01, and the panel shows it with its buttons
    assert response.status_code == 302 and response["Location"] == PANEL
    page = client.get(PANEL)
    assert page.context["ticket"] == ticket
    assert "A001 called to window 01." in messages_of(page)
    assert 'data-key="s"' in page.text and 'data-key="r"' in page.text
    assert 'data-key="n"' not in page.text  # nothing else is called meanwhile
    assert "hx-trigger" not in page.text  # no refresh while someone is at the window
    # When it is called again
    response = client.post(url("recall"), {"window": window, "seen": seen(ticket)})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.calls == 2 and ticket.status == TicketStatus.CALLED
    # When the applicant comes: start, then finish
    clock.to(2026, 11, 23, 9, 12)
    assert client.post(url("start"), {"window": window, "seen": seen(ticket)}).status_code == 302
    page = client.get(PANEL)
    assert page.context["ticket"].status == TicketStatus.SERVING
    assert 'data-key="f"' in page.text
    assert f'href="{reverse("desk:desk")}" autofocus' not in page.text
    assert 'id="start-case" href="{}"'.format(reverse("desk:desk")) in page.text
    clock.to(2026, 11, 23, 9, 30)
    assert client.post(url("finish"), {"window": window, "seen": seen(ticket)}).status_code == 302
    # Then the ticket is done with its times, listed among today's, and the next can be called
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and ticket.served_by == floor.clerk_a
    assert ticket.started_at == at(2026, 11, 23, 9, 12)
    assert ticket.finished_at == at(2026, 11, 23, 9, 30)
    page = client.get(PANEL)
    assert page.context["ticket"] is None and page.context["served"] == [ticket]
    assert 'data-key="n"' in page.text and "autofocus" in page.text


def test_a_no_show_and_nobody_waiting(floor):
    ticket = take(floor)
    client = signed_in(floor.clerk_a)
    window = floor.window_a.pk
    client.post(url("call"), {"window": window})
    response = client.post(url("no_show"), {"window": window, "seen": seen(ticket)})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NO_SHOW
    # When the clerk calls again with nobody in the queue
    response = client.post(url("call"), {"window": window}, follow=True)
    # Then they are told so, and nothing changed
    assert "Nobody is waiting in the queues of this window." in messages_of(response)
    assert response.context["ticket"] is None
    assert response.context["served"] == [ticket]


def test_a_stale_double_click_calls_once(floor):
    # Given two tickets waiting
    first, second = take(floor), take(floor)
    client = signed_in(floor.clerk_a)
    data = {"window": floor.window_a.pk}
    # When "call next" is sent twice from the same page
    assert client.post(url("call"), data).status_code == 302
    again = client.post(url("call"), data)
    # Then the second is a 400 with the reason, and only the first ticket was called, once
    assert again.status_code == 400
    assert "Finish the ticket at this window before calling the next." in messages_of(again)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.calls) == (TicketStatus.CALLED, 1)
    assert (second.status, second.calls) == (TicketStatus.WAITING, 0)


def test_a_stale_recall_or_start_does_nothing(floor):
    ticket = take(floor)
    client = signed_in(floor.clerk_a)
    window = floor.window_a.pk
    client.post(url("call"), {"window": window})
    page_state = seen(ticket)
    # Recall pressed twice from the same page: called twice in all, not three times
    assert client.post(url("recall"), {"window": window, "seen": page_state}).status_code == 302
    stale = client.post(url("recall"), {"window": window, "seen": page_state})
    assert stale.status_code == 400
    assert any("out of date" in m for m in messages_of(stale))
    ticket.refresh_from_db()
    assert ticket.calls == 2
    # Start pressed twice: the second is refused, the start time is the first's
    state = seen(ticket)
    assert client.post(url("start"), {"window": window, "seen": state}).status_code == 302
    assert client.post(url("start"), {"window": window, "seen": state}).status_code == 400
    # Finish twice: the second finds nothing at the window
    state = seen(ticket)
    assert client.post(url("finish"), {"window": window, "seen": state}).status_code == 302
    assert client.post(url("finish"), {"window": window, "seen": state}).status_code == 400
    # A missing or forged state is a 400 as well, never a 500
    assert client.post(url("recall"), {"window": window}).status_code == 400
    assert client.post(url("recall"), {"window": "abc"}).status_code == 400
    assert client.post(url("call"), {"window": "²"}).status_code == 400
    assert client.get(url("recall")).status_code == 405


def test_a_transfer_sends_the_ticket_to_the_other_queue_first(floor):
    # Given a ticket at window 01 and a firm's ticket already waiting in queue B
    ticket, firm = take(floor), take(floor, floor.firms)
    client = signed_in(floor.clerk_a)
    window = floor.window_a.pk
    client.post(url("call"), {"window": window})
    page = client.get(PANEL)
    assert list(page.context["transfer_form"].categories.values()) == [floor.firms]
    # When the clerk transfers it without a reason
    refused = client.post(
        url("transfer"), {"window": window, "seen": seen(ticket), "category": floor.firms.pk}
    )
    # Then it is a 400 with the field's error only (no message above the panel), the
    # field marked, and the page puts the cursor on the first marked field
    assert refused.status_code == 400
    assert refused.context["transfer_form"].errors["reason"]
    assert refused.context["focus"] == "transfer"
    assert messages_of(refused) == []
    assert re.search(r'<input[^>]*name="reason"[^>]*aria-invalid="true"', refused.text)
    assert """querySelector('#transfer [aria-invalid="true"]')""" in refused.text
    # When a category not served in the hall is posted
    elsewhere = WindowCategoryFactory()
    refused = client.post(
        url("transfer"),
        {"window": window, "seen": seen(ticket), "category": elsewhere.pk, "reason": "x"},
    )
    assert refused.status_code == 400
    # When the clerk transfers it to queue B with a reason
    response = client.post(
        url("transfer"),
        {"window": window, "seen": seen(ticket), "category": floor.firms.pk, "reason": "企业业务"},
    )
    # Then it waits in queue B before the firm's ticket, and window 02 calls it first
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING and ticket.category == floor.firms
    assert ticket.is_priority and ticket.transfers == 1
    other = signed_in(floor.clerk_b)
    assert other.get(PANEL).context["queues"][0].waiting == 2
    other.post(url("call"), {"window": floor.window_b.pk})
    assert other.get(PANEL).context["ticket"] == ticket
    firm.refresh_from_db()
    assert firm.status == TicketStatus.WAITING


def test_a_transfer_the_service_refuses_puts_its_reason_on_the_field(floor, monkeypatch):
    # Given a ticket at window 01, and the service refusing the queue (as it does when the
    # queue's last window closed meanwhile)
    ticket = take(floor)
    client = signed_in(floor.clerk_a)
    client.post(url("call"), {"window": floor.window_a.pk})
    client.get(PANEL)  # the call's message is read

    def refuse(**kwargs):
        raise ValidationError({"category": "No window of this hall serves this category."})

    monkeypatch.setattr(services, "ticket_transfer", refuse)
    # When the clerk transfers it
    refused = client.post(
        url("transfer"),
        {
            "window": floor.window_a.pk,
            "seen": seen(ticket),
            "category": floor.firms.pk,
            "reason": "企业业务",
        },
    )
    # Then the reason is on the queue field, marked, and no message repeats it
    assert refused.status_code == 400
    form = refused.context["transfer_form"]
    assert form.errors == {"category": ["No window of this hall serves this category."]}
    assert re.search(r'<select[^>]*name="category"[^>]*aria-invalid="true"', refused.text)
    assert messages_of(refused) == []
    # But a refusal about the ticket itself is said above the panel
    monkeypatch.setattr(
        services,
        "ticket_transfer",
        lambda **kwargs: (_ for _ in ()).throw(ValidationError({"ticket": "Gone."})),
    )
    again = client.post(
        url("transfer"),
        {
            "window": floor.window_a.pk,
            "seen": seen(ticket),
            "category": floor.firms.pk,
            "reason": "企业业务",
        },
    )
    assert again.status_code == 400 and messages_of(again) == ["Gone."]


def test_the_single_letter_shortcuts_can_be_switched_off(floor):
    take(floor)
    client = signed_in(floor.clerk_a)
    client.post(url("call"), {"window": floor.window_a.pk})
    page = client.get(PANEL).text
    # A visible switch, on by default, remembered in the browser
    assert re.search(
        r'<input[^>]*type="checkbox"[^>]*role="switch"[^>]*id="shortcuts-toggle"', page
    )
    assert '<label class="form-check-label small" for="shortcuts-toggle">Keyboard shortcuts' in page
    assert "localStorage" in page
    # The keys ignore modifiers, and the letters stay N R S F X T
    assert "event.shiftKey" in page and "event.ctrlKey" in page
    assert set(re.findall(r'data-key="(\w)"', page)) == {"s", "r", "x", "t"}


def test_the_served_table_heads_its_numbers_as_ticket_numbers(floor):
    ticket = take(floor)
    client = Client()  # Chinese
    client.force_login(floor.clerk_a)
    client.post(url("call"), {"window": floor.window_a.pk})
    services.ticket_no_show(ticket=Ticket.objects.get(pk=ticket.pk), clerk=floor.clerk_a)
    page = client.get(PANEL).text
    served = page.split('id="h-served"')[1].split("</thead>")[0]
    assert "排队号" in served and "数字" not in served


def test_the_panel_shows_the_applicant_masked_the_appointment_and_links_to_the_desk(floor, clock):
    # Given an applicant's appointment, checked in: a priority ticket with an applicant
    applicant = person()
    appointment = services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=floor.people,
        day=DAY,
        period="am",
    )
    ticket = services.appointment_check_in(appointment=appointment, hall=floor.hall)
    client = signed_in(floor.clerk_a)
    window = floor.window_a.pk
    client.post(url("call"), {"window": window})
    # When the panel shows it
    page = client.get(PANEL).text
    # Then the identifier is masked and the appointment's code shown
    assert applicant.masked_identifier in page and applicant.id_number not in page
    assert appointment.code in page
    # When the service starts, the desk opens on this applicant
    client.post(url("start"), {"window": window, "seen": seen(ticket)})
    page = client.get(PANEL).text
    assert (
        'id="start-case" href="{}"'.format(reverse("desk:start", args=[applicant.public_id]))
        in page
    )


def test_the_waiting_counts_refresh_while_nobody_is_at_the_window(floor):
    client = signed_in(floor.clerk_a)
    page = client.get(PANEL).text
    assert 'hx-trigger="every 10s"' in page
    take(floor), take(floor), take(floor, floor.firms)
    part = client.get(PANEL, headers={"HX-Request": "true"})
    # Only the counts come back, of the window's own queue
    assert part.status_code == 200 and "<html" not in part.text
    assert 'data-queue="A">2<' in part.text and 'data-queue="B"' not in part.text
    assert 'hx-trigger="every 10s"' in part.text


def test_the_panel_reads_a_fixed_number_of_queries(floor, django_assert_max_num_queries):
    # Given a busy morning: many tickets served and rated by the clerk
    client = signed_in(floor.clerk_a)
    for _ in range(12):
        ticket = take(floor)
        services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
        services.ticket_start(ticket=ticket, clerk=floor.clerk_a)
        services.ticket_finish(ticket=ticket, clerk=floor.clerk_a)
        services.ticket_rate(ticket=ticket, rating=5)
    take(floor)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    client.get(PANEL)
    # When the panel is read, then the count does not grow with the tickets
    with django_assert_max_num_queries(16):
        page = client.get(PANEL)
    assert len(page.context["served"]) == 12 and "Very satisfied" in page.text


# --- the statistics ---------------------------------------------------------------------------


@pytest.fixture
def morning(floor, clock):
    """Three tickets with known times on 2026-11-23:
    A001 taken 09:00, called 09:20, served 09:22–09:32, rated 5;
    A002 taken 09:10, called 09:40, did not come;
    B001 (an appointment) taken 10:05, called 10:15, served 10:15–10:45, rated 2."""
    applicant = person()
    appointment = services.appointment_book(
        applicant=applicant,
        booked_by=applicant.user,
        hall=floor.hall,
        category=floor.firms,
        day=DAY,
        period="am",
    )
    a1 = take(floor)
    clock.to(2026, 11, 23, 9, 10)
    a2 = take(floor)
    clock.to(2026, 11, 23, 9, 20)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 22)
    services.ticket_start(ticket=a1, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 9, 32)
    services.ticket_finish(ticket=a1, clerk=floor.clerk_a)
    services.ticket_rate(ticket=a1, rating=5)
    clock.to(2026, 11, 23, 9, 40)
    services.ticket_call_next(window=floor.window_a, clerk=floor.clerk_a)
    services.ticket_no_show(ticket=a2, clerk=floor.clerk_a)
    clock.to(2026, 11, 23, 10, 5)
    b1 = services.appointment_check_in(appointment=appointment, hall=floor.hall)
    clock.to(2026, 11, 23, 10, 15)
    services.ticket_call_next(window=floor.window_b, clerk=floor.clerk_b)
    services.ticket_start(ticket=b1, clerk=floor.clerk_b)
    clock.to(2026, 11, 23, 10, 45)
    services.ticket_finish(ticket=b1, clerk=floor.clerk_b)
    services.ticket_rate(ticket=b1, rating=2, comment="等太久")
    clock.to(2026, 11, 23, 16, 0)
    return floor


def test_the_figures_of_known_times(morning):
    # When the supervisor reads the hall's day
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    response = signed_in(supervisor).get(
        STATS, {"hall": morning.hall.pk, "first": "2026-11-23", "last": "2026-11-23"}
    )
    # Then the totals are those of the set times
    assert response.status_code == 200
    total = response.context["total"]
    assert (total.tickets, total.served, total.no_shows, total.appointments) == (3, 2, 1, 1)
    assert total.no_show_rate == 33.3 and total.appointment_share == 33.3
    assert total.average_wait == 20.0  # (20 + 30 + 10) / 3
    assert total.longest_wait == 30.0
    assert total.average_service == 20.0  # (10 + 30) / 2
    assert total.satisfaction == 50.0 and total.rated == 2
    # And per queue
    queues = {row.label: row for row in response.context["queues"]}
    assert queues["个人办事"].tickets == 2 and queues["个人办事"].average_wait == 25.0
    assert queues["企业办事"].average_service == 30.0 and queues["企业办事"].satisfaction == 0.0
    # And the page shows them, with the bars drawn server-side and no script
    page = response.text
    assert 'data-figure="average_wait">20.0' in page
    assert 'data-hour="9" data-count="2"' in page and 'data-hour="10" data-count="1"' in page
    assert 'data-hour="14" data-count="0"' in page
    assert "<svg" in page and "<script src" not in page.split("<svg")[1].split("</svg>")[0]
    assert "http://" not in page.split('id="hour-chart"')[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_the_default_span_is_the_last_30_days_to_today(morning):
    response = signed_in(morning.clerk_a).get(STATS)
    assert response.status_code == 200
    assert response.context["hall"] == morning.hall
    assert (response.context["first"], response.context["last"]) == (
        DAY - dt.timedelta(days=29),
        DAY,
    )
    assert response.context["total"].tickets == 3
    # A span that misses the day counts nothing
    empty = signed_in(morning.clerk_a).get(STATS, {"first": "2026-11-24", "last": "2026-11-30"})
    assert empty.context["total"].tickets == 0 and empty.context["chart"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"first": "2026-11-24", "last": "2026-11-23"},  # backwards
        {"first": "2025-11-22", "last": "2026-11-23"},  # 367 days
        {"first": "2026-13-01"},  # not a date
        {"hall": "one"},  # not a number
    ],
)
def test_a_bad_span_is_a_400_on_the_page_and_the_export(floor, query):
    client = signed_in(floor.clerk_a)
    page = client.get(STATS, query)
    assert page.status_code == 400 and page.context["form"].errors
    export = client.get(EXPORT, query)
    assert export.status_code == 400 and export["Content-Type"].startswith("text/plain")


def test_a_span_of_366_days_is_allowed(floor):
    response = signed_in(floor.clerk_a).get(STATS, {"first": "2025-11-23", "last": "2026-11-23"})
    assert response.status_code == 200 and response.context["days"] == 366


@pytest.mark.parametrize("hall", ["other", "999999", "²"])
def test_a_hall_not_permitted_or_unknown_is_a_400_with_the_reason(floor, hall):
    other = Floor.make()
    value = str(other.hall.pk) if hall == "other" else hall
    client = signed_in(floor.clerk_a)
    # The page: the choice of hall is refused on its field, and offers the clerk's own
    page = client.get(STATS, {"hall": value})
    assert page.status_code == 400
    assert page.context["form"].errors["hall"] == [
        "Choose one of the halls whose figures you read."
    ]
    assert page.context["form"].fields["hall"].choices == [(floor.hall.pk, floor.hall.name)]
    assert other.hall.name not in page.text
    # The workbook: the reason in plain text, under the field's label
    export = client.get(EXPORT, {"hall": value})
    assert export.status_code == 400
    assert export.content.decode() == "Hall: Choose one of the halls whose figures you read."


def test_a_district_supervisor_reads_the_halls_of_their_district_only(floor):
    other = Floor.make()
    supervisor = grant(UserFactory(), Role.SUPERVISOR, region=floor.hall.region)
    supervised = signed_in(supervisor)
    assert supervised.get(STATS, {"hall": floor.hall.pk}).status_code == 200
    if other.hall.region.code[:6] != floor.hall.region.code[:6]:
        assert supervised.get(STATS, {"hall": other.hall.pk}).status_code == 400


def test_the_export_names_the_fields_by_their_labels(floor):
    export = signed_in(floor.clerk_a).get(EXPORT, {"first": "2026-11-24", "last": "2026-11-23"})
    assert export.status_code == 400
    assert export.content.decode() == "To: The last day comes before the first."


def test_the_export_holds_the_same_figures_with_chinese_headers(morning):
    response = signed_in(morning.clerk_a).get(
        EXPORT, {"hall": morning.hall.pk, "first": "2026-11-23", "last": "2026-11-23"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总", "分时段取号"]
    sheet = book["汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("大厅", morning.hall.name) + (None,) * 10
    assert rows[1][1] == "2026-11-23 至 2026-11-23"
    assert rows[3][:5] == ("队列", "取号数", "已办结", "过号数", "过号率(%)")
    assert rows[3][-1] == "满意率(%)"
    assert rows[4] == ("合计", 3, 2, 1, 33.3, 1, 33.3, 20.0, 30.0, 20.0, 2, 50.0)
    assert {row[0] for row in rows[5:]} == {"个人办事", "企业办事"}
    hours = list(book["分时段取号"].iter_rows(values_only=True))
    assert hours == [("时段", "取号数"), ("09:00–10:00", 2), ("10:00–11:00", 1)]


def test_the_statistics_read_a_fixed_number_of_queries(morning, django_assert_max_num_queries):
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    client = signed_in(supervisor)
    for _ in range(20):
        take(morning)
    client.get(STATS)
    with django_assert_max_num_queries(12):
        assert client.get(STATS, {"hall": morning.hall.pk}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(EXPORT, {"hall": morning.hall.pk}).status_code == 200


def test_a_hall_with_two_windows_for_one_queue_shows_the_counts_of_each(floor):
    # A second window serving queue A sees the same waiting count
    window = WindowFactory(hall=floor.hall, number="03", categories=[floor.people])
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=floor.hall, window=window)
    take(floor)
    assert signed_in(clerk).get(PANEL).context["queues"][0].waiting == 1
