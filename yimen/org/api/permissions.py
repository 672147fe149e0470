"""Who may use the organisation API: every staff member reads the structure, only system
administrators change it. Applicants hold no membership and get nothing."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import is_staff_member, is_system_admin


class StaffReadsAdminWrites(BasePermission):
    message = _(
        "Only staff may read the organisation, and only system administrators may change it."
    )

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and is_staff_member(user)):
            return False
        return request.method in SAFE_METHODS or is_system_admin(user)
