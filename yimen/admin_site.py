"""The admin site, opened by role: staff whose roles administer something (system admins,
catalogue admins) get in without Django's `is_staff` flag, and each ModelAdmin says which
roles may use it (RoleAdmin). Superusers keep every right."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.utils import flatten_fieldsets

from yimen.org.choices import Role
from yimen.org.roles import has_role

# The roles whose work is done (partly) in the admin.
ADMIN_SITE_ROLES = (Role.SYSTEM_ADMIN, Role.CATALOGUE_ADMIN)


def can_use_admin_site(user) -> bool:
    return bool(
        user.is_active and (user.is_staff or user.is_superuser or has_role(user, *ADMIN_SITE_ROLES))
    )


class YimenAdminSite(admin.AdminSite):
    site_header = site_title = "一门 Yimen"

    def has_permission(self, request):
        return can_use_admin_site(request.user)


class YimenAdminConfig(AdminConfig):
    default_site = "yimen.admin_site.YimenAdminSite"


class RoleAdmin:
    """A ModelAdmin mixin: the holders of `admin_roles` may view, add, change and delete
    (each still subject to the ModelAdmin's own narrower rules), the holders of `view_roles`
    may look (and pick rows in other admins' autocomplete fields), instead of Django's
    per-model permissions."""

    admin_roles: tuple[str, ...] = ()
    view_roles: tuple[str, ...] = ()

    def _holds(self, request, roles) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or has_role(user, *roles)))

    def has_role_access(self, request) -> bool:
        return self._holds(request, self.admin_roles)

    def has_module_permission(self, request):
        return self._holds(request, (*self.admin_roles, *self.view_roles))

    def has_view_permission(self, request, obj=None):
        return self._holds(request, (*self.admin_roles, *self.view_roles))

    def has_add_permission(self, request, *args):
        return self.has_role_access(request)

    def has_change_permission(self, request, obj=None):
        return self.has_role_access(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_role_access(request)


class ViewOnlyAdmin(RoleAdmin, admin.ModelAdmin):
    """Rows that change only through their module's services: system admins look (every
    field of the fieldsets, else of the model, read-only); nobody adds, changes or deletes."""

    view_roles: tuple[str, ...] = (Role.SYSTEM_ADMIN,)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if self.fieldsets:
            return flatten_fieldsets(self.fieldsets)
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def reason_page(
    modeladmin,
    request,
    *,
    rows,
    form,
    action: str,
    title,
    explanation,
    button,
    return_url: str = "",
):
    """The page an admin action shows to ask for its reason (or note) before it is taken on
    the selected rows (`rows`: (pk, label) pairs)."""
    from django.contrib.admin import helpers
    from django.template.response import TemplateResponse

    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "button": button,
        "opts": modeladmin.opts,
        "rows": rows,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "return_url": return_url,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/action_with_reason.html", context)
