"""Shapes of the licences API. Serializers parse and present; the rules live in
yimen.licences.services (issuing, revoking, replacing), yimen.licences.selectors (reads,
verification), yimen.licences.tokens (data-sharing tokens) and yimen.licences.api.permissions
(who may do what).

What the public sees (the catalogue, a verification) carries nothing personal beyond the
holder's masked name."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yimen.accounts.choices import ApplicantKind
from yimen.catalog.api import serializers as catalog
from yimen.org.api.serializers import DepartmentRefSerializer

from .. import services
from ..choices import LicenceStatus, Verdict
from ..models import Licence, LicenceType

# --- enums -----------------------------------------------------------------------------------


class EnumField(catalog.EnumField):
    """The catalogue's enum field, its schema component named "Licences…Enum" so that it
    clashes with no other app's field of the same name."""

    def __init__(self, choices, *, component: str, **kwargs):
        super().__init__(choices, component=component, **kwargs)
        self.component = f"Licences{component}Enum"


class EnumFieldExtension(catalog.EnumFieldExtension):
    target_class = EnumField


def enum(choices_class, **kwargs) -> EnumField:
    return EnumField(choices_class.choices, component=choices_class.__name__, **kwargs)


# --- the catalogue (证照目录) -----------------------------------------------------------------


class LicenceFieldSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The key of the field dictionary: a key of `data`."))
    label = serializers.CharField(
        help_text=_("Its label (the key itself if not in the dictionary).")
    )


class LicenceTypeSerializer(serializers.ModelSerializer):
    """A licence type of the catalogue: who issues it to whom, what it carries and for how
    long, which items issue it (发证清单) and which materials it stands for (用证清单)."""

    issuer = DepartmentRefSerializer()
    holder_kind = enum(ApplicantKind)
    holder_kind_label = serializers.CharField(source="get_holder_kind_display")
    validity_years = serializers.IntegerField(
        allow_null=True, help_text=_("Years a licence is valid; null: valid for good.")
    )
    # get_fields is the serializer's own method: this one is named otherwise.
    fields = serializers.SerializerMethodField(
        method_name="data_fields", help_text=_("The data a licence carries.")
    )
    issuing_items = serializers.SerializerMethodField(
        help_text=_("Implementation codes of the items that issue it (发证清单).")
    )
    replaces = serializers.SerializerMethodField(
        help_text=_("Codes of the material types it stands for when applying (用证清单).")
    )
    is_active = serializers.BooleanField(help_text=_("Still issued."))

    class Meta:
        model = LicenceType
        fields = [
            "code",
            "name",
            "issuer",
            "holder_kind",
            "holder_kind_label",
            "validity_years",
            "fields",
            "issuing_items",
            "replaces",
            "is_active",
        ]
        read_only_fields = fields

    @extend_schema_field(LicenceFieldSerializer(many=True))
    def data_fields(self, licence_type):
        labels = self.context.get("labels", {})
        return [{"key": key, "label": labels.get(key, key)} for key in licence_type.fields]

    def get_issuing_items(self, licence_type) -> list[str]:
        return [item.implementation_code for item in licence_type.issuing_items.all()]

    def get_replaces(self, licence_type) -> list[str]:
        return [material_type.code for material_type in licence_type.replaces.all()]


class LicenceTypeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = LicenceType
        fields = ["code", "name"]
        read_only_fields = fields


# --- verification (public) -------------------------------------------------------------------


class VerifiedLicenceIssuerSerializer(serializers.Serializer):
    name = serializers.CharField()
    uscc = serializers.CharField(help_text=_("Its unified social credit code."))


class VerifiedLicenceFactsSerializer(serializers.Serializer):
    """What identifies a genuine licence, as the verify page shows it: nothing personal
    beyond the holder's masked name."""

    licence_type = LicenceTypeBriefSerializer()
    issuer = VerifiedLicenceIssuerSerializer()
    version = serializers.IntegerField()
    issued_on = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True, help_text=_("Null: valid for good."))
    holder = serializers.CharField(help_text=_("The holder's name, masked (张*三)."))
    successor = serializers.CharField(
        allow_null=True, help_text=_("The identifier of the licence that replaced it, if any.")
    )


class LicenceVerificationSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text=_("The identifier, as read."))
    verdict = enum(Verdict)
    verdict_label = serializers.CharField()
    facts = VerifiedLicenceFactsSerializer(
        allow_null=True,
        help_text=_(
            "The licence's facts when it is genuine; null when no licence has the identifier "
            "or its record no longer matches its signature."
        ),
    )


GENUINE = (Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED, Verdict.REPLACED)


def verification_data(verification) -> dict:
    """A selectors.Verification as LicenceVerificationSerializer presents it."""
    facts = None
    if verification.verdict in GENUINE:
        licence = verification.licence
        successor = None
        if verification.verdict == Verdict.REPLACED:
            successor = (
                Licence.objects.filter(previous=licence)
                .values_list("identifier", flat=True)
                .first()
            )
        facts = {
            "licence_type": licence.licence_type,
            "issuer": licence.issuer,
            "version": licence.version,
            "issued_on": licence.issued_on,
            "valid_until": licence.valid_until,
            "holder": verification.masked_holder,
            "successor": successor,
        }
    return LicenceVerificationSerializer(
        {
            "identifier": verification.identifier,
            "verdict": verification.verdict,
            "verdict_label": verification.verdict_label,
            "facts": facts,
        }
    ).data


# --- licences --------------------------------------------------------------------------------


class LicenceSerializer(serializers.ModelSerializer):
    """A licence as its holder sees it (我的空间), with the data it carries. The list selects
    its type, issuer, case, predecessor and successor with it."""

    licence_type = LicenceTypeBriefSerializer()
    issuer = DepartmentRefSerializer()
    status = enum(LicenceStatus)
    status_label = serializers.CharField(source="get_status_display")
    status_reason = serializers.CharField(
        help_text=_("Why it was revoked or replaced (empty otherwise).")
    )
    data = serializers.DictField(help_text=_("The values it carries, by field key."))
    case = serializers.CharField(
        source="case.number",
        allow_null=True,
        default=None,
        help_text=_("The number of the case that issued it; null for a registered paper one."),
    )
    previous = serializers.CharField(
        source="previous.identifier",
        allow_null=True,
        default=None,
        help_text=_("The identifier of the version it replaced."),
    )
    successor = serializers.SerializerMethodField(
        help_text=_("The identifier of the version that replaced it.")
    )
    pdf_url = serializers.SerializerMethodField(help_text=_("The printable licence (PDF)."))
    verify_url = serializers.SerializerMethodField(help_text=_("Its public verify page."))

    class Meta:
        model = Licence
        fields = [
            "public_id",
            "identifier",
            "licence_type",
            "issuer",
            "version",
            "data",
            "issued_on",
            "valid_until",
            "status",
            "status_label",
            "status_reason",
            "case",
            "previous",
            "successor",
            "pdf_url",
            "verify_url",
        ]
        read_only_fields = fields

    def get_successor(self, licence) -> str | None:
        try:
            return licence.successor.identifier
        except Licence.successor.RelatedObjectDoesNotExist:
            return None

    def get_pdf_url(self, licence) -> str:
        return reverse("licences:pdf", args=[licence.public_id])

    def get_verify_url(self, licence) -> str:
        return reverse("licences:verify_identifier", args=[licence.identifier])


class LicenceHolderSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    kind = enum(ApplicantKind)
    name = serializers.CharField()
    identifier = serializers.CharField(
        source="masked_identifier",
        help_text=_("The ID number masked, or the credit code (public)."),
    )


class StaffLicenceSerializer(LicenceSerializer):
    """A licence as the issuing department sees it: with its holder."""

    holder = LicenceHolderSerializer()

    class Meta(LicenceSerializer.Meta):
        fields = [*LicenceSerializer.Meta.fields, "holder"]
        read_only_fields = fields


class SharedLicenceSerializer(serializers.ModelSerializer):
    """A valid licence as a department system receives it: its data, and what it needs to
    check the SM2 signature itself (the signed text and the issuer's public key)."""

    licence_type = LicenceTypeBriefSerializer()
    holder_name = serializers.CharField(source="holder.name")
    data = serializers.DictField(help_text=_("The values it carries, by field key."))
    signed = serializers.SerializerMethodField(
        help_text=_("The signed text: canonical JSON of the licence (UTF-8).")
    )
    signature = serializers.CharField(help_text=_("The SM2 signature of `signed` (hex, r‖s)."))
    public_key = serializers.CharField(
        source="signing_key.public_key",
        help_text=_("The issuer's SM2 public key that checks the signature (hex)."),
    )

    class Meta:
        model = Licence
        fields = [
            "identifier",
            "licence_type",
            "holder_name",
            "version",
            "data",
            "issued_on",
            "valid_until",
            "signed",
            "signature",
            "public_key",
        ]
        read_only_fields = fields

    def get_signed(self, licence) -> str:
        return services.canonical(licence).decode()


# --- staff actions ---------------------------------------------------------------------------


class LicenceRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        help_text=_("Why it is revoked: the holder is told it."),
    )


class LicenceReplaceSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        help_text=_("Why it is replaced: the holder is told it."),
    )
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text=_(
            "New values by field key (only the licence type's fields); the others are kept."
        ),
    )

    def validate_data(self, data):
        licence = self.context["licence"]
        unknown = sorted(set(data) - set(licence.licence_type.fields))
        if unknown:
            raise serializers.ValidationError(
                _("This licence carries no field %(keys)s.") % {"keys": ", ".join(unknown)}
            )
        return data


class LicenceConflictSerializer(serializers.Serializer):
    """The licence is no longer valid: it was revoked, replaced or has expired."""

    status = serializers.ListField(
        child=serializers.CharField(), help_text=_("What the licence's status allows no more.")
    )
