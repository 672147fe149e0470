"""Who submits a case through the API, for whom and through which channel. Every later step
is checked by yimen.cases.permissions (and again by its service)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from yimen.common.choices import Channel
from yimen.org.choices import Role
from yimen.org.roles import has_role, window_categories_for

from ..choices import Performer


def submitter(user, *, version, applicant, channel: str):
    """(applicant, channel) of a submission. A window clerk submits at the window for the
    applicant they name, for an item of their window categories; anyone else submits for
    themselves from the channel they say."""
    if has_role(user, Role.WINDOW_CLERK):
        if version.window_category_id not in window_categories_for(user):
            raise PermissionDenied(_("Your windows do not take this item."))
        if applicant is None:
            raise ValidationError({"applicant": _("Name the applicant you submit for.")})
        return applicant, Channel.WINDOW
    own = getattr(user, "applicant", None)
    if own is None:
        raise PermissionDenied(_("Only applicants and window clerks submit cases."))
    if applicant is not None and applicant.pk != own.pk:
        raise PermissionDenied(_("You may only apply for yourself."))
    return own, channel


def channel_for(acting: set[str]) -> str:
    """The channel a step taken through the API is recorded with, from the performers the
    user acts as: the window for a clerk, the back office for department staff, online for
    the applicant."""
    if Performer.CLERK in acting:
        return Channel.WINDOW
    if acting & {Performer.REVIEWER, Performer.HEAD}:
        return Channel.ADMIN
    return Channel.ONLINE
