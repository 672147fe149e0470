"""The hall's public pages: my appointments and booking (node 1 预约), the self-service
kiosk, the ticket slip with its rating (node 2 取号, 好差评) and the display board.

Thin: the selectors read, the services decide and write. A service's ValidationError goes
back on the form with status 400; unknown or closed halls are 404. The kiosk, the slip and
the board are public (a slip is found by its unguessable public id); booking needs an
applicant profile. The parts that htmx polls answer 204 when nothing changed, so that a
screen reader announces only what is new and the board's traffic stays small."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yimen.accounts.selectors import applicant_by_identifier
from yimen.catalog.selectors import versions_in_force
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors
from yimen.common.ratelimit import over_limit
from yimen.org import selectors as org_selectors

from . import periods, selectors, services
from .choices import AppointmentStatus, Period, TicketStatus
from .forms import (
    BookingForm,
    CancelForm,
    CheckInForm,
    RatingForm,
    TakeTicketForm,
    slot_value,
)
from .models import Ticket

KIOSK_POSTS_PER_MINUTE = 30  # per client address: a kiosk is one machine, people are slower
PAST_PAGE_SIZE = 20
SLIP_BACK_TO_KIOSK_SECONDS = 45
KIOSK_ERROR_RESET_SECONDS = 60
# The slip keeps asking while the ticket may still change; then the rating form stays put.
LIVE_STATES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING})


def _applicant(user):
    """The applicant profile of the signed-in user (None for staff-only accounts)."""
    return getattr(user, "applicant", None) if user.is_authenticated else None


def _active_halls():
    return org_selectors.halls().filter(is_active=True)


def _active_hall(hall_id: int):
    hall = _active_halls().filter(pk=hall_id).first()
    if hall is None:
        raise Http404(_("No open hall has this number."))
    return hall


def _pick(queryset, value):
    """The row of the queryset whose pk is `value` (a GET or POST string), else None."""
    value = str(value or "").strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not (value.isascii() and value.isdigit()):
        return None
    return next((row for row in queryset if row.pk == int(value)), None)


# --- the index --------------------------------------------------------------------------------


def index(request):
    """The active halls, each with its kiosk, its board and (when it takes appointments)
    booking."""
    halls = list(_active_halls())
    bookable = set(selectors.open_halls().values_list("pk", flat=True))
    context = {
        "rows": [(hall, hall.pk in bookable) for hall in halls],
        "applicant": _applicant(request.user),
    }
    return render(request, "hall/index.html", context)


# --- my appointments --------------------------------------------------------------------------


@never_cache
@login_required
def appointments(request):
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "hall/appointments.html", {"applicant": None}, status=403)
    return _render_appointments(request, applicant)


def _cancel_form(appointment, data=None) -> CancelForm:
    return CancelForm(data, auto_id=f"cancel-{appointment.public_id}-%s")


def _render_appointments(request, applicant, *, failed=None, status=200):
    """Upcoming bookings (soonest first), then the others (newest first, paged). `failed`
    is the (appointment, form) of a refused cancel, shown with its errors."""
    now = timezone.now()
    mine = selectors.appointments_of(applicant)
    live = Q(status=AppointmentStatus.BOOKED, day__gte=timezone.localdate(now))
    upcoming = []
    for appointment in mine.filter(live).order_by("day", "period", "created_at"):
        form = None
        if periods.may_cancel(appointment, now=now):
            if failed and failed[0].pk == appointment.pk:
                form = failed[1]
            else:
                form = _cancel_form(appointment)
        upcoming.append({"appointment": appointment, "cancel_form": form, "begun": form is None})
    past = Paginator(mine.exclude(live), PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "applicant": applicant,
        "upcoming": upcoming,
        "page": past,
        "page_range": past.paginator.get_elided_page_range(past.number),
    }
    return render(request, "hall/appointments.html", context, status=status)


@login_required
@require_POST
def cancel(request, public_id):
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "hall/appointments.html", {"applicant": None}, status=403)
    appointment = selectors.appointments_of(applicant).filter(public_id=public_id).first()
    if appointment is None:
        raise Http404
    form = _cancel_form(appointment, request.POST)
    if form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                channel=Channel.ONLINE,
            )
        except ValidationError as exc:
            set_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your appointment %(code)s has been cancelled.") % {"code": appointment.code},
            )
            return redirect("hall:appointments")
    # What the service says of the appointment itself goes above the list: the refused
    # appointment (e.g. its period has begun) may no longer have a cancel form.
    for error in form.non_field_errors():
        messages.error(request, error)
    return _render_appointments(request, applicant, failed=(appointment, form), status=400)


# --- booking ----------------------------------------------------------------------------------


@never_cache
@login_required
def book(request):
    """Choose a hall, a window category and a free half-day, then book it. The choice comes
    by GET (htmx redraws the choice and the grid as it changes; without JavaScript the
    "show" button does it); the booking is a POST to the same address."""
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "hall/book.html", {"applicant": None}, status=403)
    source = request.POST if request.method == "POST" else request.GET
    item_code = _item_code(source.get("item"))
    version = _version(item_code) if item_code else None
    if item_code and version is None and request.method != "POST":
        raise Http404(_("No service in force has this code."))

    halls = selectors.open_halls()
    if version is not None:
        # Only the halls that take appointments for the window category of the item's guide.
        halls = halls.filter(quotas__category=version.window_category_id)
    halls = list(halls) if version is None or version.window_category_id else []
    hall = _pick(halls, source.get("hall"))
    if hall is None and len(halls) == 1:
        hall = halls[0]
    categories = list(selectors.bookable_categories(hall)) if hall else []
    if version is not None:
        # The item is handled at one window category: the page offers no other.
        categories = [c for c in categories if c.pk == version.window_category_id]
    category = _pick(categories, source.get("category"))
    if category is None and len(categories) == 1:
        category = categories[0]

    status = 200
    form = None
    if request.method == "POST":
        form = BookingForm(
            request.POST,
            halls=org_selectors.halls(),
            categories=org_selectors.window_categories(),
        )
        if item_code and version is None:
            form.add_error("item", _("No service in force has this code."))
        if form.is_valid():
            day, period = form.cleaned_data["slot"]
            try:
                appointment = services.appointment_book(
                    applicant=applicant,
                    booked_by=request.user,
                    hall=form.cleaned_data["hall"],
                    category=form.cleaned_data["category"],
                    day=day,
                    period=period,
                    item=version.item if version else None,
                    channel=Channel.ONLINE,
                )
            except ValidationError as exc:
                form.set_errors(exc)
            else:
                messages.success(request, _booked_message(appointment))
                return redirect("hall:appointments")
        status = 400

    slots = selectors.slots(hall=hall, category=category) if hall and category else []
    context = {
        "applicant": applicant,
        "version": version,
        "hall": hall,
        "category": category,
        "halls": halls,
        "categories": categories,
        "form": form,
        "chosen_slot": form.data.get("slot", "") if form is not None else "",
        "grid": _grid(slots),
        "periods": _periods(slots),
        "has_open_slot": any(slot.is_open for slot in slots),
    }
    template = "hall/_booking.html" if request.htmx and status == 200 else "hall/book.html"
    return render(request, template, context, status=status)


def _item_code(raw) -> str:
    return str(raw or "").strip()[:64]


def _version(code: str):
    """The guide in force of the item being booked for, None for an unknown code."""
    return (
        versions_in_force()
        .prefetch_related(None)  # the guide's materials and form are not shown here
        .filter(item__implementation_code=code)
        .first()
    )


def _grid(slots) -> list[dict]:
    """The slots as rows of days, one cell per period (None where no quota)."""
    periods = _periods(slots)
    rows: list[dict] = []
    for slot in slots:
        if not rows or rows[-1]["day"] != slot.day:
            rows.append({"day": slot.day, "cells": dict.fromkeys(periods)})
        rows[-1]["cells"][slot.period] = {"slot": slot, "value": slot_value(slot.day, slot.period)}
    for row in rows:
        row["cells"] = [row["cells"][p] for p in periods]
    return rows


def _periods(slots) -> list[Period]:
    present = {slot.period for slot in slots}
    return [p for p in Period if p in present]


def _booked_message(appointment) -> str:
    return _(
        "Booked: %(hall)s, %(category)s, %(day)s %(period)s. Your appointment code is "
        "%(code)s: type it at the kiosk when you arrive."
    ) % {
        "hall": appointment.hall,
        "category": appointment.category,
        "day": appointment.day.isoformat(),
        "period": appointment.get_period_display(),
        "code": appointment.code,
    }


# --- the kiosk --------------------------------------------------------------------------------


def _on_kiosk(request) -> bool:
    """Whether the page runs on the hall's own kiosk: its browser opens the kiosk page with
    ?kiosk=1 and the page carries that on in its forms. Only there does the slip go back to
    the kiosk by itself; on a phone the citizen keeps their slip."""
    source = request.POST if request.method == "POST" else request.GET
    return source.get("kiosk") == "1"


@never_cache
def kiosk(request, hall_id):
    """取号 for a queue of the hall, or check in with an appointment code."""
    hall = _active_hall(hall_id)
    categories = selectors.served_categories(hall)
    take_form = TakeTicketForm(categories=categories)
    check_in_form = CheckInForm()
    if request.method != "POST":
        return _render_kiosk(request, hall, take_form, check_in_form)
    if over_limit(request, scope=selectors.KIOSK_SCOPE, per_minute=KIOSK_POSTS_PER_MINUTE):
        return _render_kiosk(request, hall, take_form, check_in_form, too_many=True, status=429)
    actor = request.user if request.user.is_authenticated else None
    if request.POST.get("action") == "check_in":
        check_in_form = CheckInForm(request.POST)
        if check_in_form.is_valid():
            appointment = selectors.appointment_by_code(
                check_in_form.cleaned_data["code"], hall=hall
            )
            if appointment is None:
                check_in_form.add_error("code", _("No appointment has this code."))
            else:
                try:
                    ticket = services.appointment_check_in(
                        appointment=appointment, hall=hall, actor=actor, channel=Channel.KIOSK
                    )
                except ValidationError as exc:
                    set_service_errors(check_in_form, exc, rename={"appointment": "code"})
                else:
                    return _to_slip(request, ticket)
    else:
        take_form = TakeTicketForm(request.POST, categories=categories)
        if take_form.is_valid():
            identifier = take_form.cleaned_data["identifier"]
            # An unknown number gets a ticket all the same, and the page never says whose a
            # number is: the kiosk must not be a way to look people up.
            applicant = applicant_by_identifier(identifier=identifier) if identifier else None
            try:
                ticket = services.ticket_take(
                    hall=hall,
                    category=take_form.cleaned_data["category"],
                    applicant=applicant,
                    actor=actor,
                    channel=Channel.KIOSK,
                )
            except ValidationError as exc:
                set_service_errors(take_form, exc)
            else:
                return _to_slip(request, ticket)
    return _render_kiosk(request, hall, take_form, check_in_form, status=400)


def _render_kiosk(request, hall, take_form, check_in_form, *, too_many=False, status=200):
    on_kiosk = _on_kiosk(request)
    context = {
        "hall": hall,
        "queues": selectors.board(hall).queues,
        "take_form": take_form,
        "check_in_form": check_in_form,
        "too_many": too_many,
        "on_kiosk": on_kiosk,
        # A page with an error goes back to the start after a while, so that the next
        # person at the kiosk does not find it.
        "reset_seconds": KIOSK_ERROR_RESET_SECONDS if status != 200 else None,
        "start_url": _kiosk_url(hall.pk, on_kiosk=on_kiosk),
    }
    return render(request, "hall/kiosk.html", context, status=status)


def _kiosk_url(hall_id, *, on_kiosk: bool) -> str:
    return reverse("hall:kiosk", args=[hall_id]) + ("?kiosk=1" if on_kiosk else "")


def _to_slip(request, ticket):
    url = reverse("hall:ticket", args=[ticket.public_id])
    return redirect(url + ("?kiosk=1" if _on_kiosk(request) else ""))


# --- the slip and its rating ------------------------------------------------------------------


def _ticket(public_id) -> Ticket:
    if (ticket := selectors.ticket_by_public_id(public_id)) is None:
        raise Http404
    return ticket


def _slip_state(ticket) -> dict:
    ahead = selectors.waiting_ahead(ticket)
    today = timezone.localdate()
    return {
        "ticket": ticket,
        "ahead": ahead,
        "is_today": ticket.day == today,
        "live": ticket.status in LIVE_STATES and ticket.day == today,
        "may_rate": periods.may_rate(ticket, today=today),
        "key": f"{ticket.status}.{ahead}.{ticket.window_id or 0}.{ticket.calls}."
        f"{ticket.rating or 0}",
    }


@never_cache
def ticket(request, public_id):
    """The slip: the number, the queue, how many are ahead; the rating once served."""
    ticket = _ticket(public_id)
    return _render_slip(request, ticket, RatingForm())


def _render_slip(request, ticket, rating_form, *, status=200):
    context = {
        **_slip_state(ticket),
        "rating_form": rating_form,
        "on_kiosk": _on_kiosk(request),
        "kiosk_url": _kiosk_url(ticket.hall_id, on_kiosk=True),
        "back_seconds": SLIP_BACK_TO_KIOSK_SECONDS,
        "qr": _qr_data_uri(ticket),
    }
    return render(request, "hall/ticket.html", context, status=status)


@never_cache
def ticket_status(request, public_id):
    """The part of the slip that htmx polls: 204 when nothing changed since `seen`."""
    ticket = _ticket(public_id)
    state = _slip_state(ticket)
    if request.GET.get("seen") == state["key"]:
        return HttpResponse(status=204)
    context = {**state, "rating_form": RatingForm(), "on_kiosk": _on_kiosk(request)}
    return render(request, "hall/_ticket_status.html", context)


@require_POST
def rate(request, public_id):
    """好差评 of the service the slip was for."""
    ticket = _ticket(public_id)
    form = RatingForm(request.POST)
    if form.is_valid():
        on_kiosk = _on_kiosk(request)
        try:
            services.ticket_rate(
                ticket=ticket,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                channel=Channel.KIOSK if on_kiosk else Channel.ONLINE,
            )
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("Thank you for your rating."))
            url = reverse("hall:ticket", args=[ticket.public_id])
            return redirect(url + ("?kiosk=1" if on_kiosk else ""))
    return _render_slip(request, ticket, form, status=400)


def _qr_data_uri(ticket) -> str:
    """The slip's address as a QR code (SVG, drawn here: no CDN, no image service), so the
    applicant can follow the number on their phone."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    url = settings.YIMEN_PUBLIC_URL.rstrip("/") + reverse("hall:ticket", args=[ticket.public_id])
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    size = 160
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    svg = renderSVG.drawToString(drawing)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# --- the display board ------------------------------------------------------------------------


@never_cache
def board(request, hall_id):
    """The hall's display board, full screen: the latest calls and the queues."""
    hall = _active_hall(hall_id)
    context = _board_context(hall)
    return render(request, "hall/board.html", context)


@never_cache
def board_live(request, hall_id):
    """The board's dynamic part, polled every 5 s: 204 when nothing changed since `seen`;
    else the calls, the queues, and the calls newer than `since` for the live region."""
    hall = _active_hall(hall_id)
    context = _board_context(hall)
    if request.GET.get("seen") == context["key"]:
        return HttpResponse(status=204)
    since = request.GET.get("since", "")
    if since.isascii() and since.isdigit():
        context["announce"] = sorted(
            (t for t in context["board"].calls if _micros(t.last_called_at) > int(since)),
            key=lambda t: t.last_called_at,
        )
    return render(request, "hall/_board_live.html", context)


def _micros(moment) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


def _board_context(hall) -> dict:
    today = timezone.localdate()
    data = selectors.board(hall, today=today)
    # The date is shown too: after midnight the board changes even when no one is called.
    shown = (
        today.isoformat()
        + "|"
        + ";".join(
            f"{t.number}>{t.window.number if t.window else ''}#{t.calls}" for t in data.calls
        )
        + "|"
        + ";".join(f"{q.category.pk}:{q.waiting}" for q in data.queues)
    )
    key = hashlib.blake2s(shown.encode(), digest_size=8).hexdigest()
    since = max((_micros(t.last_called_at) for t in data.calls), default=0)
    return {
        "hall": hall,
        "today": today,
        "board": data,
        "key": key,
        "live_url": reverse("hall:board_live", args=[hall.pk])
        + "?"
        + urlencode({"seen": key, "since": since}),
        "announce": [],
    }
