"""Admin of the 12345 hotline's configuration, for system admins.

- Categories: the 3-level taxonomy, shown with its path and level. Adding, changing and
  deactivating go through yimen.hotline.services (the form runs the services' own checks, so
  a bad move is a field error; every write is audited); a category is never deleted, only
  deactivated with its subtree. The taxonomy is exported to and imported from xlsx
  (yimen.hotline.xlsx), with the import's errors listed by row.
- Deadline rules: one per type × urgency, set through services.deadline_rule_set (sign ≤
  reply ≤ close, clear errors); the missing ones can be filled with the defaults.
- Knowledge articles: a read-only list with a link to each article's review page; the
  reviewers publish or send back the selected articles awaiting review, through
  yimen.hotline.knowledge (which refuses a reviewer's own edit).
- Work orders, cards and the dispatch models: read-only (orders move through their own
  pages; the admin links to each). A supervisor limited to a district sees that district's
  orders and their cards (permissions.visible_orders); the caller's phone, and any mobile
  or ID number in the title, are masked here too.
- Open311 clients: listed and revoked here; keys are made with `manage.py
  hotline_open311_key`, which shows a key once.
"""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import construct_instance
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yimen.admin_site import RoleAdmin, ViewOnlyAdmin, reason_page
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors
from yimen.common.masking import mask_phone, mask_text
from yimen.org.choices import Role

from . import permissions, services, xlsx
from .choices import ArticleStatus
from .forms_orders import looks_like_a_number
from .models import (
    Card,
    Category,
    DeadlineRule,
    DispatchModel,
    KnowledgeArticle,
    Open311Client,
    WorkOrder,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- categories --------------------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    """The fields of a category, checked by the services' rules (levels, loops, names)."""

    class Meta:
        model = Category
        fields = ("code", "name", "parent", "default_unit", "order", "is_active")

    def _post_clean(self):
        # The model's checks (the code's format, uniqueness), then the taxonomy's rules.
        super()._post_clean()
        data = self.cleaned_data
        if any(name in self.errors for name in ("code", "name", "parent")):
            return
        errors = services.category_errors(
            category=self.instance if self.instance.pk else None,
            code=(data.get("code", self.instance.code) or "").strip(),
            name=data.get("name") or "",
            parent=data.get("parent"),
            default_unit=data.get("default_unit"),
            is_active=data.get("is_active", True),
        )
        if errors:
            set_service_errors(self, ValidationError(errors))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Workbook (.xlsx)"))
    dry_run = forms.BooleanField(
        label=_("Only check the file"), required=False, help_text=_("Nothing is written.")
    )


@admin.register(Category)
class CategoryAdmin(RoleAdmin, admin.ModelAdmin):
    admin_roles = (Role.SYSTEM_ADMIN,)

    form = CategoryForm
    fields = ("code", "name", "parent", "default_unit", "order", "is_active", "level", "path")
    list_display = ("path", "code", "level", "default_unit", "order", "is_active")
    list_filter = ("level", "is_active", ("default_unit", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "parent__name", "parent__parent__name")
    autocomplete_fields = ("parent", "default_unit")
    list_select_related = ("parent__parent", "default_unit")
    ordering = ("parent__parent__order", "parent__order", "level", "order", "code")
    actions = ("deactivate_selected",)
    change_list_template = "admin/hotline/category/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        # The code is what orders and Open311 refer to: fixed once the category exists.
        return ("code", "level", "path") if obj is not None else ("level", "path")

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "parent":  # the parent picker: levels 1 and 2
            queryset = queryset.filter(level__lt=3)
        return queryset, distinct

    @admin.display(description=_("path"))
    def path(self, obj):
        return obj.path if obj.pk else "—"

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: orders keep their category

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.category_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                parent=data.get("parent"),
                default_unit=data.get("default_unit"),
                order=data.get("order") or 0,
                channel=Channel.ADMIN,
            )
            if not data.get("is_active", True):
                services.category_deactivate(
                    category=saved, actor=request.user, channel=Channel.ADMIN
                )
            obj.pk, obj.level, obj._state.adding = saved.pk, saved.level, False
            return
        changed = {name: data[name] for name in form.changed_data if name in data}
        fresh = Category.objects.get(pk=obj.pk)  # the form changed `obj` in memory already
        if changed:
            services.category_update(
                category=fresh, actor=request.user, channel=Channel.ADMIN, **changed
            )

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines: the services wrote everything

    @admin.action(description=_("Deactivate the selected categories (and their subcategories)"))
    def deactivate_selected(self, request, queryset):
        done = 0
        for category in queryset.filter(is_active=True):
            services.category_deactivate(
                category=category, actor=request.user, channel=Channel.ADMIN
            )
            done += 1
        self.message_user(
            request,
            ngettext("%d category deactivated.", "%d categories deactivated.", done) % done,
            messages.SUCCESS,
        )

    # -- xlsx --

    def get_urls(self):
        extra = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="hotline_category_export",
            ),
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="hotline_category_import",
            ),
        ]
        return [*extra, *super().get_urls()]  # before the change page's catch-all

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_role_access(request)}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        buffer = BytesIO()
        xlsx.export_taxonomy(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        name = f"hotline-categories-{timezone.localdate():%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def import_view(self, request):
        if not self.has_role_access(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        problems, status = [], 200
        if form.is_valid():
            try:
                report = xlsx.import_taxonomy(
                    form.cleaned_data["file"],
                    actor=request.user,
                    channel=Channel.ADMIN,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except xlsx.ImportFailed as exc:
                problems, status = exc.errors, 400
            else:
                text = _(
                    "%(created)d created, %(updated)d updated, %(unchanged)d unchanged."
                ) % vars(report)
                if report.dry_run:
                    text = _("The file is correct (nothing was written): %(result)s") % {
                        "result": text
                    }
                self.message_user(request, text, messages.SUCCESS)
                if not report.dry_run:
                    return redirect(reverse("admin:hotline_category_changelist"))
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import categories"),
            "opts": self.opts,
            "form": form,
            "problems": problems,
            "columns": [c.header for c in xlsx.COLUMNS if c.field in xlsx.IMPORTED],
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/hotline/category/import.html", context, status=status
        )


# --- deadline rules ----------------------------------------------------------------------------


class DeadlineRuleForm(forms.ModelForm):
    class Meta:
        model = DeadlineRule
        fields = ("order_type", "urgency", "unit", "sign_limit", "reply_limit", "close_limit")

    def _post_clean(self):
        # The services' checks instead of the model's, so the admin says what they say.
        opts = self._meta
        construct_instance(self, self.instance, opts.fields, opts.exclude)
        data = self.cleaned_data
        instance = self.instance
        errors, _limits = services.deadline_errors(
            order_type=data.get("order_type", instance.order_type),
            urgency=data.get("urgency", instance.urgency),
            unit=data.get("unit"),
            sign_limit=data.get("sign_limit"),
            reply_limit=data.get("reply_limit"),
            close_limit=data.get("close_limit"),
        )
        errors = {k: v for k, v in errors.items() if k not in self.errors}
        taken = DeadlineRule.objects.filter(
            order_type=data.get("order_type"), urgency=data.get("urgency")
        )
        if instance.pk is None and taken.exists():
            errors["urgency"] = _("This type and urgency has a rule already: change it.")
        if errors:
            set_service_errors(self, ValidationError(errors))


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(RoleAdmin, admin.ModelAdmin):
    admin_roles = (Role.SYSTEM_ADMIN,)
    view_roles = (Role.SUPERVISOR,)

    form = DeadlineRuleForm
    list_display = ("order_type", "urgency", "unit", "sign_limit", "reply_limit", "close_limit")
    list_filter = ("order_type", "urgency", "unit")
    actions = ("fill_defaults",)

    def get_readonly_fields(self, request, obj=None):
        return ("order_type", "urgency") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # without its row a type × urgency would silently fall back to a default

    def save_model(self, request, obj, form, change):
        rule = services.deadline_rule_set(
            actor=request.user,
            order_type=obj.order_type,
            urgency=obj.urgency,
            unit=obj.unit,
            sign_limit=obj.sign_limit,
            reply_limit=obj.reply_limit,
            close_limit=obj.close_limit,
            channel=Channel.ADMIN,
        )
        obj.pk, obj._state.adding = rule.pk, False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_role_access(request):
            actions.pop("fill_defaults", None)
        return actions

    @admin.action(description=_("Add the default rule of every type and urgency without one"))
    def fill_defaults(self, request, queryset):
        created = services.ensure_default_deadlines(actor=request.user, channel=Channel.ADMIN)
        self.message_user(
            request,
            ngettext("%d default rule added.", "%d default rules added.", created) % created,
            messages.SUCCESS,
        )


# --- knowledge articles ------------------------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Review note"),
        max_length=1000,
        help_text=_("The author reads it with the article sent back."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


def _review_url(article) -> str:
    try:
        return reverse("hotline:review_article", args=[article.public_id])
    except NoReverseMatch:  # the pages are not wired in
        return ""


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(ViewOnlyAdmin):
    """Read-only: articles change through yimen.hotline.knowledge (the review pages, or the
    actions below)."""

    view_roles = (Role.SYSTEM_ADMIN,)
    list_display = (
        "title",
        "status",
        "version",
        "department",
        "category",
        "valid_until",
        "updated_at",
        "review_link",
    )
    list_filter = ("status", ("department", admin.RelatedOnlyFieldListFilter), "valid_until")
    search_fields = ("title", "questions", "tags")
    date_hierarchy = "updated_at"
    list_select_related = ("department", "category__parent__parent")
    actions = ("publish_selected", "send_back_selected")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "public_id",
                    "status",
                    "version",
                    "questions",
                    "answer",
                    "department",
                    "category",
                    "tags",
                    "valid_until",
                )
            },
        ),
        (
            _("Review"),
            {
                "fields": (
                    "created_at",
                    "created_by",
                    "updated_at",
                    "reviewed_at",
                    "reviewed_by",
                    "review_note",
                )
            },
        ),
    )

    @admin.display(description=_("review"))
    def review_link(self, obj):
        url = _review_url(obj)
        if not url:
            return "—"
        label = _("Review") if obj.status == ArticleStatus.PENDING else _("Open")
        return format_html('<a href="{}">{}</a>', url, label)

    def has_review_permission(self, request):
        return permissions.is_knowledge_reviewer(request.user)

    @admin.action(description=_("Publish the selected articles"), permissions=["review"])
    def publish_selected(self, request, queryset):
        self._review(request, queryset, approve=True, note="")

    @admin.action(
        description=_("Send the selected articles back to their authors"), permissions=["review"]
    )
    def send_back_selected(self, request, queryset):
        form = NoteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._review(request, queryset, approve=False, note=form.cleaned_data["note"])
            return None
        rows = [(a.pk, f"{a.title} (v{a.version}, {a.get_status_display()})") for a in queryset]
        return reason_page(
            self,
            request,
            rows=rows,
            form=form,
            action="send_back_selected",
            title=_("Send articles back"),
            explanation=_("The articles go back to their authors as drafts, with your note."),
            button=_("Send back"),
        )

    def _review(self, request, queryset, *, approve: bool, note: str) -> None:
        from . import knowledge  # written alongside; imported when a reviewer acts

        done = 0
        for article in queryset:
            if article.status != ArticleStatus.PENDING:
                self.message_user(
                    request,
                    _("%(article)s is not awaiting review.") % {"article": article},
                    messages.WARNING,
                )
                continue
            try:
                knowledge.article_review(
                    article=article, actor=request.user, approve=approve, note=note
                )
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"{article}: {reason}", messages.ERROR)
            else:
                done += 1
        if done:
            text = (
                ngettext("%d article published.", "%d articles published.", done)
                if approve
                else ngettext("%d article sent back.", "%d articles sent back.", done)
            )
            self.message_user(request, text % done, messages.SUCCESS)


# --- work orders -------------------------------------------------------------------------------

HOTLINE_VIEWERS = (Role.SYSTEM_ADMIN, Role.SUPERVISOR)


@admin.register(WorkOrder)
class WorkOrderAdmin(ViewOnlyAdmin):
    """Read-only; each row links to the order's own page, where its steps are taken."""

    view_roles = HOTLINE_VIEWERS
    list_display = (
        "number",
        "masked_title",
        "status",
        "order_type",
        "channel",
        "urgency",
        "lead_unit",
        "received_at",
        "page_link",
    )
    list_filter = ("status", "order_type", "channel", "urgency", "resolution", "satisfaction")
    search_fields = ("number", "title")
    date_hierarchy = "received_at"
    list_select_related = ("lead_unit",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "status",
                    "resolution",
                    "channel",
                    "order_type",
                    "urgency",
                    "category",
                    "masked_title",
                    "district",
                    "address",
                    "masked_phone",
                    "lead_unit",
                    "received_at",
                    "dispatched_at",
                    "signed_at",
                    "replied_at",
                    "closed_at",
                    "satisfaction",
                    "reopen_count",
                    "master_number",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return permissions.visible_orders(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None:  # its name (page title, breadcrumbs) carries the title: masked
            order.title = mask_text(order.title)  # never saved: nothing changes here
        return order

    def get_search_results(self, request, queryset, search_term):
        # The title is masked here: digits that could be a phone or an ID number are looked
        # for in the order numbers only (they would confirm the masked ones).
        if looks_like_a_number(search_term):
            return queryset.filter(number__icontains=search_term.strip()), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("title"), ordering="title")
    def masked_title(self, obj):
        return mask_text(obj.title)

    @admin.display(description=_("caller's phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.caller_phone)

    @admin.display(description=_("master order"))
    def master_number(self, obj):
        return obj.master.number if obj.master_id else "—"

    @admin.display(description=_("page"))
    def page_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open"))


@admin.register(Card)
class CardAdmin(ViewOnlyAdmin):
    view_roles = HOTLINE_VIEWERS
    list_display = ("order_number", "unit", "colour", "deadline", "issued_at", "issued_by")
    list_filter = ("colour", "deadline", ("unit", admin.RelatedOnlyFieldListFilter))
    search_fields = ("order__number",)
    date_hierarchy = "issued_at"
    list_select_related = ("order", "unit", "issued_by")
    fieldsets = (
        (None, {"fields": ("order_number", "unit", "colour", "deadline", "reason", "issued_at")}),
    )

    @admin.display(description=_("work order"), ordering="order__number")
    def order_number(self, obj):
        # The number alone: an order's name carries its title, unmasked.
        return format_html(
            '<a href="{}" class="font-monospace">{}</a>',
            obj.order.get_absolute_url(),
            obj.order.number,
        )

    def get_queryset(self, request):
        seen = permissions.visible_orders(request.user, WorkOrder.objects.all())
        return super().get_queryset(request).filter(order__in=seen.values("pk"))


def _percent(name: str):
    """An accuracy column shown as a percentage, under the field's own label."""

    @admin.display(description=DispatchModel._meta.get_field(name).verbose_name)
    def shown(self, obj):
        return f"{getattr(obj, name):.1%}"

    return shown


@admin.register(DispatchModel)
class DispatchModelAdmin(ViewOnlyAdmin):
    """The trained versions with the accuracy measured on their held-out orders (trained with
    `manage.py hotline_train`)."""

    list_display = (
        "version",
        "trained_at",
        "train_size",
        "test_size",
        "unit_top1_shown",
        "unit_top3_shown",
        "category_top1_shown",
        "category_top3_shown",
        "is_active",
    )
    fieldsets = ((None, {"fields": (*list_display, "sha256")}),)
    unit_top1_shown = _percent("unit_top1")
    unit_top3_shown = _percent("unit_top3")
    category_top1_shown = _percent("category_top1")
    category_top3_shown = _percent("category_top3")


@admin.register(Open311Client)
class Open311ClientAdmin(ViewOnlyAdmin):
    list_display = ("name", "key_prefix", "channel", "is_active", "created_at", "last_used_at")
    fieldsets = ((None, {"fields": list_display}),)
    actions = ("revoke_selected",)

    def has_change_permission(self, request, obj=None):
        return permissions.may_edit_taxonomy(request.user)  # the actions need it

    def get_readonly_fields(self, request, obj=None):
        return self.list_display

    @admin.action(description=_("Revoke the selected clients' keys"))
    def revoke_selected(self, request, queryset):
        from .open311 import keys

        done = 0
        for client in queryset.filter(is_active=True):
            keys.revoke_key(client, actor=request.user)
            done += 1
        if done:
            text = ngettext("%(n)d key revoked.", "%(n)d keys revoked.", done) % {"n": done}
            self.message_user(request, text, messages.SUCCESS)
        else:
            self.message_user(request, _("None of the selected keys was active."), messages.WARNING)
