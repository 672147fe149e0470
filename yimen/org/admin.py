"""Admin of the organisation: the structure, and who holds which role where.

Every change is audited (AuditedModelAdmin). The rules that the models cannot express on
their own (a region with sub-regions keeps its level, departments do not loop, a role is
not granted twice) come from yimen.org.services, so the admin and the API refuse the same
input. Roles are granted and revoked through the services; a membership is never deleted,
so the record of who held what stays.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yimen.admin_site import RoleAdmin
from yimen.common import audit
from yimen.common.admin_audit import AuditedModelAdmin
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors

from . import services
from .choices import Role
from .models import Department, Hall, Membership, Region, Window, WindowCategory


class OrgAdmin(RoleAdmin, AuditedModelAdmin):
    """System admins keep the structure; catalogue admins may look it up (an item names its
    department, region and window category)."""

    admin_roles = (Role.SYSTEM_ADMIN,)
    view_roles = (Role.CATALOGUE_ADMIN,)


# --- regions and departments -----------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(OrgAdmin):
    fields = services.REGION_FIELDS
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Department)
class DepartmentAdmin(OrgAdmin):
    fields = services.DEPARTMENT_FIELDS
    list_display = ("name", "short_name", "uscc", "region", "parent", "is_active")
    list_filter = ("is_active", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "short_name", "uscc")
    autocomplete_fields = ("region", "parent")
    list_select_related = ("region", "parent")


# --- window categories, halls and windows ----------------------------------------------------


@admin.register(WindowCategory)
class WindowCategoryAdmin(OrgAdmin):
    list_display = ("name", "code", "queue_prefix", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0
    fields = ("number", "categories", "is_active")
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}


@admin.register(Hall)
class HallAdmin(OrgAdmin):
    list_display = ("name", "region", "phone", "is_active")
    list_filter = ("is_active", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "address")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)
    inlines = (WindowInline,)

    def save_formset(self, request, form, formset, change):
        """The windows edited on the hall's page are audited like any other admin change."""
        # A deleted window loses its id, so note what is deleted before saving.
        deleted = [(f.instance.pk, str(f.instance)) for f in formset.deleted_forms if f.instance.pk]
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            for window in formset.new_objects:
                self._record(request, "admin.add", window.pk, str(window), ["number", "categories"])
            for window, fields in formset.changed_objects:
                self._record(request, "admin.change", window.pk, str(window), fields)
            for pk, label in deleted:
                self._record(request, "admin.delete", pk, label, [])

    @staticmethod
    def _record(request, action, pk, label, fields):
        audit.record(
            action=action,
            object_type=Window._meta.label_lower,
            object_id=str(pk),
            actor=request.user,
            channel=Channel.ADMIN,
            payload={"fields": sorted(fields), "repr": label},
        )


@admin.register(Window)
class WindowAdmin(OrgAdmin):
    list_display = ("__str__", "hall", "number", "is_active")
    list_filter = ("is_active", ("hall", admin.RelatedOnlyFieldListFilter), "categories")
    search_fields = ("number", "hall__name")
    autocomplete_fields = ("hall",)
    filter_horizontal = ("categories",)
    list_select_related = ("hall",)

    def get_readonly_fields(self, request, obj=None):
        # A window does not move between halls (see services.window_update).
        return ("hall",) if obj is not None else ()


# --- role memberships ------------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role", "department", "hall", "window", "categories", "region")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        instance = self.instance
        errors = services.membership_errors(
            user=cleaned.get("user", getattr(instance, "user", None)),
            role=cleaned.get("role", instance.role),
            department=cleaned.get("department"),
            hall=cleaned.get("hall"),
            window=cleaned.get("window"),
            categories=cleaned.get("categories") or (),
            region=cleaned.get("region"),
            exclude_pk=instance.pk,
        )
        set_service_errors(self, ValidationError(errors))
        return cleaned


@admin.register(Membership)
class MembershipAdmin(OrgAdmin):
    form = MembershipForm
    list_display = ("user", "role", "scope", "is_active", "created_at")
    list_filter = (
        "role",
        "is_active",
        ("department", admin.RelatedOnlyFieldListFilter),
        ("hall", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("user__username", "user__full_name")
    autocomplete_fields = ("user", "department", "hall", "window", "region")
    filter_horizontal = ("categories",)
    list_select_related = ("user", "department", "hall", "region")
    actions = ("revoke_selected",)

    def get_readonly_fields(self, request, obj=None):
        # Who holds which role is fixed once granted: another role is another grant.
        if obj is not None:
            return ("user", "role", "is_active", "created_at")
        return ()

    @admin.display(description=_("scope"))
    def scope(self, obj):
        return obj.department or obj.hall or obj.region or "—"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form ran membership_errors already, so the grant does not fail here.
        membership = services.membership_grant(
            user=obj.user,
            role=obj.role,
            department=obj.department,
            hall=obj.hall,
            window=obj.window,
            categories=form.cleaned_data.get("categories") or (),
            region=obj.region,
            granted_by=request.user,
            channel=Channel.ADMIN,
        )
        # The admin goes on with the object it built: make it the one the service saved.
        obj.pk, obj.created_at = membership.pk, membership.created_at
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On add, membership_grant already set the categories.

    @admin.action(description=_("Revoke the selected memberships"))
    def revoke_selected(self, request, queryset):
        revoked = 0
        for membership in queryset.filter(is_active=True):
            try:
                services.membership_revoke(
                    membership=membership,
                    revoked_by=request.user,
                    reason=str(_("Revoked in the administration")),
                    channel=Channel.ADMIN,
                )
            except ValidationError as exc:
                self.message_user(
                    request, f"{membership}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                revoked += 1
        if revoked:
            self.message_user(
                request,
                ngettext("%d membership revoked.", "%d memberships revoked.", revoked) % revoked,
                messages.SUCCESS,
            )
