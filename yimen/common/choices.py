"""Choices shared by every module."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where an action came from: the four carriers (门网端线) plus the back office."""

    WINDOW = "window", _("Service window")
    ONLINE = "online", _("Online hall")
    KIOSK = "kiosk", _("Self-service kiosk")
    MOBILE = "mobile", _("Mobile")
    HOTLINE = "hotline", _("12345 hotline")
    API = "api", _("Data exchange API")
    ADMIN = "admin", _("Administration")
    SYSTEM = "system", _("System")


class Rating(models.IntegerChoices):
    """好差评: the five levels of every evaluation (a case, a service at a window)."""

    VERY_GOOD = 5, _("Very satisfied")
    GOOD = 4, _("Satisfied")
    FAIR = 3, _("Fairly satisfied")
    POOR = 2, _("Dissatisfied")
    VERY_POOR = 1, _("Very dissatisfied")
