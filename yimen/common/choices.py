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
