"""Writes of the hall: book and cancel appointments (node 1 预约), take, call, serve and
transfer queue tickets (node 2 取号), rate a service, and the end-of-day sweep.

Each write locks the row it changes, checks the state it starts from (a stale click or a
race lost is a StateConflict naming the state now, never a second call of one ticket),
saves with `update_fields` and writes one audit row (actions `hall.appointment.*` and
`hall.ticket.*`)."""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.catalog.models import ItemVersion, ServiceItem
from yimen.common import audit, counters
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.ratings import checked_rating
from yimen.org.choices import Role
from yimen.org.models import Window

from . import permissions
from .choices import AT_WINDOW, AppointmentStatus, Period, TicketStatus
from .models import Appointment, AppointmentQuota, Ticket, TicketCounter
from .periods import bookable_days, may_cancel, may_rate, period_bounds

# Check-in opens this long before the booked period begins.
CHECK_IN_EARLY = dt.timedelta(minutes=60)


# --- appointments (预约) ----------------------------------------------------------------------


def appointment_book(
    *,
    applicant,
    booked_by,
    hall,
    category,
    day: dt.date,
    period: str,
    item: ServiceItem | None = None,
    channel: str = Channel.ONLINE,
) -> Appointment:
    """Book a half-day. The quota row is locked while the bookings are counted, so two
    applicants can never take the last place together."""
    if not permissions.may_book_for(booked_by, applicant, hall):
        raise PermissionDenied(_("You may book only for yourself."))
    if period not in Period.values:
        raise ValidationError({"period": _("Choose the morning or the afternoon.")})
    if not hall.is_active:
        raise ValidationError({"hall": _("This hall is closed.")})
    if not category.is_active:
        raise ValidationError(
            {"category": _("This hall takes no appointments for this window category.")}
        )
    now = timezone.now()
    if day not in bookable_days(today=timezone.localdate(now)):
        raise ValidationError(
            {
                "day": _("Choose a working day from today to %(days)d working days ahead.")
                % {"days": settings.YIMEN_APPOINTMENT_DAYS}
            }
        )
    if period_bounds(day, period)[1] <= now:
        raise ValidationError({"period": _("This period is over: choose a later one.")})
    if item is not None:
        _check_item_category(item, category)
    with transaction.atomic():
        quota = (
            AppointmentQuota.objects.select_for_update()
            .filter(hall=hall, category=category, period=period)
            .first()
        )
        if quota is None:
            raise ValidationError(
                {"category": _("This hall takes no appointments for this window category.")}
            )
        booked = Appointment.objects.filter(
            day=day,
            period=period,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
        )
        if booked.filter(applicant=applicant, status=AppointmentStatus.BOOKED).exists():
            raise ValidationError({"period": _("You already have an appointment for this period.")})
        if booked.filter(hall=hall, category=category).count() >= quota.capacity:
            raise ValidationError({"period": _("This period is fully booked.")})
        appointment = Appointment(
            applicant=applicant,
            booked_by=booked_by,
            hall=hall,
            category=category,
            item=item,
            day=day,
            period=period,
            channel=channel,
        )
        _save_with_new_code(appointment)
        _record(
            appointment,
            "hall.appointment.book",
            actor=booked_by,
            channel=channel,
            to_state=AppointmentStatus.BOOKED,
        )
    return appointment


def _check_item_category(item: ServiceItem, category) -> None:
    """An appointment for an item goes to the window category of its published guide."""
    version = ItemVersion.objects.published().filter(item=item).only("window_category_id").first()
    if version is None:
        raise ValidationError({"item": _("This item has no published guide.")})
    if version.window_category_id != category.pk:
        raise ValidationError({"item": _("This item is handled at another window category.")})


def _save_with_new_code(appointment: Appointment) -> None:
    """Give the appointment eight random digits (easy to type at a kiosk, not guessable from
    another one) and save it. The applicant's own double booking was checked under the
    quota's lock, so a unique clash here is the code's, or a race of the applicant's."""
    for _attempt in range(5):
        appointment.code = f"{secrets.randbelow(10**8):08d}"
        try:
            with transaction.atomic():
                appointment.save()
            return
        except IntegrityError:
            if Appointment.objects.filter(
                applicant=appointment.applicant,
                day=appointment.day,
                period=appointment.period,
                status=AppointmentStatus.BOOKED,
            ).exists():
                raise ValidationError(
                    {"period": _("You already have an appointment for this period.")}
                ) from None
    raise ValidationError({"period": _("Please try again.")})


def appointment_cancel(
    *, appointment: Appointment, actor, reason: str = "", channel: str = Channel.ONLINE
) -> Appointment:
    """The applicant (or a clerk of the hall for them) cancels before the period begins."""
    if not permissions.may_book_for(actor, appointment.applicant, appointment.hall):
        raise PermissionDenied(_("You may cancel only your own appointments."))
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        _require_booked(locked)
        if not may_cancel(locked):
            raise ValidationError(
                {"appointment": _("The period has begun: it can no longer be cancelled.")}
            )
        locked.status = AppointmentStatus.CANCELLED
        locked.cancel_reason = (reason or "").strip()[:200]
        locked.save(update_fields=["status", "cancel_reason"])
        _record(
            locked,
            "hall.appointment.cancel",
            actor=actor,
            channel=channel,
            from_state=AppointmentStatus.BOOKED,
            to_state=locked.status,
            reason=locked.cancel_reason,
        )
    appointment.__dict__.update(locked.__dict__)
    return appointment


def _require_booked(appointment: Appointment) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise StateConflict(
            {
                "appointment": _("The appointment is now “%(status)s”.")
                % {"status": appointment.get_status_display()}
            }
        )


def appointment_check_in(
    *, appointment: Appointment, hall, actor=None, channel: str = Channel.KIOSK
) -> Ticket:
    """Turn an appointment into a ticket that is called before walk-ins: at its hall, on its
    day, from an hour before its period until its end."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("hall", "category", "applicant")
            .get(pk=appointment.pk)
        )
        if locked.hall_id != hall.pk:  # the kiosk of another hall knows no such code
            raise ValidationError({"code": _("No appointment has this code.")})
        _require_booked(locked)
        if not locked.hall.is_active:
            raise ValidationError({"hall": _("This hall is closed.")})
        begins, ends = period_bounds(locked.day, locked.period)
        if not begins - CHECK_IN_EARLY <= now <= ends:
            raise ValidationError(
                {
                    "code": _("Check in on %(day)s, %(period)s.")
                    % {"day": locked.day, "period": locked.get_period_display()}
                }
            )
        if not _serves(locked.hall, locked.category):
            raise ValidationError(
                {"code": _("No window serves this queue now: please ask at the reception.")}
            )
        ticket = _issue(
            hall=locked.hall,
            category=locked.category,
            applicant=locked.applicant,
            appointment=locked,
            actor=actor,
            channel=channel,
            now=now,
        )
        locked.status = AppointmentStatus.CHECKED_IN
        locked.save(update_fields=["status"])
        _record(
            locked,
            "hall.appointment.check_in",
            actor=actor,
            channel=channel,
            from_state=AppointmentStatus.BOOKED,
            to_state=locked.status,
            payload={"ticket": ticket.number},
        )
    appointment.__dict__.update(locked.__dict__)
    return ticket


# --- tickets (取号) ---------------------------------------------------------------------------


def ticket_take(
    *, hall, category, applicant=None, actor=None, channel: str = Channel.KIOSK
) -> Ticket:
    """A walk-in ticket, e.g. A017: its letter is the category's, numbered per hall and day."""
    if not hall.is_active:
        raise ValidationError({"hall": _("This hall is closed.")})
    if not _serves(hall, category):
        raise ValidationError({"category": _("No window of this hall serves this category.")})
    with transaction.atomic():
        return _issue(
            hall=hall,
            category=category,
            applicant=applicant,
            appointment=None,
            actor=actor,
            channel=channel,
            now=timezone.now(),
        )


def _serves(hall, category) -> bool:
    """Whether an active window of the hall serves the (active) category."""
    return category.is_active and hall.windows.filter(is_active=True, categories=category).exists()


def _issue(*, hall, category, applicant, appointment, actor, channel, now) -> Ticket:
    day = timezone.localdate(now)
    last = counters.bump(TicketCounter, hall=hall, prefix=category.queue_prefix, day=day)
    ticket = Ticket.objects.create(
        hall=hall,
        day=day,
        number=f"{category.queue_prefix}{last:03d}",
        category=category,
        is_priority=appointment is not None,
        applicant=applicant,
        appointment=appointment,
        channel=channel,
        issued_at=now,
    )
    _record(ticket, "hall.ticket.take", actor=actor, channel=channel, to_state=ticket.status)
    return ticket


def ticket_call_next(*, window, clerk) -> Ticket | None:
    """Call the next ticket the window serves (appointments and transfers first, then in
    the order taken). None when nobody waits. The window's row is locked, so one window
    never calls twice at once; two windows never get the same ticket: its row is locked and
    skipped by the other (PostgreSQL), or the writers are serialised (SQLite)."""
    categories = permissions.callable_categories(clerk, window)
    if not categories:
        raise PermissionDenied(_("You do not work at this window."))
    now = timezone.now()
    with transaction.atomic():
        Window.objects.select_for_update().filter(pk=window.pk).first()
        busy = Q(window=window) | Q(served_by=clerk)
        if Ticket.objects.filter(busy, status__in=AT_WINDOW).exists():
            raise StateConflict(
                {"window": _("Finish the ticket at this window before calling the next.")}
            )
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(
                hall_id=window.hall_id,
                day=timezone.localdate(now),
                status=TicketStatus.WAITING,
                category__in=categories,
            )
            .order_by("-is_priority", "issued_at", "pk")
            .first()
        )
        if ticket is None:
            return None
        ticket.status = TicketStatus.CALLED
        ticket.window, ticket.served_by = window, clerk
        ticket.called_at = ticket.called_at or now
        ticket.last_called_at = now
        ticket.calls += 1
        try:
            with transaction.atomic():
                ticket.save(
                    update_fields=[
                        "status", "window", "served_by", "called_at", "last_called_at", "calls"
                    ]
                )  # fmt: skip
        except IntegrityError:  # the database's guard: one ticket at a window, per clerk
            raise StateConflict(
                {"window": _("Finish the ticket at this window before calling the next.")}
            ) from None
        _record(
            ticket,
            "hall.ticket.call",
            actor=clerk,
            channel=Channel.WINDOW,
            from_state=TicketStatus.WAITING,
            to_state=ticket.status,
            payload={"window": window.number},
        )
    return ticket


@dataclass
class _WindowStep:
    """A ticket locked for one step at its window: the body changes `ticket` and names the
    changed `fields`, and may add to the audit `payload`."""

    ticket: Ticket
    fields: set[str] = field(default_factory=set)
    payload: dict = field(default_factory=dict)


@contextmanager
def _at_window(ticket: Ticket, action: str, clerk, *, allowed: frozenset, reason: str = ""):
    """Lock the ticket; check that it is not another hall's or a colleague's, and that its
    state allows the step (else a StateConflict: a stale click); then the body; then save
    and audit. Every allowed state is at a window, so the clerk is the one who called it."""
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("hall", "window")
            .get(pk=ticket.pk)
        )
        if not permissions.is_clerk_of(clerk, locked.hall) or locked.served_by_id not in (
            None,
            clerk.pk,
        ):  # another hall's, or a colleague's
            raise PermissionDenied(_("This ticket is not at your window."))
        if locked.status not in allowed:  # waiting (never called, transferred) or over
            raise StateConflict(
                {
                    "ticket": _("The ticket is now “%(status)s”.")
                    % {"status": locked.get_status_display()}
                }
            )
        from_state = locked.status
        step = _WindowStep(locked)
        yield step
        locked.save(update_fields=sorted({"status", *step.fields}))
        _record(
            locked,
            action,
            actor=clerk,
            channel=Channel.WINDOW,
            from_state=from_state,
            to_state=locked.status,
            reason=reason,
            payload=step.payload,
        )
    ticket.__dict__.update(locked.__dict__)


CALLED = frozenset({TicketStatus.CALLED})
SERVING = frozenset({TicketStatus.SERVING})


def ticket_recall(*, ticket: Ticket, clerk) -> Ticket:
    """Call the same number again (the board and the speaker repeat it)."""
    with _at_window(ticket, "hall.ticket.recall", clerk, allowed=CALLED) as step:
        step.ticket.last_called_at = timezone.now()
        step.ticket.calls += 1
        step.fields |= {"last_called_at", "calls"}
    return ticket


def ticket_start(*, ticket: Ticket, clerk) -> Ticket:
    """The applicant is at the window."""
    with _at_window(ticket, "hall.ticket.start", clerk, allowed=CALLED) as step:
        step.ticket.status, step.ticket.started_at = TicketStatus.SERVING, timezone.now()
        step.fields.add("started_at")
    return ticket


def ticket_finish(*, ticket: Ticket, clerk) -> Ticket:
    with _at_window(ticket, "hall.ticket.finish", clerk, allowed=SERVING) as step:
        step.ticket.status, step.ticket.finished_at = TicketStatus.DONE, timezone.now()
        step.fields.add("finished_at")
    return ticket


def ticket_no_show(*, ticket: Ticket, clerk) -> Ticket:
    """过号: called and nobody came."""
    with _at_window(ticket, "hall.ticket.no_show", clerk, allowed=CALLED) as step:
        step.ticket.status = TicketStatus.NO_SHOW
    return ticket


def ticket_transfer(*, ticket: Ticket, clerk, category, reason: str = "") -> Ticket:
    """Send the applicant to another queue of the hall; they are called there first."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the applicant goes to another window.")})
    with _at_window(
        ticket, "hall.ticket.transfer", clerk, allowed=AT_WINDOW, reason=reason
    ) as step:
        t = step.ticket
        if category.pk == t.category_id:
            raise ValidationError({"category": _("The ticket already waits in this queue.")})
        if not _serves(t.hall, category):
            raise ValidationError({"category": _("No window of this hall serves this category.")})
        step.payload = {"from": t.category.code, "to": category.code}
        t.status, t.category, t.is_priority = TicketStatus.WAITING, category, True
        t.window = t.served_by = None
        t.transfers += 1
        step.fields |= {"category", "is_priority", "window", "served_by", "transfers"}
    return ticket


def ticket_rate(
    *, ticket: Ticket, rating, comment: str = "", channel: str = Channel.KIOSK
) -> Ticket:
    """好差评 of a service at a window: once, on the day it was served."""
    rating, comment = checked_rating(rating, comment)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status != TicketStatus.DONE:
            raise StateConflict({"rating": _("Rate a service once it is over.")})
        if locked.rating is not None:
            raise StateConflict({"rating": _("This service has been rated already.")})
        if not may_rate(locked):
            raise ValidationError({"rating": _("A service is rated on the day it was given.")})
        locked.rating, locked.rating_comment = rating, comment
        locked.save(update_fields=["rating", "rating_comment"])
        _record(
            locked,
            "hall.ticket.rate",
            channel=channel,
            from_state=locked.status,
            to_state=locked.status,
            reason=comment,
            payload={"rating": rating},
        )
    ticket.__dict__.update(locked.__dict__)
    return ticket


# --- the sweep --------------------------------------------------------------------------------

# What the sweep makes of a ticket left open at the end of its day: never called → expired
# (the hall did not serve it: not the applicant's absence); called → did not come; being
# served → served (the clerk did not press finish; no end time is made up).
_CLOSED_AS = {
    TicketStatus.WAITING: TicketStatus.EXPIRED,
    TicketStatus.CALLED: TicketStatus.NO_SHOW,
    TicketStatus.SERVING: TicketStatus.DONE,
}


def sweep(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Mark appointments whose period ended unused as missed, and close the tickets of
    earlier days left open. Returns (missed, closed)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    missed = closed = 0
    for appointment in Appointment.objects.filter(
        status=AppointmentStatus.BOOKED, day__lte=today
    ).order_by("pk"):
        if period_bounds(appointment.day, appointment.period)[1] > now:
            continue
        with transaction.atomic():
            changed = Appointment.objects.filter(
                pk=appointment.pk, status=AppointmentStatus.BOOKED
            ).update(status=AppointmentStatus.MISSED)
            if changed:
                _record(
                    appointment,
                    "hall.appointment.missed",
                    channel=Channel.SYSTEM,
                    from_state=AppointmentStatus.BOOKED,
                    to_state=AppointmentStatus.MISSED,
                )
                missed += 1
    for ticket in Ticket.objects.filter(day__lt=today, status__in=list(_CLOSED_AS)).order_by("pk"):
        target = _CLOSED_AS[ticket.status]
        with transaction.atomic():
            changed = Ticket.objects.filter(pk=ticket.pk, status=ticket.status).update(
                status=target
            )
            if changed:
                _record(
                    ticket,
                    "hall.ticket.close",
                    channel=Channel.SYSTEM,
                    from_state=ticket.status,
                    to_state=target,
                )
                closed += 1
    return missed, closed


def _record(
    obj,
    action: str,
    *,
    actor=None,
    channel: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    payload: dict | None = None,
) -> None:
    audit.record(
        action=action,
        obj=obj,
        actor=actor,
        role=Role.WINDOW_CLERK if channel == Channel.WINDOW else "",
        channel=channel,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=payload,
    )
