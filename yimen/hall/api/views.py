"""The hall API: thin views that parse, check access and call the services and selectors of
yimen.hall.

Who calls what:

- anyone: the active halls, their free appointment places, their display board, taking a ticket
  at the kiosk (rate-limited per address: 429), a ticket's slip and rating the service;
  none of these answers carries personal data;
- a signed-in applicant: their own appointments (a lookup of anyone else's is a 404), booking
  and cancelling;
- a window clerk: the windows they may use, calling the next ticket there, and recalling,
  serving, finishing, marking absent or transferring the tickets of their hall;
- whoever may read a hall's statistics (yimen.hall.permissions.halls_with_statistics): its
  figures; for anyone else the hall is a 404.

The status codes of a write: 403 when the user may not act here (not a clerk of the ticket's
hall, not at this window); **409 Conflict when the object's current status no longer allows
the action** — the ticket or the appointment is now in another state, the window still has a
ticket, the service was rated already: a stale page, a double click or a race lost (the
services raise yimen.common.errors.StateConflict under their row lock); 400 for bad input and
for every other refusal of a service (a period begun or not yet open, a full period, a queue
no window serves), keyed by field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings

from yimen.common.api import BAD_INPUT, FORBIDDEN, NOT_FOUND
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.ratelimit import over_limit
from yimen.org.models import Hall, Window, WindowCategory

from .. import permissions, selectors, services
from ..models import Appointment, AppointmentQuota, Ticket
from . import serializers as s
from .permissions import IsWindowClerk

# One tag for the whole app, so the API docs group these endpoints under "hall".
TAGS = ["hall"]

# Tickets (and check-ins) one address may take per minute: a kiosk serves a whole hall, a
# script guessing appointment codes is stopped.
TICKETS_PER_MINUTE = 30

CONFLICT = OpenApiResponse(
    response=s.HallConflictSerializer,
    description=_("The object's status does not allow the action (any more)."),
)
THROTTLED = OpenApiResponse(description=_("Too many tickets from this address: wait a minute."))


def renamed(exc: DjangoValidationError, names: dict[str, str]) -> DjangoValidationError:
    """The service's errors with its keys renamed to the fields of the request."""
    if not hasattr(exc, "error_dict"):
        return exc
    errors: dict[str, list] = {}
    for key, messages in exc.message_dict.items():
        errors.setdefault(names.get(key, key), []).extend(messages)
    return (
        StateConflict(errors) if isinstance(exc, StateConflict) else DjangoValidationError(errors)
    )


def own_applicant(user):
    """The applicant the signed-in user is, or None (staff, anonymous)."""
    if not (user and user.is_authenticated):
        return None
    return getattr(user, "applicant", None)


def slip(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("hall", "category", "window").get(pk=ticket.pk)


def at_window(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related(
        "category", "window", "applicant", "appointment__item"
    ).get(pk=ticket.pk)


class HallView(generics.GenericAPIView):
    """Plain views: no filters, no pages (but the lists below), each names its input and
    output in its schema."""

    filter_backends: list = []
    pagination_class = None
    parser_classes = [JSONParser]


# --- halls (public) --------------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Service halls"),
    description=_(
        "The active halls, the queues each serves (`tickets`) or books (`appointments`), and "
        "whether it takes appointments. Public."
    ),
)
class HallListView(HallView, generics.ListAPIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    serializer_class = s.PublicHallSerializer

    def get_queryset(self):
        live = WindowCategory.objects.filter(is_active=True)
        return (
            Hall.objects.filter(is_active=True)
            .select_related("region")
            .prefetch_related(
                Prefetch(
                    "windows",
                    queryset=Window.objects.filter(is_active=True).prefetch_related(
                        Prefetch("categories", queryset=live, to_attr="live_categories")
                    ),
                    to_attr="open_windows",
                ),
                Prefetch(
                    "quotas",
                    queryset=AppointmentQuota.objects.filter(
                        category__is_active=True
                    ).select_related("category"),
                    to_attr="live_quotas",
                ),
            )
        )


def active_hall(pk) -> Hall:
    return get_object_or_404(Hall.objects.filter(is_active=True), pk=pk)


@extend_schema(
    tags=TAGS,
    summary=_("Free appointment places"),
    description=_(
        "Every bookable half-day of a queue at a hall (today and the next working days) with "
        "its free places. Empty when the hall takes no appointments for the queue. Public."
    ),
    parameters=[s.SlotQuerySerializer],
    responses={200: s.SlotSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
)
class SlotListView(HallView):
    permission_classes = [AllowAny]
    serializer_class = s.SlotSerializer

    def get(self, request, id):
        hall = active_hall(id)
        query = s.SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.slots(hall=hall, category=query.validated_data["category"])
        return Response(s.SlotSerializer(found, many=True).data)


@extend_schema(
    tags=TAGS,
    summary=_("Display board"),
    description=_(
        "What the hall's board shows: the latest calls (number → window, newest first) and "
        "how many wait in each queue today. Public, no personal data."
    ),
    responses={200: s.BoardSerializer, 404: NOT_FOUND},
)
class BoardView(HallView):
    permission_classes = [AllowAny]
    serializer_class = s.BoardSerializer

    def get(self, request, id):
        return Response(s.BoardSerializer(selectors.board(active_hall(id))).data)


@extend_schema(
    tags=TAGS,
    summary=_("Queue figures"),
    description=_(
        "Tickets, wait and service times (minutes) and satisfaction of a hall between two days "
        "(at most 366), in total and per queue. For the hall's clerks, supervisors (of its "
        "region) and system admins; the hall is a 404 for anyone else."
    ),
    parameters=[s.FiguresQuerySerializer],
    responses={200: s.HallFiguresSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 404: NOT_FOUND},
)
class FiguresView(HallView):
    serializer_class = s.HallFiguresSerializer

    def get(self, request, id):
        hall = get_object_or_404(permissions.halls_with_statistics(request.user), pk=id)
        query = s.FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.hall_figures(hall, **query.validated_data)
        return Response(s.HallFiguresSerializer(figures).data)


# --- appointments (the applicant's own) ------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        summary=_("My appointments"),
        description=_(
            "The signed-in applicant's own appointments, the latest day first (none for a user "
            "who is not an applicant)."
        ),
    ),
    post=extend_schema(
        summary=_("Book an appointment"),
        description=_(
            "Book a half-day at a hall for a queue (and, optionally, an item of that queue) for "
            "oneself. The answer carries the 8-digit code to type at the kiosk. A full period, "
            "a period over, a day not bookable or a queue without appointments is a 400 naming "
            "the field."
        ),
        request=s.AppointmentBookSerializer,
        responses={201: s.AppointmentSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    ),
)
@extend_schema(tags=TAGS)
class AppointmentListView(HallView, generics.ListAPIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    serializer_class = s.AppointmentSerializer

    def get_queryset(self):
        applicant = own_applicant(self.request.user)
        if applicant is None:
            return Appointment.objects.none()
        return selectors.appointments_of(applicant)

    def post(self, request):
        applicant = own_applicant(request.user)
        if applicant is None:
            raise PermissionDenied(_("Only applicants book appointments."))
        form = s.AppointmentBookSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        appointment = services.appointment_book(
            applicant=applicant,
            booked_by=request.user,
            channel=Channel.ONLINE,
            **form.validated_data,
        )
        booked = selectors.appointments_of(applicant).get(pk=appointment.pk)  # with item_name
        return Response(s.AppointmentSerializer(booked).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS,
    summary=_("Cancel an appointment"),
    description=_(
        "Cancel one's own appointment before its period begins (after: 400). An appointment "
        "no longer booked (cancelled, checked in, missed) is a 409."
    ),
    request=s.AppointmentCancelSerializer,
    responses={
        200: s.AppointmentSerializer,
        400: BAD_INPUT,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
    },
)
class AppointmentCancelView(HallView):
    serializer_class = s.AppointmentCancelSerializer

    def post(self, request, public_id):
        applicant = own_applicant(request.user)
        mine = selectors.appointments_of(applicant) if applicant else Appointment.objects.none()
        appointment = get_object_or_404(mine, public_id=public_id)
        form = s.AppointmentCancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.appointment_cancel(
            appointment=appointment,
            actor=request.user,
            reason=form.validated_data["reason"],
            channel=Channel.ONLINE,
        )
        return Response(s.AppointmentSerializer(mine.get(pk=appointment.pk)).data)


# --- tickets (public) ------------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Take a ticket"),
    description=_(
        "The kiosk: a ticket for a queue (`category`), or the check-in of an appointment by its "
        "code (`appointment_code`; the ticket is called before walk-ins), from an hour before its "
        "period until its end. The slip tells the number and the place in the queue. Public, at "
        "most 30 tickets a minute per address (429 beyond). An appointment no longer booked "
        "(already checked in, cancelled) is a 409."
    ),
    request=s.TicketTakeSerializer,
    responses={
        201: s.TicketSlipSerializer,
        400: BAD_INPUT,
        404: NOT_FOUND,
        409: CONFLICT,
        429: THROTTLED,
    },
)
class TicketTakeView(HallView):
    permission_classes = [AllowAny]
    serializer_class = s.TicketTakeSerializer

    def post(self, request, id):
        if over_limit(request, scope=selectors.KIOSK_SCOPE, per_minute=TICKETS_PER_MINUTE):
            raise exceptions.Throttled(
                wait=60, detail=str(_("Too many tickets from this address: wait a minute."))
            )
        hall = get_object_or_404(Hall, pk=id)
        form = s.TicketTakeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        code = form.validated_data.get("appointment_code")
        if code is None:
            ticket = services.ticket_take(
                hall=hall,
                category=form.validated_data["category"],
                applicant=own_applicant(user),
                actor=user,
                channel=Channel.API,
            )
        else:
            ticket = self.check_in(hall, code, user)
        return Response(s.TicketSlipSerializer(slip(ticket)).data, status=status.HTTP_201_CREATED)

    def check_in(self, hall, code: str, user) -> Ticket:
        appointment = selectors.appointment_by_code(code, hall=hall)
        if appointment is None:
            raise DjangoValidationError({"appointment_code": _("No appointment has this code.")})
        try:
            return services.appointment_check_in(
                appointment=appointment, hall=hall, actor=user, channel=Channel.API
            )
        except DjangoValidationError as exc:
            names = {"code": "appointment_code", "appointment": "appointment_code"}
            raise renamed(exc, names) from exc


@extend_schema(
    tags=TAGS,
    summary=_("A ticket's slip"),
    description=_(
        "Where a ticket stands: its status, how many of its queue are ahead, the window it is "
        "called to, and whether the service can be rated. Public (the public id is on the "
        "slip), no personal data."
    ),
    responses={200: s.TicketSlipSerializer, 404: NOT_FOUND},
)
class TicketSlipView(HallView):
    permission_classes = [AllowAny]
    serializer_class = s.TicketSlipSerializer

    def get(self, request, public_id):
        queryset = Ticket.objects.select_related("hall", "category", "window")
        return Response(
            s.TicketSlipSerializer(get_object_or_404(queryset, public_id=public_id)).data
        )


@extend_schema(
    tags=TAGS,
    summary=_("Rate a service"),
    description=_(
        "好差评 of the service at the window, on the day it was given: 5 (very satisfied) to "
        "1; the two lowest need a comment. A service not over yet, or rated already, is a 409."
    ),
    request=s.TicketRateSerializer,
    responses={200: s.TicketSlipSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 409: CONFLICT},
)
class TicketRateView(HallView):
    permission_classes = [AllowAny]
    serializer_class = s.TicketRateSerializer

    def post(self, request, public_id):
        ticket = get_object_or_404(Ticket, public_id=public_id)
        form = s.TicketRateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.ticket_rate(ticket=ticket, channel=Channel.API, **form.validated_data)
        return Response(s.TicketSlipSerializer(slip(ticket)).data)


# --- windows (clerks) ------------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("My windows"),
    description=_(
        "The windows the signed-in clerk may sit at, each with the ticket called to or served "
        "at it now and how many wait in each of its queues today. Window clerks only."
    ),
    responses={200: s.WindowPanelSerializer(many=True), 403: FORBIDDEN},
)
class WindowListView(HallView):
    permission_classes = [IsWindowClerk]
    serializer_class = s.WindowPanelSerializer

    def get(self, request):
        windows = selectors.window_panels(list(permissions.usable_windows(request.user)))
        return Response(s.WindowPanelSerializer(windows, many=True).data)


@extend_schema(
    tags=TAGS,
    summary=_("Call the next ticket"),
    description=_(
        "Call the next ticket of the window's queues (appointments and transfers first, then in "
        "the order taken): 200 with it, 204 when nobody waits. A window that still has a "
        "ticket called or served is a 409. Clerks who may use the window only."
    ),
    request=None,
    responses={
        200: s.WindowTicketSerializer,
        204: OpenApiResponse(description=_("Nobody waits for this window.")),
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
    },
)
class CallNextView(HallView):
    permission_classes = [IsWindowClerk]
    serializer_class = s.WindowTicketSerializer

    def post(self, request, id):
        window = get_object_or_404(Window.objects.select_related("hall"), pk=id)
        if not permissions.callable_categories(request.user, window):
            raise PermissionDenied(_("You do not work at this window."))
        ticket = services.ticket_call_next(window=window, clerk=request.user)
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.WindowTicketSerializer(at_window(ticket)).data)


@dataclass(frozen=True)
class TicketAction:
    service: Callable
    summary: str
    description: str
    form: type | None = None


TICKET_ACTIONS = {
    "recall": TicketAction(
        services.ticket_recall,
        _("Call a ticket again"),
        _("The board and the speaker repeat the number. From: called."),
    ),
    "start": TicketAction(
        services.ticket_start,
        _("Start serving a ticket"),
        _("The applicant is at the window. From: called."),
    ),
    "finish": TicketAction(
        services.ticket_finish,
        _("Finish serving a ticket"),
        _("The service is over; the applicant can rate it. From: being served."),
    ),
    "no-show": TicketAction(
        services.ticket_no_show,
        _("Mark a ticket absent"),
        _("过号: called, and nobody came. From: called."),
    ),
    "transfer": TicketAction(
        services.ticket_transfer,
        _("Transfer a ticket"),
        _(
            "Send the applicant to another queue of the hall, where they are called first; the "
            "reason is required. From: called, being served."
        ),
        s.TicketTransferSerializer,
    ),
}


class TicketActionView(HallView):
    """One step of a ticket at its window, by the clerk who called it: 403 for a clerk of
    another hall (or a ticket at another clerk's window), 409 when the ticket's status does
    not allow the step (any more), 400 for bad input; 200 with the ticket."""

    permission_classes = [IsWindowClerk]
    serializer_class = s.WindowTicketSerializer
    action_name = ""

    def post(self, request, public_id):
        action = TICKET_ACTIONS[self.action_name]
        ticket = get_object_or_404(Ticket.objects.select_related("hall"), public_id=public_id)
        if not permissions.is_clerk_of(request.user, ticket.hall):
            raise PermissionDenied(_("You do not work in the hall of this ticket."))
        arguments = {}
        if action.form is not None:
            form = action.form(data=request.data)
            form.is_valid(raise_exception=True)
            arguments = form.validated_data
        action.service(ticket=ticket, clerk=request.user, **arguments)
        return Response(s.WindowTicketSerializer(at_window(ticket)).data)


def _action_view(name: str, action: TicketAction) -> type[TicketActionView]:
    view = type(
        f"Ticket{name.title().replace('-', '')}View",
        (TicketActionView,),
        {"action_name": name, "__doc__": TicketActionView.__doc__},
    )
    return extend_schema(
        tags=TAGS,
        summary=action.summary,
        description=action.description,
        request=action.form,
        responses={
            200: s.WindowTicketSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )(view)


TICKET_ACTION_VIEWS = {name: _action_view(name, a) for name, a in TICKET_ACTIONS.items()}
