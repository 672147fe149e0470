"""Nodes 1–2 in the browser: a walk-in takes a ticket at the kiosk, the window clerk calls and
serves it by keyboard, the display board shows the call, and the applicant rates the
service on the slip; the clerk's letter keys can be switched off, and a refused transfer
puts the cursor where the clerk must put it right."""

import re

from django.urls import reverse

from yimen.common.choices import Rating
from yimen.hall import services
from yimen.hall.choices import TicketStatus
from yimen.hall.models import Ticket

from ..hall.factories import Floor
from . import zh

SLIP = re.compile(r"/hall/tickets/[-0-9a-f]+/")


def test_a_walk_in_is_called_served_and_rates_the_service(page, login, live_server):
    floor = Floor.make()

    # 1. the kiosk: one touch on the queue gives the slip with the number
    page.goto(reverse("hall:kiosk", args=[floor.hall.pk]))
    page.get_by_role("button", name=re.compile(floor.people.name)).click()
    page.wait_for_url(SLIP)
    assert page.locator(".hall-number").inner_text() == "A001"
    assert zh("You are next.") in page.locator("#slip-status").inner_text()
    slip = page.url

    # 2. the calling panel: N calls the next number, S starts, F finishes
    login(floor.clerk_a)
    page.goto(reverse("window:panel"))
    page.keyboard.press("n")
    page.get_by_text("A001").first.wait_for()
    ticket = Ticket.objects.get(number="A001")
    assert ticket.status == TicketStatus.CALLED and ticket.window == floor.window_a

    # 3. the board shows the call, number → window
    board = page.context.new_page()
    board.goto(reverse("hall:board", args=[floor.hall.pk]))
    first_row = board.locator(".hall-call").first
    assert re.sub(r"\s+", " ", first_row.inner_text()).startswith("A001")
    assert "01" in first_row.inner_text()
    board.close()
    page.bring_to_front()  # autofocus and keys go to the tab in front

    page.keyboard.press("s")
    page.wait_for_function("document.activeElement && document.activeElement.dataset.key === 'f'")
    page.keyboard.press("f")
    # Under a loaded machine the finish and its reload take a while: allow more than the default.
    page.wait_for_function(
        "document.activeElement && document.activeElement.dataset.key === 'n'", timeout=30_000
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and ticket.finished_at is not None

    # 4. the slip: the service is over, the applicant rates it
    page.goto(slip)
    page.get_by_text(zh(Rating.VERY_GOOD.label), exact=True).click()
    page.get_by_role("button", name=zh("Send my rating")).click()
    page.get_by_text(zh(Rating.VERY_GOOD.label)).last.wait_for()
    ticket.refresh_from_db()
    assert ticket.rating == Rating.VERY_GOOD


def test_the_clerk_switches_the_letter_keys_off_and_the_panel_remembers(page, login):
    # Given a ticket waiting and the clerk at the panel, the letter keys on by default
    floor = Floor.make()
    ticket = services.ticket_take(hall=floor.hall, category=floor.people)
    login(floor.clerk_a)
    page.goto(reverse("window:panel"))
    switch = page.get_by_role("switch", name=zh("Keyboard shortcuts"))
    assert switch.is_checked()
    # A letter with a modifier does nothing
    page.keyboard.press("Shift+N")
    page.wait_for_timeout(300)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING

    # When the clerk switches them off, the letters do nothing, even after a reload
    switch.click()
    assert not switch.is_checked()
    page.keyboard.press("n")
    page.reload()
    switch = page.get_by_role("switch", name=zh("Keyboard shortcuts"))
    assert not switch.is_checked()
    assert page.locator("#window-keys").is_hidden()
    page.get_by_role("heading", name=zh("At the window")).click()
    page.keyboard.press("n")
    page.wait_for_timeout(300)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING

    # When they are switched on again, N calls the next number
    switch.click()
    page.keyboard.press("n")
    page.locator("#ticket-number").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CALLED


def test_a_refused_transfer_puts_the_cursor_on_the_field_to_put_right(page, login):
    # Given a ticket called to the clerk's window
    floor = Floor.make()
    services.ticket_take(hall=floor.hall, category=floor.people)
    login(floor.clerk_a)
    page.goto(reverse("window:panel"))
    page.keyboard.press("n")
    page.locator("#ticket-number").wait_for()
    page.wait_for_load_state()  # the keys work once the page's script has run
    # When the clerk sends it to the firms' queue without a reason
    page.keyboard.press("t")
    page.locator("#transfer form button[type=submit]").click()
    # Then the page comes back with the cursor in the reason box, marked invalid
    page.wait_for_function("document.activeElement && document.activeElement.name === 'reason'")
    assert page.locator("#transfer_reason").get_attribute("aria-invalid") == "true"
    assert page.locator(".alert-danger").count() == 0
