from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from yimen.org.roles import active_memberships

from ..choices import ApplicantKind
from ..models import Applicant, User


class ApplicantSerializer(serializers.ModelSerializer):
    """An applicant as staff see it: identifiers and phone masked."""

    identifier = serializers.CharField(source="masked_identifier", read_only=True)
    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = Applicant
        fields = [
            "public_id",
            "kind",
            "name",
            "identifier",
            "legal_representative",
            "phone",
            "identity_level",
            "verified_at",
        ]
        read_only_fields = fields


class ApplicantCreateSerializer(serializers.Serializer):
    """A walk-in applicant registered by a clerk. Validation happens in the service."""

    kind = serializers.ChoiceField(choices=ApplicantKind.choices)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    uscc = serializers.CharField(max_length=20, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=11, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ApplicantLookupSerializer(serializers.Serializer):
    identifier = serializers.CharField(
        max_length=20, help_text=_("The full 18-character ID number or credit code.")
    )


class MembershipBriefSerializer(serializers.Serializer):
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    department = serializers.CharField(allow_null=True)
    hall = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)


class MeSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="masked_phone", read_only=True)
    roles = serializers.SerializerMethodField()
    applicant = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "full_name", "phone", "roles", "applicant"]
        read_only_fields = fields

    def get_roles(self, user) -> list[dict]:
        return MembershipBriefSerializer(active_memberships(user), many=True).data

    def get_applicant(self, user) -> dict | None:
        applicant = getattr(user, "applicant", None)
        return ApplicantSerializer(applicant).data if applicant else None
