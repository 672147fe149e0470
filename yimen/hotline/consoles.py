"""The hotline's tab bar: every page of the module that a user may use, in one list, so each
page shows the same tabs (the agent's intake, the queues, the orders, the statistics and the
knowledge base)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import permissions


def writes_articles(user) -> bool:
    return permissions.is_agent(user) or permissions.is_knowledge_reviewer(user)


TABS = [
    (_("Intake"), "hotline:console", permissions.may_register),
    (_("Center queues"), "hotline:center", permissions.is_agent),
    (_("Unit inbox"), "hotline:unit", permissions.is_handler),
    (_("Work orders"), "hotline:orders", permissions.sees_order_list),
    (_("Statistics"), "hotline:stats", permissions.may_see_statistics),
    (_("Knowledge search"), "hotline:knowledge", permissions.may_search),
    (_("My drafts"), "hotline:drafts", writes_articles),
    (_("New article"), "hotline:create", writes_articles),
    (_("Review queue"), "hotline:review", permissions.is_knowledge_reviewer),
]


def require(allowed, user) -> None:
    if not allowed(user):
        raise PermissionDenied


def render_console(request, template, context, *, status=200):
    """Render a hotline page with the tabs of the pages the user may use."""
    tabs = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, allowed in TABS
        if allowed(request.user)
    ]
    return render(request, template, {"consoles": tabs, **context}, status=status)
