"""Stored deadline clocks. One table for every running clock in every module, so supervision
can list them all with their lights. The arithmetic lives in yimen.common.clock."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Clock(models.Model):
    """A deadline: started at a moment, a limit in working days, natural days or hours,
    paused and extended; due_at is stored (recomputed on every change), the light derived."""

    class Unit(models.TextChoices):
        WORKDAYS = "workdays", _("working days")
        DAYS = "days", _("natural days")
        HOURS = "hours", _("hours")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    purpose = models.CharField(
        _("purpose"), max_length=64, help_text=_("What the clock measures, e.g. case.decision.")
    )
    subject_type = models.ForeignKey(
        ContentType, verbose_name=_("subject type"), on_delete=models.PROTECT, null=True, blank=True
    )
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    limit = models.PositiveIntegerField(_("limit"))
    started_at = models.DateTimeField(_("started at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    calendar_confirmed = models.BooleanField(
        _("calendar confirmed"),
        default=True,
        help_text=_("False when the deadline falls in a year the calendar does not know."),
    )

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["purpose", "started_at"]),  # statistics of one kind of deadline
            models.Index(fields=["status", "stopped_at"]),  # the hotline sweep's late stops
        ]

    def __str__(self):
        return f"{self.purpose} {self.limit} {self.get_unit_display()}"


class ClockPause(models.Model):
    """A period during which the clock does not run (特别程序, 补正, consultation…)."""

    clock = models.ForeignKey(
        Clock, verbose_name=_("clock"), on_delete=models.CASCADE, related_name="pauses"
    )
    kind = models.CharField(_("kind"), max_length=32)
    reason = models.TextField(_("reason"))
    started_at = models.DateTimeField(_("paused at"))
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        verbose_name = _("clock pause")
        verbose_name_plural = _("clock pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["clock"],
                condition=models.Q(ended_at__isnull=True),
                name="common_clockpause_one_open_pause",
            )
        ]

    def __str__(self):
        return f"{self.kind}: {self.started_at:%Y-%m-%d} → {self.ended_at or '…'}"


class ClockExtension(models.Model):
    """An approved extension (延期): extra units of the clock's own unit."""

    clock = models.ForeignKey(
        Clock, verbose_name=_("clock"), on_delete=models.CASCADE, related_name="extensions"
    )
    amount = models.PositiveIntegerField(_("amount"))
    reason = models.TextField(_("reason"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"))

    class Meta:
        ordering = ["approved_at", "pk"]
        verbose_name = _("clock extension")
        verbose_name_plural = _("clock extensions")

    def __str__(self):
        return f"+{self.amount} {self.clock.get_unit_display()}"
