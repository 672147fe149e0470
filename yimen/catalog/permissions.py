"""Who may read and change the catalogue.

Published guides are public. Catalogue admins edit, publish and archive; a catalogue admin
whose role names a department edits that department's items only, one without a department
edits them all (as does a superuser).
"""

from __future__ import annotations

from yimen.org.choices import Role
from yimen.org.roles import active_memberships


def catalogue_scope(user) -> set[int] | None:
    """The departments whose items `user` may edit: None for all, an empty set for none."""
    if getattr(user, "is_superuser", False):
        return None
    scope: set[int] = set()
    for membership in active_memberships(user):
        if membership.role != Role.CATALOGUE_ADMIN:
            continue
        if membership.department_id is None:
            return None
        scope.add(membership.department_id)
    return scope


def can_edit_catalogue(user) -> bool:
    """Whether `user` may edit any part of the catalogue (the shared library included)."""
    return catalogue_scope(user) != set()


def can_edit_department(user, department_id: int) -> bool:
    scope = catalogue_scope(user)
    return scope is None or department_id in scope


def can_edit_library(user) -> bool:
    """The material library, the field dictionary and the themes span departments: only an
    unscoped catalogue admin changes them."""
    return catalogue_scope(user) is None and getattr(user, "is_authenticated", False)
