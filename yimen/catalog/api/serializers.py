"""Shapes of the catalogue API. Serializers parse and present; the rules live in
yimen.catalog.services (writes) and yimen.catalog.selectors (reads)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from yimen.org.api.serializers import (
    DepartmentRefSerializer,
    RegionRefSerializer,
    WindowCategoryRefSerializer,
)
from yimen.org.models import Department, Region

from .. import quality
from ..choices import (
    FieldType,
    HandlingType,
    HolderKind,
    ItemType,
    LimitUnit,
    MaterialKind,
    Node,
    OnlineDepth,
    Requirement,
    Severity,
    Target,
    ThemeCategory,
    TongbanScope,
    VersionStatus,
)
from ..models import (
    FieldDefinition,
    FormField,
    ItemVersion,
    Material,
    MaterialType,
    ReviewStep,
    Theme,
)
from ..services import FORM_FIELD_FIELDS, MATERIAL_FIELDS, REVIEW_STEP_FIELDS

# --- enums -----------------------------------------------------------------------------------


class EnumField(serializers.ChoiceField):
    """A choice field that the schema names after its choices ("CatalogTargetEnum").

    drf-spectacular otherwise names an enum after the field, and fields of other apps with
    the same name and other choices ("kind", "role", "status") would collide."""

    def __init__(self, choices, *, component: str, **kwargs):
        self.component = f"Catalog{component}Enum"
        super().__init__(choices=choices, **kwargs)


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self):
        return self.target.component

    def map_serializer_field(self, auto_schema, direction):
        values = list(self.target.choices)
        kind = "integer" if all(isinstance(v, int) for v in values) else "string"
        lines = [f"* `{value}` - {label}" for value, label in self.target.choices.items()]
        return {"type": kind, "enum": values, "description": "\n".join(lines)}


# --- the library -----------------------------------------------------------------------------


class MaterialTypeRefSerializer(serializers.ModelSerializer):
    kind = enum(MaterialKind, read_only=True)

    class Meta:
        model = MaterialType
        fields = ["code", "name", "kind"]
        read_only_fields = fields


class MaterialTypeSerializer(serializers.ModelSerializer):
    kind = enum(MaterialKind, read_only=True)
    holder_kind = enum(HolderKind, read_only=True)

    class Meta:
        model = MaterialType
        fields = [
            "code",
            "name",
            "description",
            "kind",
            "holder_kind",
            "template_file",
            "sample_file",
            "validity_days",
            "is_active",
        ]
        read_only_fields = fields


class FieldRefSerializer(serializers.ModelSerializer):
    datatype = enum(FieldType, read_only=True)
    choices = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = FieldDefinition
        fields = ["key", "label", "datatype", "choices"]
        read_only_fields = fields


class FieldDefinitionSerializer(FieldRefSerializer):
    holder_kind = enum(HolderKind, read_only=True)

    class Meta:
        model = FieldDefinition
        fields = [
            "key",
            "label",
            "datatype",
            "choices",
            "max_length",
            "min_value",
            "max_value",
            "pattern",
            "pattern_message",
            "help_text",
            "holder_kind",
            "is_active",
        ]
        read_only_fields = fields


# --- the parts of a guide --------------------------------------------------------------------


class MaterialSerializer(serializers.ModelSerializer):
    material_type = MaterialTypeRefSerializer(read_only=True)
    display_name = serializers.CharField(read_only=True)
    requirement = enum(Requirement, read_only=True)

    class Meta:
        model = Material
        fields = ["display_name", *MATERIAL_FIELDS]
        read_only_fields = fields


class FormFieldSerializer(serializers.ModelSerializer):
    field = FieldRefSerializer(read_only=True)

    class Meta:
        model = FormField
        fields = list(FORM_FIELD_FIELDS)
        read_only_fields = fields


def review_role(**kwargs) -> EnumField:
    return EnumField(ReviewStep.ROLES, component="ReviewRole", **kwargs)


class ReviewStepSerializer(serializers.ModelSerializer):
    role = review_role(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = ReviewStep
        fields = ["name", "role", "role_label"]
        read_only_fields = fields


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = enum(Severity)
    blocking = serializers.BooleanField()
    message = serializers.CharField()
    detail = serializers.CharField()


# --- guides ----------------------------------------------------------------------------------


class ItemSummarySerializer(serializers.ModelSerializer):
    """A guide in force as a list shows it."""

    implementation_code = serializers.CharField(source="item.implementation_code")
    basic_code = serializers.CharField(source="item.basic_code")
    department = DepartmentRefSerializer(source="item.department")
    region = RegionRefSerializer(source="item.region")
    version = serializers.IntegerField(source="number")
    item_type = enum(ItemType)
    target = enum(Target)
    handling_type = enum(HandlingType)
    online_depth = enum(OnlineDepth)
    tongban = enum(TongbanScope)
    promised_unit = enum(LimitUnit)
    tags = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The labels of the tags the guide carries (zero visits, done online…)."),
    )

    class Meta:
        model = ItemVersion
        fields = [
            "implementation_code",
            "basic_code",
            "name",
            "department",
            "region",
            "version",
            "published_at",
            "item_type",
            "target",
            "handling_type",
            "online_depth",
            "tongban",
            "promised_limit",
            "promised_unit",
            "visits",
            "is_free",
            "tags",
        ]
        read_only_fields = fields


class ItemDetailSerializer(ItemSummarySerializer):
    """The whole guide: what the item page shows and what a case is applied under."""

    item_type_label = serializers.CharField(source="get_item_type_display")
    target_label = serializers.CharField(source="get_target_display")
    handling_type_label = serializers.CharField(source="get_handling_type_display")
    online_depth_label = serializers.CharField(source="get_online_depth_display")
    tongban_label = serializers.CharField(source="get_tongban_display")
    window_category = WindowCategoryRefSerializer(allow_null=True)
    legal_basis = serializers.ListField(child=serializers.CharField())
    statutory_unit = enum(LimitUnit)
    nodes = serializers.ListField(
        child=enum(Node), help_text=_("The nodes of the standard process the item passes.")
    )
    materials = MaterialSerializer(many=True)
    form_fields = FormFieldSerializer(many=True)
    review_steps = ReviewStepSerializer(many=True)

    class Meta(ItemSummarySerializer.Meta):
        fields = [
            *ItemSummarySerializer.Meta.fields,
            "item_type_label",
            "target_label",
            "handling_type_label",
            "online_depth_label",
            "tongban_label",
            "window_category",
            "keywords",
            "conditions",
            "legal_basis",
            "statutory_limit",
            "statutory_unit",
            "fee_amount",
            "fee_basis",
            *ItemVersion.TAG_FIELDS,
            "supervision_phone",
            "consultation_phone",
            "location",
            "hours",
            "flow_description",
            "nodes",
            "materials",
            "form_fields",
            "review_steps",
        ]
        read_only_fields = fields


# --- the versions catalogue admins work on ---------------------------------------------------


class FindingsField(serializers.ListField):
    """The findings the quality checker stored on the version, with their messages."""

    child = FindingSerializer()

    def get_attribute(self, instance):
        return quality.stored_findings(instance)


class VersionSummarySerializer(serializers.ModelSerializer):
    implementation_code = serializers.CharField(source="item.implementation_code")
    department = DepartmentRefSerializer(source="item.department")
    status = enum(VersionStatus)
    findings = FindingsField()

    class Meta:
        model = ItemVersion
        fields = [
            "id",
            "implementation_code",
            "name",
            "department",
            "number",
            "status",
            "change_note",
            "created_at",
            "published_at",
            "archived_at",
            "findings",
        ]
        read_only_fields = fields


class VersionRefSerializer(serializers.ModelSerializer):
    status = enum(VersionStatus)

    class Meta:
        model = ItemVersion
        fields = ["id", "number", "status", "published_at", "archived_at"]
        read_only_fields = fields


class VersionDetailSerializer(ItemDetailSerializer):
    """A version with its state, its findings and the other versions of its item."""

    status = enum(VersionStatus)
    findings = FindingsField()
    history = VersionRefSerializer(
        source="item.versions", many=True, help_text=_("Every version of the item, newest first.")
    )

    class Meta(ItemDetailSerializer.Meta):
        fields = [
            "id",
            "number",
            "status",
            "change_note",
            "created_at",
            "archived_at",
            "findings",
            "history",
            *ItemDetailSerializer.Meta.fields,
        ]
        read_only_fields = fields


# --- writing a version -----------------------------------------------------------------------


def flat_errors(detail, prefix: str = "") -> dict:
    """Nested errors keyed the way the services key theirs: `materials.2.condition`."""
    if isinstance(detail, dict):
        pairs = detail.items()
    elif isinstance(detail, list) and any(isinstance(e, dict | list) for e in detail):
        pairs = enumerate(detail)
    else:
        return {prefix: detail}
    flat = {}
    for key, value in pairs:
        if key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
            key = ""
        name = ".".join(str(part) for part in (prefix, key) if part != "")
        flat.update(flat_errors(value, name))
    return flat


class MaterialInputSerializer(serializers.ModelSerializer):
    material_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=MaterialType.objects.all(),
        help_text=_("The code of the material type in the library."),
    )
    requirement = enum(Requirement, required=False)

    class Meta:
        model = Material
        fields = list(MATERIAL_FIELDS)


class FormFieldInputSerializer(serializers.ModelSerializer):
    field = serializers.SlugRelatedField(
        slug_field="key",
        queryset=FieldDefinition.objects.all(),
        help_text=_("The key of the field in the dictionary."),
    )

    class Meta:
        model = FormField
        fields = list(FORM_FIELD_FIELDS)


class ReviewStepInputSerializer(serializers.ModelSerializer):
    role = review_role(required=False)

    class Meta:
        model = ReviewStep
        fields = list(REVIEW_STEP_FIELDS)


PARTS_HELP = _("Given, the list replaces the draft's whole list, in this order.")


class GuideInputSerializer(serializers.ModelSerializer):
    """The guide of a draft and its parts, as the services take them."""

    item_type = enum(ItemType)
    target = enum(Target)
    statutory_unit = enum(LimitUnit, required=False)
    promised_unit = enum(LimitUnit, required=False)
    handling_type = enum(HandlingType, required=False)
    online_depth = enum(OnlineDepth, required=False)
    tongban = enum(TongbanScope, required=False, allow_blank=True)
    legal_basis = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("One law, regulation or rule per entry, with its article."),
    )
    nodes = serializers.ListField(
        child=enum(Node),
        required=False,
        help_text=_("The nodes of the standard process the item passes."),
    )
    materials = MaterialInputSerializer(many=True, required=False, help_text=PARTS_HELP)
    form_fields = FormFieldInputSerializer(many=True, required=False, help_text=PARTS_HELP)
    review_steps = ReviewStepInputSerializer(many=True, required=False, help_text=PARTS_HELP)

    class Meta:
        model = ItemVersion
        fields = [*ItemVersion.GUIDE_FIELDS, "materials", "form_fields", "review_steps"]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(flat_errors(exc.detail)) from exc


class VersionCreateSerializer(GuideInputSerializer):
    """A new item and its first draft."""

    implementation_code = serializers.CharField(
        max_length=40,
        help_text=_(
            "The department's credit code (18), the nature of the implementing body (1, 2 or 3),"
            " the basic code (12) and an optional 2-digit business suffix."
        ),
    )
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Empty: the department's region."),
    )

    class Meta(GuideInputSerializer.Meta):
        fields = ["implementation_code", "department", "region", *GuideInputSerializer.Meta.fields]


class ArchiveSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text=_("Why the item is withdrawn; kept in the audit trail.")
    )


class NewDraftSerializer(serializers.Serializer):
    change_note = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("What the new version is for."),
    )


class PublishRefusedSerializer(serializers.Serializer):
    status = serializers.ListField(child=serializers.CharField())
    findings = FindingSerializer(many=True, help_text=_("The blocking findings."))


# --- themes ----------------------------------------------------------------------------------


class StageRefSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    name = serializers.CharField()


class ThemeSummarySerializer(serializers.ModelSerializer):
    category = enum(ThemeCategory)
    target = enum(Target)
    stages = StageRefSerializer(many=True)
    item_count = serializers.IntegerField()

    class Meta:
        model = Theme
        fields = [
            "code",
            "name",
            "category",
            "target",
            "description",
            "promised_limit",
            "denial_blocks_all",
            "stages",
            "item_count",
        ]
        read_only_fields = fields


class MergedMaterialSerializer(serializers.Serializer):
    material_type = MaterialTypeRefSerializer()
    required = serializers.BooleanField()
    originals = serializers.IntegerField()
    copies = serializers.IntegerField()
    items = serializers.SerializerMethodField(
        help_text=_("The implementation codes of the items that ask for it.")
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_items(self, merged) -> list[str]:
        return [version.item.implementation_code for version in merged.items]


class MergedFieldSerializer(serializers.Serializer):
    field = FieldRefSerializer()
    required = serializers.BooleanField()


class ReductionSerializer(serializers.Serializer):
    """Guides merged: each material type asked once, each dictionary field asked once."""

    materials_before = serializers.IntegerField()
    materials_after = serializers.IntegerField()
    materials_cut = serializers.IntegerField(help_text=_("The reduction in per cent."))
    fields_before = serializers.IntegerField()
    fields_after = serializers.IntegerField()
    fields_cut = serializers.IntegerField(help_text=_("The reduction in per cent."))
    materials = MergedMaterialSerializer(many=True)
    fields = MergedFieldSerializer(many=True)


class ThemeStageSerializer(StageRefSerializer):
    description = serializers.CharField()
    reduction = ReductionSerializer()


class ThemeItemSerializer(serializers.Serializer):
    implementation_code = serializers.CharField()
    name = serializers.CharField(
        allow_null=True, help_text=_("Empty when the item has no guide in force.")
    )
    department = serializers.CharField()
    stage = serializers.IntegerField(
        allow_null=True, help_text=_("The order of its stage (empty: the theme has none).")
    )
    in_force = serializers.BooleanField()


class ScenarioOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("What to give as `answer` to choose it."))
    text = serializers.CharField()
    items = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The implementation codes of the items this answer brings in."),
    )


class ScenarioQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    multiple = serializers.BooleanField()
    options = ScenarioOptionSerializer(many=True)


class ThemeDetailSerializer(serializers.Serializer):
    """A theme, its items, its scenario questions and what merging its guides saves."""

    code = serializers.CharField()
    name = serializers.CharField()
    category = enum(ThemeCategory)
    target = enum(Target)
    description = serializers.CharField()
    promised_limit = serializers.IntegerField(allow_null=True)
    denial_blocks_all = serializers.BooleanField()
    stages = ThemeStageSerializer(many=True)
    answers = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text=_(
            "The options answered, by id; empty (null) when no answer was given and every "
            "item is listed."
        ),
    )
    items = ThemeItemSerializer(
        many=True,
        help_text=_(
            "The items that apply to the answers: those no answer names, and those the "
            "options chosen name."
        ),
    )
    questions = ScenarioQuestionSerializer(many=True)
    reduction = ReductionSerializer(
        help_text=_("The items that apply merged at once, every stage together.")
    )


def theme_detail(theme, plan, answers=None) -> dict:
    """The data of ThemeDetailSerializer, from a theme loaded with
    selectors.theme_with_items(), its plan for `answers` (selectors.theme_plan()) and those
    answers ({question id: [option ids]}, None when none were given)."""
    code_of = {ti.pk: ti.item.implementation_code for ti in theme.theme_items.all()}
    items = []
    for theme_item in plan.theme_items:
        version = plan.guides.get(theme_item.item_id)
        items.append(
            {
                "implementation_code": code_of[theme_item.pk],
                "name": version.name if version else None,
                "department": theme_item.item.department.name,
                "stage": theme_item.stage.order if theme_item.stage else None,
                "in_force": version is not None,
            }
        )
    questions = [
        {
            "id": question.pk,
            "text": question.text,
            "multiple": question.multiple,
            "options": [
                {
                    "id": option.pk,
                    "text": option.text,
                    "items": [
                        code_of[ti.pk] for ti in option.theme_items.all() if ti.pk in code_of
                    ],
                }
                for option in question.options.all()
            ],
        }
        for question in theme.questions.all()
    ]
    stages = [
        {
            "order": stage_plan.stage.order,
            "name": stage_plan.stage.name,
            "description": stage_plan.stage.description,
            "reduction": stage_plan.merge,
        }
        for stage_plan in plan.stages
        if stage_plan.stage is not None
    ]
    fields = ("code", "name", "category", "target", "description", "promised_limit")
    return {
        **{name: getattr(theme, name) for name in fields},
        "denial_blocks_all": theme.denial_blocks_all,
        "stages": stages,
        "answers": None
        if answers is None
        else [o for options in answers.values() for o in options],
        "items": items,
        "questions": questions,
        "reduction": plan.whole,
    }
