"""Who may call which endpoint of the licences API.

- A department system, with its data-sharing token (yimen.licences.tokens): the holders'
  licences of its own department's types. Nothing else reads a token, and a token reads
  nothing else.
- System admins and the heads of a licence's issuing department: revoking and replacing it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from yimen.org.choices import Role
from yimen.org.roles import departments_for, is_system_admin

from ..models import AccessToken, Licence


class HasDepartmentToken(BasePermission):
    """The request carries a valid, unrevoked data-sharing token."""

    message = _("A department system's valid data-sharing token is needed.")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, AccessToken)


class MayManageLicences(BasePermission):
    """A system admin, or the head of a department (of some licences: which ones is
    `manageable_licences`)."""

    message = _("Only system administrators and heads of the issuing department do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return is_system_admin(user) or bool(departments_for(user, Role.DEPARTMENT_HEAD))


def manageable_licences(user) -> QuerySet[Licence]:
    """The licences `user` may revoke or replace: every one for a system admin, those their
    department issued for its heads, none for anyone else."""
    licences = Licence.objects.select_related("licence_type", "issuer", "holder")
    if is_system_admin(user):
        return licences
    return licences.filter(issuer__in=departments_for(user, Role.DEPARTMENT_HEAD))
