"""Admin of the common app: the calendar, the clocks and the audit chain."""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import RoleAdmin, ViewOnlyAdmin
from yimen.org.choices import Role

from . import admin_audit  # noqa: F401  (registers the audit event admin)
from .admin_audit import AuditedModelAdmin
from .clocks import clock_state, recompute_unconfirmed
from .models import CalendarDay, CalendarYear, Clock, ClockExtension, ClockPause
from .workdays import invalidate as invalidate_calendar


def _calendar_changed() -> None:
    """Drop the cached calendar now (this request) and at commit (other threads)."""
    invalidate_calendar()
    transaction.on_commit(invalidate_calendar)


class CalendarEditAdmin(RoleAdmin, AuditedModelAdmin):
    """Audited edits of the calendar tables that keep the in-process calendar fresh; system
    admins keep the calendar."""

    admin_roles = (Role.SYSTEM_ADMIN,)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _calendar_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _calendar_changed()


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarEditAdmin):
    """A year listed here is known: its dates count as 「日历已确认」."""

    list_display = ("year", "source", "notice", "imported_at", "imported_by")
    list_filter = ("source",)
    search_fields = ("year", "notice")
    readonly_fields = ("imported_at", "imported_by")

    def save_model(self, request, obj, form, change):
        obj.imported_by = request.user
        super().save_model(request, obj, form, change)
        # Deadlines computed on the weekends-only guess may now be confirmed.
        recompute_unconfirmed()


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(date__year=self.value())
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarEditAdmin):
    """The dates that break the weekday rule: holidays (休) and make-up working days (班)."""

    list_display = ("date", "weekday", "kind", "name")
    list_filter = ("kind", YearFilter)
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return obj.date.strftime("%a")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClockPauseInline(ReadOnlyInline):
    model = ClockPause
    fields = readonly_fields = ("kind", "reason", "started_at", "ended_at")


class ClockExtensionInline(ReadOnlyInline):
    model = ClockExtension
    fields = readonly_fields = ("amount", "reason", "approved_by", "approved_at")


@admin.register(Clock)
class ClockAdmin(ViewOnlyAdmin):
    """Clocks change only through their owning module's services; here they are shown."""

    list_display = (
        "purpose",
        "subject",
        "unit",
        "limit",
        "started_at",
        "due_at",
        "status",
        "light",
        "calendar_confirmed",
    )
    list_filter = ("status", "unit", "calendar_confirmed", "purpose")
    search_fields = ("purpose", "subject_id")
    date_hierarchy = "started_at"
    inlines = (ClockPauseInline, ClockExtensionInline)
    list_select_related = ("subject_type",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("pauses", "extensions")

    @admin.display(description=_("subject"))
    def subject(self, obj):
        if obj.subject_type is None:
            return "—"
        return f"{obj.subject_type.name} {obj.subject_id}"

    @admin.display(description=_("light"))
    def light(self, obj):
        return clock_state(obj).light.label
