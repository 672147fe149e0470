"""Who may work the queue of a hall and who may read its figures.

- window clerks of a hall call, serve and transfer its tickets, at the windows they may use
  (the window their role names, else any window of the hall);
- supervisors (within their region when their role names one), system admins and the
  hall's clerks read its statistics;
- an applicant books and cancels their own appointments; the kiosk and the board are public.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yimen.org.choices import Role
from yimen.org.models import Hall, Window
from yimen.org.roles import active_memberships, is_staff_member, is_system_admin


def _clerk_memberships(user):
    return [m for m in active_memberships(user) if m.role == Role.WINDOW_CLERK]


def clerk_halls(user) -> set[int]:
    """Ids of the halls where the user works as a window clerk."""
    return {m.hall_id for m in _clerk_memberships(user)}


def works_at_windows(user) -> bool:
    """Window clerks call tickets (the calling panel, its console tab)."""
    return bool(clerk_halls(user))


def is_clerk_of(user, hall) -> bool:
    return hall.pk in clerk_halls(user)


def usable_windows(user) -> QuerySet[Window]:
    """The active windows the clerk may sit at."""
    seen = Q(pk__in=[])
    for m in _clerk_memberships(user):
        seen |= Q(pk=m.window_id) if m.window_id else Q(hall_id=m.hall_id)
    return (
        Window.objects.filter(seen, is_active=True, hall__is_active=True)
        .select_related("hall")
        .prefetch_related("categories")
    )


def may_book_for(user, applicant, hall) -> bool:
    """Applicants book (and cancel) for themselves; a clerk of the hall for anyone, at the
    window."""
    if not (user and user.is_authenticated):
        return False
    return applicant.user_id == user.pk or hall.pk in clerk_halls(user)


def callable_categories(user, window) -> set[int]:
    """The queues the clerk may call at this window: those the window serves, narrowed by
    the categories of the memberships that seat the clerk there (none named: all)."""
    served = {c.pk for c in window.categories.all()}
    allowed: set[int] = set()
    for m in _clerk_memberships(user):
        if m.window_id == window.pk or (m.window_id is None and m.hall_id == window.hall_id):
            own = {c.pk for c in m.categories.all()}
            allowed |= (own & served) if own else served
    return allowed if window.is_active and window.hall.is_active else set()


def halls_with_statistics(user) -> QuerySet[Hall]:
    """The halls whose queue figures the user may read."""
    halls = Hall.objects.all()
    if not (user and user.is_authenticated):
        return halls.none()
    if is_system_admin(user):
        return halls
    seen = Q(pk__in=clerk_halls(user))
    for m in active_memberships(user):
        if m.role == Role.SUPERVISOR:
            if m.region_id is None:
                return halls
            seen |= Q(region__code__startswith=m.region.scope_prefix)
    return halls.filter(seen)


def reads_statistics(user) -> bool:
    """Whether the user may read the figures of at least one hall (asked once per user
    object: the navigation and the console tabs both ask)."""
    if not is_staff_member(user):
        return False
    cached = getattr(user, "_yimen_hall_statistics", None)
    if cached is None:
        cached = halls_with_statistics(user).exists()
        user._yimen_hall_statistics = cached
    return cached
