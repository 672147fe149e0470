"""Who may call the window endpoints of the hall API. Which window and which ticket a clerk
may work on is decided by yimen.hall.permissions (and checked again by the services)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from yimen.org.choices import Role
from yimen.org.roles import has_role


class IsWindowClerk(BasePermission):
    """Signed in and holding an active window-clerk role somewhere."""

    message = _("Only window clerks work the queue.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and has_role(user, Role.WINDOW_CLERK))
