"""Reads of the hall: free appointment places, the display board, a window's panel, the
place of a ticket in its queue and the queue statistics (wait and service times)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import mean

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.catalog.models import ItemVersion
from yimen.org.models import Hall, Window, WindowCategory

from .choices import AT_WINDOW, AppointmentStatus, Period, TicketStatus
from .models import Appointment, AppointmentQuota, Ticket
from .periods import bookable_days, period_bounds

# --- appointments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    day: dt.date
    period: str
    capacity: int
    taken: int
    is_over: bool

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_open(self) -> bool:
        return self.left > 0 and not self.is_over

    @property
    def period_label(self) -> str:
        return Period(self.period).label


def open_halls() -> QuerySet[Hall]:
    """Active halls that take appointments, with their bookable categories."""
    return (
        Hall.objects.filter(is_active=True, quotas__isnull=False)
        .distinct()
        .select_related("region")
    )


def bookable_categories(hall) -> QuerySet[WindowCategory]:
    return WindowCategory.objects.filter(is_active=True, quotas__hall=hall).distinct()


def slots(*, hall, category, now: dt.datetime | None = None) -> list[Slot]:
    """Every bookable half-day of a category at a hall with its free places (2 queries)."""
    now = now or timezone.now()
    capacity = dict(
        AppointmentQuota.objects.filter(hall=hall, category=category).values_list(
            "period", "capacity"
        )
    )
    if not capacity:
        return []
    days = bookable_days(today=timezone.localdate(now))
    taken = {
        (row["day"], row["period"]): row["n"]
        for row in Appointment.objects.filter(
            hall=hall,
            category=category,
            day__in=days,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
        )
        .values("day", "period")
        .annotate(n=Count("pk"))
    }
    return [
        Slot(
            day=day,
            period=period,
            capacity=capacity[period],
            taken=taken.get((day, period), 0),
            is_over=period_bounds(day, period)[1] <= now,
        )
        for day in days
        for period in Period.values
        if period in capacity
    ]


def appointments_of(applicant) -> QuerySet[Appointment]:
    """The applicant's appointments, latest first, each with `item_name`: the name of its
    item's guide in force (an item has no name of its own, its versions have)."""
    name = ItemVersion.objects.published().filter(item=OuterRef("item")).values("name")[:1]
    return (
        Appointment.objects.filter(applicant=applicant)
        .select_related("hall", "category", "item", "ticket")
        .annotate(item_name=Subquery(name))
        .order_by("-day", "-period", "-created_at")
    )


# The kiosk's posts (web and API) are counted together per address under this scope: taking
# tickets and guessing appointment codes share one budget.
KIOSK_SCOPE = "hall-kiosk"


def appointment_by_code(code: str, *, hall) -> Appointment | None:
    """The appointment a code stands for, at this hall only (another hall's kiosk learns
    nothing of it)."""
    code = unicodedata.normalize("NFKC", code or "").strip()  # full-width digits typed in
    if not (len(code) == 8 and code.isascii() and code.isdigit()):
        return None
    return (
        Appointment.objects.select_related("hall", "category").filter(code=code, hall=hall).first()
    )


# --- a case's nodes 1–2 --------------------------------------------------------------------

# The events of the queue ticket a case was started on, shown before the case's own:
# action → label.
TICKET_HISTORY = {
    "hall.appointment.book": _("Appointment booked"),
    "hall.ticket.take": _("Queue ticket taken"),
    "hall.ticket.call": _("Called to a window"),
}


def ticket_history(ticket_id: int, *, until: dt.datetime) -> Q:
    """The audit events of TICKET_HISTORY of a ticket up to a moment: the booking of its
    appointment (a subquery: no query of its own), its taking and its calls."""
    appointment = (
        Ticket.objects.filter(pk=ticket_id, appointment__isnull=False)
        .annotate(text=Cast("appointment_id", CharField()))
        .values("text")
    )
    wanted = Q(
        object_type="hall.ticket",
        object_id=str(ticket_id),
        action__in=["hall.ticket.take", "hall.ticket.call"],
    ) | Q(
        object_type="hall.appointment",
        object_id__in=Subquery(appointment),
        action="hall.appointment.book",
    )
    return wanted & Q(occurred_at__lte=until)


# --- the queue --------------------------------------------------------------------------------


def served_categories(hall) -> QuerySet[WindowCategory]:
    """The categories a ticket can be taken for in a hall: those its active windows serve."""
    return WindowCategory.objects.filter(
        is_active=True, windows__hall=hall, windows__is_active=True
    ).distinct()


def ticket_by_public_id(public_id) -> Ticket | None:
    """A ticket as its slip shows it."""
    return (
        Ticket.objects.select_related("hall", "category", "window")
        .filter(public_id=public_id)
        .first()
    )


def _waiting(hall, day: dt.date) -> QuerySet[Ticket]:
    return Ticket.objects.filter(hall=hall, day=day, status=TicketStatus.WAITING)


def waiting_ahead(ticket: Ticket) -> int:
    """How many tickets of the same queue will be called before this one."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    before = Q(issued_at__lt=ticket.issued_at) | Q(issued_at=ticket.issued_at, pk__lt=ticket.pk)
    if ticket.is_priority:
        before &= Q(is_priority=True)
    else:
        before = Q(is_priority=True) | before
    return _waiting(ticket.hall, ticket.day).filter(before, category_id=ticket.category_id).count()


@dataclass
class QueueLine:
    category: WindowCategory
    waiting: int = 0


@dataclass
class Board:
    """What the hall's display board shows."""

    hall: Hall
    calls: list[Ticket]
    queues: list[QueueLine]


def board(hall, *, today: dt.date | None = None, calls: int = 8) -> Board:
    """The latest calls (number → window) and how many wait in each queue (3 queries)."""
    today = today or timezone.localdate()
    latest = list(
        Ticket.objects.filter(hall=hall, day=today, status__in=AT_WINDOW)
        .select_related("window")
        .order_by("-last_called_at")[:calls]
    )
    counts = dict(_waiting(hall, today).values_list("category").annotate(n=Count("pk")).order_by())
    queues = [QueueLine(c, counts.get(c.pk, 0)) for c in served_categories(hall)]
    return Board(hall=hall, calls=latest, queues=queues)


def ticket_at(window) -> Ticket | None:
    """The ticket called to or served at a window."""
    return (
        Ticket.objects.filter(window=window, status__in=AT_WINDOW)
        .select_related("category", "applicant", "appointment__item")
        .first()
    )


def in_service(*, clerk) -> Ticket | None:
    """The ticket the clerk is serving now (the desk links a new case to it)."""
    return (
        Ticket.objects.filter(served_by=clerk, status=TicketStatus.SERVING)
        .select_related("applicant")
        .first()
    )


def waiting_for(window, *, today: dt.date | None = None) -> list[QueueLine]:
    """How many wait in each queue the window serves."""
    today = today or timezone.localdate()
    categories = list(window.categories.all())
    counts = dict(
        _waiting(window.hall, today)
        .filter(category__in=categories)
        .values_list("category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [QueueLine(c, counts.get(c.pk, 0)) for c in categories]


def window_panels(windows: list[Window]) -> list[Window]:
    """Give each window `current_ticket` (called or served there now) and `queues` (how many
    wait in each queue it serves), in two queries for any number of windows."""
    today = timezone.localdate()
    current = {
        t.window_id: t
        for t in Ticket.objects.filter(window__in=windows, status__in=AT_WINDOW).select_related(
            "category", "window", "applicant", "appointment__item"
        )
    }
    counts = {
        (hall, category): n
        for hall, category, n in Ticket.objects.filter(
            hall_id__in={w.hall_id for w in windows}, day=today, status=TicketStatus.WAITING
        )
        .values_list("hall_id", "category_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    for window in windows:
        window.current_ticket = current.get(window.pk)
        window.queues = [
            QueueLine(c, counts.get((window.hall_id, c.pk), 0)) for c in window.categories.all()
        ]
    return windows


def served_today(*, clerk, today: dt.date | None = None) -> QuerySet[Ticket]:
    today = today or timezone.localdate()
    return (
        Ticket.objects.filter(served_by=clerk, day=today)
        .exclude(status__in=AT_WINDOW)
        .select_related("category", "window")
        .order_by(Coalesce("finished_at", "last_called_at").desc(), "-pk")
    )


# --- statistics -------------------------------------------------------------------------------


@dataclass
class QueueFigures:
    """The figures of one queue (or of the whole hall) over a span of days."""

    label: str
    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    expired: int = 0  # never called that day
    appointments: int = 0
    waits: list[float] = field(default_factory=list, repr=False)  # minutes
    services: list[float] = field(default_factory=list, repr=False)
    ratings: Counter = field(default_factory=Counter, repr=False)

    def add(self, row: dict) -> None:
        self.tickets += 1
        self.served += row["status"] == TicketStatus.DONE
        self.no_shows += row["status"] == TicketStatus.NO_SHOW
        self.expired += row["status"] == TicketStatus.EXPIRED
        self.appointments += row["appointment_id"] is not None
        if row["called_at"]:
            self.waits.append((row["called_at"] - row["issued_at"]).total_seconds() / 60)
        if row["started_at"] and row["finished_at"]:
            self.services.append((row["finished_at"] - row["started_at"]).total_seconds() / 60)
        if row["rating"]:
            self.ratings[row["rating"]] += 1

    @property
    def average_wait(self) -> float | None:
        return round(mean(self.waits), 1) if self.waits else None

    @property
    def longest_wait(self) -> float | None:
        return round(max(self.waits), 1) if self.waits else None

    @property
    def average_service(self) -> float | None:
        return round(mean(self.services), 1) if self.services else None

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfaction(self) -> float | None:
        """Share of ratings of 4 or 5, in per cent."""
        if not self.rated:
            return None
        return round(100 * (self.ratings[4] + self.ratings[5]) / self.rated, 1)


@dataclass
class HallFigures:
    hall: Hall
    first: dt.date
    last: dt.date
    total: QueueFigures
    queues: list[QueueFigures]
    by_hour: dict[int, int]  # tickets taken per hour of the day


def hall_figures(hall, *, first: dt.date, last: dt.date) -> HallFigures:
    """Wait, service and satisfaction figures of a hall's tickets between two days, in one
    query (durations are worked out here so that SQLite and PostgreSQL agree)."""
    rows = Ticket.objects.filter(hall=hall, day__gte=first, day__lte=last).values(
        "category_id",
        "category__name",
        "status",
        "appointment_id",
        "issued_at",
        "called_at",
        "started_at",
        "finished_at",
        "rating",
    )
    total = QueueFigures(label="")
    queues: dict[int, QueueFigures] = {}  # by the queue a ticket ended in
    by_hour: dict[int, int] = defaultdict(int)
    for row in rows.iterator(chunk_size=2000):
        label = row["category__name"]
        queues.setdefault(row["category_id"], QueueFigures(label=label)).add(row)
        total.add(row)
        by_hour[timezone.localtime(row["issued_at"]).hour] += 1
    return HallFigures(
        hall=hall,
        first=first,
        last=last,
        total=total,
        queues=sorted(queues.values(), key=lambda q: -q.tickets),
        by_hour=dict(sorted(by_hour.items())),
    )
