"""Shapes of the hall API. Serializers parse and present; the rules live in
yimen.hall.services (every write), yimen.hall.selectors (every read) and yimen.hall.permissions
(who may do what).

What the public sees (halls, free places, the board, a ticket's slip) carries no personal data:
no applicant, no name, no identity number."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yimen.catalog.api import serializers as catalog
from yimen.catalog.models import ServiceItem
from yimen.common.choices import Channel, Rating
from yimen.org.api.serializers import HallRefSerializer
from yimen.org.models import Hall, WindowCategory

from .. import periods, selectors
from ..choices import AT_WINDOW, AppointmentStatus, Period, TicketStatus
from ..models import Appointment, Ticket

# The longest span of days the figures cover at once.
FIGURES_MAX_DAYS = 366

# --- enums -----------------------------------------------------------------------------------


class EnumField(catalog.EnumField):
    """The catalogue's enum field, its schema component named "Hall…Enum" so that it clashes
    with no other app's field of the same name."""

    def __init__(self, choices, *, component: str, **kwargs):
        super().__init__(choices, component=component, **kwargs)
        self.component = f"Hall{component}Enum"


class EnumFieldExtension(catalog.EnumFieldExtension):
    target_class = EnumField


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


def active_category_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=WindowCategory.objects.filter(is_active=True),
        help_text=_("The code of the window category (the queue)."),
        **kwargs,
    )


# --- small references ------------------------------------------------------------------------


class HallCategoryRefSerializer(serializers.ModelSerializer):
    """A window category (a queue) as the hall names it: its code and its ticket letter."""

    class Meta:
        model = WindowCategory
        fields = ["code", "name", "queue_prefix"]
        read_only_fields = fields


# --- halls -----------------------------------------------------------------------------------


class HallCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    queue_prefix = serializers.CharField(help_text=_("The letter of its ticket numbers."))
    tickets = serializers.BooleanField(help_text=_("A window of the hall serves it today."))
    appointments = serializers.BooleanField(help_text=_("The hall takes appointments for it."))


def hall_categories(hall: Hall) -> list[dict]:
    """The categories a hall serves or books, from what HallListView prefetched."""
    served = {c.pk: c for w in hall.open_windows for c in w.live_categories}
    booked = {q.category_id: q.category for q in hall.live_quotas}
    every = sorted({**booked, **served}.values(), key=lambda c: (c.order, c.code))
    return [
        {
            "code": c.code,
            "name": c.name,
            "queue_prefix": c.queue_prefix,
            "tickets": c.pk in served,
            "appointments": c.pk in booked,
        }
        for c in every
    ]


class PublicHallSerializer(serializers.ModelSerializer):
    """An active hall, the queues it serves and whether it takes appointments."""

    region_name = serializers.CharField(source="region.name")
    takes_appointments = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()

    class Meta:
        model = Hall
        fields = [
            "id",
            "name",
            "region_name",
            "address",
            "phone",
            "opening_hours",
            "takes_appointments",
            "categories",
        ]
        read_only_fields = fields

    def get_takes_appointments(self, hall) -> bool:
        return bool(hall.live_quotas)

    @extend_schema_field(HallCategorySerializer(many=True))
    def get_categories(self, hall):
        return HallCategorySerializer(hall_categories(hall), many=True).data


class SlotQuerySerializer(serializers.Serializer):
    category = active_category_field()


class SlotSerializer(serializers.Serializer):
    """A bookable half-day with its free places."""

    day = serializers.DateField()
    period = enum(Period)
    period_label = serializers.CharField()
    capacity = serializers.IntegerField(help_text=_("Appointments the hall takes then."))
    left = serializers.IntegerField(help_text=_("Places still free."))
    open = serializers.BooleanField(
        source="is_open", help_text=_("A place is free and the period is not over.")
    )


class BoardCallSerializer(serializers.Serializer):
    number = serializers.CharField()
    window = serializers.CharField(source="window.number", help_text=_("The window's number."))
    called_at = serializers.DateTimeField(
        source="last_called_at", help_text=_("When it was called (last, if called again).")
    )


class QueueLineSerializer(serializers.Serializer):
    code = serializers.CharField(source="category.code")
    name = serializers.CharField(source="category.name")
    queue_prefix = serializers.CharField(source="category.queue_prefix")
    waiting = serializers.IntegerField()


class BoardSerializer(serializers.Serializer):
    """The display board: the latest calls and how many wait in each queue."""

    hall = HallRefSerializer()
    calls = BoardCallSerializer(many=True, help_text=_("The latest calls, the newest first."))
    queues = QueueLineSerializer(many=True)


# --- appointments ----------------------------------------------------------------------------


class TicketRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["public_id", "number"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    """An applicant's appointment: its code is typed at the hall's kiosk to check in."""

    hall = HallRefSerializer()
    category = HallCategoryRefSerializer()
    item = serializers.CharField(
        source="item.implementation_code",
        allow_null=True,
        default=None,
        help_text=_("The implementation code of the item, if one was chosen."),
    )
    item_name = serializers.CharField(
        allow_null=True, default=None, help_text=_("The name of the item's guide in force.")
    )
    period = enum(Period)
    period_label = serializers.CharField(source="get_period_display")
    status = enum(AppointmentStatus)
    status_label = serializers.CharField(source="get_status_display")
    channel = enum(Channel)
    ticket = serializers.SerializerMethodField(help_text=_("The ticket of the check-in."))
    can_cancel = serializers.SerializerMethodField(
        help_text=_("Booked, and its period has not begun.")
    )

    class Meta:
        model = Appointment
        fields = [
            "public_id",
            "code",
            "hall",
            "category",
            "item",
            "item_name",
            "day",
            "period",
            "period_label",
            "status",
            "status_label",
            "channel",
            "created_at",
            "cancel_reason",
            "ticket",
            "can_cancel",
        ]
        read_only_fields = fields

    @extend_schema_field(TicketRefSerializer(allow_null=True))
    def get_ticket(self, appointment):
        try:
            ticket = appointment.ticket
        except ObjectDoesNotExist:
            return None
        return TicketRefSerializer(ticket).data

    def get_can_cancel(self, appointment) -> bool:
        return periods.may_cancel(appointment)


class AppointmentBookSerializer(serializers.Serializer):
    hall = serializers.PrimaryKeyRelatedField(
        queryset=Hall.objects.all(), help_text=_("The id of the hall.")
    )
    category = active_category_field()
    day = serializers.DateField(help_text=_("A working day from today on (YYYY-MM-DD)."))
    period = enum(Period)
    item = serializers.SlugRelatedField(
        slug_field="implementation_code",
        queryset=ServiceItem.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The implementation code of the item to be handled (optional)."),
    )


class AppointmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text=_("Why.")
    )


# --- tickets ---------------------------------------------------------------------------------


class TicketTakeSerializer(serializers.Serializer):
    """A walk-in ticket for a queue, or the check-in of an appointment by its code."""

    category = active_category_field(required=False)
    appointment_code = serializers.RegexField(
        r"^\d{8}$",
        required=False,
        help_text=_("The 8-digit code of an appointment: checks it in instead."),
        error_messages={"invalid": _("An appointment code has 8 digits.")},
    )

    def validate(self, attrs):
        if "appointment_code" not in attrs and "category" not in attrs:
            raise serializers.ValidationError(
                {"category": _("Choose a queue, or type the code of your appointment.")}
            )
        return attrs


class TicketSlipSerializer(serializers.ModelSerializer):
    """The public slip of a ticket: where it stands, never who holds it."""

    hall = HallRefSerializer()
    category = HallCategoryRefSerializer(help_text=_("The queue it waits in now."))
    status = enum(TicketStatus)
    status_label = serializers.CharField(source="get_status_display")
    window = serializers.SerializerMethodField(
        help_text=_("The window it is called to, while called or served.")
    )
    waiting_ahead = serializers.SerializerMethodField(
        help_text=_("How many of its queue will be called before it.")
    )
    may_rate = serializers.SerializerMethodField(
        help_text=_("Served today and not rated yet: the service can be rated.")
    )
    rating = enum(Rating, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "public_id",
            "number",
            "hall",
            "category",
            "status",
            "status_label",
            "is_priority",
            "issued_at",
            "window",
            "waiting_ahead",
            "may_rate",
            "rating",
        ]
        read_only_fields = fields

    def get_window(self, ticket) -> str | None:
        return ticket.window.number if ticket.status in AT_WINDOW and ticket.window else None

    def get_waiting_ahead(self, ticket) -> int:
        return selectors.waiting_ahead(ticket)

    def get_may_rate(self, ticket) -> bool:
        return periods.may_rate(ticket)


class TicketRateSerializer(serializers.Serializer):
    rating = enum(Rating)
    comment = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required for the two lowest ratings: what went wrong."),
    )


# --- windows ---------------------------------------------------------------------------------


class WindowTicketSerializer(serializers.ModelSerializer):
    """A ticket as its window sees it."""

    category = HallCategoryRefSerializer()
    status = enum(TicketStatus)
    status_label = serializers.CharField(source="get_status_display")
    window = serializers.CharField(source="window.number", allow_null=True, default=None)
    applicant = serializers.UUIDField(
        source="applicant.public_id",
        allow_null=True,
        default=None,
        help_text=_("The public id of the applicant, when known (an appointment, a sign-in)."),
    )
    item = serializers.CharField(
        source="appointment.item.implementation_code",
        allow_null=True,
        default=None,
        help_text=_("The item the appointment was booked for, if one was chosen."),
    )

    class Meta:
        model = Ticket
        fields = [
            "public_id",
            "number",
            "category",
            "status",
            "status_label",
            "is_priority",
            "window",
            "issued_at",
            "calls",
            "called_at",
            "last_called_at",
            "started_at",
            "finished_at",
            "transfers",
            "applicant",
            "item",
        ]
        read_only_fields = fields


class WindowQueueSerializer(serializers.Serializer):
    code = serializers.CharField(source="category.code")
    name = serializers.CharField(source="category.name")
    waiting = serializers.IntegerField()


class WindowPanelSerializer(serializers.Serializer):
    """A window the clerk may sit at: its ticket now and how many wait for it."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    hall = HallRefSerializer()
    categories = HallCategoryRefSerializer(many=True, source="categories.all")
    ticket = WindowTicketSerializer(
        allow_null=True, source="current_ticket", help_text=_("Called to or served here now.")
    )
    waiting = WindowQueueSerializer(many=True, source="queues")


class TicketTransferSerializer(serializers.Serializer):
    category = active_category_field()
    reason = serializers.CharField(
        max_length=500, help_text=_("Why the applicant goes to another window.")
    )


# --- figures ---------------------------------------------------------------------------------


class FiguresQuerySerializer(serializers.Serializer):
    first = serializers.DateField(help_text=_("The first day (YYYY-MM-DD)."))
    last = serializers.DateField(
        help_text=_("The last day (YYYY-MM-DD), at most 366 days after the first, included.")
    )

    def validate(self, attrs):
        first, last = attrs["first"], attrs["last"]
        if last < first:
            raise serializers.ValidationError({"last": _("The last day comes before the first.")})
        if last - first >= dt.timedelta(days=FIGURES_MAX_DAYS):
            raise serializers.ValidationError(
                {"last": _("Ask for at most %(days)d days at a time.") % {"days": FIGURES_MAX_DAYS}}
            )
        return attrs


class RatingCountSerializer(serializers.Serializer):
    rating = enum(Rating)
    label = serializers.CharField()
    count = serializers.IntegerField()


class QueueFiguresSerializer(serializers.Serializer):
    """Times are in minutes; empty when nothing was measured."""

    label = serializers.CharField(help_text=_("The queue; empty for the whole hall."))
    tickets = serializers.IntegerField()
    served = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    appointments = serializers.IntegerField(help_text=_("Tickets of checked-in appointments."))
    average_wait = serializers.FloatField(allow_null=True)
    longest_wait = serializers.FloatField(allow_null=True)
    average_service = serializers.FloatField(allow_null=True)
    rated = serializers.IntegerField()
    satisfaction = serializers.FloatField(
        allow_null=True, help_text=_("Share of ratings of 4 or 5, in per cent.")
    )
    ratings = serializers.SerializerMethodField()

    @extend_schema_field(RatingCountSerializer(many=True))
    def get_ratings(self, figures):
        return [
            {"rating": r.value, "label": str(r.label), "count": figures.ratings[r.value]}
            for r in Rating
        ]


class HourCountSerializer(serializers.Serializer):
    hour = serializers.IntegerField(help_text=_("The hour of the day, local time (0–23)."))
    tickets = serializers.IntegerField()


class HallFiguresSerializer(serializers.Serializer):
    hall = HallRefSerializer()
    first = serializers.DateField()
    last = serializers.DateField()
    total = QueueFiguresSerializer()
    queues = QueueFiguresSerializer(many=True, help_text=_("The busiest queue first."))
    by_hour = serializers.SerializerMethodField(help_text=_("Tickets taken per hour."))

    @extend_schema_field(HourCountSerializer(many=True))
    def get_by_hour(self, figures):
        return [{"hour": hour, "tickets": n} for hour, n in figures.by_hour.items()]


# --- errors ----------------------------------------------------------------------------------


class HallConflictSerializer(serializers.Serializer):
    """The object's status does not allow the action (any more): a stale page, a double
    click. The key names what changed."""

    ticket = serializers.ListField(child=serializers.CharField(), required=False)
    appointment = serializers.ListField(child=serializers.CharField(), required=False)
    appointment_code = serializers.ListField(child=serializers.CharField(), required=False)
    window = serializers.ListField(child=serializers.CharField(), required=False)
    rating = serializers.ListField(child=serializers.CharField(), required=False)
