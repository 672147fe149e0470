"""Template context of the page shell: the navigation and warnings for system admins."""

from django.utils import timezone

from yimen.common.workdays import missing_calendar_years
from yimen.org.roles import is_system_admin

from .navigation import entries_for


def shell(request):
    user = request.user
    context = {"nav_entries": entries_for(user, request.path)}
    if is_system_admin(user):
        context["missing_calendar_years"] = missing_calendar_years(timezone.localdate())
    return context
