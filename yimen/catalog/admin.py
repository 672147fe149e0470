"""Admin of the catalogue, for catalogue admins.

The worktable is the list of item versions with their quality findings. A draft is edited
in place (its materials, form and review chain inline) and then re-checked and audited by
`services.after_admin_edit`; a published or archived version is read-only. Creating an
item, discarding a draft, publishing, starting a new draft and withdrawing go through the
services, one row at a time, each reported. A catalogue admin limited to departments sees
and edits only their items.

The shared library (material types, field dictionary, themes and their scenario questions)
is edited by unscoped catalogue admins only (`permissions.can_edit_library`); the others
may look it up, which the autocomplete fields of the item pages need.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import RoleAdmin, reason_page
from yimen.common import audit, writes
from yimen.common.admin_audit import AuditedModelAdmin
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors
from yimen.org.choices import Role
from yimen.org.models import Department, WindowCategory

from . import permissions, quality, services
from .choices import MANDATORY_NODES, Node, Severity, VersionStatus
from .models import (
    FieldDefinition,
    FormField,
    ItemVersion,
    Material,
    MaterialType,
    ReviewStep,
    ScenarioOption,
    ScenarioQuestion,
    ServiceItem,
    Theme,
    ThemeItem,
    ThemeStage,
)

# --- shared pieces -----------------------------------------------------------------------------


class LinesField(forms.Field):
    """A list of texts edited as one per line (empty lines are dropped)."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 80})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class ParentRights:
    """An inline may do what its page's admin may do with the object shown (the role
    admins do not use Django's per-model permissions)."""

    def _parent_admin(self):
        return self.admin_site._registry[self.parent_model]

    def has_view_permission(self, request, obj=None):
        return self._parent_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)


def _parent_id(request) -> str | None:
    """The id of the object whose change page (with its inlines) is being served."""
    match = request.resolver_match
    return match.kwargs.get("object_id") if match else None


def _once(request, key: str, build: Callable[[], Any]) -> Any:
    """`build()`, computed once per request: an inline's form fields are made several times
    for one page, and every row's form would otherwise read its choices again."""
    cache = request.__dict__.setdefault("_catalog_admin_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _choices(field: forms.ModelChoiceField) -> list:
    """A model choice field's choices, read in one query (`list()` would count them first)."""
    return list(iter(field.choices))


def _labelled(theme_items: QuerySet[ThemeItem]) -> QuerySet[ThemeItem]:
    """Theme items with what their labels show: the theme, the stage and the item's name."""
    return theme_items.select_related("theme", "stage").prefetch_related(
        Prefetch("item", queryset=ServiceItem.objects.with_latest_name())
    )


class LabelledAutocompleteSelect(AutocompleteSelect):
    """An autocomplete whose chosen values are labelled from `labels` ({pk: label}, read once
    for the page) rather than by one query per row; a value it does not know is looked up."""

    def __init__(self, *args, labels: Mapping[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.labels = labels

    def optgroups(self, name, value, attr=None):
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not all(pk in self.labels for pk in chosen):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for pk in chosen:
            options.append(self.create_option(name, pk, self.labels[pk], True, len(options)))
        return [(None, options, 0)]


# --- items and their versions ------------------------------------------------------------------


class BlockingFilter(admin.SimpleListFilter):
    title = _("blocking problems")
    parameter_name = "blocking"

    def lookups(self, request, model_admin):
        return [("yes", _("Has blocking problems")), ("no", _("No blocking problems"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        # Which rules block is code, not data, so the stored findings are read here.
        versions = queryset.select_related(None).only("pk", "findings")
        blocked = [v.pk for v in versions if quality.blocking(quality.stored_findings(v))]
        if self.value() == "yes":
            return queryset.filter(pk__in=blocked)
        return queryset.exclude(pk__in=blocked)


def _guide_changes(form: forms.ModelForm) -> dict[str, list]:
    """{field: [old, new]} of the guide as the form changed it, valued as the API's audit
    row values them (`writes.field_value`: ids for relations)."""
    changes = {}
    for name in form.changed_data:
        old, new = form.initial.get(name), writes.field_value(form.instance, name)
        if old != new:
            changes[name] = [old, new]
    return changes


# The part lists of a version by model, named as the services name them.
PART_NAMES = {model: name for name, (model, _fields) in services.PARTS.items()}


def _part_changes(formsets) -> dict[str, dict[str, int]]:
    """For each part list the saved formsets changed, how many rows were added, changed and
    deleted."""
    parts = {}
    for formset in formsets:
        counts = {
            "added": len(formset.new_objects),
            "changed": len(formset.changed_objects),
            "deleted": len(formset.deleted_objects),
        }
        if any(counts.values()):
            parts[PART_NAMES[formset.model]] = counts
    return parts


class ItemVersionForm(forms.ModelForm):
    legal_basis = LinesField(
        label=capfirst(_("legal basis")),
        required=False,
        help_text=_("One law, regulation or rule per line, with its article."),
    )
    nodes = forms.TypedMultipleChoiceField(
        label=capfirst(_("process nodes")),
        coerce=int,
        choices=Node.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ItemVersion
        fields = ItemVersion.GUIDE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "nodes" in self.fields:
            self.fields["nodes"].help_text = _("Every item passes: %(nodes)s.") % {
                "nodes": "、".join(str(Node(n).label) for n in sorted(MANDATORY_NODES))
            }

    def clean_nodes(self):
        return sorted(set(self.cleaned_data["nodes"]))


class ItemCreateForm(forms.Form):
    """What an item needs to exist; the rest of its guide is filled in on the draft."""

    implementation_code = ServiceItem._meta.get_field("implementation_code").formfield(
        help_text=_(
            "The department's credit code (18), the nature of the implementing body (1, 2 or"
            " 3), the basic code (12) and an optional 2-digit business suffix."
        ),
    )
    department = ServiceItem._meta.get_field("department").formfield()
    region = ServiceItem._meta.get_field("region").formfield(
        required=False, help_text=_("Empty: the department's region.")
    )
    name = ItemVersion._meta.get_field("name").formfield()
    item_type = ItemVersion._meta.get_field("item_type").formfield()
    target = ItemVersion._meta.get_field("target").formfield()
    window_category = ItemVersion._meta.get_field("window_category").formfield(
        queryset=WindowCategory.objects.filter(is_active=True)
    )

    GUIDE = ("name", "item_type", "target", "window_category")

    def __init__(self, *args, departments, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        region = self.fields["region"]
        region.widget = AutocompleteSelect(
            ServiceItem._meta.get_field("region"), admin_site, choices=region.choices
        )


class PartInline(ParentRights, admin.TabularInline):
    """A part of a version: editable while the version is a draft."""

    extra = 0


class MaterialInline(PartInline):
    model = Material
    fields = ("order", *services.MATERIAL_FIELDS)
    autocomplete_fields = ("material_type",)


class FormFieldInline(PartInline):
    model = FormField
    fields = ("order", *services.FORM_FIELD_FIELDS)
    autocomplete_fields = ("field",)


class ReviewStepInline(PartInline):
    model = ReviewStep
    fields = ("order", *services.REVIEW_STEP_FIELDS)


class CatalogueAdmin(RoleAdmin):
    admin_roles = (Role.CATALOGUE_ADMIN,)

    def scoped(self, request, queryset, department_path: str):
        """The rows of the departments the user edits."""
        scope = permissions.catalogue_scope(request.user)
        if scope is None:
            return queryset
        return queryset.filter(**{f"{department_path}__in": scope})


@admin.register(ItemVersion)
class ItemVersionAdmin(CatalogueAdmin, admin.ModelAdmin):
    form = ItemVersionForm
    list_display = (
        "name",
        "implementation_code",
        "department",
        "number",
        "status",
        "finding_count",
    )
    list_filter = (
        "status",
        ("item__department", admin.RelatedOnlyFieldListFilter),
        "item_type",
        BlockingFilter,
    )
    search_fields = ("name", "keywords", "item__implementation_code")
    list_select_related = ("item__department",)
    inlines = (MaterialInline, FormFieldInline, ReviewStepInline)
    actions = ("publish_selected", "start_draft_selected", "withdraw_selected")
    fieldsets = (
        (_("Quality check"), {"fields": ("quality_findings",)}),
        (
            _("Item"),
            {
                "fields": (
                    ("implementation_code", "department", "region"),
                    ("number", "status", "other_versions"),
                    "change_note",
                    "name",
                    ("item_type", "target"),
                    "window_category",
                    "keywords",
                    "conditions",
                    "legal_basis",
                )
            },
        ),
        (
            _("Time limits and handling"),
            {
                "fields": (
                    ("statutory_limit", "statutory_unit"),
                    ("promised_limit", "promised_unit"),
                    "handling_type",
                    "visits",
                    "online_depth",
                )
            },
        ),
        (_("Fees"), {"fields": ("is_free", "fee_amount", "fee_basis")}),
        (
            _("Tags"),
            {
                "fields": (
                    ("zero_visit", "zero_submission"),
                    ("on_the_spot", "online", "one_visit", "nearby"),
                    "tongban",
                )
            },
        ),
        (
            _("Contact and place"),
            {
                "fields": (
                    ("supervision_phone", "consultation_phone"),
                    "location",
                    "hours",
                    "flow_description",
                )
            },
        ),
        (_("Process"), {"fields": ("nodes",)}),
        (
            _("History"),
            {
                "classes": ("collapse",),
                "fields": (
                    ("created_at", "created_by"),
                    ("published_at", "published_by"),
                    "archived_at",
                ),
            },
        ),
    )
    readonly_fields = (
        "quality_findings",
        "implementation_code",
        "department",
        "region",
        "number",
        "status",
        "other_versions",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "archived_at",
    )
    # On a read-only page the lists are shown as text, not as their stored JSON.
    SHOWN_READ_ONLY = {"legal_basis": "legal_basis_lines", "nodes": "node_labels"}

    # -- access --

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("item__department", "item__region")
        return self.scoped(request, queryset, "item__department")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # Lock the row being saved, so that it cannot be published under the edit.
            obj = self.get_queryset(request).select_for_update(of=("self",)).get(pk=obj.pk)
        return obj

    def has_change_permission(self, request, obj=None):
        if not self.has_role_access(request):
            return False
        return obj is None or (
            obj.is_draft and permissions.can_edit_department(request.user, obj.item.department_id)
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (name, {**options, "fields": self._read_only_names(options["fields"])})
            for name, options in fieldsets
        ]

    def _read_only_names(self, fields):
        return [
            tuple(self.SHOWN_READ_ONLY.get(f, f) for f in field)
            if isinstance(field, tuple)
            else self.SHOWN_READ_ONLY.get(field, field)
            for field in fields
        ]

    # -- columns and read-only fields --

    @admin.display(description=_("quality findings"))
    def finding_count(self, obj):
        findings = quality.stored_findings(obj)
        total, blocking = len(findings), len(quality.blocking(findings))
        if not blocking:
            return total
        return format_html(
            '<strong style="color: #ba2121" title="{}">{}</strong> / {}',
            _("blocking"),
            blocking,
            total,
        )

    @admin.display(description=_("quality findings"))
    def quality_findings(self, obj):
        findings = [
            {
                "blocking": f.blocking,
                "severity": Severity(f.severity).label,
                "message": f.rule.message,
                "detail": f.detail,
            }
            for f in sorted(quality.stored_findings(obj), key=lambda f: not f.blocking)
        ]
        return render_to_string("admin/catalog/itemversion/findings.html", {"findings": findings})

    @admin.display(description=_("implementation code"), ordering="item__implementation_code")
    def implementation_code(self, obj):
        return obj.item.implementation_code

    @admin.display(description=_("department"), ordering="item__department__name")
    def department(self, obj):
        return obj.item.department

    @admin.display(description=_("region"))
    def region(self, obj):
        return obj.item.region

    @admin.display(description=_("versions"))
    def other_versions(self, obj):
        others = obj.item.versions.exclude(pk=obj.pk)
        if not others:
            return self.get_empty_value_display()
        return format_html_join(
            " · ",
            '<a href="{}">v{} {}</a>',
            (
                (
                    reverse("admin:catalog_itemversion_change", args=[v.pk]),
                    v.number,
                    v.get_status_display(),
                )
                for v in others
            ),
        )

    @admin.display(description=_("legal basis"))
    def legal_basis_lines(self, obj):
        return format_html_join("", "<div>{}</div>", ((basis,) for basis in obj.legal_basis))

    @admin.display(description=_("process nodes"))
    def node_labels(self, obj):
        return "、".join(str(Node(n).label) for n in obj.nodes)

    # -- the change page: edit a draft, re-check, audit --

    def save_model(self, request, obj, form, change):
        # Only the guide fields that changed are written: never the status.
        if changes := _guide_changes(form):
            obj.save(update_fields=list(changes))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.after_admin_edit(
            version=form.instance,
            actor=request.user,
            changes=_guide_changes(form),
            parts=_part_changes(formsets),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["version_actions"] = self._buttons(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _buttons(self, request, obj):
        """The actions that apply to the version shown, as (action, label)."""
        if not self.has_role_access(request):
            return []
        if obj.is_draft:
            return [("publish_selected", _("Publish"))]
        buttons = []
        if not obj.item.versions.filter(status=VersionStatus.DRAFT).exists():
            buttons.append(("start_draft_selected", _("Start a new draft")))
        if obj.status == VersionStatus.PUBLISHED:
            buttons.append(("withdraw_selected", _("Withdraw")))
        return buttons

    # -- adding an item --

    def add_view(self, request, form_url="", extra_context=None):
        """A new item is made by the service, with a minimal guide; its draft is then
        completed on its change page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        departments = self.scoped(request, Department.objects.filter(is_active=True), "pk")
        form = ItemCreateForm(
            request.POST if request.method == "POST" else None,
            departments=departments,
            admin_site=self.admin_site,
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = services.item_create(
                    department=data["department"],
                    implementation_code=data["implementation_code"],
                    region=data["region"],
                    guide={name: data[name] for name in form.GUIDE},
                    actor=request.user,
                    channel=Channel.ADMIN,
                )
            except ValidationError as exc:
                set_service_errors(form, exc)
            else:
                self.log_addition(request, version, [{"added": {}}])
                self.message_user(
                    request,
                    _("%(version)s was created as a draft: complete its guide, then publish it.")
                    % {"version": version},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:catalog_itemversion_change", args=[version.pk])
                )
        admin_form = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add a service item"),
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    # -- discarding a draft --

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Discarding an item's only version deletes the item, which a theme may still name.
        lone = [v.item_id for v in objs if not v.item.versions.exclude(pk=v.pk).exists()]
        protected = [*protected, *map(str, _labelled(ThemeItem.objects.filter(item_id__in=lone)))]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.draft_discard(version=obj, actor=request.user, channel=Channel.ADMIN)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for version in queryset:
                self.delete_model(request, version)

    # -- actions, one version at a time --

    def _each(self, request, queryset, step, done) -> list[ItemVersion]:
        """Run `step` on each selected version and report each outcome."""
        results = []
        for version in queryset.select_related("item"):
            try:
                result = step(version)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, done % {"version": result}, messages.SUCCESS)
                results.append(result)
        return results

    @staticmethod
    def _back(request):
        """Back to the page the action was started from (a version's change page)."""
        url = request.POST.get("_return", "")
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(url)
        return None

    @admin.action(description=_("Publish the selected drafts"), permissions=["change"])
    def publish_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda v: services.publish(version=v, actor=request.user, channel=Channel.ADMIN),
            _("%(version)s is published."),
        )
        return self._back(request)

    @admin.action(description=_("Start a new draft of the selected items"), permissions=["change"])
    def start_draft_selected(self, request, queryset):
        drafts = self._each(
            request,
            queryset,
            lambda v: services.draft_start(item=v.item, actor=request.user, channel=Channel.ADMIN),
            _("%(version)s was started as a new draft."),
        )
        if len(drafts) == 1 and len(queryset) == 1:
            return HttpResponseRedirect(
                reverse("admin:catalog_itemversion_change", args=[drafts[0].pk])
            )
        return self._back(request)

    @admin.action(description=_("Withdraw the selected versions in force"), permissions=["change"])
    def withdraw_selected(self, request, queryset):
        """Asks for the reason on an intermediate page, then withdraws each version."""
        form = WithdrawForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda v: services.archive(
                    version=v, actor=request.user, channel=Channel.ADMIN, reason=reason
                ),
                _("%(version)s is withdrawn."),
            )
            return self._back(request)
        rows = [
            (v.pk, f"{v} ({v.item.implementation_code}, {v.get_status_display()})")
            for v in queryset.select_related("item")
        ]
        return reason_page(
            self,
            request,
            rows=rows,
            form=form,
            action="withdraw_selected",
            title=_("Withdraw items"),
            explanation=_(
                "Withdrawn items are no longer offered. Cases already applied for keep the "
                "version they were applied under."
            ),
            button=_("Withdraw"),
            return_url=request.POST.get("_return", ""),
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the item withdrawn?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(ServiceItem)
class ServiceItemAdmin(CatalogueAdmin, admin.ModelAdmin):
    """Items are looked up here (themes pick them); they are worked on as versions."""

    list_display = ("implementation_code", "department", "region")
    search_fields = ("implementation_code", "versions__name")
    list_select_related = ("department", "region")

    def get_queryset(self, request):
        items = self.scoped(request, super().get_queryset(request), "department")
        return items.with_latest_name()

    def has_module_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("implementation_code", "basic_code", "department", "region", "created_at")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the shared library ------------------------------------------------------------------------


class LibraryAdmin(CatalogueAdmin, AuditedModelAdmin):
    """Every catalogue admin may look; unscoped ones change. Inline rows are audited too."""

    def _may_edit(self, request) -> bool:
        return self.has_role_access(request) and permissions.can_edit_library(request.user)

    def has_add_permission(self, request, *args):
        return self._may_edit(request)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request)

    def save_formset(self, request, form, formset, change):
        # A deleted row loses its id, so note what is deleted before saving.
        deleted = [(f.instance.pk, str(f.instance)) for f in formset.deleted_forms if f.instance.pk]
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            label = formset.model._meta.label_lower
            events = [
                *(("admin.add", obj.pk, str(obj), []) for obj in formset.new_objects),
                *(("admin.change", o.pk, str(o), f) for o, f in formset.changed_objects),
                *(("admin.delete", pk, text, []) for pk, text in deleted),
            ]
            for action, pk, text, fields in events:
                audit.record(
                    action=action,
                    object_type=label,
                    object_id=str(pk),
                    actor=request.user,
                    channel=Channel.ADMIN,
                    payload={"fields": sorted(fields), "repr": text},
                )


class LibraryEntryAdmin(LibraryAdmin):
    """A library entry that guides use: a change is re-checked on the guides that use it."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            services.recheck_users(obj)


@admin.register(MaterialType)
class MaterialTypeAdmin(LibraryEntryAdmin):
    fields = services.MATERIAL_TYPE_FIELDS
    list_display = (
        "code",
        "name",
        "kind",
        "holder_kind",
        "validity_days",
        "has_template",
        "has_sample",
        "is_active",
    )
    list_filter = ("kind", "holder_kind", "is_active")
    search_fields = ("code", "name", "description")

    @admin.display(description=_("blank form"), boolean=True)
    def has_template(self, obj):
        return bool(obj.template_file)

    @admin.display(description=_("filled-in sample"), boolean=True)
    def has_sample(self, obj):
        return bool(obj.sample_file)


class FieldDefinitionForm(forms.ModelForm):
    choices = LinesField(
        label=capfirst(_("choices")),
        required=False,
        help_text=_("For list types: one option per line."),
    )

    class Meta:
        model = FieldDefinition
        fields = services.FIELD_DEFINITION_FIELDS


@admin.register(FieldDefinition)
class FieldDefinitionAdmin(LibraryEntryAdmin):
    form = FieldDefinitionForm
    fields = services.FIELD_DEFINITION_FIELDS
    list_display = ("key", "label", "datatype", "holder_kind", "is_active")
    list_filter = ("datatype", "holder_kind", "is_active")
    search_fields = ("key", "label")


# --- themes ------------------------------------------------------------------------------------


class ThemeStageInline(ParentRights, admin.TabularInline):
    model = ThemeStage
    extra = 0
    fields = ("order", "name", "description")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}


class ThemeItemInline(ParentRights, admin.TabularInline):
    """The theme's items, each named: its stage is picked from the theme's stages and its
    item by autocomplete. The page reads the choices once, not once per row."""

    model = ThemeItem
    extra = 0
    fields = ("stage", "item", "order")
    autocomplete_fields = ("item",)

    def get_queryset(self, request):
        return _labelled(super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        theme_id = _parent_id(request)
        if db_field.name == "stage":
            kwargs["queryset"] = ThemeStage.objects.filter(theme_id=theme_id)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.choices = _once(request, "theme stages", lambda: _choices(field))
            return field
        if db_field.name == "item":
            items = ServiceItem.objects.with_latest_name()
            labels = _once(
                request,
                "theme item labels",
                lambda: {str(i.pk): str(i) for i in items.filter(theme_items__theme_id=theme_id)},
            )
            kwargs["queryset"] = items
            kwargs["widget"] = LabelledAutocompleteSelect(
                db_field, self.admin_site, labels=labels, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScenarioQuestionInline(ParentRights, admin.TabularInline):
    model = ScenarioQuestion
    extra = 0
    fields = ("order", "text", "multiple")
    show_change_link = True


@admin.register(Theme)
class ThemeAdmin(LibraryAdmin):
    list_display = ("name", "code", "category", "target", "window_category", "order", "is_active")
    list_filter = ("category", "target", "window_category", "is_active")
    list_select_related = ("window_category",)
    search_fields = ("code", "name")
    # + a link to the reduction report (yimen.joint.admin)
    change_list_template = "admin/joint/theme_change_list.html"
    inlines = (ThemeStageInline, ThemeItemInline, ScenarioQuestionInline)


class ScenarioOptionInline(ParentRights, admin.TabularInline):
    model = ScenarioOption
    extra = 0
    fields = ("order", "text", "theme_items")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "theme_items":
            kwargs["queryset"] = _labelled(
                ThemeItem.objects.filter(theme__questions=_parent_id(request))
            )
            kwargs["widget"] = forms.CheckboxSelectMultiple
            field = super().formfield_for_manytomany(db_field, request, **kwargs)
            field.label_from_instance = lambda t: str(t.item)
            field.choices = _once(request, "question theme items", lambda: _choices(field))
            return field
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(ScenarioQuestion)
class ScenarioQuestionAdmin(LibraryAdmin):
    """A question's answers pick among its theme's items (办事情形)."""

    fields = ("theme", "order", "text", "multiple")
    list_display = ("text", "theme", "order", "multiple")
    list_filter = ("theme",)
    search_fields = ("text", "theme__name")
    list_select_related = ("theme",)

    def get_readonly_fields(self, request, obj=None):
        # Its answers name the theme's items: the question stays with its theme.
        return ("theme",) if obj is not None else ()

    def get_inlines(self, request, obj):
        # The answers pick among the theme's items: the theme is known once saved.
        return (ScenarioOptionInline,) if obj is not None else ()
