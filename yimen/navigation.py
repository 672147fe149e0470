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
from yimen.org.roles import is_staff_member


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url_name: str
    shown_to: Callable[[object], bool]


def _signed_in(user) -> bool:
    return user.is_authenticated


ENTRIES = [
    NavEntry(_("Service guide"), "catalog:index", lambda user: True),
    NavEntry(_("My workbench"), "accounts:home", _signed_in),
    NavEntry(_("Applicant lookup"), "accounts:applicant_lookup", can_look_up_applicants),
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
