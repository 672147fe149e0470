"""The navigation bar: one list of entries, each shown to the users it is for.

A module adds its pages here, with the predicate from its own permissions module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yimen.accounts.permissions import can_look_up_applicants
from yimen.admin_site import can_use_admin_site
from yimen.org.choices import Role
from yimen.org.roles import has_role, is_staff_member


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url_name: str
    shown_to: Callable[[object], bool]


def _signed_in(user) -> bool:
    return user.is_authenticated


def _has_applicant_profile(user) -> bool:
    return user.is_authenticated and hasattr(user, "applicant")


ENTRIES = [
    NavEntry(_("Service guide"), "catalog:index", lambda user: True),
    NavEntry(_("My workbench"), "accounts:home", _signed_in),
    NavEntry(_("My cases"), "cases:mine", _has_applicant_profile),
    NavEntry(_("Progress query"), "cases:progress", lambda user: True),
    NavEntry(_("Applicant lookup"), "accounts:applicant_lookup", can_look_up_applicants),
    NavEntry(_("Window desk"), "desk:desk", lambda user: has_role(user, Role.WINDOW_CLERK)),
    NavEntry(
        _("Review inbox"),
        "desk:inbox",
        lambda user: has_role(user, Role.REVIEWER, Role.DEPARTMENT_HEAD),
    ),
    NavEntry(_("All cases"), "desk:all", lambda user: has_role(user, Role.SUPERVISOR)),
    NavEntry(_("API documentation"), "api-docs", is_staff_member),
    NavEntry(_("Administration"), "admin:index", can_use_admin_site),
]


def entries_for(user, current_path: str) -> list[dict]:
    items = []
    for entry in ENTRIES:
        if entry.shown_to(user):
            url = reverse(entry.url_name)
            items.append({"label": entry.label, "url": url, "active": current_path == url})
    return items
