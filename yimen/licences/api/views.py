"""The licences API: thin views that parse, check access and call the services, selectors and
tokens of yimen.licences.

Who calls what:

- anyone: the licence catalogue (证照目录, with the 发证清单 and 用证清单 of each type) and the
  verification of an identifier (valid / expired / revoked / replaced / not genuine / unknown,
  with nothing personal beyond the holder's masked name), rate-limited per address (429);
- a signed-in applicant: their own licences, with the data they carry (an enterprise's
  account: the enterprise's);
- a department system, with its data-sharing token (`Authorization: Token ymn_…`, nothing
  else): the valid licences of a holder, of the licence types its department issues; every
  query is audited. No token, a wrong or a revoked one: 403;
- system admins and the heads of the issuing department: revoking and replacing a licence,
  with the reason. A licence no longer valid is a 409.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings

from yimen.catalog.models import FieldDefinition, MaterialType, ServiceItem
from yimen.common.api import BAD_INPUT, FORBIDDEN, NOT_FOUND
from yimen.common.choices import Channel
from yimen.common.identifiers import licence_identifier_error
from yimen.common.ratelimit import over_limit

from .. import selectors, services, tokens
from ..models import Licence, LicenceType
from ..views import VERIFY_LIMIT
from . import serializers as s
from .permissions import HasDepartmentToken, MayManageLicences, manageable_licences

# One tag for the whole app, so the API docs group these endpoints under "licences".
TAGS = ["licences"]
# The verify page and this API count look-ups of one address together.
VERIFY_SCOPE = "licence_verify"

CONFLICT = OpenApiResponse(
    response=s.LicenceConflictSerializer,
    description=_("The licence is no longer valid: revoked, replaced or expired."),
)
LICENCE_IDENTIFIER = OpenApiParameter(
    "identifier",
    str,
    OpenApiParameter.PATH,
    description=_("A licence identifier: 1.2.156.3005.2.type.issuer.serial.version.check."),
)
HOLDER_IDENTIFIER = OpenApiParameter(
    "identifier",
    str,
    OpenApiParameter.PATH,
    description=_("The holder's citizen ID number or unified social credit code (18 characters)."),
)
THROTTLED = OpenApiResponse(description=_("Too many look-ups from this address: wait a minute."))


class DepartmentTokenScheme(OpenApiAuthenticationExtension):
    """The data-sharing token in the schema: `Authorization: Token ymn_…`."""

    target_class = "yimen.licences.tokens.DepartmentTokenAuthentication"
    name = "departmentToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "A department system's data-sharing token, sent as `Token ymn_…`. A system "
                "administrator makes it with `manage.py licences_token`."
            ),
        }


class LicencesView(generics.GenericAPIView):
    """Plain views: no filters, no pages (but the lists below), each names its input and
    output in its schema."""

    filter_backends: list = []
    pagination_class = None
    parser_classes = [JSONParser]


def own_applicant(user):
    """The applicant the signed-in user is (an enterprise's account: the enterprise), or
    None (staff)."""
    return getattr(user, "applicant", None) if user.is_authenticated else None


# --- public ----------------------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Licence catalogue"),
    description=_(
        "Every licence type (证照目录): its issuer, holder kind, validity and the data it "
        "carries; the implementation codes of the items that issue it (发证清单) and the codes "
        "of the material types it stands for when applying (用证清单). Public."
    ),
)
class LicenceTypeListView(LicencesView, generics.ListAPIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    serializer_class = s.LicenceTypeSerializer

    def get_queryset(self):
        return LicenceType.objects.select_related("issuer").prefetch_related(
            Prefetch("issuing_items", queryset=ServiceItem.objects.only("implementation_code")),
            Prefetch("replaces", queryset=MaterialType.objects.only("code")),
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        keys = {key for licence_type in page for key in licence_type.fields}
        labels = dict(FieldDefinition.objects.filter(key__in=keys).values_list("key", "label"))
        serializer = self.get_serializer(page, many=True, context={"labels": labels})
        return self.get_paginated_response(serializer.data)


@extend_schema(
    tags=TAGS,
    summary=_("Verify a licence"),
    description=_(
        "The verdict on a licence identifier (valid, expired, revoked, replaced, not genuine — "
        "its record no longer matches its SM2 signature — or unknown) and, for a genuine "
        "licence, what identifies it: type, issuer, dates, the holder's masked name. Public; "
        "at most 30 look-ups a minute per address, the verify page's included (429 beyond). "
        "A malformed identifier is a 400."
    ),
    parameters=[LICENCE_IDENTIFIER],
    responses={200: s.LicenceVerificationSerializer, 400: BAD_INPUT, 429: THROTTLED},
)
class VerifyView(LicencesView):
    permission_classes = [AllowAny]
    serializer_class = s.LicenceVerificationSerializer

    def get(self, request, identifier):
        if over_limit(request, scope=VERIFY_SCOPE, per_minute=VERIFY_LIMIT):
            raise exceptions.Throttled(
                wait=60, detail=str(_("Too many look-ups from this address: wait a minute."))
            )
        value = "".join(identifier.split()).upper()
        error = licence_identifier_error(value)
        if error:
            raise DjangoValidationError({"identifier": error})
        return Response(s.verification_data(selectors.verify(value)))


# --- the applicant's own ---------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("My licences"),
    description=_(
        "The signed-in applicant's licences (an enterprise's account: the enterprise's), the "
        "valid ones first, with the data they carry; none for a user who is not an applicant."
    ),
)
class MyLicenceListView(LicencesView, generics.ListAPIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    serializer_class = s.LicenceSerializer

    def get_queryset(self):
        applicant = own_applicant(self.request.user)
        if applicant is None:
            return Licence.objects.none()
        return selectors.licences_of(applicant).select_related("case", "previous", "successor")


# --- department systems (data sharing) -------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("A holder's licences (data sharing)"),
    description=_(
        "For department systems, with their data-sharing token: the valid licences of the "
        "holder whose citizen ID number or unified social credit code is given, of the licence "
        "types the token's department issues, with their data and what checks their SM2 "
        "signature. A holder unknown here has none. Every query is audited. No token, a wrong "
        "or a revoked one: 403; a malformed number: 400."
    ),
    parameters=[HOLDER_IDENTIFIER],
    responses={200: s.SharedLicenceSerializer(many=True), 400: BAD_INPUT, 403: FORBIDDEN},
)
class HolderLicenceListView(LicencesView):
    # The token only: a signed-in user's session reads nothing here. The class names no
    # challenge, so a missing or bad token is a 403.
    authentication_classes = [tokens.DepartmentTokenAuthentication]
    permission_classes = [HasDepartmentToken]
    serializer_class = s.SharedLicenceSerializer

    def get(self, request, identifier):
        found = tokens.shared_licences(token=request.auth, identifier=identifier)
        return Response(s.SharedLicenceSerializer(found, many=True).data)


# --- staff: revoke, replace ------------------------------------------------------------------


def licence_to_manage(request, public_id) -> Licence:
    """The licence, if the user may manage it (else 404), with expiry applied first: a
    licence past its last day is expired, not revoked or replaced."""
    found = manageable_licences(request.user).filter(public_id=public_id)
    services.expire_due(among=found)
    return get_object_or_404(found)


def for_staff(licence: Licence) -> Licence:
    return Licence.objects.select_related(
        "licence_type", "issuer", "holder", "case", "previous", "successor"
    ).get(pk=licence.pk)


@extend_schema(
    tags=TAGS,
    summary=_("Revoke a licence"),
    description=_(
        "注销/吊销: the licence stops being valid; the reason is required (the holder is told "
        "it). System administrators and heads of the issuing department. A licence no longer "
        "valid is a 409."
    ),
    request=s.LicenceRevokeSerializer,
    responses={
        200: s.StaffLicenceSerializer,
        400: BAD_INPUT,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
    },
)
class LicenceRevokeView(LicencesView):
    permission_classes = [MayManageLicences]
    serializer_class = s.LicenceRevokeSerializer

    def post(self, request, public_id):
        licence = licence_to_manage(request, public_id)
        form = s.LicenceRevokeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.licence_revoke(
            licence=licence,
            actor=request.user,
            reason=form.validated_data["reason"],
            channel=Channel.ADMIN,
        )
        return Response(s.StaffLicenceSerializer(for_staff(licence)).data)


@extend_schema(
    tags=TAGS,
    summary=_("Replace a licence"),
    description=_(
        "换发: a new version of the licence (the same serial, the version + 1), issued today "
        "and signed, with the new values given in `data` and the others kept; the old one is "
        "marked replaced. The reason is required. System administrators and heads of the "
        "issuing department. A licence no longer valid is a 409. Answers the new version."
    ),
    request=s.LicenceReplaceSerializer,
    responses={
        201: s.StaffLicenceSerializer,
        400: BAD_INPUT,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
    },
)
class LicenceReplaceView(LicencesView):
    permission_classes = [MayManageLicences]
    serializer_class = s.LicenceReplaceSerializer

    def post(self, request, public_id):
        licence = licence_to_manage(request, public_id)
        form = s.LicenceReplaceSerializer(data=request.data, context={"licence": licence})
        form.is_valid(raise_exception=True)
        new = services.licence_replace(
            licence=licence,
            actor=request.user,
            reason=form.validated_data["reason"],
            data=form.validated_data["data"],
            channel=Channel.ADMIN,
        )
        return Response(
            s.StaffLicenceSerializer(for_staff(new)).data, status=status.HTTP_201_CREATED
        )
