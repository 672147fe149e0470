"""Shapes of the cases API. Serializers parse and present; the rules live in
yimen.cases.services (every step), yimen.cases.workflow (which step from which state) and
yimen.cases.permissions (who may see and do what).

Files travel as multipart parts named `materials.<n>`, n the position (from 0) of the
material in the guide's list, as the catalogue API lists a guide's `materials`. A submission
may instead pick the file of one of the applicant's earlier cases (`reuse`), and needs no
file for a material a valid licence of the applicant stands for (零提交)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yimen.accounts.api.serializers import ApplicantSerializer
from yimen.accounts.models import Applicant
from yimen.catalog.api import serializers as catalog
from yimen.catalog.models import FormField, ItemVersion, Material
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.clocks import clock_state
from yimen.common.models import Clock
from yimen.org.api.serializers import DepartmentRefSerializer

from .. import permissions, services, workflow
from ..choices import (
    CaseStatus,
    ClockPurpose,
    DeliveryMethod,
    DocumentKind,
    MaterialState,
    PauseKind,
    Performer,
)
from ..models import Case, CaseMaterial
from ..selectors import (
    CLOCK_FIELDS,
    event_label,
    history_events,
    is_ticket_event,
    masked_form,
    running_clock_field,
    running_state,
)
from ..workflow import TRANSITIONS, actions_from
from .permissions import submitter

# --- enums -----------------------------------------------------------------------------------


class EnumField(catalog.EnumField):
    """The catalogue's enum field, its schema component named "Cases…Enum" so that it
    clashes with no other app's field of the same name."""

    def __init__(self, choices, *, component: str, **kwargs):
        super().__init__(choices, component=component, **kwargs)
        self.component = f"Cases{component}Enum"


class EnumFieldExtension(catalog.EnumFieldExtension):
    target_class = EnumField


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


# The actions a client may ask for: not deem_accepted (the system's alone), nor a step only
# a joint application takes for its cases (correction_answered: its resubmission).
ACTIONS = {
    name: t
    for name, t in TRANSITIONS.items()
    if t.performers - {Performer.SYSTEM} and (t.single or t.child != workflow.BY_THEME)
}
SELF_SERVICE_CHANNELS = (Channel.ONLINE, Channel.MOBILE, Channel.KIOSK)


def action_field(**kwargs) -> EnumField:
    return EnumField([(n, t.label) for n, t in ACTIONS.items()], component="Action", **kwargs)


# --- clocks ----------------------------------------------------------------------------------


def with_clocks(cases):
    """`cases` with their clocks (then `load_clocks` on what was fetched)."""
    return cases.select_related(*CLOCK_FIELDS)


def load_clocks(cases, *, every: bool = False) -> None:
    """Load the pauses and extensions of the cases' running clocks (of all their clocks with
    `every`) in two queries, so that clock_state makes none."""
    clocks = []
    for case in cases:
        fields = CLOCK_FIELDS if every else [running_clock_field(case)]
        clocks += [getattr(case, field) for field in fields if field and getattr(case, field)]
    prefetch_related_objects(clocks, "pauses", "extensions")


def current_state(case: Case):
    """The state of the clock the case's status runs on (None: no clock runs). Computed once
    per case object."""
    if "_api_clock_state" not in case.__dict__:
        case._api_clock_state = running_state(case)
    return case._api_clock_state


_moment = serializers.DateTimeField()


class CaseClockSerializer(serializers.Serializer):
    purpose = enum(ClockPurpose)
    unit = EnumField(Clock.Unit.choices, component="ClockUnit")
    limit = serializers.IntegerField(help_text=_("The limit in the clock's unit."))
    light = enum(Light)
    due_at = serializers.DateTimeField(allow_null=True, help_text=_("Empty while paused."))
    remaining = serializers.IntegerField(
        help_text=_("What is left in the clock's unit; negative when overdue.")
    )
    overdue = serializers.BooleanField()
    on_time = serializers.BooleanField(
        allow_null=True, help_text=_("Set once the clock has stopped.")
    )
    calendar_confirmed = serializers.BooleanField(
        help_text=_("False when the deadline falls in a year the calendar does not know.")
    )
    current = serializers.BooleanField(help_text=_("The clock the case's status runs on."))


def clocks_of(case: Case) -> list[dict]:
    rows = []
    for field in CLOCK_FIELDS:
        clock = getattr(case, field)
        if clock is None:
            continue
        current = running_clock_field(case) == field
        state = current_state(case) if current else clock_state(clock)
        left = state.remaining
        rows.append(
            {
                "purpose": clock.purpose,
                "unit": clock.unit,
                "limit": clock.limit,
                "light": state.light,
                "due_at": state.due_at,
                "remaining": left if isinstance(left, int) else int(left.total_seconds() // 3600),
                "overdue": state.overdue,
                "on_time": state.on_time,
                "calendar_confirmed": state.confirmed,
                "current": current,
            }
        )
    return rows


# --- a list row ------------------------------------------------------------------------------


class ClockFieldsMixin(serializers.Serializer):
    """The light and deadline of the clock the case's status runs on."""

    light = serializers.SerializerMethodField(
        help_text=_("The light of the clock the status runs on; empty when none runs.")
    )
    due_at = serializers.SerializerMethodField(
        help_text=_("The deadline of that clock; empty when none runs or it is paused.")
    )

    @extend_schema_field(enum(Light, allow_null=True))
    def get_light(self, case) -> str | None:
        state = current_state(case)
        return state.light.value if state else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, case) -> str | None:
        state = current_state(case)
        return _moment.to_representation(state.due_at) if state and state.due_at else None


class CaseRowSerializer(ClockFieldsMixin, serializers.ModelSerializer):
    """A case as lists and inboxes show it."""

    item = serializers.CharField(
        source="item_version.item.implementation_code",
        help_text=_("The implementation code of the item."),
    )
    item_name = serializers.CharField(source="item_version.name")
    department = DepartmentRefSerializer()
    status = enum(CaseStatus)
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Case
        fields = [
            "number",
            "item",
            "item_name",
            "department",
            "status",
            "status_label",
            "light",
            "due_at",
            "submitted_at",
        ]
        read_only_fields = fields


# --- the whole case --------------------------------------------------------------------------


def detail_queryset(cases):
    """`cases` with everything the detail shows, in a fixed number of queries."""
    return with_clocks(
        cases.select_related("item_version__item", "department", "applicant")
    ).prefetch_related(
        "item_version__review_steps",
        Prefetch("item_version__materials", Material.objects.select_related("material_type")),
        Prefetch(
            "materials",
            CaseMaterial.objects.select_related(
                "material__material_type", "licence__licence_type", "reused_from__case"
            ),
        ),
        "documents",
    )


class CaseItemSerializer(serializers.Serializer):
    implementation_code = serializers.CharField(source="item.implementation_code")
    name = serializers.CharField()
    version = serializers.IntegerField(source="number", help_text=_("The guide version pinned."))


class CaseStepSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The position in the review chain, from 0."))
    name = serializers.CharField()
    role = catalog.review_role()


class CaseLicenceTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CaseMaterialLicenceSerializer(serializers.Serializer):
    """The licence that stands for a material (零提交)."""

    identifier = serializers.CharField()
    type = CaseLicenceTypeSerializer(source="licence_type")


class CaseMaterialReusedFromSerializer(serializers.Serializer):
    """The earlier case whose file the material reuses."""

    case = serializers.CharField(source="case.number", help_text=_("Its case number."))


class CaseMaterialSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__")
    position = serializers.SerializerMethodField(
        help_text=_("The position of the material in the guide (empty for an extra).")
    )
    state = enum(MaterialState)
    state_label = serializers.CharField(source="get_state_display")
    file = serializers.SerializerMethodField(
        help_text=_(
            "Where to fetch the file: only for the applicant and the staff who work on the "
            "case; empty for anyone else or when there is no file."
        )
    )
    licence = CaseMaterialLicenceSerializer(
        allow_null=True,
        help_text=_("零提交: the valid licence of the applicant that stands for the material."),
    )
    reused_from = CaseMaterialReusedFromSerializer(
        allow_null=True, help_text=_("The earlier case of the applicant whose file is reused.")
    )

    class Meta:
        model = CaseMaterial
        fields = [
            "name",
            "position",
            "state",
            "state_label",
            "file_name",
            "size",
            "sha256",
            "original_seen",
            "supply_by",
            "note",
            "file",
            "licence",
            "reused_from",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_position(self, row) -> int | None:
        return self.context["positions"].get(row.material_id)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file(self, row) -> str | None:
        if not (row.file and self.context["show_files"]):
            return None
        url = reverse("case_documents:material", args=[row.case.number, row.pk])
        return self.context["request"].build_absolute_uri(url)


class CaseDocumentSerializer(serializers.Serializer):
    kind = enum(DocumentKind)
    kind_label = serializers.CharField(source="get_kind_display")
    code = serializers.CharField(help_text=_("The verification code printed on the document."))
    issued_at = serializers.DateTimeField()
    pdf = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField())
    def get_pdf(self, document) -> str:
        path = reverse("case_documents:pdf", args=[document.case.number, document.code])
        return self.context["request"].build_absolute_uri(path)


class CaseEventSerializer(serializers.Serializer):
    """One step of the case's history, from the audit chain."""

    at = serializers.DateTimeField(source="occurred_at")
    action = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    from_status = enum(CaseStatus, source="from_state", allow_null=True)
    to_status = enum(CaseStatus, source="to_state", allow_null=True)
    reason = serializers.CharField()
    role = serializers.CharField(help_text=_("The staff role acted in; empty for the applicant."))
    channel = enum(Channel)

    def get_action(self, event) -> str:
        return event.action.removeprefix("case.")

    def get_label(self, event) -> str:
        return str(event_label(event))

    def to_representation(self, event):
        data = super().to_representation(event)
        for key in ("from_status", "to_status"):
            # A queue ticket's events (before the case) have no case status.
            data[key] = None if is_ticket_event(event) else data[key] or None
        return data


def timeline(case: Case):
    """The case's audit events (history_events); a case just submitted carries its own."""
    if (written := getattr(case, "written_events", None)) is not None:
        return written
    return history_events(case)


class CaseActionSerializer(serializers.Serializer):
    action = action_field(help_text=_("POST to /api/v1/cases/<number>/<action>/."))
    label = serializers.CharField()
    needs_reason = serializers.BooleanField()


class CaseDetailSerializer(ClockFieldsMixin, serializers.ModelSerializer):
    """A case with its materials, documents, clocks and history, and what the user may do."""

    item = CaseItemSerializer(source="item_version")
    department = DepartmentRefSerializer()
    applicant = ApplicantSerializer()
    channel = enum(Channel)
    status = enum(CaseStatus)
    status_label = serializers.CharField(source="get_status_display")
    step = serializers.SerializerMethodField(help_text=_("The review step (empty outside review)."))
    remaining = serializers.SerializerMethodField(
        help_text=_("What is left on the running clock, in its unit (negative when overdue).")
    )
    clocks = serializers.SerializerMethodField()
    form = serializers.SerializerMethodField(
        help_text=_("The application form (identifiers and phone numbers masked).")
    )
    delivery_method = enum(DeliveryMethod, allow_null=True)
    materials = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text=_("The actions the user may take on the case now.")
    )

    class Meta:
        model = Case
        fields = [
            "number",
            "item",
            "department",
            "applicant",
            "channel",
            "status",
            "status_label",
            "step",
            "light",
            "due_at",
            "remaining",
            "clocks",
            "submitted_at",
            "received_at",
            "accepted_at",
            "deemed_accepted",
            "decided_at",
            "decision_reason",
            "fee_amount",
            "fee_paid_at",
            "delivery_method",
            "tracking_number",
            "delivered_at",
            "closed_at",
            "close_reason",
            "rating",
            "rating_comment",
            "form",
            "materials",
            "documents",
            "timeline",
            "actions",
        ]
        read_only_fields = fields

    def to_representation(self, case):
        # Who the user is for this case decides the actions offered and the file links.
        self._performers = permissions.performers(self.context["request"].user, case)
        data = super().to_representation(case)
        data["delivery_method"] = data["delivery_method"] or None
        return data

    @extend_schema_field(CaseStepSerializer(allow_null=True))
    def get_step(self, case) -> dict | None:
        step = permissions.current_step(case)
        if step is None:
            return None
        return CaseStepSerializer(
            {"index": case.review_step, "name": step.name, "role": step.role}
        ).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_form(self, case) -> dict:
        return masked_form(case.form_data)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_remaining(self, case) -> int | None:
        state = current_state(case)
        return state.remaining if state else None

    @extend_schema_field(CaseClockSerializer(many=True))
    def get_clocks(self, case) -> list[dict]:
        return CaseClockSerializer(clocks_of(case), many=True).data

    @extend_schema_field(CaseMaterialSerializer(many=True))
    def get_materials(self, case) -> list[dict]:
        context = {
            **self.context,
            "positions": {m.pk: i for i, m in enumerate(case.item_version.materials.all())},
            "show_files": bool(self._performers - {Performer.SYSTEM}),
        }
        return CaseMaterialSerializer(case.materials.all(), many=True, context=context).data

    @extend_schema_field(CaseDocumentSerializer(many=True))
    def get_documents(self, case) -> list[dict]:
        documents = list(case.documents.all())
        for document in documents:
            document.case = case
        return CaseDocumentSerializer(documents, many=True, context=self.context).data

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_timeline(self, case) -> list[dict]:
        return CaseEventSerializer(timeline(case), many=True).data

    @extend_schema_field(CaseActionSerializer(many=True))
    def get_actions(self, case) -> list[dict]:
        offered = [
            {"action": t.action, "label": t.label, "needs_reason": t.needs_reason}
            for t in actions_from(case)
            if t.action in ACTIONS and t.performers & self._performers
        ]
        return CaseActionSerializer(offered, many=True).data


class CaseConflictSerializer(serializers.Serializer):
    """The action does not start from the case's status (a stale page, a double click)."""

    status = serializers.ListField(
        child=serializers.CharField(), help_text=_("What the case's status allows no more.")
    )


# --- files -----------------------------------------------------------------------------------


FILES_HELP = _(
    "A file of a material: the part is named materials.<n>, n the position (from 0) of the "
    "material in the guide; a part may repeat for several files."
)


class MaterialFilesSerializer(serializers.Serializer):
    """An input that may carry files, as multipart parts named `materials.<n>`: n is the
    position (from 0) of the material in the guide. A part may repeat for several files."""

    def material_uploads(self, version) -> list[services.Upload]:
        """The files of the request as uploads of the guide's materials; `upload_names`
        keeps the part each came from, to name it in errors."""
        materials = list(version.materials.all())
        files = self.context["request"].FILES
        uploads, self.upload_names, errors = [], [], {}
        for name in files:
            head, _dot, index = name.partition(".")
            if head != "materials" or not index.isdigit() or int(index) >= len(materials):
                errors[name] = [
                    _("Name each file materials.<n>, n the position of its material in the guide.")
                ]
                continue
            for file in files.getlist(name):
                uploads.append(services.Upload(materials[int(index)], file))
                self.upload_names.append(name)
        if errors:
            raise serializers.ValidationError(errors)
        return uploads

    def service_errors(self, exc: DjangoValidationError) -> DjangoValidationError:
        """The service's errors, a file's (`materials.<k>`, k its place among the uploads)
        named by its part instead."""
        names = getattr(self, "upload_names", [])
        if not names or not hasattr(exc, "error_dict"):
            return exc
        errors: dict[str, list] = {}
        for key, messages in exc.message_dict.items():
            head, _dot, index = key.partition(".")
            if head == "materials" and index.isdigit() and int(index) < len(names):
                key = names[int(index)]
            errors.setdefault(key, []).extend(messages)
        return DjangoValidationError(errors)


class MaterialFilesExtension(OpenApiSerializerExtension):
    """The file parts have no fixed names: the schema shows them as extra binary properties."""

    target_class = MaterialFilesSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = {
                "type": "string",
                "format": "binary",
                "description": FILES_HELP,
            }
        return schema


# --- submitting ------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": _(
            "The application form: each key of the guide's form fields and its value."
        ),
    }
)
class FormDataField(serializers.JSONField):
    """A JSON object; in a multipart request, a part holding its JSON text."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Send the form as an object of keys and values."))
        return value


class CaseReuseItemSerializer(serializers.Serializer):
    """One material whose file is the one given in an earlier case of the applicant."""

    material = serializers.IntegerField(
        min_value=0, help_text=_("The position of the material in the guide (from 0).")
    )
    case = serializers.CharField(
        max_length=32,
        help_text=_(
            "The number of the applicant's earlier case that holds a file of the same material "
            "type (its latest one there is taken)."
        ),
    )


@extend_schema_field(CaseReuseItemSerializer(many=True))
class ReuseField(serializers.JSONField):
    """A list of {material, case}; in a multipart request, a part holding its JSON text."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        items = CaseReuseItemSerializer(data=value, many=True)
        if not isinstance(value, list) or not items.is_valid():
            raise serializers.ValidationError(
                items.errors if isinstance(value, list) else _("Send a list of {material, case}.")
            )
        return items.validated_data


class CaseSubmitSerializer(MaterialFilesSerializer):
    """A new case: the item, the applicant, the form and the files of the materials (or,
    for some, the files of the applicant's earlier cases picked again). A material a valid
    licence of the applicant stands for needs nothing (零提交): the case records the licence.
    """

    item = serializers.CharField(
        help_text=_("The implementation code of the item: the case pins its guide in force.")
    )
    applicant = serializers.UUIDField(
        required=False,
        help_text=_(
            "The public id of the applicant. A window clerk must name one (find it with "
            "/api/v1/accounts/applicants/); an applicant submits for themselves."
        ),
    )
    channel = EnumField(
        [(c.value, c.label) for c in SELF_SERVICE_CHANNELS],
        component="SelfServiceChannel",
        default=Channel.ONLINE,
        help_text=_(
            "Where an applicant submits from; a window clerk always submits at the window."
        ),
    )
    form = FormDataField(required=False, default=dict)
    reuse = ReuseField(
        required=False,
        default=list,
        help_text=_(
            "Materials whose file is taken again from an earlier case of the applicant, "
            'e.g. [{"material": 0, "case": "440604-20261101-00003"}]: the file must be of the '
            "same material type and still valid. Errors are named reuse.<i>."
        ),
    )

    def validate_item(self, code: str):
        # What a submission reads of the guide: its item, materials and form fields (not the
        # review chain nor the rest of the guide page).
        found = (
            ItemVersion.objects.published()
            .filter(item__implementation_code=code)
            .select_related("item__department", "item__region")
            .prefetch_related(
                Prefetch("materials", Material.objects.select_related("material_type")),
                Prefetch("form_fields", FormField.objects.select_related("field")),
            )
            .first()
        )
        if found is None:
            raise serializers.ValidationError(_("No guide in force has this implementation code."))
        return found

    def validate_applicant(self, public_id) -> Applicant:
        found = Applicant.objects.select_related("user").filter(public_id=public_id).first()
        if found is None:
            raise serializers.ValidationError(_("No applicant has this public id."))
        return found

    def validate(self, attrs):
        attrs["uploads"] = self.material_uploads(attrs["item"])
        attrs["uploads"] += self.reuse_uploads(attrs)
        return attrs

    def reuse_uploads(self, attrs) -> list[services.Upload]:
        """The `reuse` items as uploads of earlier files, found among the files of the
        applicant submitted for (the service checks again that each may be reused). Who may
        submit for whom is decided first (api.permissions.submitter), so that no one learns
        of another applicant's files."""
        if not attrs["reuse"]:
            return []
        # Whom the case is for, as the view decides it: the files looked among are theirs.
        applicant, _channel = submitter(
            self.context["request"].user,
            version=attrs["item"],
            applicant=attrs.get("applicant"),
            channel=attrs["channel"],
        )
        materials = list(attrs["item"].materials.all())
        uploads, errors = [], {}
        for index, wanted in enumerate(attrs["reuse"]):
            if wanted["material"] >= len(materials):
                errors[f"reuse.{index}.material"] = [
                    _("The guide has no material at this position.")
                ]
                continue
            material = materials[wanted["material"]]
            row = (
                CaseMaterial.objects.filter(
                    case__applicant=applicant,
                    case__number=wanted["case"].strip().upper(),
                    material__material_type=material.material_type_id,
                )
                .exclude(file="")
                .order_by("-updated_at", "-pk")
                .first()
            )
            if row is None:
                errors[f"reuse.{index}.case"] = [
                    _("No case of the applicant with this number has a file of this material.")
                ]
                continue
            uploads.append(services.Upload(material, reused=row))
            self.upload_names.append(f"reuse.{index}")
        if errors:
            raise serializers.ValidationError(errors)
        return uploads


# --- the actions -----------------------------------------------------------------------------


class ActionInput(serializers.Serializer):
    """The input of one action: `arguments()` are the keywords its service takes besides
    the case, the actor and the channel."""

    @property
    def case(self) -> Case:
        return self.context["case"]

    def arguments(self) -> dict:
        return dict(self.validated_data)

    def service_errors(self, exc: DjangoValidationError) -> DjangoValidationError:
        return exc


class CaseNoInputSerializer(ActionInput):
    """An action that takes nothing but the case."""


def reason_field(**kwargs):
    return serializers.CharField(
        max_length=2000, help_text=_("Why: the applicant is told."), **kwargs
    )


class CaseReasonSerializer(ActionInput):
    """An action that needs the reason, which the applicant is told."""

    reason = reason_field()


def _position(case: Case, index: int | None) -> Material | None:
    if index is None:
        return None
    materials = list(case.item_version.materials.all())
    if index >= len(materials):
        raise serializers.ValidationError(_("The guide has no material at this position."))
    return materials[index]


class CaseCorrectionItemSerializer(serializers.Serializer):
    """One thing to correct."""

    material = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text=_("The position of the material in the guide; empty for the form."),
    )
    problem = serializers.CharField(max_length=500, help_text=_("What to correct."))

    def validate_material(self, index):
        return _position(self.context["case"], index)


class CaseCorrectionSerializer(ActionInput):
    """The one-time notice of everything to correct (一次性告知)."""

    items = CaseCorrectionItemSerializer(
        many=True, allow_empty=False, help_text=_("Everything to correct, at once.")
    )

    def arguments(self) -> dict:
        return {
            "items": [
                {"material": item["material"].display_name if item.get("material") else "",
                 "problem": item["problem"]}
                for item in self.validated_data["items"]
            ]
        }  # fmt: skip


class CaseAskCorrectionSerializer(CaseCorrectionSerializer):
    """联审补正: the department reviewing its case of a joint application lists what to
    correct; the application sends every department's requests in one notice."""

    def arguments(self) -> dict:
        return {
            "items": [
                {"material": item["material"].pk if item.get("material") else "",
                 "problem": item["problem"]}
                for item in self.validated_data["items"]
            ]
        }  # fmt: skip


class CaseFilesSerializer(MaterialFilesSerializer, ActionInput):
    """The files of the corrected materials."""

    def validate(self, attrs):
        attrs["uploads"] = self.material_uploads(self.case.item_version)
        return attrs


class CaseSupplySerializer(CaseFilesSerializer):
    """Materials promised under tolerated acceptance: as files, or as originals seen."""

    originals = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        help_text=_("Positions of the materials whose originals were seen at the window."),
    )

    def validate_originals(self, positions):
        return [_position(self.case, index) for index in positions]

    def arguments(self) -> dict:
        data = dict(self.validated_data)
        return {"uploads": data["uploads"], "materials": data.get("originals", [])}


class CaseOpinionSerializer(ActionInput):
    """The review step's agreement, with its opinion."""

    opinion = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text=_("The step's opinion.")
    )


class CaseSuspendSerializer(ActionInput):
    """A special procedure (特别程序): its kind and reason; the clock pauses."""

    kind = EnumField(
        [c for c in PauseKind.choices if c[0] != PauseKind.CORRECTION],
        component="SpecialProcedure",
    )
    reason = reason_field()


class CaseExtendSerializer(ActionInput):
    """An extension (延期) by the department head."""

    reason = reason_field()
    days = serializers.IntegerField(
        min_value=1, default=services.STATUTORY_EXTENSION, help_text=_("Working days to add.")
    )


class CaseApproveSerializer(ActionInput):
    """The decision to grant, with the fee where the item charges."""

    reason = reason_field(required=False, allow_blank=True)
    fee = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text=_("The fee in yuan where the item charges (default: the guide's fee)."),
    )


class CaseDeliverSerializer(ActionInput):
    """How the result reaches the applicant."""

    method = enum(DeliveryMethod)
    tracking_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=_("Needed by post.")
    )
    originals_checked = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Needed for items whose originals are checked at pickup (原件核验)."),
    )


class CaseEvaluateSerializer(ActionInput):
    """The applicant's rating (好差评)."""

    rating = serializers.IntegerField(help_text=_("1 (very poor) to 5 (very good)."))
    comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text=_("Needed for 1 and 2.")
    )


# The input of each action a client may ask for. A new action needs its entry here (and its
# service of the same name), nothing else.
ACTION_INPUTS: dict[str, type[ActionInput]] = {
    "prereview_pass": CaseNoInputSerializer,
    "receive": CaseNoInputSerializer,
    "accept": CaseNoInputSerializer,
    "accept_tolerant": CaseNoInputSerializer,
    "refuse": CaseReasonSerializer,
    "request_correction": CaseCorrectionSerializer,
    "ask_correction": CaseAskCorrectionSerializer,
    "resubmit": CaseFilesSerializer,
    "review_pass": CaseOpinionSerializer,
    "send_back": CaseReasonSerializer,
    "suspend": CaseSuspendSerializer,
    "resume": CaseNoInputSerializer,
    "extend": CaseExtendSerializer,
    "approve": CaseApproveSerializer,
    "deny": CaseReasonSerializer,
    "record_fee": CaseNoInputSerializer,
    "supply_tolerated": CaseSupplySerializer,
    "produce": CaseNoInputSerializer,
    "deliver": CaseDeliverSerializer,
    "evaluate": CaseEvaluateSerializer,
    "archive": CaseNoInputSerializer,
    "withdraw": CaseReasonSerializer,
    "terminate": CaseReasonSerializer,
}
