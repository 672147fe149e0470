"""Choices of the accounts app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicantKind(models.TextChoices):
    PERSON = "person", _("Natural person")
    ENTERPRISE = "enterprise", _("Legal person")


class IdentityLevel(models.IntegerChoices):
    """How sure we are of who the applicant is."""

    REGISTERED = 1, _("L1 registered")
    REAL_NAME = 2, _("L2 real-name verified")
    IN_PERSON = 3, _("L3 verified in person")
