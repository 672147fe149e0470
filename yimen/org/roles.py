"""Which scope each role needs, and what a user may do because of the roles they hold.

This is the one place that answers "does this user hold role R (here)?"; the other apps'
permission modules build on it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import Role

# Roles that act for one department: they must name it.
DEPARTMENT_ROLES = frozenset(
    {Role.REVIEWER, Role.DEPARTMENT_HEAD, Role.UNIT_HANDLER, Role.DISCLOSURE_OFFICER}
)
# Roles that work in a hall: they must name it.
HALL_ROLES = frozenset({Role.WINDOW_CLERK})


# Roles that may be limited to a region.
REGION_ROLES = frozenset({Role.SUPERVISOR})


def scope_errors(*, role, department, hall, window, region=None) -> dict[str, str]:
    """Field errors for a membership whose scope does not fit its role ({} when it fits)."""
    errors = {}
    if role in DEPARTMENT_ROLES and department is None:
        errors["department"] = _("This role acts for a department: choose one.")
    if role in HALL_ROLES and hall is None:
        errors["hall"] = _("A window clerk works in a hall: choose one.")
    if role not in HALL_ROLES and (hall is not None or window is not None):
        errors["hall"] = _("Only window clerks are assigned to a hall.")
    if region is not None and role not in REGION_ROLES:
        errors["region"] = _("Only supervisors are limited to a region.")
    if window is not None and hall is not None and window.hall_id != hall.pk:
        errors["window"] = _("The window is not in the chosen hall.")
    return errors


def active_memberships(user):
    """The user's active memberships, fetched once per user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_yimen_memberships", None)
    if cached is None:
        cached = list(
            user.memberships.filter(is_active=True)
            .select_related("department", "hall", "window", "region")
            .prefetch_related("categories", "window__categories")
        )
        user._yimen_memberships = cached
    return cached


def roles_of(user) -> set[str]:
    return {m.role for m in active_memberships(user)}


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user) -> bool:
    """Anyone who holds at least one active role (or a Django superuser)."""
    return bool(getattr(user, "is_superuser", False) or active_memberships(user))


def is_system_admin(user) -> bool:
    return bool(getattr(user, "is_superuser", False) or has_role(user, Role.SYSTEM_ADMIN))


def departments_for(user, *roles: str) -> set[int]:
    """Ids of the departments in which the user holds one of the roles."""
    return {
        m.department_id
        for m in active_memberships(user)
        if m.role in roles and m.department_id is not None
    }


def window_categories_for(user) -> set[int]:
    """Ids of the window categories a clerk may accept: the membership's own list, else
    the categories its window serves, else every category served in its hall."""
    ids: set[int] = set()
    for m in active_memberships(user):
        if m.role != Role.WINDOW_CLERK:
            continue
        own = {c.pk for c in m.categories.all()}
        if not own and m.window is not None:
            own = {c.pk for c in m.window.categories.all()}
        if not own and m.hall is not None:
            from .models import WindowCategory

            own = set(
                WindowCategory.objects.filter(windows__hall=m.hall).values_list("pk", flat=True)
            )
        ids |= own
    return ids
