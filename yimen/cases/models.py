"""Cases (办件): one application for one item, pinned to the guide version it was applied
under, with its materials, its clocks, its documents and the commitment of a tolerated
acceptance. Every change goes through yimen.cases.services; the audit chain holds the
history (who, when, channel, from-state, to-state, reason)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yimen.common.choices import Channel, Rating

from .choices import CaseStatus, DeliveryMethod, DocumentKind, MaterialState


class CaseCounter(models.Model):
    """The last case number given in a region on a day (numbers are gap-free per day)."""

    region_prefix = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "day"], name="cases_counter_unique")
        ]

    def __str__(self):
        return f"{self.region_prefix}-{self.day:%Y%m%d}: {self.last}"


class Case(models.Model):
    """One application for one service item."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("case number"), max_length=32, unique=True)
    item_version = models.ForeignKey(
        "catalog.ItemVersion",
        verbose_name=_("guide version"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    # Copied from the pinned guide, so lists filter without joining through the catalogue.
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    window_category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    region = models.ForeignKey(
        "org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="cases"
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices)
    review_step = models.PositiveSmallIntegerField(
        _("review step"), null=True, blank=True, help_text=_("Index in the guide's review chain.")
    )
    form_data = models.JSONField(_("form"), default=dict, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    received_at = models.DateTimeField(_("materials received at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deemed_accepted = models.BooleanField(_("deemed accepted"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    granted = models.BooleanField(
        _("granted"), null=True, blank=True, help_text=_("Empty until the decision.")
    )
    decision_reason = models.TextField(_("reasons of the decision"), blank=True)
    fee_amount = models.DecimalField(
        _("fee charged (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    fee_paid_at = models.DateTimeField(_("fee paid at"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivery"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason for closing"), blank=True)
    ticket = models.ForeignKey(
        "hall.Ticket",
        verbose_name=_("queue ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        help_text=_("The ticket the applicant was served on at the window."),
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=Rating.choices
    )
    rating_comment = models.TextField(_("comment on the rating"), blank=True)
    joint = models.ForeignKey(
        "joint.JointCase",
        verbose_name=_("joint application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text=_("The theme application whose acceptance opened this case."),
    )

    acceptance_clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delivery_clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # A double submit with one key yields one case.
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="cases_case_unique_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["window_category", "status"]),
            models.Index(fields=["applicant", "status"]),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("cases:case", args=[self.number])


class CaseMaterial(models.Model):
    """A material of a case: a file uploaded or an original seen, checked against one material
    of the pinned guide (or an extra the clerk took in)."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="materials"
    )
    material = models.ForeignKey(
        "catalog.Material",
        verbose_name=_("material of the guide"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=16, choices=MaterialState.choices)
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    original_seen = models.BooleanField(_("original seen"), default=False)
    licence = models.ForeignKey(
        "licences.Licence",
        verbose_name=_("satisfied by the e-licence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("零提交: a valid licence of the applicant stands for the material."),
    )
    reused_from = models.ForeignKey(
        "self",
        verbose_name=_("reused from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The file of an earlier case of the applicant, picked again."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    supply_by = models.DateField(_("to be supplied by"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["case", "material__order", "pk"]
        verbose_name = _("case material")
        verbose_name_plural = _("case materials")

    def __str__(self):
        return self.material.display_name if self.material else self.file_name


class CaseDocument(models.Model):
    """One of the 11 documents, as the data it states; the PDF is drawn from `content`, and
    `digest` (SM3 of the canonical content) lets the public verify page confirm it."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=DocumentKind.choices)
    code = models.CharField(_("verification code"), max_length=32, unique=True)
    content = models.JSONField(_("content"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["case", "issued_at", "pk"]
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")

    def __str__(self):
        return f"{self.get_kind_display()} {self.case.number}"
