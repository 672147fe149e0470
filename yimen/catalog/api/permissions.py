"""Who may use the catalogue API: everyone reads the guides in force, catalogue admins work on
the versions of the departments in their scope (yimen.catalog.permissions decides which)."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from ..permissions import can_edit_catalogue, catalogue_scope


class CatalogueAdmin(BasePermission):
    message = _("Only catalogue admins may work on the catalogue's versions.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and can_edit_catalogue(user))


def editable(versions: QuerySet, user) -> QuerySet:
    """The versions among `versions` whose department `user` may edit; the others stay
    invisible, so another department's version is a 404 rather than a 403."""
    scope = catalogue_scope(user)
    return versions if scope is None else versions.filter(item__department__in=scope)
