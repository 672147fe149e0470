"""Users and applicants."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from yimen.common.identifiers import validate_citizen_id, validate_mobile, validate_uscc
from yimen.common.masking import mask_citizen_id, mask_phone

from .choices import ApplicantKind, IdentityLevel


class User(AbstractUser):
    """A login: staff or applicant. Chinese names are not split into first and last."""

    first_name = None
    last_name = None
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_mobile])

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or self.username

    def get_short_name(self):
        return self.full_name or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Applicant(models.Model):
    """Someone who applies: a natural person (自然人) or a legal person (法人).

    A walk-in applicant registered at a window may have no login; an online applicant has one.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ApplicantKind.choices)
    name = models.CharField(_("name"), max_length=100)
    id_number = models.CharField(
        _("citizen ID number"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_citizen_id],
    )
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_uscc],
    )
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_mobile])
    identity_level = models.PositiveSmallIntegerField(
        _("identity level"), choices=IdentityLevel.choices, default=IdentityLevel.REGISTERED
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applicant",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [
            models.CheckConstraint(
                name="accounts_applicant_identifier_fits_kind",
                condition=(
                    models.Q(kind=ApplicantKind.PERSON, id_number__isnull=False, uscc__isnull=True)
                    | models.Q(
                        kind=ApplicantKind.ENTERPRISE, uscc__isnull=False, id_number__isnull=True
                    )
                ),
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.masked_identifier})"

    def clean(self):
        if self.kind == ApplicantKind.PERSON:
            if not self.id_number:
                raise ValidationError({"id_number": _("A natural person needs an ID number.")})
            self.uscc = None
        elif self.kind == ApplicantKind.ENTERPRISE:
            if not self.uscc:
                raise ValidationError(
                    {"uscc": _("A legal person needs a unified social credit code.")}
                )
            self.id_number = None

    @property
    def identifier(self) -> str:
        return self.id_number or self.uscc or ""

    @property
    def masked_identifier(self) -> str:
        # A USCC is public (it is printed on the business licence); an ID number is not.
        return mask_citizen_id(self.id_number) if self.id_number else (self.uscc or "")

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
