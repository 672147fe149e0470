"""The hall's front of house: appointments (预约), queue tickets (取号叫号) and the rating of
each service at a window (好差评)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimen.common.choices import Channel, Rating

from .choices import AppointmentStatus, Period, TicketStatus


class AppointmentQuota(models.Model):
    """How many appointments a hall takes for a window category in each half-day."""

    hall = models.ForeignKey(
        "org.Hall", verbose_name=_("hall"), on_delete=models.CASCADE, related_name="quotas"
    )
    category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.CASCADE,
        related_name="quotas",
    )
    period = models.CharField(_("period"), max_length=2, choices=Period.choices)
    capacity = models.PositiveSmallIntegerField(
        _("appointments per period"), validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["hall", "category__order", "period"]
        verbose_name = _("appointment quota")
        verbose_name_plural = _("appointment quotas")
        constraints = [
            models.UniqueConstraint(fields=["hall", "category", "period"], name="hall_quota_unique")
        ]

    def __str__(self):
        return f"{self.hall} · {self.category} · {self.get_period_display()}: {self.capacity}"


class Appointment(models.Model):
    """A booked half-day at a hall for a window category (and, if chosen, an item)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        _("appointment code"),
        max_length=8,
        unique=True,
        help_text=_("Typed at the kiosk to check in."),
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    hall = models.ForeignKey(
        "org.Hall", verbose_name=_("hall"), on_delete=models.PROTECT, related_name="appointments"
    )
    category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("service item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    day = models.DateField(_("day"))
    period = models.CharField(_("period"), max_length=2, choices=Period.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.ONLINE
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    class Meta:
        ordering = ["day", "period", "created_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            # One live booking per applicant and half-day: a double click books once.
            models.UniqueConstraint(
                fields=["applicant", "day", "period"],
                condition=Q(status="booked"),
                name="hall_appointment_one_per_period",
            )
        ]
        indexes = [
            models.Index(fields=["hall", "category", "day", "period", "status"]),
            models.Index(fields=["status", "day"]),  # the sweep
        ]

    def __str__(self):
        return f"{self.code} {self.day} {self.get_period_display()}"


class TicketCounter(models.Model):
    """The last ticket number given in a hall for a letter on a day."""

    hall = models.ForeignKey("org.Hall", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=2)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hall", "prefix", "day"], name="hall_counter_unique")
        ]

    def __str__(self):
        return f"{self.prefix} {self.day}: {self.last}"


class Ticket(models.Model):
    """A queue ticket (号): taken at the kiosk or the reception, called by a window."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    hall = models.ForeignKey(
        "org.Hall", verbose_name=_("hall"), on_delete=models.PROTECT, related_name="tickets"
    )
    day = models.DateField(_("day"))
    number = models.CharField(_("number"), max_length=8)
    category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text=_("The queue it waits in now (a transfer changes it)."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    is_priority = models.BooleanField(
        _("called first"),
        default=False,
        help_text=_("Appointments and transferred tickets go before the others."),
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("appointment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket",
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.KIOSK
    )
    issued_at = models.DateTimeField(_("taken at"))
    called_at = models.DateTimeField(_("first called at"), null=True, blank=True)
    last_called_at = models.DateTimeField(_("last called at"), null=True, blank=True)
    calls = models.PositiveSmallIntegerField(_("times called"), default=0)
    window = models.ForeignKey(
        "org.Window",
        verbose_name=_("window"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("served by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("service began"), null=True, blank=True)
    finished_at = models.DateTimeField(_("service ended"), null=True, blank=True)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=Rating.choices
    )
    rating_comment = models.TextField(_("comment on the rating"), blank=True)

    class Meta:
        ordering = ["day", "issued_at"]
        verbose_name = _("queue ticket")
        verbose_name_plural = _("queue tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "day", "number"], name="hall_ticket_unique_number"
            ),
            # One ticket at a window, and one per clerk, at a time.
            models.UniqueConstraint(
                fields=["window"],
                condition=Q(status__in=["called", "serving"]),
                name="hall_ticket_one_per_window",
            ),
            models.UniqueConstraint(
                fields=["served_by"],
                condition=Q(status__in=["called", "serving"]),
                name="hall_ticket_one_per_clerk",
            ),
        ]
        indexes = [
            models.Index(fields=["hall", "day", "status", "category"]),
            models.Index(fields=["window", "status"]),
            models.Index(fields=["status", "day"]),  # the sweep
        ]

    def __str__(self):
        return f"{self.number} ({self.day})"
