"""Choices of the organisation app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    TOWN = 3, _("Town / street")
    VILLAGE = 4, _("Village / community")


class Role(models.TextChoices):
    """The staff roles. One user may hold several, each in its own scope."""

    WINDOW_CLERK = "window_clerk", _("Window clerk")
    REVIEWER = "reviewer", _("Reviewer")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    HOTLINE_AGENT = "hotline_agent", _("Hotline agent")
    UNIT_HANDLER = "unit_handler", _("Unit handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    CATALOGUE_ADMIN = "catalogue_admin", _("Catalogue admin")
    DISCLOSURE_OFFICER = "disclosure_officer", _("Disclosure officer")
    SYSTEM_ADMIN = "system_admin", _("System admin")
