"""Shapes of the themes API (主题式联审联办). Serializers parse and present; the rules live in
yimen.joint.services (every step), yimen.joint.workflow (which step from which state) and
yimen.joint.permissions (who may see and do what).

One application has ONE form and ONE material set, merged over the items its answers
select, so its inputs name things the way the theme page (and /api/v1/catalog/themes/<code>/)
shows them:

- the form is ONE JSON object `form` of dictionary keys and values (in a multipart request,
  a part holding its JSON text); its errors are named `form.<key>`;
- a file is a multipart part `material.<code>`, code the material type's code; instead of a
  file, a part `reuse.<code>` picks the applicant's earlier file of that type, given as the
  number of the earlier case that holds it (its latest file of that type there) or as the
  id of that case material. A type a valid licence of the applicant stands for needs
  nothing (零提交);
- the stage is its order in the theme, the answers the ids of the scenario options chosen."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import prefetch_related_objects
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yimen.accounts.api.serializers import ApplicantSerializer
from yimen.accounts.models import Applicant
from yimen.cases import selectors as case_selectors
from yimen.cases.api import serializers as cases_api
from yimen.cases.api.serializers import enum as case_enum
from yimen.cases.choices import CaseStatus, DeliveryMethod, Performer
from yimen.cases.models import CaseMaterial
from yimen.catalog.api import serializers as catalog
from yimen.catalog.models import MaterialType, Theme
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.clocks import clock_state
from yimen.common.models import Clock
from yimen.org.api.serializers import DepartmentRefSerializer
from yimen.org.choices import Role
from yimen.org.roles import has_role

from .. import permissions, selectors, services
from ..choices import ClockPurpose, JointDocumentKind, JointStatus
from ..models import JointCase, Project
from ..workflow import STEPS

# --- enums -----------------------------------------------------------------------------------


class EnumField(catalog.EnumField):
    """The catalogue's enum field, its schema component named "Themes…Enum"."""

    def __init__(self, choices, *, component: str, **kwargs):
        super().__init__(choices, component=component, **kwargs)
        self.component = f"Themes{component}Enum"


class EnumFieldExtension(catalog.EnumFieldExtension):
    target_class = EnumField


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


SELF_SERVICE_CHANNELS = (Channel.ONLINE, Channel.MOBILE, Channel.KIOSK)


# The steps a client may ask for (deem_accepted is the system's alone).
ACTIONS = {name: s for name, s in STEPS.items() if s.performers - {Performer.SYSTEM}}


def action_field(**kwargs) -> EnumField:
    return EnumField([(n, s.label) for n, s in ACTIONS.items()], component="Action", **kwargs)


def absolute(request, name: str, *args) -> str | None:
    """The absolute URL of a route, or None while no page serves it."""
    try:
        return request.build_absolute_uri(reverse(name, args=args))
    except NoReverseMatch:
        return None


# --- references ------------------------------------------------------------------------------


class ThemeRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProjectRefSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField(help_text=_("The project code (项目代码)."))
    name = serializers.CharField()


# --- clocks ----------------------------------------------------------------------------------


def current_state(joint: JointCase):
    """The state of the clock the application runs on now (None: none runs); computed once
    per object."""
    if "_api_clock_state" not in joint.__dict__:
        joint._api_clock_state = selectors.running_state(joint)
    return joint._api_clock_state


_moment = serializers.DateTimeField()


class ClockFieldsMixin(serializers.Serializer):
    light = serializers.SerializerMethodField(
        help_text=_(
            "The light of the clock the application runs on (acceptance, then the joint "
            "limit); empty when none runs."
        )
    )
    due_at = serializers.SerializerMethodField(
        help_text=_("The deadline of that clock; empty when none runs or it is paused.")
    )

    @extend_schema_field(enum(Light, allow_null=True))
    def get_light(self, joint) -> str | None:
        state = current_state(joint)
        return state.light.value if state else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, joint) -> str | None:
        state = current_state(joint)
        return _moment.to_representation(state.due_at) if state and state.due_at else None


class JointClockSerializer(serializers.Serializer):
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
    current = serializers.BooleanField(help_text=_("The clock the application runs on now."))


def clocks_of(joint: JointCase) -> list[dict]:
    running = selectors.running_clock(joint)
    rows = []
    for clock in (joint.acceptance_clock, joint.joint_clock):
        if clock is None:
            continue
        current = running is not None and running.pk == clock.pk
        state = current_state(joint) if current else clock_state(clock)
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
                "current": current,
            }
        )
    return rows


# --- a list row ------------------------------------------------------------------------------


class ApplicationRowSerializer(ClockFieldsMixin, serializers.ModelSerializer):
    """An application as lists show it."""

    theme = ThemeRefSerializer()
    stage = catalog.StageRefSerializer(allow_null=True)
    project = ProjectRefSerializer(allow_null=True)
    status = enum(JointStatus)
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = JointCase
        fields = [
            "number",
            "theme",
            "stage",
            "project",
            "status",
            "status_label",
            "light",
            "due_at",
            "submitted_at",
            "accepted_at",
        ]
        read_only_fields = fields


# --- the whole application -------------------------------------------------------------------


class JointLicenceRefSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    type = serializers.CharField(source="licence_type.name")


class JointSetMaterialSerializer(serializers.Serializer):
    """A material type of the one set: what the items ask and what was given for it."""

    material_type = catalog.MaterialTypeRefSerializer()
    required = serializers.BooleanField(help_text=_("Required by at least one item."))
    items = serializers.ListField(
        child=serializers.CharField(), help_text=_("Implementation codes of the items asking.")
    )
    given = serializers.BooleanField(
        help_text=_("A file, an original seen or a licence stands for it now.")
    )
    file_name = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_blank=True)
    original_seen = serializers.BooleanField()
    licence = JointLicenceRefSerializer(
        allow_null=True,
        help_text=_("零提交: the valid licence of the applicant that stands for the material."),
    )
    added_at = serializers.DateTimeField(allow_null=True)
    file = serializers.URLField(
        allow_null=True,
        help_text=_(
            "Where to fetch the file: only for the applicant and the window that handles the "
            "application; empty for anyone else or when there is no file."
        ),
    )


class JointChildCaseSerializer(serializers.Serializer):
    """One item's case: its department reviews it in parallel with the others."""

    number = serializers.CharField(help_text=_("The case number (see /api/v1/cases/<number>/)."))
    item = serializers.CharField(help_text=_("The implementation code of the item."))
    item_name = serializers.CharField()
    department = DepartmentRefSerializer()
    status = case_enum(CaseStatus)
    status_label = serializers.CharField()
    light = enum(Light, allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    granted = serializers.BooleanField(
        allow_null=True, help_text=_("Empty until its department decides.")
    )
    waiting_correction = serializers.BooleanField(
        help_text=_("Its department asked for corrections not yet answered.")
    )


class JointCorrectionSerializer(serializers.Serializer):
    """One thing to correct, asked by the window or by a department on its case."""

    case = serializers.CharField(
        allow_null=True, help_text=_("The case it was asked on; empty: asked by the window.")
    )
    department = serializers.CharField(allow_null=True)
    material_type = catalog.MaterialTypeRefSerializer(
        allow_null=True, help_text=_("Empty: the form.")
    )
    problem = serializers.CharField()
    asked_at = serializers.DateTimeField()
    notice = serializers.CharField(
        allow_null=True,
        help_text=_("The verification code of the notice it was sent in; empty: not yet sent."),
    )
    answered_at = serializers.DateTimeField(allow_null=True)


class JointDocumentSerializer(serializers.Serializer):
    kind = enum(JointDocumentKind)
    kind_label = serializers.CharField(source="get_kind_display")
    code = serializers.CharField(help_text=_("The verification code printed on the document."))
    number = serializers.CharField(source="content.number", default="")
    issued_at = serializers.DateTimeField()
    pdf = serializers.SerializerMethodField(
        help_text=_("The PDF; empty when no page serves it (verify it by its code).")
    )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf(self, document) -> str | None:
        return absolute(self.context["request"], "joint:document", document.joint.number,
                        document.code)  # fmt: skip


class JointActionSerializer(serializers.Serializer):
    action = action_field(help_text=_("POST to /api/v1/themes/applications/<number>/<action>/."))
    label = serializers.CharField()
    needs_reason = serializers.BooleanField()


class JointAnswerSerializer(serializers.Serializer):
    question = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())


class ApplicationDetailSerializer(ClockFieldsMixin, serializers.ModelSerializer):
    """An application with its clocks, answers, form, material set, cases, corrections and
    documents, and the actions the user may take on it now."""

    theme = ThemeRefSerializer()
    stage = catalog.StageRefSerializer(allow_null=True)
    project = ProjectRefSerializer(allow_null=True)
    applicant = ApplicantSerializer()
    channel = enum(Channel)
    status = enum(JointStatus)
    status_label = serializers.CharField(source="get_status_display")
    remaining = serializers.SerializerMethodField(
        help_text=_("What is left on the running clock, in working days (negative when overdue).")
    )
    clocks = serializers.SerializerMethodField()
    answers = JointAnswerSerializer(
        many=True, help_text=_("The scenario answers given (办事情形).")
    )
    form = serializers.SerializerMethodField(
        help_text=_(
            "The one form, by field-dictionary key (a department's staff read the fields of "
            "their own items)."
        )
    )
    delivery_method = enum(DeliveryMethod, allow_null=True)
    materials = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()
    corrections = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text=_("The actions the user may take on the application now.")
    )

    class Meta:
        model = JointCase
        fields = [
            "number",
            "theme",
            "stage",
            "project",
            "applicant",
            "channel",
            "status",
            "status_label",
            "light",
            "due_at",
            "remaining",
            "clocks",
            "submitted_at",
            "accepted_at",
            "decided_at",
            "issued_at",
            "delivery_method",
            "tracking_number",
            "delivered_at",
            "closed_at",
            "close_reason",
            "rating",
            "rating_comment",
            "answers",
            "form",
            "materials",
            "cases",
            "corrections",
            "documents",
            "actions",
        ]
        read_only_fields = fields

    def to_representation(self, joint):
        # Who the user is for this application decides the actions and the file links.
        self._performers = permissions.performers(self.context["request"].user, joint)
        data = super().to_representation(joint)
        data["delivery_method"] = data["delivery_method"] or None
        return data

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_remaining(self, joint) -> int | None:
        state = current_state(joint)
        return state.remaining if state else None

    @extend_schema_field(JointClockSerializer(many=True))
    def get_clocks(self, joint) -> list[dict]:
        return JointClockSerializer(clocks_of(joint), many=True).data

    @extend_schema_field(JointSetMaterialSerializer(many=True))
    def get_materials(self, joint) -> list[dict]:
        request = self.context["request"]
        show = permissions.may_open_files(request.user, joint)
        given = services.current_set(joint)
        prefetch_related_objects(
            [row.licence for row in given.values() if row.licence_id], "licence_type"
        )
        rows = []
        for merged in services.plan_of(joint).materials:
            row = given.pop(merged.material_type.pk, None)
            rows.append(self._material(request, joint, merged.material_type, row, show, merged))
        rows += [  # given for a type no guide asks for any more
            self._material(request, joint, row.material_type, row, show, None)
            for row in given.values()
        ]
        return JointSetMaterialSerializer(rows, many=True).data

    @staticmethod
    def _material(request, joint, material_type, row, show, merged) -> dict:
        return {
            "material_type": material_type,
            "required": bool(merged and merged.required),
            "items": [v.item.implementation_code for v in merged.items] if merged else [],
            "given": row is not None,
            "file_name": row.file_name if row else "",
            "size": row.size if row else None,
            "sha256": row.sha256 if row else "",
            "original_seen": bool(row and row.original_seen),
            "licence": row.licence if row and row.licence_id else None,
            "added_at": row.added_at if row else None,
            "file": absolute(request, "joint:material", joint.number, row.pk)
            if row and row.file and show
            else None,
        }

    @extend_schema_field(JointChildCaseSerializer(many=True))
    def get_cases(self, joint) -> list[dict]:
        rows = [
            {
                "number": p.case.number,
                "item": p.case.item_version.item.implementation_code,
                "item_name": p.case.item_version.name,
                "department": p.case.department,
                "status": p.case.status,
                "status_label": p.case.get_status_display(),
                "light": p.state.light if p.state else None,
                "due_at": p.state.due_at if p.state else None,
                "granted": p.case.granted,
                "waiting_correction": p.waiting_correction,
            }
            for p in selectors.progress(
                joint, sent_only=not permissions.sees_internal(self.context["request"].user, joint)
            )
        ]
        return JointChildCaseSerializer(rows, many=True).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_form(self, joint) -> dict:
        readable = permissions.readable_form_keys(self.context["request"].user, joint)
        data = case_selectors.masked_form(joint.form_data)
        return {k: v for k, v in data.items() if readable is None or k in readable}

    @extend_schema_field(JointCorrectionSerializer(many=True))
    def get_corrections(self, joint) -> list[dict]:
        requests = joint.corrections.select_related("case__department", "material_type", "notice")
        if not permissions.sees_internal(self.context["request"].user, joint):
            requests = requests.exclude(notice=None)  # the applicant sees what was sent
        rows = [
            {
                "case": r.case.number if r.case_id else None,
                "department": r.case.department.name if r.case_id else None,
                "material_type": r.material_type,
                "problem": r.problem,
                "asked_at": r.asked_at,
                "notice": r.notice.code if r.notice_id else None,
                "answered_at": r.answered_at,
            }
            for r in requests
        ]
        return JointCorrectionSerializer(rows, many=True).data

    @extend_schema_field(JointDocumentSerializer(many=True))
    def get_documents(self, joint) -> list[dict]:
        documents = list(joint.documents.all())
        for document in documents:
            document.joint = joint
        return JointDocumentSerializer(documents, many=True, context=self.context).data

    @extend_schema_field(JointActionSerializer(many=True))
    def get_actions(self, joint) -> list[dict]:
        user = self.context["request"].user
        offered = [s for s in selectors.offered_steps(user, joint) if s.action in ACTIONS]
        rows = [
            {"action": s.action, "label": s.label, "needs_reason": s.needs_reason} for s in offered
        ]
        return JointActionSerializer(rows, many=True).data


class JointConflictSerializer(serializers.Serializer):
    """The step does not start from the application's status (a stale page, a double click)."""

    status = serializers.ListField(
        child=serializers.CharField(), help_text=_("What the application's status allows no more.")
    )


# --- files -----------------------------------------------------------------------------------


FILES_HELP = _(
    "material.<code>: a file of the material type with this code. reuse.<code>: instead of a "
    "file, the number of the applicant's earlier case whose file of that type is taken again "
    "(or the id of that case material). Errors are named after the part."
)


class SetFilesSerializer(serializers.Serializer):
    """An input that may carry files of the one material set: parts `material.<code>` (a
    file) and `reuse.<code>` (an earlier file of the applicant), code the material type's."""

    def set_uploads(self, applicant) -> list[services.SetUpload]:
        """The files and reused files of the request as uploads of the set; `upload_names`
        keeps the part each came from, to name it in errors."""
        request = self.context["request"]
        files, data = request.FILES, request.data
        reused = [k for k in data if k.startswith("reuse.") and k not in files]
        codes = {name.partition(".")[2] for name in [*files, *reused]}
        types = {t.code: t for t in MaterialType.objects.filter(code__in=codes)}
        uploads, self.upload_names, errors = [], [], {}
        for name in data:
            if name.startswith("material.") and name not in files:
                errors[name] = [_("Send a file in this part.")]
        for name in files:
            head, _dot, code = name.partition(".")
            if head != "material" or code not in types:
                errors[name] = [_("Name each file material.<code>, the code of its material type.")]
                continue
            for file in files.getlist(name):
                uploads.append(services.SetUpload(types[code], file=file))
                self.upload_names.append(name)
        for name in reused:
            code = name.partition(".")[2]
            if code not in types:
                errors[name] = [_("No material type has this code.")]
                continue
            row = self._earlier(applicant, types[code], str(data[name]).strip())
            uploads.append(services.SetUpload(types[code], reused=row))
            self.upload_names.append(name)
        if errors:
            raise serializers.ValidationError(errors)
        return uploads

    @staticmethod
    def _earlier(applicant, material_type, value: str) -> CaseMaterial:
        """The earlier file named: a case material by id, or the latest file of the type in
        the applicant's case with this number. The service checks it is the applicant's and
        still valid (after checking who applies), so nothing is told about anyone else's
        files: an unknown one is a row that is no one's."""
        if value.isdigit():
            return CaseMaterial(pk=int(value))
        found = (
            CaseMaterial.objects.filter(
                case__applicant=applicant,
                case__number=value.upper(),
                material__material_type=material_type,
            )
            .exclude(file="")
            .order_by("-updated_at", "-pk")
            .first()
        )
        return found or CaseMaterial(pk=0)

    def service_errors(self, exc: DjangoValidationError) -> DjangoValidationError:
        """The service's errors, an upload's (`materials.<k>`, k its place among the uploads)
        named by its part, the answers' (`answer`) by `answers`."""
        names = getattr(self, "upload_names", [])
        if not hasattr(exc, "error_dict"):
            return exc
        errors: dict[str, list] = {}
        for key, messages in exc.message_dict.items():
            head, _dot, index = key.partition(".")
            if head == "materials" and index.isdigit() and int(index) < len(names):
                key = names[int(index)]
            elif key == "answer":
                key = "answers"
            errors.setdefault(key, []).extend(messages)
        return DjangoValidationError(errors)


class SetFilesExtension(OpenApiSerializerExtension):
    """The file parts have no fixed names: the schema shows them as extra properties."""

    target_class = SetFilesSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = {
                "oneOf": [{"type": "string", "format": "binary"}, {"type": "string"}],
                "description": FILES_HELP,
            }
        return schema


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": _(
            "The one form: each field-dictionary key of the merged form and its value (in a "
            "multipart request, a part holding the object's JSON text)."
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


# --- applying --------------------------------------------------------------------------------


def submitter(user, *, named: Applicant | None, channel: str) -> tuple[Applicant, str]:
    """(applicant, channel) of an application. A window clerk applies at the window for the
    applicant they name (the service checks that their windows take the theme); anyone else
    applies for themselves from the channel they say (a clerk too: no one accepts their
    own application at a window)."""
    own = getattr(user, "applicant", None)
    if has_role(user, Role.WINDOW_CLERK) and not (own is not None and named in (None, own)):
        if named is None:
            raise DjangoValidationError({"applicant": _("Name the applicant you apply for.")})
        return named, Channel.WINDOW
    if own is None:
        raise PermissionDenied(_("Only applicants and window clerks apply for a theme."))
    if named is not None and named.pk != own.pk:
        raise PermissionDenied(_("You may only apply for yourself."))
    return own, channel


def may_apply(user) -> bool:
    return has_role(user, Role.WINDOW_CLERK) or getattr(user, "applicant", None) is not None


class ThemeApplySerializer(SetFilesSerializer):
    """A new application for a theme (or one stage of it)."""

    theme = serializers.CharField(help_text=_("The code of the theme."))
    stage = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text=_(
            "For a theme with stages (工程建设): the order of the stage applied for, as the "
            "theme lists its stages. The first stage starts a project; a later one names it."
        ),
    )
    project = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("A later stage: the public id of the applicant's project."),
    )
    project_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The first stage: the name of the new project."),
    )
    applicant = serializers.UUIDField(
        required=False,
        help_text=_(
            "The public id of the applicant. A window clerk must name one; an applicant "
            "applies for themselves."
        ),
    )
    channel = EnumField(
        [(c.value, c.label) for c in SELF_SERVICE_CHANNELS],
        component="SelfServiceChannel",
        default=Channel.ONLINE,
        help_text=_(
            "Where an applicant applies from; a window clerk always applies at the window."
        ),
    )
    answers = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text=_(
            "The ids of the scenario options chosen (a multipart request repeats the part); "
            "they select the items that apply."
        ),
    )
    form = FormDataField(required=False, default=dict)
    originals = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_("At the window: codes of the material types whose originals were seen."),
    )

    def validate_theme(self, code: str) -> Theme:
        found = Theme.objects.filter(code=code.strip()).first()
        if found is None:
            raise serializers.ValidationError(_("No theme has this code."))
        return found

    def validate_applicant(self, public_id) -> Applicant:
        found = Applicant.objects.select_related("user").filter(public_id=public_id).first()
        if found is None:
            raise serializers.ValidationError(_("No applicant has this public id."))
        return found

    def validate_originals(self, codes: list[str]) -> list[MaterialType]:
        types = {t.code: t for t in MaterialType.objects.filter(code__in=codes)}
        if unknown := [c for c in codes if c not in types]:
            raise serializers.ValidationError(
                _("No material type has the code “%(code)s”.") % {"code": unknown[0][:40]}
            )
        return [types[c] for c in dict.fromkeys(codes)]

    def validate(self, attrs):
        theme = attrs["theme"]
        applicant, attrs["channel"] = submitter(
            self.context["request"].user, named=attrs.get("applicant"), channel=attrs["channel"]
        )
        attrs["applicant"] = applicant
        errors = {}
        order = attrs.get("stage")
        attrs["stage"] = None
        if order is not None:
            attrs["stage"] = theme.stages.filter(order=order).first()
            if attrs["stage"] is None:
                errors["stage"] = [_("The theme has no stage with this order.")]
        public_id = attrs.get("project")
        attrs["project"] = None
        if public_id is not None:
            attrs["project"] = Project.objects.filter(
                public_id=public_id, applicant=applicant
            ).first()
            if attrs["project"] is None:
                errors["project"] = [_("The applicant has no project with this id.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["uploads"] = self.set_uploads(applicant)
        return attrs


# --- the actions -----------------------------------------------------------------------------


class ActionInput(cases_api.ActionInput):
    """The input of one step: `arguments()` are the keywords its service takes besides the
    application, the actor and the channel."""

    @property
    def joint(self) -> JointCase:
        return self.context["joint"]


class JointNoInputSerializer(ActionInput):
    """A step that takes nothing but the application."""


class JointReasonSerializer(ActionInput):
    """A step that needs the reason, which the applicant is told."""

    reason = cases_api.reason_field()


class JointCorrectionItemSerializer(serializers.Serializer):
    material_type = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text=_("The code of a material type of the set; empty for the form."),
    )
    problem = serializers.CharField(max_length=500, help_text=_("What to correct."))

    def validate_material_type(self, code):
        if not code:
            return None
        found = MaterialType.objects.filter(code=code).first()
        if found is None:
            raise serializers.ValidationError(_("No material type has this code."))
        return found


class JointCorrectionRequestSerializer(ActionInput):
    """The window's one-time notice of everything to correct before acceptance (一次性告知)."""

    items = JointCorrectionItemSerializer(
        many=True, allow_empty=False, help_text=_("Everything to correct, at once.")
    )

    def arguments(self) -> dict:
        return {
            "items": [
                {"material_type": i["material_type"].pk if i["material_type"] else "",
                 "problem": i["problem"]}
                for i in self.validated_data["items"]
            ]
        }  # fmt: skip


class JointResubmitSerializer(SetFilesSerializer, ActionInput):
    """The corrected materials (parts `material.<code>` / `reuse.<code>`) and the form values
    changed, once for the whole notice."""

    form = FormDataField(
        required=False,
        default=dict,
        help_text=_("Only the form fields changed, by field-dictionary key."),
    )

    def validate(self, attrs):
        attrs["uploads"] = self.set_uploads(self.joint.applicant)
        return attrs

    def arguments(self) -> dict:
        return {"uploads": self.validated_data["uploads"], "form_data": self.validated_data["form"]}


class JointDeliverSerializer(cases_api.CaseDeliverSerializer):
    """One delivery of every result of the application."""


class JointExtendSerializer(cases_api.CaseExtendSerializer):
    """延期: a head of a department reviewing one of the items adds working days to the joint
    limit (at most 15 in all)."""

    days = serializers.IntegerField(
        min_value=1, default=services.JOINT_EXTENSION, help_text=_("Working days to add.")
    )


class JointEvaluateSerializer(cases_api.CaseEvaluateSerializer):
    """The applicant's one rating of the whole application (一事一评)."""


# The input of each step. A new step needs its entry here (and its service of the same
# name), nothing else.
ACTION_INPUTS: dict[str, type[cases_api.ActionInput]] = {
    "accept": JointNoInputSerializer,
    "refuse": JointReasonSerializer,
    "request_correction": JointCorrectionRequestSerializer,
    "send_corrections": JointNoInputSerializer,
    "resubmit": JointResubmitSerializer,
    "extend": JointExtendSerializer,
    "withdraw": JointReasonSerializer,
    "deliver": JointDeliverSerializer,
    "evaluate": JointEvaluateSerializer,
}


# --- projects --------------------------------------------------------------------------------


class ProjectRowSerializer(serializers.ModelSerializer):
    theme = ThemeRefSerializer()
    applicant = serializers.CharField(source="applicant.name")

    class Meta:
        model = Project
        fields = ["public_id", "code", "name", "theme", "applicant", "created_at"]
        read_only_fields = fields


class StageApplicationSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = enum(JointStatus)
    status_label = serializers.CharField(source="get_status_display")
    granted = serializers.BooleanField(
        help_text=_("Every item of the stage is granted: the next stage may be applied for.")
    )


class ProjectStageSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    name = serializers.CharField()
    application = StageApplicationSerializer(
        allow_null=True, help_text=_("The application for the stage that counts (if any).")
    )
    may_apply = serializers.BooleanField()
    refusal = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        allow_null=True,
        help_text=_("Why the stage may not be applied for now, by field; empty: it may."),
    )


class ProjectDetailSerializer(ProjectRowSerializer):
    applicant = ApplicantSerializer()
    stages = serializers.SerializerMethodField()

    class Meta(ProjectRowSerializer.Meta):
        fields = [*ProjectRowSerializer.Meta.fields, "stages"]
        read_only_fields = fields

    @extend_schema_field(ProjectStageSerializer(many=True))
    def get_stages(self, project) -> list[dict]:
        rows = []
        for row in selectors.project_stages(project, user=self.context["request"].user):
            application = row.application
            if application is not None:
                children = list(application.cases.all())
                application.granted = bool(children) and all(c.granted for c in children)
            rows.append(
                {
                    "order": row.stage.order,
                    "name": row.stage.name,
                    "application": application,
                    "may_apply": row.may_apply,
                    "refusal": {k: [str(m) for m in v] for k, v in row.refusal.items()}
                    if row.refusal
                    else None,
                }
            )
        return ProjectStageSerializer(rows, many=True).data


# --- the reduction report --------------------------------------------------------------------


class ReductionFiguresSerializer(serializers.Serializer):
    fields_before = serializers.IntegerField(help_text=_("Fields asked item by item."))
    fields_after = serializers.IntegerField(help_text=_("Fields asked once merged."))
    fields_cut = serializers.IntegerField(help_text=_("The reduction in per cent."))
    materials_before = serializers.IntegerField(help_text=_("Materials asked item by item."))
    materials_after = serializers.IntegerField(help_text=_("Materials asked once merged."))
    materials_cut = serializers.IntegerField(help_text=_("The reduction in per cent."))


class ReductionRowSerializer(ReductionFiguresSerializer):
    theme = ThemeRefSerializer()
    stage = catalog.StageRefSerializer(allow_null=True)
    items = serializers.IntegerField(help_text=_("The items merged."))


class ReductionReportSerializer(serializers.Serializer):
    rows = ReductionRowSerializer(many=True, help_text=_("Each theme in force, stage by stage."))
    totals = ReductionFiguresSerializer()


def reduction_report(rows, totals) -> dict:
    return {
        "rows": [
            {
                "theme": r.theme,
                "stage": r.stage,
                "items": len(r.merge.versions),
                **{
                    name: getattr(r.merge, name)
                    for name in ReductionFiguresSerializer._declared_fields
                },
            }
            for r in rows
        ],
        "totals": totals,
    }
