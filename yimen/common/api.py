"""API conventions shared by every app: errors as 400 with the field and the reason, and
yes/no filters that refuse anything else."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import StateConflict

# The answers every API documents alike (an app adds its own 409 with what the state is).
BAD_INPUT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=_("Bad input, or a refusal of the service: each field named with its errors."),
)
FORBIDDEN = OpenApiResponse(description=_("Not signed in, or not allowed to do this."))
NOT_FOUND = OpenApiResponse(description=_("No such object, or not one the user may see."))


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError turned into a 400 keyed by field (409 for
    a StateConflict)."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        is_conflict = isinstance(exc, StateConflict)
        exc = Conflict(detail) if is_conflict else serializers.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # The service's own reason ("You do not work at this window.") when it gave one.
        exc = exceptions.PermissionDenied(str(exc.args[0]) if exc.args else None)
    return drf_exception_handler(exc, context)


class Conflict(exceptions.APIException):
    """409: the object's state does not allow the action any more."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The state of this object does not allow this any more.")
    default_code = "conflict"


class YesNoField(forms.NullBooleanField):
    """true or false (1 or 0); anything else is an error rather than a filter left out."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if str(value).lower() not in self.VALUES:
            raise DjangoValidationError(_("Give true or false."), code="invalid")
        return self.VALUES[str(value).lower()]


class YesNoFilter(filters.BooleanFilter):
    field_class = YesNoField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
