"""Admin of users and applicants. Personal numbers are masked in lists; search is by the
full number only, so a partial number never reveals anyone."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from yimen.common.admin_audit import AuditedModelAdmin
from yimen.common.identifiers import normalize_citizen_id

from .models import Applicant, User


@admin.register(User)
class UserAdmin(AuditedModelAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "masked_phone", "is_active", "is_superuser")
    search_fields = ("username", "full_name")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "email", "phone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.masked_phone


@admin.register(Applicant)
class ApplicantAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "masked_identifier", "masked_phone", "identity_level")
    list_filter = ("kind", "identity_level")
    search_fields = ("name",)
    readonly_fields = ("public_id", "verified_at", "verified_by", "created_at")
    raw_id_fields = ("user",)

    @admin.display(description=_("ID number / credit code"))
    def masked_identifier(self, obj):
        return obj.masked_identifier

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.masked_phone

    def get_search_results(self, request, queryset, search_term):
        number = normalize_citizen_id(search_term)
        if len(number) == 18:
            return queryset.filter(id_number=number) | queryset.filter(uscc=number), False
        return super().get_search_results(request, queryset, search_term)
