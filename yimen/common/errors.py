"""Errors the services of every app share."""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object's current state does not allow the action any more (a stale page, a double
    click, another clerk first): a ValidationError keyed by field that the API answers with
    409 Conflict instead of 400."""
