from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from yimen.common.choices import Channel

from .. import services
from ..permissions import can_look_up_applicants
from ..selectors import applicant_by_identifier
from .serializers import (
    ApplicantCreateSerializer,
    ApplicantLookupSerializer,
    ApplicantSerializer,
    MeSerializer,
)


class CanLookUpApplicants(permissions.BasePermission):
    def has_permission(self, request, view):
        return can_look_up_applicants(request.user)


class MeView(APIView):
    """The signed-in user: roles for staff, the applicant profile for applicants."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class ApplicantsView(APIView):
    """Window staff find an applicant by the full number, or register a walk-in."""

    permission_classes = [permissions.IsAuthenticated, CanLookUpApplicants]

    @extend_schema(parameters=[ApplicantLookupSerializer], responses=ApplicantSerializer(many=True))
    def get(self, request):
        query = ApplicantLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = applicant_by_identifier(identifier=query.validated_data["identifier"])
        return Response(ApplicantSerializer([found] if found else [], many=True).data)

    @extend_schema(request=ApplicantCreateSerializer, responses={201: ApplicantSerializer})
    def post(self, request):
        data = ApplicantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        applicant = services.applicant_register(
            **data.validated_data, registered_by=request.user, channel=Channel.API
        )
        return Response(ApplicantSerializer(applicant).data, status=status.HTTP_201_CREATED)
