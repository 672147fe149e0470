"""The themes API (主题式联审联办): thin views that parse, check access and call the services
and selectors of yimen.joint.

Every list and lookup goes through yimen.joint.permissions: an application or a project the
user may not see is a 404. Each step of yimen.joint.workflow.STEPS has its route,
`/api/v1/themes/applications/<number>/<action>/`, generated from that table and served by
one view; a step whose application is no longer in a state it starts from is a 409
Conflict, a user who may not take it gets 403, bad input 400 keyed by field. The steps of
each item's case (a department's review, its request for corrections `ask_correction`,
its decision) are those of the cases API, /api/v1/cases/<number>/<action>/.

Who calls what:
- the applicant: applies, sees their own applications and projects, resubmits, withdraws,
  rates;
- a window clerk of the theme's window category: applies at the window for an applicant,
  accepts, refuses, asks for corrections, sends the departments' corrections in one notice,
  resubmits for the applicant, delivers;
- the staff of a department with a case in an application see it (and its project), and
  work on their own case through the cases API; its heads may extend the joint limit;
- supervisors see every application and act on none;
- anyone reads the reduction report.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from yimen.cases.choices import Performer
from yimen.catalog.api.serializers import flat_errors
from yimen.common.api import FORBIDDEN
from yimen.common.choices import Channel

from .. import permissions, selectors, services, workflow
from ..choices import JointStatus
from ..models import JointCase, Project
from . import serializers as s

# One tag for the whole app, so the API docs group these endpoints under "themes".
TAGS = ["themes"]

BAD_INPUT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=_(
        "Bad input, or a refusal of the service: each field named (`form.<key>`, "
        "`material.<code>`, `reuse.<code>`, `answers`, `stage`…) with its errors."
    ),
)
NOT_FOUND = OpenApiResponse(description=_("No such application, or not one the user may see."))
CONFLICT = OpenApiResponse(
    response=s.JointConflictSerializer,
    description=_("The application's status does not allow the step (any more)."),
)


def channel_for(acting: set[str]) -> str:
    """The channel a step taken through the API is recorded with: the window for a clerk,
    the back office for a department head, online for the applicant."""
    if Performer.CLERK in acting:
        return Channel.WINDOW
    if Performer.HEAD in acting:
        return Channel.ADMIN
    return Channel.ONLINE


# --- applications ----------------------------------------------------------------------------


class ApplicationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=JointStatus.choices)
    theme = filters.CharFilter(field_name="theme__code", label=_("Applications of this theme"))

    class Meta:
        model = JointCase
        fields = []


class ApplicationAccessMixin:
    """The application named in the URL among those the user may see."""

    def get_joint(self) -> JointCase:
        found = selectors.visible_applications(self.request.user)
        return get_object_or_404(found, number=self.kwargs["number"])

    def detail(self, joint: JointCase, status_code=status.HTTP_200_OK, *, reload=True) -> Response:
        """The application as the detail shows it, read again after a change."""
        if reload:
            joint = selectors.visible_applications(self.request.user).get(pk=joint.pk)
        context = {"request": self.request}
        data = s.ApplicationDetailSerializer(joint, context=context).data
        return Response(data, status=status_code)


@extend_schema_view(
    get=extend_schema(
        summary=_("Theme applications"),
        description=_(
            "The applications the user may see (applicants their own, clerks those of their "
            "window categories and those they accepted, department staff those with a case "
            "of their department, supervisors all), newest first."
        ),
    ),
    post=extend_schema(
        summary=_("Apply for a theme"),
        description=_(
            "Multipart (or JSON without files). `theme`: its code; `answers`: the ids of the "
            "scenario options chosen, which select the items; `form`: ONE JSON object, the "
            "merged form by field-dictionary key (errors `form.<key>`); a part "
            "`material.<code>` per file, code its material type's (one file per type), or "
            "`reuse.<code>` naming the applicant's earlier case (or case material id) whose "
            "file of that type is taken again; a type a valid licence of the applicant "
            "stands for needs nothing (零提交). A staged theme: `stage` (its order), and "
            "`project_name` for the first stage or `project` for a later one. A window clerk "
            "applies at the window for the applicant they name (and may list `originals` "
            "seen); an applicant for themselves. Sending the same Idempotency-Key again "
            "returns the application that key created, with 200 instead of 201."
        ),
        request={
            "multipart/form-data": s.ThemeApplySerializer,
            "application/json": s.ThemeApplySerializer,
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_("Any unique text (at most 64 characters) per intended application."),
            )
        ],
        responses={
            201: s.ApplicationDetailSerializer,
            200: OpenApiResponse(
                response=s.ApplicationDetailSerializer,
                description=_("The application this Idempotency-Key created before."),
            ),
            400: BAD_INPUT,
            403: FORBIDDEN,
        },
    ),
)
@extend_schema(tags=TAGS)
class ApplicationListView(ApplicationAccessMixin, generics.ListAPIView):
    """Theme applications: the list the user may see, and applying."""

    serializer_class = s.ApplicationRowSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ApplicationFilter
    parser_classes = [MultiPartParser, JSONParser]

    def get_queryset(self):
        return selectors.visible_applications(self.request.user)

    def post(self, request, *args, **kwargs):
        user = request.user
        if not s.may_apply(user):
            raise PermissionDenied(_("Only applicants and window clerks apply for a theme."))
        key = request.headers.get("Idempotency-Key", "").strip()[:64]
        if key and (
            done := JointCase.objects.filter(submitted_by=user, idempotency_key=key).first()
        ):
            return self.detail(done, reload=False)
        form = s.ThemeApplySerializer(data=request.data, context={"request": request})
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        data = form.validated_data
        try:
            joint = services.theme_apply(
                applicant=data["applicant"],
                theme=data["theme"],
                submitted_by=user,
                channel=data["channel"],
                answers=data["answers"],
                form_data=data["form"],
                uploads=data["uploads"],
                originals=data["originals"],
                stage=data["stage"],
                project=data["project"],
                project_name=data["project_name"],
                idempotency_key=key,
            )
        except DjangoValidationError as exc:
            raise form.service_errors(exc) from exc
        if not hasattr(joint, "written_events"):  # the same key won a race: that application
            return self.detail(joint, reload=False)
        return self.detail(joint, status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS,
    summary=_("A theme application"),
    description=_(
        "Status, clocks with their lights, answers, the one form and the one material set "
        "(file links only for the applicant and the window), each item's case with its "
        "department, status and light, the correction requests, the documents, and the "
        "steps the user may take now."
    ),
    responses={200: s.ApplicationDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
)
class ApplicationDetailView(ApplicationAccessMixin, generics.GenericAPIView):
    serializer_class = s.ApplicationDetailSerializer

    def get(self, request, *args, **kwargs):
        return self.detail(self.get_joint(), reload=False)


# --- the steps -------------------------------------------------------------------------------


class ApplicationActionView(ApplicationAccessMixin, generics.GenericAPIView):
    """One step of an application: checked in the order the services check it (the status
    allows it, else 409; the user may take it, else 403; the input, else 400), then the
    service takes it under a row lock and checks again."""

    action_name = ""
    serializer_class = s.JointNoInputSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request, *args, **kwargs):
        joint = self.get_joint()
        step = workflow.step(self.action_name, joint.status)
        acting = permissions.performers(request.user, joint) & step.performers
        if not acting:
            raise PermissionDenied(_("You may not do this on this application."))
        form = self.get_serializer(data=request.data, context={"request": request, "joint": joint})
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        service = getattr(services, self.action_name)
        try:
            service(
                joint=joint, actor=request.user, channel=channel_for(acting), **form.arguments()
            )
        except DjangoValidationError as exc:
            raise form.service_errors(exc) from exc
        return self.detail(joint)


def _request_body(form: type[s.ActionInput]):
    if issubclass(form, s.SetFilesSerializer):
        return {"multipart/form-data": form, "application/json": form}
    return form if form().fields else None


def _action_view(name: str, step: workflow.Step) -> type[ApplicationActionView]:
    """The view of one step, its schema naming its input."""
    form = s.ACTION_INPUTS.get(name, s.JointNoInputSerializer)
    view = type(
        f"Application{name.title().replace('_', '')}View",
        (ApplicationActionView,),
        {"action_name": name, "serializer_class": form, "__doc__": ApplicationActionView.__doc__},
    )
    return extend_schema(
        tags=TAGS,
        summary=step.label,
        description=format_lazy(
            _("From: {sources}. By: {performers}."),
            sources=", ".join(sorted(step.sources)),
            performers=", ".join(sorted(step.performers)),
        ),
        request=_request_body(form),
        responses={
            200: s.ApplicationDetailSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )(view)


ACTION_VIEWS = {name: _action_view(name, step) for name, step in s.ACTIONS.items()}


# --- projects --------------------------------------------------------------------------------


def _projects(user):
    return permissions.visible_projects(user, Project.objects.select_related("theme", "applicant"))


@extend_schema(
    tags=TAGS,
    summary=_("Projects"),
    description=_(
        "The construction projects (项目) the user may see: their applicant's, and those "
        "with an application the user sees."
    ),
)
class ProjectListView(generics.ListAPIView):
    serializer_class = s.ProjectRowSerializer
    filter_backends: list = []

    def get_queryset(self):
        return _projects(self.request.user)


@extend_schema(
    tags=TAGS,
    summary=_("A project"),
    description=_(
        "A project and its stages: each stage's application (if any), whether it may be "
        "applied for now, and why not (every item of the stage before must be granted)."
    ),
    responses={200: s.ProjectDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
)
class ProjectDetailView(generics.RetrieveAPIView):
    serializer_class = s.ProjectDetailSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return _projects(self.request.user)


# --- the reduction report --------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Reduction report"),
    description=_(
        "What merging saves on each theme in force, stage by stage: the fields and the "
        "materials asked item by item, and asked once merged (一表, 一套材料). Public."
    ),
    responses={200: s.ReductionReportSerializer},
)
class ReductionView(generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = s.ReductionReportSerializer
    filter_backends: list = []
    pagination_class = None

    def get(self, request, *args, **kwargs):
        rows = selectors.reductions()
        report = s.reduction_report(rows, selectors.reduction_totals(rows))
        return Response(s.ReductionReportSerializer(report).data)
