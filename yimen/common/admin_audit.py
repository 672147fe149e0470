"""Admin pieces of the audit chain: a read-only event list, and a ModelAdmin base class
that records every add, change and delete made through the admin."""

from django.contrib import admin
from django.db import transaction

from yimen.admin_site import ViewOnlyAdmin

from . import audit
from .choices import Channel
from .models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """Records each add, change and delete in the audit chain, in the same transaction."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                action="admin.change" if change else "admin.add",
                obj=obj,
                actor=request.user,
                channel=Channel.ADMIN,
                payload={"fields": sorted(form.changed_data), "repr": str(obj)},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            object_type, object_id = audit.object_label(obj)
            label = str(obj)
            super().delete_model(request, obj)
            audit.record(
                action="admin.delete",
                object_type=object_type,
                object_id=object_id,
                actor=request.user,
                channel=Channel.ADMIN,
                payload={"repr": label},
            )

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    """The chain is read-only everywhere, the admin included; system admins read it."""

    list_display = (
        "id",
        "occurred_at",
        "actor_label",
        "channel",
        "object_type",
        "object_id",
        "action",
        "from_state",
        "to_state",
    )
    list_filter = ("channel", "object_type", "action")
    search_fields = ("object_id", "actor_label", "action", "reason")
    date_hierarchy = "occurred_at"
    list_select_related = ()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
