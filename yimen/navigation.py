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
from yimen.hall.permissions import reads_statistics
from yimen.hotline import permissions as hotline
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


def _uses_workbench(user) -> bool:
    """Staff, and accounts without an applicant profile (applicants have my space)."""
    return _signed_in(user) and (is_staff_member(user) or not _has_applicant_profile(user))


ENTRIES = [
    NavEntry(_("Service guide"), "catalog:index", lambda user: True),
    NavEntry(_("My workbench"), "accounts:home", _uses_workbench),
    NavEntry(_("My space"), "space:home", _has_applicant_profile),
    NavEntry(_("My cases"), "cases:mine", _has_applicant_profile),
    NavEntry(_("My theme applications"), "joint:mine", _has_applicant_profile),
    NavEntry(_("My appointments"), "hall:appointments", _has_applicant_profile),
    NavEntry(_("My 12345 orders"), "hotline:mine", _has_applicant_profile),
    NavEntry(_("Ask or report to 12345"), "hotline:report", _has_applicant_profile),
    NavEntry(_("Progress query"), "cases:progress", lambda user: True),
    NavEntry(_("Verify a licence"), "licences:verify", lambda user: True),
    NavEntry(_("Licence lists"), "licence_lists:index", lambda user: True),
    NavEntry(_("Applicant lookup"), "accounts:applicant_lookup", can_look_up_applicants),
    NavEntry(_("Window desk"), "desk:desk", lambda user: has_role(user, Role.WINDOW_CLERK)),
    NavEntry(
        _("Theme applications"),
        "joint_desk:queue",
        lambda user: has_role(user, Role.WINDOW_CLERK),
    ),
    NavEntry(
        _("Review inbox"),
        "desk:inbox",
        lambda user: has_role(user, Role.REVIEWER, Role.DEPARTMENT_HEAD),
    ),
    NavEntry(_("All cases"), "desk:all", lambda user: has_role(user, Role.SUPERVISOR)),
    NavEntry(_("Hall statistics"), "window:stats", reads_statistics),
    NavEntry(_("12345 intake"), "hotline:console", hotline.may_register),
    NavEntry(_("12345 unit inbox"), "hotline:unit", hotline.is_handler),
    NavEntry(_("Work orders"), "hotline:orders", hotline.is_supervisor),
    NavEntry(_("Hotline statistics"), "hotline:stats", hotline.may_see_statistics),
    NavEntry(_("Knowledge base"), "hotline:knowledge", hotline.may_search),
    NavEntry(_("Knowledge review"), "hotline:review", hotline.is_knowledge_reviewer),
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
