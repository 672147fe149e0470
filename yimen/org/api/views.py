"""The organisation API: thin views that parse, check access and call the services.

Every staff member reads the structure; only system administrators write it, and every
write goes through yimen.org.services (validation and the audit trail live there). Nothing
here is deleted: departments, categories, halls and windows are deactivated, and a role is
revoked, so the history of who did what where stays readable.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from yimen.common.api import YesNoFilter
from yimen.common.choices import Channel

from .. import selectors, services
from ..models import Department, Hall, Membership, Region, Window, WindowCategory
from . import serializers as s
from .permissions import StaffReadsAdminWrites

# --- filters ---------------------------------------------------------------------------------


class RegionFilter(filters.FilterSet):
    code_prefix = filters.CharFilter(
        field_name="code",
        lookup_expr="startswith",
        label=_("Division codes starting with these digits (4406: all of Foshan)."),
    )

    class Meta:
        model = Region
        fields = ["level", "parent"]


class DepartmentFilter(filters.FilterSet):
    active = YesNoFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Department
        fields = ["region", "parent", "active"]


class WindowCategoryFilter(filters.FilterSet):
    active = YesNoFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = WindowCategory
        fields = ["active"]


class HallFilter(filters.FilterSet):
    active = YesNoFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Hall
        fields = ["region", "active"]


class WindowFilter(filters.FilterSet):
    category = filters.ModelChoiceFilter(
        field_name="categories",
        queryset=WindowCategory.objects.all(),
        label=_("Windows serving this category"),
    )
    active = YesNoFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Window
        fields = ["hall", "category", "active"]


class MembershipFilter(filters.FilterSet):
    active = YesNoFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Membership
        fields = ["user", "role", "department", "hall", "region", "active"]


# --- the structure ---------------------------------------------------------------------------


# One tag for the whole app, so the API docs group these endpoints under "org".
TAGS = ["org"]


@extend_schema(tags=TAGS)
class StructureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and change one kind of organisation record through its services.

    A subclass names its services and the keyword under which the update service takes the
    record (`region_update(region=...)`).
    """

    permission_classes = [StaffReadsAdminWrites]
    create_service = None
    update_service = None
    instance_argument = ""

    def perform_create(self, serializer):
        serializer.instance = self.create_service(
            **serializer.validated_data, created_by=self.request.user, channel=Channel.API
        )

    def perform_update(self, serializer):
        serializer.instance = self.update_service(
            **{self.instance_argument: serializer.instance},
            data=serializer.validated_data,
            updated_by=self.request.user,
            channel=Channel.API,
        )


@extend_schema_view(
    list=extend_schema(summary=_("Regions")),
    create=extend_schema(summary=_("Create a region")),
)
class RegionViewSet(StructureViewSet):
    """Administrative divisions (行政区划): city, district, town/street, village/community.

    Staff read; system administrators create and change. A region's level is one below
    its parent's; only a city has no parent."""

    queryset = selectors.regions()
    serializer_class = s.RegionSerializer
    filterset_class = RegionFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "level"]
    create_service = staticmethod(services.region_create)
    update_service = staticmethod(services.region_update)
    instance_argument = "region"

    @extend_schema(
        summary=_("Regions as a tree"),
        parameters=[s.RegionTreeQuerySerializer],
        responses=s.RegionNodeSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def tree(self, request):
        query = s.RegionTreeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        nodes = selectors.regions_tree(
            root=query.validated_data.get("root"),
            max_level=query.validated_data.get("max_level"),
        )
        return Response(s.RegionNodeSerializer(nodes, many=True).data)


@extend_schema_view(list=extend_schema(summary=_("Departments")))
class DepartmentViewSet(StructureViewSet):
    """Departments (部门 / 实施主体), each identified by its unified social credit code.

    Staff read; system administrators create, change and deactivate (is_active)."""

    queryset = selectors.departments()
    serializer_class = s.DepartmentSerializer
    filterset_class = DepartmentFilter
    search_fields = ["name", "short_name", "uscc"]
    ordering_fields = ["name", "uscc", "region__code"]
    create_service = staticmethod(services.department_create)
    update_service = staticmethod(services.department_update)
    instance_argument = "department"


@extend_schema_view(list=extend_schema(summary=_("Window categories")))
class WindowCategoryViewSet(StructureViewSet):
    """Comprehensive window categories (综合窗口类别) and the letter of their tickets.

    Staff read; system administrators create, change and deactivate."""

    queryset = selectors.window_categories()
    serializer_class = s.WindowCategorySerializer
    filterset_class = WindowCategoryFilter
    search_fields = ["code", "name"]
    ordering_fields = ["order", "code", "name"]
    create_service = staticmethod(services.window_category_create)
    update_service = staticmethod(services.window_category_update)
    instance_argument = "category"


@extend_schema_view(list=extend_schema(summary=_("Service halls")))
class HallViewSet(StructureViewSet):
    """Service halls (大厅) of every level.

    Staff read; system administrators create, change and deactivate."""

    queryset = selectors.halls()
    serializer_class = s.HallSerializer
    filterset_class = HallFilter
    search_fields = ["name", "address"]
    ordering_fields = ["name", "region__code"]
    create_service = staticmethod(services.hall_create)
    update_service = staticmethod(services.hall_update)
    instance_argument = "hall"


@extend_schema_view(
    list=extend_schema(summary=_("Windows")),
    update=extend_schema(description=_("A window cannot move to another hall.")),
    partial_update=extend_schema(description=_("A window cannot move to another hall.")),
)
class WindowViewSet(StructureViewSet):
    """Windows (窗口) of the halls and the categories each one serves.

    Staff read; system administrators create, change and deactivate."""

    queryset = selectors.windows()
    serializer_class = s.WindowSerializer
    filterset_class = WindowFilter
    search_fields = ["number", "hall__name"]
    ordering_fields = ["number", "hall__name"]
    create_service = staticmethod(services.window_create)
    update_service = staticmethod(services.window_update)
    instance_argument = "window"


# --- roles -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("Role memberships")),
    create=extend_schema(
        summary=_("Grant a role"),
        description=_(
            "Department roles (reviewer, department head, unit handler, disclosure officer) "
            "need a department; a window clerk needs a hall, optionally a window of that hall "
            "and the categories they may accept. An identical active membership is refused."
        ),
    ),
    destroy=extend_schema(
        summary=_("Revoke a role"),
        description=_(
            "Ends the membership and returns it, now with is_active false: it stays readable "
            "as the record of who held the role. The reason may also be sent as a JSON body "
            '{"reason": "…"}.'
        ),
        parameters=[s.MembershipRevokeSerializer],
        responses={200: s.MembershipSerializer},
    ),
)
@extend_schema(tags=TAGS)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Roles staff hold, each in its scope (a department, a hall, a region).

    Staff read; system administrators grant (POST) and revoke (DELETE). A role is never
    edited in place: grant the new one, then revoke the old."""

    permission_classes = [StaffReadsAdminWrites]
    queryset = selectors.memberships()
    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__username", "user__full_name"]
    ordering_fields = ["created_at", "role", "user__username"]

    def perform_create(self, serializer):
        serializer.instance = services.membership_grant(
            **serializer.validated_data, granted_by=self.request.user, channel=Channel.API
        )

    def destroy(self, request, *args, **kwargs):
        body = request.data if isinstance(request.data, dict) else {}
        form = s.MembershipRevokeSerializer(
            data={"reason": body.get("reason", request.query_params.get("reason", ""))}
        )
        form.is_valid(raise_exception=True)
        membership = services.membership_revoke(
            membership=self.get_object(),
            revoked_by=request.user,
            reason=form.validated_data.get("reason", ""),
            channel=Channel.API,
        )
        membership = self.get_queryset().get(pk=membership.pk)
        return Response(self.get_serializer(membership).data, status=status.HTTP_200_OK)


class MeView(APIView):
    """The current user's roles and scopes. Any signed-in user may ask: an applicant gets
    an empty list, which tells a client not to show staff screens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, summary=_("My roles and scopes"), responses=s.MyOrgRolesSerializer)
    def get(self, request):
        return Response(s.MyOrgRolesSerializer(selectors.staff_scope(user=request.user)).data)
