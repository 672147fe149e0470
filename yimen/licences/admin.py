"""Admin of e-licences.

- Licence types (证照目录) are kept by system admins and catalogue admins (a catalogue admin
  limited to departments keeps those departments' types); every add, change and delete is
  audited. Their data fields are keys of the field dictionary, checked on save; the code is
  fixed once the type exists, since it is part of every issued identifier and signature.
- Signing keys are read-only for system admins, public key only: the private key is never
  read from the database here, let alone shown.
- Licences are read-only (they change only through the services); system admins revoke or
  replace them with a reason given on an intermediate page, and register a historical paper
  licence (data entry, in two steps: the type, then its data). The holder's ID is masked.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from yimen.admin_site import RoleAdmin, ViewOnlyAdmin, reason_page
from yimen.catalog.models import FieldDefinition, ServiceItem
from yimen.catalog.permissions import catalogue_scope
from yimen.common.admin_audit import AuditedModelAdmin
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors
from yimen.common.sm2 import fingerprint
from yimen.org.choices import Role
from yimen.org.models import Department
from yimen.org.roles import is_system_admin

from . import services
from .choices import LicenceStatus
from .forms import RegisterPaperLicenceForm, TypeChoiceForm
from .models import Licence, LicenceType, SigningKey
from .pdf import value_text

# --- licence types ----------------------------------------------------------------------------


class KeysField(forms.Field):
    """A list of field-dictionary keys, edited one per line (commas and spaces also part
    them); the order is kept, repeats are dropped."""

    widget = forms.Textarea(attrs={"rows": 5, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        keys = [key for key in re.split(r"[\s,，、]+", value or "") if key]
        return list(dict.fromkeys(keys))


class LicenceTypeForm(forms.ModelForm):
    fields = KeysField(
        label=capfirst(_("data fields")),
        required=False,
        help_text=_(
            "Keys of the field dictionary whose values the licence carries, one per line, "
            "in the order they are printed."
        ),
    )

    class Meta:
        model = LicenceType
        fields = (
            "code",
            "name",
            "issuer",
            "holder_kind",
            "validity_years",
            "fields",
            "issuing_items",
            "replaces",
            "is_active",
        )

    def clean_fields(self):
        keys = self.cleaned_data["fields"]
        known = set(FieldDefinition.objects.filter(key__in=keys).values_list("key", flat=True))
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise ValidationError(
                _("Not in the field dictionary: %(keys)s."),
                code="unknown_key",
                params={"keys": ", ".join(unknown)},
            )
        return keys


@admin.register(LicenceType)
class LicenceTypeAdmin(RoleAdmin, AuditedModelAdmin):
    admin_roles = (Role.SYSTEM_ADMIN, Role.CATALOGUE_ADMIN)

    form = LicenceTypeForm
    fields = LicenceTypeForm.Meta.fields
    filter_horizontal = ("issuing_items", "replaces")
    list_display = ("code", "name", "issuer", "holder_kind", "validity_years", "is_active")
    list_filter = ("holder_kind", "is_active", ("issuer", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("issuer",)

    @staticmethod
    def _scope(request) -> set[int] | None:
        """The departments whose types the user keeps: None for all."""
        if is_system_admin(request.user):
            return None
        return catalogue_scope(request.user)

    def get_queryset(self, request):
        types = super().get_queryset(request)
        scope = self._scope(request)
        return types if scope is None else types.filter(issuer__in=scope)

    def get_readonly_fields(self, request, obj=None):
        # The code is in every identifier issued and in what is signed.
        return ("code",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "issuer":
            scope = self._scope(request)
            departments = Department.objects.all()
            kwargs["queryset"] = departments if scope is None else departments.filter(pk__in=scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "issuing_items":
            items = ServiceItem.objects.with_latest_name()  # their labels, in the same query
            scope = self._scope(request)
            kwargs["queryset"] = items if scope is None else items.filter(department__in=scope)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- signing keys -----------------------------------------------------------------------------


@admin.register(SigningKey)
class SigningKeyAdmin(ViewOnlyAdmin):
    """Public keys only; the private key is excluded and never loaded."""

    exclude = ("private_key",)
    fields = ("department", "public_key", "key_fingerprint", "is_active", "created_at")
    list_display = ("department", "public_key_start", "key_fingerprint", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("department__name", "department__uscc", "public_key")
    list_select_related = ("department",)

    def get_readonly_fields(self, request, obj=None):
        return self.fields  # never every field of the model, which would name the private key

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key")

    @admin.display(description=_("public key"))
    def public_key_start(self, obj):
        return f"{obj.public_key[:16]}…"

    @admin.display(description=_("fingerprint (SM3)"))
    def key_fingerprint(self, obj):
        return fingerprint(obj.public_key)


# --- licences ---------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("The holder is told it."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(Licence)
class LicenceAdmin(ViewOnlyAdmin):
    list_display = (
        "identifier",
        "licence_type",
        "holder_masked",
        "issuer",
        "issued_on",
        "valid_until",
        "status",
    )
    list_filter = ("status", "licence_type", ("issuer", admin.RelatedOnlyFieldListFilter))
    search_fields = ("identifier", "holder__name")
    date_hierarchy = "issued_on"
    list_select_related = ("licence_type", "holder", "issuer")
    actions = ("revoke_selected", "replace_selected")
    change_list_template = "admin/licences/licence/change_list.html"  # + "Register…" link
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "identifier",
                    "public_id",
                    "licence_type",
                    "holder_masked",
                    "issuer",
                    ("serial", "version"),
                    "data_display",
                    ("issued_on", "valid_until"),
                    "status",
                    "status_reason",
                )
            },
        ),
        (
            _("Origin"),
            {"fields": ("case", "previous", "successor_identifier", "registered_by", "created_at")},
        ),
        (_("Signature"), {"fields": ("signing_key", "key_fingerprint", "signature")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)  # the rows of the fieldsets, flattened

    @admin.display(description=_("holder"), ordering="holder__name")
    def holder_masked(self, obj):
        return f"{obj.holder.name} ({obj.holder.masked_identifier})"

    @admin.display(description=_("data"))
    def data_display(self, obj):
        labels = dict(
            FieldDefinition.objects.filter(key__in=list(obj.data)).values_list("key", "label")
        )
        rows = ((labels.get(key, key), value_text(value)) for key, value in obj.data.items())
        return format_html_join("", "<div>{}: {}</div>", rows) or "—"

    @admin.display(description=_("replaced by"))
    def successor_identifier(self, obj):
        successor = Licence.objects.filter(previous=obj).values_list("identifier", flat=True)
        return successor.first()  # None: the admin's empty value

    @admin.display(description=_("fingerprint (SM3)"))
    def key_fingerprint(self, obj):
        return fingerprint(obj.signing_key.public_key)

    # -- actions: system admins only, one licence at a time, each reported --

    def has_revoke_permission(self, request):
        return is_system_admin(request.user)

    @admin.action(description=_("Revoke the selected licences"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="revoke_selected",
            title=_("Revoke licences"),
            explanation=_(
                "A revoked licence is no longer valid: its verify page says so, and it no "
                "longer stands for a material. This cannot be undone."
            ),
            button=_("Revoke"),
            step=lambda licence, reason: services.licence_revoke(
                licence=licence, actor=request.user, reason=reason, channel=Channel.ADMIN
            ),
            done=lambda licence, _result: (
                _("%(licence)s is revoked.") % {"licence": licence.identifier}
            ),
        )

    @admin.action(description=_("Replace the selected licences"), permissions=["revoke"])
    def replace_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="replace_selected",
            title=_("Replace licences"),
            explanation=_(
                "Each licence is issued again as a new version with the same data, signed with "
                "the department's current key; the old version is marked replaced."
            ),
            button=_("Replace"),
            step=lambda licence, reason: services.licence_replace(
                licence=licence, actor=request.user, reason=reason, channel=Channel.ADMIN
            ),
            done=lambda licence, new: (
                _("%(licence)s is replaced by %(successor)s.")
                % {"licence": licence.identifier, "successor": new.identifier}
            ),
        )

    def _with_reason(self, request, queryset, *, action, title, explanation, button, step, done):
        """Ask for the reason on an intermediate page, then run `step` on each licence."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            for licence in queryset:
                try:
                    result = step(licence, reason)
                except ValidationError as exc:
                    self.message_user(
                        request, f"{licence.identifier}: {' '.join(exc.messages)}", messages.ERROR
                    )
                else:
                    self.message_user(request, done(licence, result), messages.SUCCESS)
            return None
        rows = [
            (licence.pk, f"{licence.licence_type.name} {licence.identifier} "
                         f"({licence.get_status_display()})")
            for licence in queryset
        ]  # fmt: skip
        return reason_page(
            self, request, rows=rows, form=form, action=action, title=title,
            explanation=explanation, button=button,
        )  # fmt: skip

    # -- registering a paper licence: system admins only --

    def get_urls(self):
        register = path(
            "register/",
            self.admin_site.admin_view(self.register_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_register",
        )
        return [register, *super().get_urls()]  # before the change page's catch-all

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_register": is_system_admin(request.user)}
        return super().changelist_view(request, extra_context)

    def register_view(self, request):
        """Step one (GET, no type): choose the licence type. Step two (GET ?licence_type=):
        the full form for that type; POSTed, the service registers and signs the licence."""
        if not is_system_admin(request.user):
            raise PermissionDenied
        posted = request.method == "POST"
        source = request.POST if posted else request.GET
        chooser = TypeChoiceForm(source if posted or "licence_type" in source else None)
        if not chooser.is_valid():  # no type chosen yet, or one not (or no longer) issued
            return self._register_page(request, chooser, status=400 if chooser.is_bound else 200)
        licence_type = chooser.cleaned_data["licence_type"]
        if not posted:
            form = RegisterPaperLicenceForm(licence_type=licence_type)
            return self._register_page(request, form)
        form = RegisterPaperLicenceForm(request.POST, licence_type=licence_type)
        if form.is_valid():
            try:
                licence = services.licence_issue(
                    licence_type=licence_type,
                    holder=form.cleaned_data["holder"],
                    data=form.licence_data(),
                    issued_on=form.cleaned_data["issued_on"],
                    registered_by=request.user,
                    channel=Channel.ADMIN,
                )
            except ValidationError as exc:
                set_service_errors(form, exc, rename={"issuer": "licence_type"})
            else:
                self.message_user(request, self._registered(licence), messages.SUCCESS)
                return redirect(reverse("admin:licences_licence_change", args=[licence.pk]))
        return self._register_page(request, form, status=400)

    @staticmethod
    def _registered(licence) -> str:
        done = _("The paper licence is registered as %(identifier)s.") % {
            "identifier": licence.identifier
        }
        if licence.status == LicenceStatus.EXPIRED:
            ended = _("Its validity ended on %(date)s, so it is expired already.") % {
                "date": formats.date_format(licence.valid_until)
            }
            done = f"{done} {ended}"
        return done

    def _register_page(self, request, form, *, status=200):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Register a paper licence"),
            "opts": self.opts,
            "form": form,
            "licence_type": getattr(form, "licence_type", None),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "licences/admin/register.html", context, status=status)
