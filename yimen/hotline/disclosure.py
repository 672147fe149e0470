"""What a viewer is shown of a work order's text, one rule for the pages and the API:

- the title and the content with mobile and ID numbers masked for everyone but the center
  and the caller (a title is often the content's first 30 characters);
- the reply, for the caller only once the center has accepted it;
- who took each step of the history, the caller of a confidential order named only as
  “Caller” to those who may not know them.

Who may see what at all is yimen.hotline.permissions'; this module shapes what they see."""

from __future__ import annotations

from django.utils.translation import gettext as _

from yimen.common.masking import mask_text

from . import permissions
from .choices import OrderStatus

# The caller reads the reply once the center has accepted it.
REPLY_SHOWN_TO_CALLER = frozenset({OrderStatus.CALLBACK, OrderStatus.CLOSED})


def unmasked(user, order) -> bool:
    """Whether the user reads the order's text as it was written (the phone rule: the center
    calls back, the caller knows their own number)."""
    return permissions.sees_full_phone(user, order)


def title(user, order) -> str:
    return order.title if unmasked(user, order) else mask_text(order.title)


def content(user, order) -> str:
    return order.content if unmasked(user, order) else mask_text(order.content)


def reply_shown(user, order, *, internal: bool | None = None) -> bool:
    """Whether the user may read the order's reply now: staff always, the caller once the
    center accepted it. `internal`: permissions.sees_internal, when already known."""
    if internal is None:
        internal = permissions.sees_internal(user, order)
    return internal or order.status in REPLY_SHOWN_TO_CALLER


def event_actor(event, order, *, shows_caller: bool) -> str:
    """Who took the step of an audit event: "" for the system, “Caller” for a caller the
    viewer may not know (permissions.may_see_caller), else the name recorded."""
    if event.actor_id is None:
        return ""
    if event.actor_id == order.caller_user_id and not shows_caller:
        return _("Caller")
    return event.actor_label or str(event.actor)
