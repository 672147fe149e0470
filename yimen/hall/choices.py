"""Choices of the hall module: appointments (预约), queue tickets (取号叫号)."""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    """The half-days an appointment is made for."""

    MORNING = "am", _("Morning (09:00–12:00)")
    AFTERNOON = "pm", _("Afternoon (14:00–17:30)")


# When each period begins and ends, local time.
PERIOD_HOURS = {
    Period.MORNING: (dt.time(9, 0), dt.time(12, 0)),
    Period.AFTERNOON: (dt.time(14, 0), dt.time(17, 30)),
}


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    CANCELLED = "cancelled", _("Cancelled")
    MISSED = "missed", _("Missed")


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    DONE = "done", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    EXPIRED = "expired", _("Not called that day")


# A window has at most one ticket in these states.
AT_WINDOW = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})
