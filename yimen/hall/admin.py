"""Admin of the hall, for system admins.

- Appointment quotas (how many appointments a hall takes per category and half-day) are
  kept here, only for the categories the hall's active windows serve; every add, change
  and delete is audited (AuditedModelAdmin).
- Appointments and queue tickets are read-only lists: they change only through the
  services (booked, checked in, called, served, each step checked and audited), never here.
  The applicant's ID number is masked.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import RoleAdmin, ViewOnlyAdmin
from yimen.common.admin_audit import AuditedModelAdmin
from yimen.org.choices import Role

from . import selectors
from .models import Appointment, AppointmentQuota, Ticket


def _minutes(start, end) -> str:
    if not (start and end):
        return "—"
    return f"{(end - start).total_seconds() / 60:.0f}"


class AppointmentQuotaForm(forms.ModelForm):
    """A quota only for a category that an active window of the hall serves: applicants
    could book it, and nobody would call them."""

    class Meta:
        model = AppointmentQuota
        fields = ("hall", "category", "period", "capacity")

    def clean(self):
        data = super().clean()
        hall, category = data.get("hall"), data.get("category")
        if (
            hall
            and category
            and not selectors.served_categories(hall).filter(pk=category.pk).exists()
        ):
            self.add_error("category", _("No window of this hall serves this category."))
        return data


@admin.register(AppointmentQuota)
class AppointmentQuotaAdmin(RoleAdmin, AuditedModelAdmin):
    admin_roles = (Role.SYSTEM_ADMIN,)

    form = AppointmentQuotaForm

    fields = ("hall", "category", "period", "capacity")
    list_display = ("hall", "category", "period", "capacity")
    list_editable = ("capacity",)  # saved through save_model: each row audited
    list_filter = (("hall", admin.RelatedOnlyFieldListFilter), "category", "period")
    search_fields = ("hall__name", "category__name")
    autocomplete_fields = ("hall",)
    list_select_related = ("hall", "category")

    def get_readonly_fields(self, request, obj=None):
        # A quota belongs to its hall, category and period: another one is another row.
        return ("hall", "category", "period") if obj is not None else ()


class _ReadOnlyAdmin(ViewOnlyAdmin):
    """Appointments and tickets: shown with the applicant masked."""

    @admin.display(description=_("applicant"))
    def applicant_masked(self, obj):
        applicant = obj.applicant
        if applicant is None:
            return "—"
        return f"{applicant.name} ({applicant.masked_identifier})"


@admin.register(Appointment)
class AppointmentAdmin(_ReadOnlyAdmin):
    list_display = (
        "code",
        "day",
        "period",
        "hall",
        "category",
        "applicant_masked",
        "status",
        "channel",
        "created_at",
    )
    list_filter = (
        ("hall", admin.RelatedOnlyFieldListFilter),
        "day",
        "period",
        "status",
        "category",
        "channel",
    )
    search_fields = ("=code",)
    date_hierarchy = "day"
    ordering = ("-day", "-period", "-created_at")  # the newest first
    list_select_related = ("hall", "category", "applicant")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "public_id",
                    "hall",
                    "category",
                    "item",
                    "day",
                    "period",
                    "status",
                    "applicant_masked",
                    "booked_by",
                    "channel",
                    "created_at",
                    "cancel_reason",
                    "ticket_number",
                )
            },
        ),
    )

    @admin.display(description=_("queue ticket"))
    def ticket_number(self, obj):
        ticket = Ticket.objects.filter(appointment=obj).only("number").first()
        return ticket.number if ticket else "—"


@admin.register(Ticket)
class TicketAdmin(_ReadOnlyAdmin):
    list_display = (
        "number",
        "day",
        "hall",
        "category",
        "status",
        "is_priority",
        "window_number",
        "served_by",
        "issued",
        "wait",
        "service",
        "rating",
    )
    list_filter = (
        ("hall", admin.RelatedOnlyFieldListFilter),
        "day",
        "status",
        "category",
        "is_priority",
        "channel",
        "rating",
    )
    search_fields = ("=number", "=appointment__code")
    date_hierarchy = "day"
    ordering = ("-day", "-issued_at")  # the newest first
    list_select_related = ("hall", "category", "window", "served_by")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "public_id",
                    "hall",
                    "day",
                    "category",
                    "status",
                    "is_priority",
                    "applicant_masked",
                    "appointment",
                    "channel",
                    "transfers",
                )
            },
        ),
        (
            _("Times"),
            {
                "fields": (
                    "issued_at",
                    "called_at",
                    "last_called_at",
                    "calls",
                    "window",
                    "served_by",
                    "started_at",
                    "finished_at",
                )
            },
        ),
        (_("Rating"), {"fields": ("rating", "rating_comment")}),
    )

    @admin.display(description=_("window"), ordering="window__number")
    def window_number(self, obj):
        return obj.window.number if obj.window else "—"

    @admin.display(description=_("taken at"), ordering="issued_at")
    def issued(self, obj):
        return timezone.localtime(obj.issued_at).strftime("%H:%M")

    @admin.display(description=_("wait (min)"))
    def wait(self, obj):
        return _minutes(obj.issued_at, obj.called_at)

    @admin.display(description=_("service (min)"))
    def service(self, obj):
        return _minutes(obj.started_at, obj.finished_at)
