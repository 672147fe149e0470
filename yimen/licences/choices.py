"""Choices of the licences module (电子证照)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    REPLACED = "replaced", _("Replaced")


class Verdict(models.TextChoices):
    """What the public verification answers."""

    VALID = "valid", _("Genuine and valid")
    EXPIRED = "expired", _("Genuine, but expired")
    REVOKED = "revoked", _("Genuine, but revoked")
    REPLACED = "replaced", _("Genuine, but replaced by a newer licence")
    NOT_GENUINE = "not_genuine", _("Not genuine: the signature does not match")
    UNKNOWN = "unknown", _("No licence has this identifier")
