"""Shapes of the organisation API. Serializers parse and present; the rules live in
yimen.org.services, which the views call with the validated data."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import RegionLevel, Role
from ..models import Department, Hall, Membership, Region, Window, WindowCategory

# --- small references, reused wherever another object points at one of ours ----------------


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "level"]
        read_only_fields = fields


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "uscc"]
        read_only_fields = fields


class WindowCategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = WindowCategory
        fields = ["id", "code", "name"]
        read_only_fields = fields


class HallRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hall
        fields = ["id", "name"]
        read_only_fields = fields


class WindowRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Window
        fields = ["id", "number"]
        read_only_fields = fields


# --- the structure ---------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    level = serializers.ChoiceField(
        choices=RegionLevel.choices,
        help_text=_("1 city, 2 district, 3 town/street, 4 village/community."),
    )
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "level_label", "parent"]


class RegionNodeSerializer(serializers.Serializer):
    """A region with its sub-regions, nested."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=RegionLevel.choices)


# A field of a serializer cannot name its own class in the class body.
RegionNodeSerializer._declared_fields["children"] = RegionNodeSerializer(many=True)


class RegionTreeQuerySerializer(serializers.Serializer):
    root = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(),
        required=False,
        help_text=_("Start from this region (default: every city)."),
    )
    max_level = serializers.ChoiceField(
        choices=RegionLevel.choices,
        required=False,
        help_text=_("Stop at this level (default: down to villages)."),
    )


class DepartmentSerializer(serializers.ModelSerializer):
    # Declared plainly so that spaces and lower case reach the service, which normalises
    # the code before validating it.
    uscc = serializers.CharField(
        max_length=32, help_text=_("Unified social credit code (GB 32100), 18 characters.")
    )
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "short_name",
            "uscc",
            "region",
            "region_name",
            "parent",
            "phone",
            "is_active",
        ]


class WindowCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = WindowCategory
        fields = ["id", "code", "name", "queue_prefix", "order", "is_active"]


class HallSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Hall
        fields = [
            "id",
            "name",
            "region",
            "region_name",
            "address",
            "phone",
            "opening_hours",
            "is_active",
        ]


class WindowSerializer(serializers.ModelSerializer):
    hall_name = serializers.CharField(source="hall.name", read_only=True)
    categories = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=WindowCategory.objects.all(),
        allow_empty=False,
        help_text=_("The window categories this window serves (at least one)."),
    )

    class Meta:
        model = Window
        fields = ["id", "hall", "hall_name", "number", "categories", "is_active"]
        # The number's uniqueness in its hall is checked by the service, keyed by field.
        validators = []


# --- roles -----------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    """A role held in a scope. Created by granting it and ended by revoking it; a role is
    never edited in place (grant the new one, revoke the old)."""

    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True)
    )
    user_name = serializers.StringRelatedField(source="user")
    role = serializers.ChoiceField(choices=Role.choices)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    categories = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=WindowCategory.objects.all(),
        required=False,
        help_text=_("Window clerks only: the categories they may accept (empty: their window's)."),
    )
    label = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "user_name",
            "role",
            "role_label",
            "department",
            "hall",
            "window",
            "categories",
            "region",
            "is_active",
            "created_at",
            "label",
        ]
        read_only_fields = ["is_active", "created_at"]


class MembershipRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=_("Why the role ends; kept in the audit trail."),
    )


class MyMembershipSerializer(serializers.ModelSerializer):
    """One of the current user's roles with its scope spelled out."""

    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    hall = HallRefSerializer(read_only=True, allow_null=True)
    window = WindowRefSerializer(read_only=True, allow_null=True)
    categories = WindowCategoryRefSerializer(many=True, read_only=True)
    region = RegionRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "role",
            "role_label",
            "department",
            "hall",
            "window",
            "categories",
            "region",
        ]
        read_only_fields = fields


class MyOrgRolesSerializer(serializers.Serializer):
    """What the current user may do in the organisation, for a client to shape its screens."""

    username = serializers.CharField()
    full_name = serializers.CharField()
    is_staff_member = serializers.BooleanField()
    is_system_admin = serializers.BooleanField()
    # Plain strings: a second enum of the same choices would be a second schema component.
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The codes of the roles held (the `role` values of `memberships`)."),
    )
    memberships = MyMembershipSerializer(many=True)
    department_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Departments in which the user holds a department role."),
    )
    window_category_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Window categories the user may accept as a window clerk."),
    )
