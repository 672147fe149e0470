"""The cases API: thin views that parse, check access and call the services.

Every list and lookup goes through yimen.cases.permissions.visible_cases: a case the user may
not see is a 404. Each action of the workflow (but the system's deemed acceptance, and the
corrected materials a joint application gives its cases) has its route,
`/api/v1/cases/<number>/<action>/`, generated from yimen.cases.workflow.TRANSITIONS
and served by one view; an action whose case is no longer in a state it starts from is a
409 Conflict.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
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
from rest_framework.response import Response

from yimen.catalog.api.serializers import flat_errors
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.errors import StateConflict
from yimen.common.models import Clock
from yimen.org.models import Department

from .. import permissions, rules, services, workflow
from ..choices import CLOCK_OF_STATUS, CaseStatus
from ..models import Case
from . import serializers as s
from .permissions import channel_for, submitter

# One tag for the whole app, so the API docs group these endpoints under "cases".
TAGS = ["cases"]

BAD_INPUT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=_("Bad input: each field named (`form.<key>`, `materials.<n>`…) with its errors."),
)
FORBIDDEN = OpenApiResponse(description=_("Not signed in, or not allowed to do this."))
NOT_FOUND = OpenApiResponse(description=_("No such case, or not one the user may see."))
CONFLICT = OpenApiResponse(
    response=s.CaseConflictSerializer,
    description=_("The case's status does not allow the action (any more)."),
)


# --- the list --------------------------------------------------------------------------------

# How far the light filter looks: the candidates are the cases whose running clock's stored
# deadline fits the light asked for, earliest due first; each one's light is then computed.
LIGHT_SCAN_LIMIT = 2000
LIGHTS = [
    (light.value, light.label) for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.PAUSED)
]


def _on_clock(**lookups) -> Q:
    """Cases whose running clock (the one their status runs on) matches the lookups."""
    found = Q(pk__in=[])
    for field in s.CLOCK_FIELDS:
        states = [st for st, clock in CLOCK_OF_STATUS.items() if clock == field]
        found |= Q(status__in=states, **{f"{field}__{key}": v for key, v in lookups.items()})
    return found


def _due() -> models.Case:
    """The deadline of the clock each case's status runs on (NULL when none, or paused)."""
    return models.Case(
        *(
            models.When(
                status__in=[st for st, clock in CLOCK_OF_STATUS.items() if clock == field],
                then=F(f"{field}__due_at"),
            )
            for field in s.CLOCK_FIELDS
        ),
        default=None,
        output_field=models.DateTimeField(),
    )


class CaseFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=CaseStatus.choices)
    department = filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Cases of this department (its id)")
    )
    item = filters.CharFilter(
        field_name="item_version__item__implementation_code",
        label=_("Cases of the item with this implementation code"),
    )
    applicant = filters.UUIDFilter(
        field_name="applicant__public_id", label=_("Cases of the applicant with this public id")
    )
    channel = filters.ChoiceFilter(choices=Channel.choices)
    submitted_after = filters.IsoDateTimeFilter(
        field_name="submitted_at",
        lookup_expr="gte",
        label=_("Submitted at or after this moment (a date alone means its midnight)"),
    )
    submitted_before = filters.IsoDateTimeFilter(
        field_name="submitted_at",
        lookup_expr="lt",
        label=_("Submitted before this moment (a date alone means its midnight)"),
    )
    # Last, so that it looks at what the other filters kept.
    light = filters.ChoiceFilter(
        choices=LIGHTS,
        method="filter_light",
        label=_(
            "The light of the running clock. Computed, not stored: the cases whose clock's "
            "deadline fits are taken earliest due first, at most 2000, and each one's light is "
            "checked."
        ),
    )

    class Meta:
        model = Case
        fields = []

    def filter_light(self, queryset, name, value):
        now = timezone.now()
        if value == Light.PAUSED:
            fits = _on_clock(status=Clock.Status.PAUSED)
        elif value == Light.RED:
            fits = _on_clock(status=Clock.Status.RUNNING, due_at__lt=now)
        else:
            fits = _on_clock(status=Clock.Status.RUNNING, due_at__gte=now)
        candidates = list(s.with_clocks(queryset.filter(fits))[:LIGHT_SCAN_LIMIT])
        s.load_clocks(candidates)
        keep = [case.pk for case in candidates if s.current_state(case).light == value]
        return queryset.filter(pk__in=keep)


class CaseAccessMixin:
    """The case named in the URL among those the user may see, with everything the detail
    shows; an acceptance overdue is deemed made first (the 5-day rule applied on reading)."""

    def get_case(self) -> Case:
        cases = s.detail_queryset(permissions.visible_cases(self.request.user, Case.objects.all()))
        case = get_object_or_404(cases, number=self.kwargs["number"])
        if rules.apply_due_rules(case):
            case = cases.get(pk=case.pk)
        return case

    def detail(self, case: Case, status_code=status.HTTP_200_OK, *, reload=True) -> Response:
        """The case as the detail shows it, loaded again after a change."""
        if reload:
            case = s.detail_queryset(Case.objects).get(pk=case.pk)
        s.load_clocks([case], every=True)
        context = {"request": self.request}
        return Response(s.CaseDetailSerializer(case, context=context).data, status=status_code)


@extend_schema_view(
    get=extend_schema(
        summary=_("Cases"),
        description=_(
            "The cases the user may see (applicants their own, clerks those of their window "
            "categories and those they accepted, department staff their department's, "
            "supervisors all), the earliest due first."
        ),
    ),
    post=extend_schema(
        summary=_("Submit a case"),
        description=_(
            "Multipart (or JSON without files): the item's implementation code, the form as a "
            "JSON object, and a part `materials.<n>` per file, n the position of its material "
            "in the guide (from 0). A window clerk submits at the window for the applicant "
            "they name; an applicant for themselves. Sending the same Idempotency-Key again "
            "returns the case that key created, with 200 instead of 201."
        ),
        request={
            "multipart/form-data": s.CaseSubmitSerializer,
            "application/json": s.CaseSubmitSerializer,
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_("Any unique text (at most 64 characters) per intended case."),
            )
        ],
        responses={
            201: s.CaseDetailSerializer,
            200: OpenApiResponse(
                response=s.CaseDetailSerializer,
                description=_("The case this Idempotency-Key created before."),
            ),
            400: BAD_INPUT,
            403: FORBIDDEN,
        },
    ),
)
@extend_schema(tags=TAGS)
class CaseListView(CaseAccessMixin, generics.ListAPIView):
    """Cases: the list the user may see, and submitting a new one."""

    serializer_class = s.CaseRowSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = CaseFilter
    parser_classes = [MultiPartParser, JSONParser]

    def get_queryset(self):
        cases = Case.objects.select_related("item_version__item", "department")
        return (
            s.with_clocks(permissions.visible_cases(self.request.user, cases))
            .annotate(due=_due())
            .order_by(F("due").asc(nulls_last=True), "submitted_at", "pk")
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        s.load_clocks(page or [])
        return page

    def post(self, request, *args, **kwargs):
        user = request.user
        key = request.headers.get("Idempotency-Key", "").strip()[:64]
        if key and (done := Case.objects.filter(submitted_by=user, idempotency_key=key).first()):
            return self.detail(done)
        form = s.CaseSubmitSerializer(data=request.data, context={"request": request})
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        data = form.validated_data
        applicant, channel = submitter(
            user, version=data["item"], applicant=data.get("applicant"), channel=data["channel"]
        )
        try:
            case = services.case_submit(
                applicant=applicant,
                version=data["item"],
                submitted_by=user,
                channel=channel,
                form_data=data["form"],
                uploads=data["uploads"],
                idempotency_key=key,
                key_checked=True,
            )
        except DjangoValidationError as exc:
            raise form.service_errors(exc) from exc
        if not hasattr(case, "written_events"):  # the same key won a race: that case
            return self.detail(case)
        # The new case carries what the detail shows: no need to read it back.
        return self.detail(case, status.HTTP_201_CREATED, reload=False)


@extend_schema(
    tags=TAGS,
    summary=_("A case"),
    description=_(
        "A case whose acceptance is overdue (5 working days after receipt) counts as accepted "
        "from the day of receipt: opening it applies the rule, as the periodic task does."
    ),
    responses={200: s.CaseDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
)
class CaseDetailView(CaseAccessMixin, generics.GenericAPIView):
    """A case: status, step, clocks, materials, documents, form, history, and the actions
    the user may take on it now."""

    serializer_class = s.CaseDetailSerializer

    def get(self, request, *args, **kwargs):
        return self.detail(self.get_case(), reload=False)


# --- the actions -----------------------------------------------------------------------------


class CaseActionView(CaseAccessMixin, generics.GenericAPIView):
    """One action of the workflow on one case: checked in the order the services check it
    (the status allows it, else 409; the user may take it, else 403; the input, else 400),
    then the service runs it under a row lock and checks again."""

    action_name = ""
    serializer_class = s.CaseNoInputSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request, *args, **kwargs):
        case = self.get_case()
        transition = workflow.transition(self.action_name, case.status)
        acting = permissions.performers(request.user, case) & transition.performers
        if not acting:
            raise PermissionDenied(_("You may not do this on this case."))
        form = self.get_serializer(data=request.data, context={"request": request, "case": case})
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        service = getattr(services, self.action_name)
        try:
            service(case=case, actor=request.user, channel=channel_for(acting), **form.arguments())
        except StateConflict:
            raise
        except DjangoValidationError as exc:
            raise form.service_errors(exc) from exc
        return self.detail(case)


def _request_body(form: type[s.ActionInput]):
    if issubclass(form, s.MaterialFilesSerializer):
        return {"multipart/form-data": form, "application/json": form}
    return form if form().fields else None


def _action_view(name: str, transition: workflow.Transition) -> type[CaseActionView]:
    """The view of one action, its schema naming its input."""
    form = s.ACTION_INPUTS.get(name, s.CaseNoInputSerializer)
    view = type(
        f"Case{name.title().replace('_', '')}View",
        (CaseActionView,),
        {"action_name": name, "serializer_class": form, "__doc__": CaseActionView.__doc__},
    )
    performers = ", ".join(sorted(transition.performers))
    return extend_schema(
        tags=TAGS,
        summary=transition.label,
        description=format_lazy(
            _("From: {sources}. By: {performers}."),
            sources=", ".join(sorted(transition.sources)),
            performers=performers,
        ),
        request=_request_body(form),
        responses={
            200: s.CaseDetailSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )(view)


ACTION_VIEWS = {name: _action_view(name, t) for name, t in s.ACTIONS.items()}
