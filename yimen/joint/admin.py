"""Admin of joint handling (主题式联审联办).

- Joint applications and projects are read-only for system admins: they change only
  through yimen.joint.services (each step checked and audited), never here. The applicant's
  ID is masked and the application form is left out, as on the cases' admin.
- The reduction report (`/admin/joint/jointcase/reduction/`, linked from the themes' and the
  applications' lists) shows, theme by theme and stage by stage, the form fields and
  materials the items ask separately and once merged, with the totals, and downloads as
  xlsx. Catalogue admins (who keep the themes) and system admins read it.
"""

from __future__ import annotations

import io

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import ViewOnlyAdmin
from yimen.org.choices import Role
from yimen.org.roles import has_role

from . import selectors
from .models import CorrectionRequest, JointCase, JointDocument, JointMaterial, Project

# Who reads the reduction report: those who keep the themes, and system admins.
REPORT_ROLES = (Role.CATALOGUE_ADMIN, Role.SYSTEM_ADMIN)


def reads_reduction_report(user) -> bool:
    return bool(user.is_active and (user.is_superuser or has_role(user, *REPORT_ROLES)))


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _masked(applicant) -> str:
    return f"{applicant.name} ({applicant.masked_identifier})"


class _ReadOnlyInline(admin.TabularInline):
    """A read-only list on a page of this admin, shown to whoever may view the page."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class JointMaterialInline(_ReadOnlyInline):
    model = JointMaterial
    fields = (
        "material_type",
        "file_name",
        "size",
        "sha256",
        "original_seen",
        "licence",
        "added_at",
        "added_by",
        "superseded_at",
    )
    verbose_name_plural = _("the material set (superseded rows kept)")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("material_type", "licence__licence_type", "added_by")
        )


class CorrectionRequestInline(_ReadOnlyInline):
    model = CorrectionRequest
    fields = (
        "department",
        "material_type",
        "problem",
        "asked_at",
        "asked_by",
        "notice",
        "answered_at",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("case__department", "material_type", "asked_by", "notice__joint")
        )

    @admin.display(description=_("asked by the department"))
    def department(self, obj):
        return obj.case.department.name if obj.case_id else _("the window, before acceptance")


class JointDocumentInline(_ReadOnlyInline):
    model = JointDocument
    fields = ("kind", "code", "issued_at", "issued_by", "digest")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issued_by")


@admin.register(JointCase)
class JointCaseAdmin(ViewOnlyAdmin):
    list_display = (
        "number",
        "theme",
        "stage",
        "applicant_masked",
        "status",
        "channel",
        "submitted_at",
    )
    list_filter = ("status", "theme", "channel", "window_category")
    search_fields = ("=number", "=project__code")
    date_hierarchy = "submitted_at"
    list_select_related = ("theme", "stage", "applicant")
    inlines = (JointMaterialInline, CorrectionRequestInline, JointDocumentInline)
    change_list_template = "admin/joint/jointcase/change_list.html"  # + the report's link
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "public_id",
                    "theme",
                    "stage",
                    "project",
                    "applicant_masked",
                    "channel",
                    "status",
                    "window_category",
                    "region",
                    "answers_display",
                    "cases_display",
                )
            },
        ),
        (
            _("Dates"),
            {
                "fields": (
                    "submitted_at",
                    "submitted_by",
                    "accepted_at",
                    "accepted_by",
                    "decided_at",
                    "issued_at",
                    "closed_at",
                    "close_reason",
                )
            },
        ),
        (
            _("Delivery and rating"),
            {
                "fields": (
                    "delivery_method",
                    "tracking_number",
                    "delivered_at",
                    "rating",
                    "rating_comment",
                )
            },
        ),
    )

    @admin.display(description=_("applicant"))
    def applicant_masked(self, obj):
        return _masked(obj.applicant)

    @admin.display(description=_("scenario answers"))
    def answers_display(self, obj):
        rows = (
            (row.get("question", ""), "、".join(row.get("answers", ())))
            for row in obj.answers or ()
        )
        return format_html_join("", "<div>{}: {}</div>", rows) or "—"

    @admin.display(description=_("cases of the departments"))
    def cases_display(self, obj):
        children = obj.cases.select_related("department", "item_version").order_by("pk")
        rows = (
            (
                reverse("admin:cases_case_change", args=[child.pk]),
                child.number,
                child.item_version.name,
                child.department.name,
                child.get_status_display(),
            )
            for child in children
        )
        return format_html_join("", '<div><a href="{}">{}</a> {} · {} · {}</div>', rows) or _(
            "None yet: the cases open when the application is accepted."
        )

    # -- the reduction report --

    def get_urls(self):
        report = [
            path(
                "reduction/",
                self.admin_site.admin_view(self.reduction_view),
                name="joint_reduction",
            ),
            path(
                "reduction/xlsx/",
                self.admin_site.admin_view(self.reduction_xlsx),
                name="joint_reduction_xlsx",
            ),
        ]
        return [*report, *super().get_urls()]  # before the change page's catch-all

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "reads_reduction_report": reads_reduction_report(request.user),
        }
        return super().changelist_view(request, extra_context)

    def reduction_view(self, request):
        if not reads_reduction_report(request.user):
            raise PermissionDenied
        rows = selectors.reductions()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reduction report"),
            "opts": self.opts,
            "rows": rows,
            "totals": selectors.reduction_totals(rows),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/joint/reduction.html", context)

    def reduction_xlsx(self, request):
        if not reads_reduction_report(request.user):
            raise PermissionDenied
        response = HttpResponse(
            reduction_workbook(selectors.reductions()),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"theme-reduction-{timezone.localdate():%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ApplicationInline(_ReadOnlyInline):
    model = JointCase
    fk_name = "project"
    fields = ("number_link", "stage", "status", "submitted_at", "issued_at")
    verbose_name_plural = _("applications, stage by stage")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stage").order_by("stage__order")

    @admin.display(description=_("application number"))
    def number_link(self, obj):
        url = reverse("admin:joint_jointcase_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)


@admin.register(Project)
class ProjectAdmin(ViewOnlyAdmin):
    list_display = ("code", "name", "theme", "applicant_masked", "region", "created_at")
    list_filter = ("theme",)
    search_fields = ("=code", "name")
    date_hierarchy = "created_at"
    list_select_related = ("theme", "applicant", "region")
    inlines = (ApplicationInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "public_id",
                    "name",
                    "theme",
                    "applicant_masked",
                    "region",
                    "created_at",
                    "created_by",
                )
            },
        ),
    )

    @admin.display(description=_("applicant"))
    def applicant_masked(self, obj):
        return _masked(obj.applicant)


# --- the report as a workbook -----------------------------------------------------------------

# The workbook speaks Chinese: it goes to the reform office as it is.
XLSX_HEADERS = [
    "主题",
    "主题编码",
    "阶段",
    "事项数",
    "事项",
    "表单字段（分别填写）",
    "表单字段（合并后）",
    "字段精简(%)",
    "申请材料（分别提交）",
    "申请材料（合并后）",
    "材料精简(%)",
]


def reduction_workbook(rows) -> bytes:
    """The report as an xlsx workbook: one row per theme (or stage), then the totals; text
    is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def text(value: str) -> str:
        return ILLEGAL_CHARACTERS_RE.sub("", value)

    book = Workbook()
    sheet = book.active
    sheet.title = "精简情况"
    sheet.append(XLSX_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        merge = row.merge
        sheet.append(
            [
                text(row.theme.name),
                text(row.theme.code),
                text(f"{row.stage.order}. {row.stage.name}") if row.stage else "",
                len(merge.versions),
                text("、".join(v.name for v in merge.versions)),
                merge.fields_before,
                merge.fields_after,
                merge.fields_cut,
                merge.materials_before,
                merge.materials_after,
                merge.materials_cut,
            ]
        )
    totals = selectors.reduction_totals(rows)
    sheet.append(
        [
            "合计",
            "",
            "",
            sum(len(r.merge.versions) for r in rows),
            "",
            totals["fields_before"],
            totals["fields_after"],
            totals["fields_cut"],
            totals["materials_before"],
            totals["materials_after"],
            totals["materials_cut"],
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula
    for letter, width in zip(
        "ABCDEFGHIJK", (20, 20, 20, 8, 40, 12, 12, 10, 12, 12, 10), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
