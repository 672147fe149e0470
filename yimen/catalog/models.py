"""The service catalogue: items and their versioned guides, the shared material library and
field dictionary, and themes that bundle items.

A ServiceItem is the lasting identity of one item at one department (its implementation
code). Everything its guide says lives on an ItemVersion: a draft is edited, a published
version is frozen (cases pin it), and publishing a new one archives the old. The rules a
single row can check are in `clean()`; the rules of a whole guide are the quality checker's
(yimen.catalog.quality); the steps that change state are the services'.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yimen.common import identifiers
from yimen.org.choices import Role

from .choices import (
    MANDATORY_NODES,
    FieldType,
    HandlingType,
    HolderKind,
    ItemType,
    LimitUnit,
    MaterialKind,
    Node,
    OnlineDepth,
    Requirement,
    Target,
    ThemeCategory,
    TongbanScope,
    VersionStatus,
)

# --- codes -----------------------------------------------------------------------------------

BASIC_CODE_RE = re.compile(r"^\d{11}[\dY]$")
# Implementation code: department USCC (18) + nature of the implementing body (1: the
# statutory authority, 2: an authorised organisation, 3: an entrusted one) + basic code
# (12) + an optional 2-digit business-handling suffix (业务办理项).
IMPLEMENTATION_CODE_RE = re.compile(
    r"^(?P<uscc>.{18})(?P<nature>[123])(?P<basic>.{12})(?P<suffix>\d{2})?$"
)


def basic_code_error(code: str) -> str | None:
    if not BASIC_CODE_RE.match(code or ""):
        return str(
            _(
                "A basic code is 12 characters: 11 digits, then a digit"
                " or Y (an item with sub-items)."
            )
        )
    return None


def implementation_code_error(code: str) -> str | None:
    """Why `code` is not a valid implementation code (None when it is)."""
    match = IMPLEMENTATION_CODE_RE.match(code or "")
    if match is None:
        return str(
            _(
                "An implementation code is the department's credit code (18), the nature of the"
                " implementing body (1, 2 or 3), the basic code (12) and an optional 2-digit"
                " business suffix: 31 or 33 characters."
            )
        )
    if uscc_error := identifiers.uscc_error(match["uscc"]):
        return str(_("Its first 18 characters are not a valid credit code: %(reason)s")) % {
            "reason": uscc_error
        }
    return basic_code_error(match["basic"])


def validate_basic_code(value: str) -> None:
    if error := basic_code_error(value):
        raise ValidationError(error, code="invalid")


def validate_implementation_code(value: str) -> None:
    if error := implementation_code_error(value):
        raise ValidationError(error, code="invalid")


phone_validator = RegexValidator(
    r"^[0-9+\-() ]{3,32}$", _("A phone number is digits, with - + ( ) or spaces.")
)


# --- the library ------------------------------------------------------------------------------


class MaterialType(models.Model):
    """An entry of the shared material library (材料目录): the key that lets two items, or the
    items of a theme, ask for one material once."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=MaterialKind.choices, default=MaterialKind.DOCUMENT
    )
    holder_kind = models.CharField(
        _("belongs to"), max_length=16, choices=HolderKind.choices, default=HolderKind.ANY
    )
    template_file = models.FileField(
        _("blank form"),
        upload_to="catalog/forms/",
        blank=True,
        help_text=_("For forms: the blank form to download."),
    )
    sample_file = models.FileField(_("filled-in sample"), upload_to="catalog/samples/", blank=True)
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"), null=True, blank=True, help_text=_("Empty: does not expire.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("material type")
        verbose_name_plural = _("material types")

    def __str__(self):
        return self.name


class FieldDefinition(models.Model):
    """An entry of the field dictionary (字段字典): one piece of data, defined once, that any
    item's form may ask for; a theme's merged form asks each key once."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100)
    datatype = models.CharField(_("data type"), max_length=16, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For list types: the options.")
    )
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    min_value = models.DecimalField(
        _("minimum"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    pattern = models.CharField(
        _("pattern"),
        max_length=200,
        blank=True,
        help_text=_("A regular expression the value must match."),
    )
    pattern_message = models.CharField(
        _("message when the pattern fails"), max_length=200, blank=True
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    holder_kind = models.CharField(
        _("belongs to"), max_length=16, choices=HolderKind.choices, default=HolderKind.ANY
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("dictionary field")
        verbose_name_plural = _("field dictionary")

    def __str__(self):
        return f"{self.label} ({self.key})"

    LIST_TYPES = (FieldType.CHOICE, FieldType.MULTICHOICE)

    def clean(self):
        if self.datatype in self.LIST_TYPES:
            if not self.choices or not all(isinstance(c, str) and c for c in self.choices):
                raise ValidationError({"choices": _("A list field needs its options.")})
            if len(set(self.choices)) != len(self.choices):
                raise ValidationError({"choices": _("The options repeat.")})
        elif self.choices:
            raise ValidationError({"choices": _("Only list fields have options.")})
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValidationError({"pattern": _("Not a valid pattern: %s") % exc}) from exc
        bounds = (self.min_value, self.max_value)
        if None not in bounds and bounds[0] > bounds[1]:
            raise ValidationError({"max_value": _("The maximum is below the minimum.")})

    def formfield(self, *, required: bool = True) -> forms.Field:
        """The form field that asks for this value, with the dictionary's validation."""
        options = {"label": self.label, "required": required, "help_text": self.help_text}
        validators = []
        if self.pattern:
            validators.append(
                RegexValidator(
                    self.pattern, self.pattern_message or _("The value has the wrong form.")
                )
            )
        kind = self.datatype
        if kind in (FieldType.TEXT, FieldType.TEXTAREA):
            widget = forms.Textarea(attrs={"rows": 3}) if kind == FieldType.TEXTAREA else None
            return forms.CharField(
                max_length=self.max_length, validators=validators, widget=widget, **options
            )
        if kind in (FieldType.INTEGER, FieldType.DECIMAL):
            cls = forms.IntegerField if kind == FieldType.INTEGER else forms.DecimalField
            return cls(min_value=self.min_value, max_value=self.max_value, **options)
        if kind == FieldType.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
        if kind == FieldType.BOOLEAN:
            # A checkbox left unticked is the answer "no", not a missing answer.
            return forms.BooleanField(**{**options, "required": False})
        if kind in self.LIST_TYPES:
            pairs = [(c, c) for c in self.choices]
            if kind == FieldType.CHOICE:
                return forms.ChoiceField(choices=[("", "---------"), *pairs], **options)
            return forms.MultipleChoiceField(
                choices=pairs, widget=forms.CheckboxSelectMultiple, **options
            )
        if kind == FieldType.EMAIL:
            return forms.EmailField(max_length=self.max_length, validators=validators, **options)
        special = {
            FieldType.CITIZEN_ID: identifiers.validate_citizen_id,
            FieldType.USCC: identifiers.validate_uscc,
            FieldType.MOBILE: identifiers.validate_mobile,
        }
        return forms.CharField(max_length=18, validators=[special[kind], *validators], **options)


# --- items and their versions ----------------------------------------------------------------


class ServiceItemQuerySet(models.QuerySet):
    def with_latest_name(self):
        """Annotate the name of each item's newest version, which __str__ then shows."""
        newest = ItemVersion.objects.filter(item=models.OuterRef("pk")).order_by("-number")
        return self.annotate(latest_name=models.Subquery(newest.values("name")[:1]))


class ServiceItem(models.Model):
    """One service item as implemented by one department: the identity its versions share."""

    implementation_code = models.CharField(
        _("implementation code"),
        max_length=33,
        unique=True,
        validators=[validate_implementation_code],
    )
    basic_code = models.CharField(
        _("basic code"),
        max_length=12,
        db_index=True,
        editable=False,
        blank=True,
        help_text=_("Taken from the implementation code."),
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="service_items",
    )
    region = models.ForeignKey(
        "org.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="service_items",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        ordering = ["implementation_code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")

    def __str__(self):
        name = getattr(self, "latest_name", None)
        return f"{name} ({self.implementation_code})" if name else self.implementation_code

    def save(self, *args, **kwargs):
        self.basic_code = self.implementation_code[19:31]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("catalog:item", args=[self.implementation_code])

    def clean(self):
        if (
            self.department_id
            and not implementation_code_error(self.implementation_code)
            and self.implementation_code[:18] != self.department.uscc
        ):
            message = _("It must begin with the department's credit code %(uscc)s.")
            raise ValidationError({"implementation_code": message % {"uscc": self.department.uscc}})


class ItemVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=VersionStatus.PUBLISHED)

    def with_guide(self):
        """Everything a guide page shows, in a fixed number of queries."""
        return self.select_related(
            "item__department", "item__region", "window_category"
        ).prefetch_related(
            models.Prefetch("materials", queryset=Material.objects.select_related("material_type")),
            models.Prefetch("form_fields", queryset=FormField.objects.select_related("field")),
            "review_steps",
        )


class FrozenVersion(Exception):
    """A write that would change the guide of a published or archived version: a programming
    error (the services offer a new draft instead), so it is not a validation error."""


def default_nodes() -> list[int]:
    return sorted(int(n) for n in Node)


class ItemVersion(models.Model):
    """One version of an item's guide. Drafts are edited; a published version never changes."""

    item = models.ForeignKey(
        ServiceItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    change_note = models.CharField(_("what changed"), max_length=200, blank=True)

    # What the item is.
    name = models.CharField(_("name"), max_length=200)
    item_type = models.CharField(_("item type"), max_length=32, choices=ItemType.choices)
    window_category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="item_versions",
    )
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Words people search with, separated by spaces."),
    )
    conditions = models.TextField(_("conditions"), blank=True)
    legal_basis = models.JSONField(
        _("legal basis"),
        default=list,
        blank=True,
        help_text=_("One law, regulation or rule per entry, with its article."),
    )

    # Limits and handling.
    statutory_limit = models.PositiveSmallIntegerField(
        _("statutory limit"), null=True, blank=True, validators=[MaxValueValidator(3650)]
    )
    statutory_unit = models.CharField(
        _("statutory limit unit"),
        max_length=16,
        choices=LimitUnit.choices,
        default=LimitUnit.WORKDAYS,
    )
    promised_limit = models.PositiveSmallIntegerField(
        _("promised limit"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(3650)],
        help_text=_("0: decided on the spot."),
    )
    promised_unit = models.CharField(
        _("promised limit unit"),
        max_length=16,
        choices=LimitUnit.choices,
        default=LimitUnit.WORKDAYS,
    )
    handling_type = models.CharField(
        _("handling type"),
        max_length=16,
        choices=HandlingType.choices,
        default=HandlingType.PROMISED,
    )
    is_free = models.BooleanField(_("free of charge"), default=True)
    fee_amount = models.DecimalField(
        _("fee (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when the fee varies: the basis then says how it is set."),
    )
    fee_basis = models.TextField(_("fee standard and basis"), blank=True)
    visits = models.PositiveSmallIntegerField(
        _("visits to the hall"), choices=[(0, "0"), (1, "1"), (2, "2")], default=1
    )
    online_depth = models.CharField(
        _("online depth"), max_length=20, choices=OnlineDepth.choices, default=OnlineDepth.OFFLINE
    )

    # Tags: 双零, 四办, 通办.
    zero_visit = models.BooleanField(_("zero visits"), default=False)
    zero_submission = models.BooleanField(_("zero paper"), default=False)
    on_the_spot = models.BooleanField(_("done on the spot"), default=False)
    online = models.BooleanField(_("done online"), default=False)
    one_visit = models.BooleanField(_("done in one visit"), default=False)
    nearby = models.BooleanField(_("done nearby"), default=False)
    tongban = models.CharField(
        _("handled anywhere"),
        max_length=16,
        choices=TongbanScope.choices,
        default=TongbanScope.NONE,
        blank=True,
    )

    # Contact and place.
    supervision_phone = models.CharField(
        _("supervision phone"), max_length=32, blank=True, validators=[phone_validator]
    )
    consultation_phone = models.CharField(
        _("consultation phone"), max_length=32, blank=True, validators=[phone_validator]
    )
    location = models.CharField(_("where"), max_length=200, blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    flow_description = models.TextField(_("flow"), blank=True)

    # The process the cases module runs.
    nodes = models.JSONField(_("process nodes"), default=default_nodes)

    # Derived: kept by the services.
    search_text = models.TextField(editable=False, blank=True)
    findings = models.JSONField(_("quality findings"), default=list, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    objects = ItemVersionQuerySet.as_manager()

    # The guide proper, as a service may set it (the rest is identity, state or derived).
    GUIDE_FIELDS = (
        "name", "item_type", "window_category", "target", "keywords", "conditions",
        "legal_basis", "statutory_limit", "statutory_unit", "promised_limit", "promised_unit",
        "handling_type", "is_free", "fee_amount", "fee_basis", "visits", "online_depth",
        "zero_visit", "zero_submission", "on_the_spot", "online", "one_visit", "nearby",
        "tongban", "supervision_phone", "consultation_phone", "location", "hours",
        "flow_description", "nodes", "change_note",
    )  # fmt: skip
    # What may still be written on a published or archived version: its state and the data
    # derived from it; never the guide a case may have pinned.
    FROZEN_WRITABLE = frozenset(
        {"status", "archived_at", "published_at", "published_by", "findings", "search_text"}
    )
    TAG_FIELDS = ("zero_visit", "zero_submission", "on_the_spot", "online", "one_visit", "nearby")

    class Meta:
        ordering = ["item", "-number"]
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "number"], name="catalog_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=VersionStatus.DRAFT),
                name="catalog_version_one_draft",
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=VersionStatus.PUBLISHED),
                name="catalog_version_one_published",
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.number}"

    def save(self, *args, **kwargs):
        if getattr(self, "_stored_status", None) in (
            VersionStatus.PUBLISHED,
            VersionStatus.ARCHIVED,
        ):
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.FROZEN_WRITABLE:
                raise FrozenVersion(f"{self} is {self._stored_status}: its guide cannot change")
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def get_absolute_url(self):
        return reverse("catalog:item_version", args=[self.item.implementation_code, self.number])

    @classmethod
    def from_db(cls, db, field_names, values):
        version = super().from_db(db, field_names, values)
        version._stored_status = version.__dict__.get("status")
        return version

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def clean(self):
        errors = {}
        if not isinstance(self.legal_basis, list) or not all(
            isinstance(b, str) and b.strip() for b in self.legal_basis
        ):
            errors["legal_basis"] = _("The legal basis is a list of non-empty texts.")
        if not self.is_free and not self.fee_basis.strip():
            errors["fee_basis"] = _("An item that charges must state its fee standard and basis.")
        if self.is_free and self.fee_amount is not None:
            errors["fee_amount"] = _("A free item has no fee.")
        elif self.fee_amount is not None and self.fee_amount < 0:
            errors["fee_amount"] = _("A fee cannot be negative.")
        if not isinstance(self.nodes, list) or not all(n in Node.values for n in self.nodes):
            errors["nodes"] = _("Process nodes are numbers from 1 to 13.")
        elif missing := sorted(MANDATORY_NODES - set(self.nodes)):
            errors["nodes"] = _("Every item passes these nodes: %(nodes)s.") % {
                "nodes": "、".join(str(Node(n).label) for n in missing)
            }
        if errors:
            raise ValidationError(errors)

    @property
    def tags(self) -> list[str]:
        """The labels of the tags this version carries, for lists and pages."""
        labels = [
            str(self._meta.get_field(f).verbose_name) for f in self.TAG_FIELDS if getattr(self, f)
        ]
        if self.tongban:
            labels.append(str(self.get_tongban_display()))
        return labels


class VersionPart(models.Model):
    """A row that belongs to one version: editable only while the version is a draft."""

    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.version.is_draft:
            raise FrozenVersion(f"{self.version} is not a draft: its parts cannot change")
        super().save(*args, **kwargs)

    def clean(self):
        if self.version_id and not self.version.is_draft:
            raise ValidationError(_("Only a draft can be changed: start a new version."))


class ReviewStep(VersionPart):
    """One step of the item's review chain (e.g. 承办 → 审核 → 审批)."""

    ROLES = [(r.value, r.label) for r in (Role.REVIEWER, Role.DEPARTMENT_HEAD)]

    version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="review_steps",
    )
    name = models.CharField(_("step"), max_length=32)
    role = models.CharField(_("performed by"), max_length=32, choices=ROLES, default=Role.REVIEWER)

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("review step")
        verbose_name_plural = _("review chain")

    def __str__(self):
        return self.name


class Material(VersionPart):
    """One material an item asks for."""

    version = models.ForeignKey(
        ItemVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="materials"
    )
    material_type = models.ForeignKey(
        MaterialType,
        verbose_name=_("material type"),
        on_delete=models.PROTECT,
        related_name="materials",
    )
    name = models.CharField(
        _("name in this guide"), max_length=200, blank=True, help_text=_("Empty: the type's name.")
    )
    originals = models.PositiveSmallIntegerField(_("originals"), default=1)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    electronic_accepted = models.BooleanField(_("electronic copy accepted"), default=True)
    requirement = models.CharField(
        _("requirement"), max_length=16, choices=Requirement.choices, default=Requirement.REQUIRED
    )
    condition = models.CharField(_("condition"), max_length=200, blank=True)
    tolerable = models.BooleanField(_("may be supplied later"), default=False)
    tolerance_method = models.CharField(_("how to supply it later"), max_length=200, blank=True)
    tolerance_days = models.PositiveSmallIntegerField(
        _("supply within (working days)"), null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "material_type"], name="catalog_material_unique_type"
            )
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.material_type.name

    def clean(self):
        super().clean()
        errors = {}
        if self.requirement == Requirement.CONDITIONAL and not self.condition.strip():
            errors["condition"] = _("A conditional material states its condition.")
        if self.requirement == Requirement.REQUIRED and self.condition.strip():
            errors["condition"] = _("Only a conditional material has a condition.")
        if self.tolerable:
            if not self.tolerance_days:
                errors["tolerance_days"] = _("Say within how many working days it is supplied.")
            if not self.tolerance_method.strip():
                errors["tolerance_method"] = _("Say how it is supplied later.")
        elif self.tolerance_days or self.tolerance_method.strip():
            errors["tolerable"] = _("Only a tolerable material has a later supply.")
        if not (self.originals or self.copies or self.electronic_accepted):
            errors["originals"] = _("Ask for an original, a copy or an electronic file.")
        if errors:
            raise ValidationError(errors)


class FormField(VersionPart):
    """One field of an item's application form, defined by the field dictionary."""

    version = models.ForeignKey(
        ItemVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="form_fields"
    )
    field = models.ForeignKey(
        FieldDefinition,
        verbose_name=_("dictionary field"),
        on_delete=models.PROTECT,
        related_name="uses",
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("form field")
        verbose_name_plural = _("application form")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "field"], name="catalog_formfield_unique_field"
            )
        ]

    def __str__(self):
        return self.field.label


# --- themes ----------------------------------------------------------------------------------


class Theme(models.Model):
    """A bundle of items handled together (主题 / 一件事), optionally in stages, with
    scenario questions that select the items that apply (办事情形)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=32, choices=ThemeCategory.choices)
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    description = models.TextField(_("description"), blank=True)
    promised_limit = models.PositiveSmallIntegerField(
        _("joint promised limit (working days)"),
        null=True,
        blank=True,
        help_text=_("Empty: the statutory 45 working days of joint handling."),
    )
    denial_blocks_all = models.BooleanField(_("one refusal stops the others"), default=False)
    window_category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The windows that accept its applications; empty: those of its first item."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:theme", args=[self.code])


class ThemeStage(models.Model):
    """A stage of a theme (工程建设: 立项用地规划许可 → 工程建设许可 → 施工许可 → 竣工验收)."""

    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.CASCADE, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["theme", "order"]
        verbose_name = _("theme stage")
        verbose_name_plural = _("theme stages")
        constraints = [
            models.UniqueConstraint(fields=["theme", "order"], name="catalog_stage_unique_order")
        ]

    def __str__(self):
        return f"{self.order}. {self.name}"


class ThemeItem(models.Model):
    """An item of a theme (in one of its stages when it has stages)."""

    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.CASCADE, related_name="theme_items"
    )
    stage = models.ForeignKey(
        ThemeStage,
        verbose_name=_("stage"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="theme_items",
    )
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="theme_items"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["theme", "stage__order", "order", "pk"]
        verbose_name = _("theme item")
        verbose_name_plural = _("theme items")
        constraints = [
            models.UniqueConstraint(fields=["theme", "item"], name="catalog_themeitem_unique_item")
        ]

    def __str__(self):
        return f"{self.theme} · {self.item}"

    def clean(self):
        if self.stage_id and self.theme_id and self.stage.theme_id != self.theme_id:
            raise ValidationError({"stage": _("The stage belongs to another theme.")})
        if self.stage_id is None and self.theme_id and self.theme.stages.exists():
            raise ValidationError({"stage": _("This theme has stages: choose the item's stage.")})


class ScenarioQuestion(models.Model):
    """A question that decides which of a theme's items apply (办事情形)."""

    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=200)
    multiple = models.BooleanField(_("several answers"), default=False)

    class Meta:
        ordering = ["theme", "order", "pk"]
        verbose_name = _("scenario question")
        verbose_name_plural = _("scenario questions")

    def __str__(self):
        return self.text


class ScenarioOption(models.Model):
    """An answer to a scenario question, and the theme items it brings in. A theme item
    that no option names always applies."""

    question = models.ForeignKey(
        ScenarioQuestion,
        verbose_name=_("question"),
        on_delete=models.CASCADE,
        related_name="options",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("answer"), max_length=200)
    theme_items = models.ManyToManyField(
        ThemeItem, verbose_name=_("items it selects"), blank=True, related_name="options"
    )

    class Meta:
        ordering = ["question", "order", "pk"]
        verbose_name = _("scenario answer")
        verbose_name_plural = _("scenario answers")

    def __str__(self):
        return self.text
