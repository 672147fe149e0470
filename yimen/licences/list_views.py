"""The three lists (三张清单) as public pages, one tab each, and as xlsx workbooks for the
admins who keep them (system admins and catalogue admins; anyone else gets a 403).

- 发证清单 `/lists/` — which items issue which licences;
- 用证清单 `/lists/accepting/` — which materials each licence stands for, and the items that
  ask for them (and so accept the licence instead);
- 系统清单 `/lists/systems/` — the issuing departments, whether they can sign, and how many
  of their licences are in force.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yimen.org.choices import Role
from yimen.org.roles import has_role, is_system_admin

from . import lists

TITLES = {
    "issuing": _("Issuing list"),
    "accepting": _("Accepting list"),
    "systems": _("Issuing systems"),
}
READERS = {
    "issuing": lists.issuing_list,
    "accepting": lists.accepting_list,
    "systems": lists.systems_list,
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def can_export_lists(user) -> bool:
    """The admins who keep the licence catalogue take the lists away as workbooks."""
    return is_system_admin(user) or has_role(user, Role.CATALOGUE_ADMIN)


def _tab_url(which: str) -> str:
    if which == "issuing":
        return reverse("licence_lists:index")
    return reverse("licence_lists:list", args=[which])


@require_GET
def licence_list(request, which: str = "issuing"):
    if which not in lists.LISTS:
        raise Http404
    tabs = [
        {"label": TITLES[name], "url": _tab_url(name), "active": name == which}
        for name in lists.LISTS
    ]
    context = {
        "which": which,
        "title": TITLES[which],
        "tabs": tabs,
        "rows": READERS[which](),
        "can_export": can_export_lists(request.user),
    }
    return render(request, f"licences/lists_{which}.html", context)


@require_GET
@login_required
def export(request, which: str):
    if which not in lists.LISTS:
        raise Http404
    if not can_export_lists(request.user):
        raise PermissionDenied
    response = HttpResponse(lists.workbook(which), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="licence-{which}-list.xlsx"'
    return response
