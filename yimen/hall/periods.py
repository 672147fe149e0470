"""The hall's time rules, shared by its services, selectors and pages: when a half-day begins
and ends, which days can be booked, and until when an appointment can be cancelled or a
service rated."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from yimen.common import workdays

from .choices import PERIOD_HOURS, AppointmentStatus, Period, TicketStatus


def period_bounds(day: dt.date, period: str) -> tuple[dt.datetime, dt.datetime]:
    """When a half-day begins and ends, as aware datetimes of the hall's (the site's) zone."""
    begins, ends = PERIOD_HOURS[Period(period)]
    zone = timezone.get_default_timezone()
    return (
        dt.datetime.combine(day, begins, tzinfo=zone),
        dt.datetime.combine(day, ends, tzinfo=zone),
    )


def bookable_days(*, today: dt.date | None = None) -> list[dt.date]:
    """Today (when a working day) and the next YIMEN_APPOINTMENT_DAYS working days."""
    today = today or timezone.localdate()
    days = [today] if workdays.is_workday(today) else []
    day = today
    for _i in range(settings.YIMEN_APPOINTMENT_DAYS):
        day = workdays.add_workdays(day, 1).date
        days.append(day)
    return days


def may_cancel(appointment, *, now: dt.datetime | None = None) -> bool:
    """A booked appointment can be cancelled until its period begins."""
    now = now or timezone.now()
    return (
        appointment.status == AppointmentStatus.BOOKED
        and period_bounds(appointment.day, appointment.period)[0] > now
    )


def may_rate(ticket, *, today: dt.date | None = None) -> bool:
    """A service is rated once, when it is over, on the day it was given."""
    return (
        ticket.status == TicketStatus.DONE
        and ticket.rating is None
        and ticket.day == (today or timezone.localdate())
    )
