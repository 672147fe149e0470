"""E-licences (电子证照): the licence catalogue (证照目录), the departments' SM2 signing keys,
and the licences issued to holders."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimen.accounts.choices import ApplicantKind

from .choices import LicenceStatus


class LicenceType(models.Model):
    """A kind of licence: who issues it, to whom, what it carries and for how long; which
    items issue it (发证清单) and which materials it stands for (用证清单)."""

    code = models.CharField(
        _("licence type code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Z]{1,32}$", _("Digits and capital letters."))],
    )
    name = models.CharField(_("name"), max_length=100)
    issuer = models.ForeignKey(
        "org.Department",
        verbose_name=_("issuing department"),
        on_delete=models.PROTECT,
        related_name="licence_types",
    )
    holder_kind = models.CharField(
        _("holder"), max_length=16, choices=ApplicantKind.choices, default=ApplicantKind.PERSON
    )
    validity_years = models.PositiveSmallIntegerField(
        _("valid for (years)"), null=True, blank=True, help_text=_("Empty: valid for good.")
    )
    fields = models.JSONField(
        _("data fields"),
        default=list,
        blank=True,
        help_text=_("Keys of the field dictionary whose values the licence carries."),
    )
    issuing_items = models.ManyToManyField(
        "catalog.ServiceItem",
        verbose_name=_("items that issue it"),
        blank=True,
        related_name="licence_types_issued",
    )
    replaces = models.ManyToManyField(
        "catalog.MaterialType",
        verbose_name=_("materials it replaces"),
        blank=True,
        related_name="licence_types",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")

    def __str__(self):
        return self.name


class SigningKey(models.Model):
    """A department's SM2 key pair. The private key never leaves the server: the admin and
    the API show the public key only."""

    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="signing_keys",
    )
    public_key = models.CharField(_("public key"), max_length=128)
    private_key = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["department", "-created_at"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(is_active=True),
                name="licences_one_active_key_per_department",
            )
        ]

    def __str__(self):
        return f"{self.department} · {self.public_key[:16]}…"


class LicenceCounter(models.Model):
    """The last serial given for a licence type by an issuer."""

    licence_type = models.ForeignKey(LicenceType, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="+")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["licence_type", "issuer"], name="licences_counter_unique"
            )
        ]

    def __str__(self):
        return f"{self.licence_type_id}/{self.issuer_id}: {self.last}"


class Licence(models.Model):
    """One licence issued to a holder, signed by its issuer's key."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    identifier = models.CharField(_("licence identifier"), max_length=96, unique=True)
    licence_type = models.ForeignKey(
        LicenceType, verbose_name=_("licence type"), on_delete=models.PROTECT, related_name="+"
    )
    holder = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("holder"),
        on_delete=models.PROTECT,
        related_name="licences",
    )
    issuer = models.ForeignKey(
        "org.Department",
        verbose_name=_("issuing department"),
        on_delete=models.PROTECT,
        related_name="licences",
    )
    serial = models.PositiveIntegerField(_("serial"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    data = models.JSONField(_("data"), default=dict, blank=True)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    status_reason = models.TextField(_("reason"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("issuing case"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licences",
    )
    previous = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered from paper by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signing_key = models.ForeignKey(
        SigningKey, verbose_name=_("signing key"), on_delete=models.PROTECT, related_name="+"
    )
    signature = models.CharField(_("SM2 signature"), max_length=128)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        indexes = [
            models.Index(fields=["holder", "status"]),
            models.Index(fields=["status", "valid_until"]),  # the daily expiry
        ]

    def __str__(self):
        return f"{self.licence_type} {self.identifier}"


class AccessToken(models.Model):
    """A department system's key to the data-sharing API: it reads the valid licences of a
    holder, for its department only. Only a hash of the token is kept; the token is shown
    once, when it is made."""

    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="access_tokens",
    )
    name = models.CharField(_("system"), max_length=100)
    prefix = models.CharField(_("first characters"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["department", "-created_at"]
        verbose_name = _("data-sharing token")
        verbose_name_plural = _("data-sharing tokens")

    def __str__(self):
        return f"{self.department} · {self.name} ({self.prefix}…)"
