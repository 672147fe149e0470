"""The catalogue API: thin views that parse, check access and call the selectors and services.

Anyone reads the guides in force, the themes, the material library and the field dictionary.
Catalogue admins work on versions: create an item, edit its draft, publish, withdraw, start
a new draft or throw one away; an admin limited to departments sees and touches only theirs.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from yimen.common.api import YesNoFilter
from yimen.common.choices import Channel
from yimen.org.models import Department, Region

from .. import quality, search, selectors, services
from ..choices import (
    FieldType,
    HandlingType,
    HolderKind,
    ItemType,
    MaterialKind,
    OnlineDepth,
    Target,
    ThemeCategory,
    TongbanScope,
    VersionStatus,
)
from ..models import FieldDefinition, ItemVersion, MaterialType
from ..permissions import can_edit_department
from . import serializers as s
from .permissions import CatalogueAdmin, editable

# One tag for the whole app, so the API docs group these endpoints under "catalog".
TAGS = ["catalog"]
PARTS = ("materials", "form_fields", "review_steps")

# --- filters ---------------------------------------------------------------------------------


def _search(queryset, name, value):
    """Ranks by relevance (search.rank); declared last so it orders what the others kept."""
    return search.rank(queryset, value)


class VersionFilter(filters.FilterSet):
    department = filters.ModelChoiceFilter(
        field_name="item__department",
        queryset=Department.objects.all(),
        label=_("Items of this department"),
    )


class ItemFilter(VersionFilter):
    region = filters.ModelChoiceFilter(
        field_name="item__region", queryset=Region.objects.all(), label=_("Items of this region")
    )
    target = filters.ChoiceFilter(
        choices=Target.choices,
        method="filter_target",
        label=_("Who may apply (person or enterprise includes items for both)"),
    )
    item_type = filters.ChoiceFilter(choices=ItemType.choices)
    online_depth = filters.ChoiceFilter(choices=OnlineDepth.choices)
    handling_type = filters.ChoiceFilter(choices=HandlingType.choices)
    zero_visit = YesNoFilter(label=_("Zero visits"))
    zero_submission = YesNoFilter(label=_("Zero paper"))
    on_the_spot = YesNoFilter(label=_("Done on the spot"))
    online = YesNoFilter(label=_("Done online"))
    one_visit = YesNoFilter(label=_("Done in one visit"))
    nearby = YesNoFilter(label=_("Done nearby"))
    tongban = filters.ChoiceFilter(
        choices=[c for c in TongbanScope.choices if c[0]], label=_("Handled anywhere")
    )
    theme = filters.CharFilter(
        field_name="item__theme_items__theme__code", label=_("Items of the theme with this code")
    )
    q = filters.CharFilter(method=_search, label=_("Words to search for, best matches first"))

    class Meta:
        model = ItemVersion
        fields = []

    def filter_target(self, queryset, name, value):
        if value == Target.BOTH:
            return queryset.filter(target=Target.BOTH)
        return queryset.filter(target__in=[value, Target.BOTH])


class AdminVersionFilter(VersionFilter):
    status = filters.ChoiceFilter(choices=VersionStatus.choices)
    q = filters.CharFilter(method=_search, label=_("Words to search for, best matches first"))

    class Meta:
        model = ItemVersion
        fields = []


class ThemeFilter(filters.FilterSet):
    category = filters.ChoiceFilter(choices=ThemeCategory.choices)
    target = filters.ChoiceFilter(choices=Target.choices)


class LibraryFilter(filters.FilterSet):
    active = YesNoFilter(field_name="is_active", label=_("Active"))
    holder_kind = filters.ChoiceFilter(choices=HolderKind.choices)


class MaterialTypeFilter(LibraryFilter):
    kind = filters.ChoiceFilter(choices=MaterialKind.choices)

    class Meta:
        model = MaterialType
        fields = []


class FieldDefinitionFilter(LibraryFilter):
    datatype = filters.ChoiceFilter(choices=FieldType.choices)

    class Meta:
        model = FieldDefinition
        fields = []


# --- public reads ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("Guides in force")),
    retrieve=extend_schema(summary=_("A guide in force")),
)
@extend_schema(tags=TAGS)
class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The published guides (办事指南) of the service items: anyone may read them."""

    permission_classes = [AllowAny]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ItemFilter
    ordering_fields = ["name", "published_at"]
    lookup_field = "item__implementation_code"
    lookup_url_kwarg = "implementation_code"

    def get_queryset(self):
        versions = selectors.versions_in_force()
        # The list shows no materials, form fields or review steps.
        return versions.prefetch_related(None) if self.action == "list" else versions

    def get_serializer_class(self):
        return s.ItemDetailSerializer if self.action == "retrieve" else s.ItemSummarySerializer


@extend_schema_view(
    list=extend_schema(summary=_("Themes")),
    retrieve=extend_schema(
        summary=_("A theme"),
        parameters=[
            OpenApiParameter(
                "answer",
                OpenApiTypes.INT,
                many=True,
                description=_(
                    "The id of an option the applicant chose, once per option: the items, "
                    "stages and reduction are then those of the answers. An empty value "
                    "answers nothing (only the items no option names apply); without the "
                    "parameter every item is listed."
                ),
            )
        ],
        responses=s.ThemeDetailSerializer,
    ),
)
@extend_schema(tags=TAGS)
class ThemeViewSet(viewsets.ReadOnlyModelViewSet):
    """Themes (主题 / 一件事): items handled together, in stages, chosen by scenario
    questions, with the reduction merging their materials and forms brings."""

    permission_classes = [AllowAny]
    serializer_class = s.ThemeSummarySerializer
    filterset_class = ThemeFilter
    filter_backends = [filters.DjangoFilterBackend]
    lookup_field = "code"

    def get_queryset(self):
        if self.action == "list":
            return selectors.themes_counted().prefetch_related("stages")
        return selectors.themes_in_force()

    def retrieve(self, request, *args, **kwargs):
        theme = selectors.theme_with_items(self.get_object())
        answers = None
        if "answer" in request.query_params:
            try:
                answers = selectors.answers_given(theme, request.query_params.getlist("answer"))
            except DjangoValidationError as exc:
                raise ValidationError(exc.message_dict) from exc
        plan = selectors.theme_plan(theme, answers)
        return Response(s.ThemeDetailSerializer(s.theme_detail(theme, plan, answers)).data)


@extend_schema_view(list=extend_schema(summary=_("Material library")))
@extend_schema(tags=TAGS)
class MaterialTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """The shared material library (材料目录) the guides' materials point to."""

    permission_classes = [AllowAny]
    queryset = MaterialType.objects.all()
    serializer_class = s.MaterialTypeSerializer
    filterset_class = MaterialTypeFilter
    filter_backends = [filters.DjangoFilterBackend, SearchFilter]
    search_fields = ["code", "name"]
    lookup_field = "code"


@extend_schema_view(list=extend_schema(summary=_("Field dictionary")))
@extend_schema(tags=TAGS)
class FieldDefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    """The field dictionary (字段字典) the guides' forms are built from."""

    permission_classes = [AllowAny]
    queryset = FieldDefinition.objects.all()
    serializer_class = s.FieldDefinitionSerializer
    filterset_class = FieldDefinitionFilter
    filter_backends = [filters.DjangoFilterBackend, SearchFilter]
    search_fields = ["key", "label"]
    lookup_field = "key"


# --- what catalogue admins work on -----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Versions to work on"),
        description=_("The newest version of each item in the admin's departments."),
    ),
    retrieve=extend_schema(summary=_("A version with its quality findings")),
    create=extend_schema(
        summary=_("Create an item"),
        description=_("The item and its first version, a draft."),
        request=s.VersionCreateSerializer,
        responses={201: s.VersionDetailSerializer},
    ),
    partial_update=extend_schema(
        summary=_("Change a draft"),
        description=_(
            "The guide fields given change; a list of parts given (materials, form fields, "
            "review steps) replaces the draft's whole list."
        ),
        request=s.GuideInputSerializer,
        responses=s.VersionDetailSerializer,
    ),
    destroy=extend_schema(summary=_("Throw a draft away")),
)
@extend_schema(tags=TAGS)
class VersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Item versions for catalogue admins: drafts are edited and published, the version in
    force is withdrawn, a new draft starts from the latest version. Every write goes through
    yimen.catalog.services and is audited."""

    permission_classes = [CatalogueAdmin]
    filterset_class = AdminVersionFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        # The list shows what there is to work on; any version may be opened (a withdrawn
        # one, or the one in force under a newer draft).
        versions = (
            selectors.latest_versions()
            if self.action == "list"
            else ItemVersion.objects.with_guide().prefetch_related(
                Prefetch("item__versions", queryset=ItemVersion.objects.order_by("-number"))
            )
        )
        return editable(versions, self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return s.VersionSummarySerializer
        return s.VersionDetailSerializer

    def _detail(self, version, status_code=status.HTTP_200_OK) -> Response:
        version = self.get_queryset().get(pk=version.pk)
        return Response(s.VersionDetailSerializer(version).data, status=status_code)

    @staticmethod
    def _parse(serializer_class, request, **kwargs) -> dict:
        serializer = serializer_class(data=request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._parse(s.VersionCreateSerializer, request)
        department = data.pop("department")
        if not can_edit_department(request.user, department.pk):
            raise PermissionDenied(_("You may not edit this department's items."))
        version = services.item_create(
            department=department,
            implementation_code=data.pop("implementation_code"),
            region=data.pop("region", None),
            **{part: data.pop(part) for part in PARTS if part in data},
            guide=data,
            actor=request.user,
            channel=Channel.API,
        )
        return self._detail(version, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        version = self.get_object()
        data = self._parse(s.GuideInputSerializer, request, partial=True)
        version = services.draft_update(
            version=version,
            **{part: data.pop(part) for part in PARTS if part in data},
            guide=data,
            actor=request.user,
            channel=Channel.API,
        )
        return self._detail(version)

    def destroy(self, request, *args, **kwargs):
        services.draft_discard(version=self.get_object(), actor=request.user, channel=Channel.API)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Publish a draft"),
        description=_(
            "The draft becomes the guide in force and the version in force before it is "
            "archived. Refused (400) while the quality checker finds a blocking problem."
        ),
        request=None,
        responses={200: s.VersionDetailSerializer, 400: s.PublishRefusedSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        version = self.get_object()
        try:
            version = services.publish(version=version, actor=request.user, channel=Channel.API)
        except DjangoValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            blocking = quality.blocking(quality.check(self.get_queryset().get(pk=version.pk)))
            body = {**errors, "findings": s.FindingSerializer(blocking, many=True).data}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return self._detail(version)

    @extend_schema(
        summary=_("Withdraw the version in force"),
        request=s.ArchiveSerializer,
        responses=s.VersionDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        version = self.get_object()
        data = self._parse(s.ArchiveSerializer, request)
        version = services.archive(
            version=version, reason=data["reason"], actor=request.user, channel=Channel.API
        )
        return self._detail(version)

    @extend_schema(
        summary=_("Start a new draft"),
        description=_(
            "A draft copied from the item's latest version; refused while the item has one."
        ),
        request=s.NewDraftSerializer,
        responses={201: s.VersionDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="new-draft")
    def new_draft(self, request, *args, **kwargs):
        version = self.get_object()
        data = self._parse(s.NewDraftSerializer, request)
        draft = services.draft_start(
            item=version.item,
            change_note=data.get("change_note", ""),
            actor=request.user,
            channel=Channel.API,
        )
        return self._detail(draft, status.HTTP_201_CREATED)
