"""Admin of cases, for system admins: a read-only view. Cases change only through the
services (each step checked and audited), never here; the applicant's ID is masked and the
application form is left out."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import ViewOnlyAdmin

from . import selectors
from .models import Case, CaseDocument, CaseMaterial

# The light of each clock needs its pauses and extensions.
CLOCK_PREFETCHES = [
    f"{name}__{part}" for name in selectors.CLOCK_FIELDS for part in ("pauses", "extensions")
]


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class _CaseInline(admin.TabularInline):
    """A read-only list on the case page, shown to whoever may view the case."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        return self.admin_site._registry[Case].has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseMaterialInline(_CaseInline):
    model = CaseMaterial
    fields = (
        "material",
        "state",
        "file_name",
        "size",
        "sha256",
        "original_seen",
        "supply_by",
        "note",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("material__material_type")


class CaseDocumentInline(_CaseInline):
    model = CaseDocument
    fields = ("kind", "code", "issued_at", "issued_by", "digest")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issued_by")


@admin.register(Case)
class CaseAdmin(ViewOnlyAdmin):
    list_display = (
        "number",
        "item",
        "department",
        "applicant_masked",
        "status",
        "light",
        "submitted_at",
    )
    list_filter = ("status", "department", "channel")
    search_fields = ("number",)
    date_hierarchy = "submitted_at"
    list_select_related = ("item_version", "department", "applicant", *selectors.CLOCK_FIELDS)
    inlines = (CaseMaterialInline, CaseDocumentInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "public_id",
                    "item_version",
                    "department",
                    "window_category",
                    "region",
                    "applicant_masked",
                    "channel",
                    "status",
                    "review_step",
                    "clocks",
                )
            },
        ),
        (
            _("Dates"),
            {
                "fields": (
                    "submitted_at",
                    "submitted_by",
                    "received_at",
                    "accepted_at",
                    "accepted_by",
                    "deemed_accepted",
                    "decided_at",
                    "decision_reason",
                    "closed_at",
                    "close_reason",
                )
            },
        ),
        (
            _("Fee, delivery and rating"),
            {
                "fields": (
                    "fee_amount",
                    "fee_paid_at",
                    "delivery_method",
                    "tracking_number",
                    "delivered_at",
                    "rating",
                    "rating_comment",
                )
            },
        ),
    )

    def get_queryset(self, request):
        # No select_related here: the list would then ignore list_select_related.
        return super().get_queryset(request).prefetch_related(*CLOCK_PREFETCHES)

    @admin.display(description=_("item"), ordering="item_version__name")
    def item(self, obj):
        return obj.item_version.name

    @admin.display(description=_("applicant"))
    def applicant_masked(self, obj):
        return f"{obj.applicant.name} ({obj.applicant.masked_identifier})"

    @admin.display(description=_("light"))
    def light(self, obj):
        state = selectors.running_state(obj)
        return state.light.label if state else "—"

    @admin.display(description=_("clocks"))
    def clocks(self, obj):
        lines = [
            _("%(clock)s: %(light)s, due %(due)s")
            % {"clock": row.label, "light": row.state.light.label, "due": _moment(row.state.due_at)}
            for row in selectors.clock_rows(obj)
        ]
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or "—"
