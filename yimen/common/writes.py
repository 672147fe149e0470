"""Steps every service module takes when it writes a row: validate the whole record into
field errors first, then save so that a clash lost to a concurrent writer is a field error
too. Callers are promised a 400 with the field and the reason, never an IntegrityError or a
half-written row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _


def field_value(obj: models.Model, name: str) -> Any:
    """A field's value as the audit payload stores it: ids for relations, id lists for M2M."""
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(o.pk for o in getattr(obj, name).all()) if obj.pk else []
    return field.value_from_object(obj)


def validate(obj: models.Model, *, extra: Mapping[str, Any] | None = None) -> None:
    """Run the model's own validation plus the caller's rules, as one set of field errors."""
    errors: dict[str, list] = {}
    try:
        obj.full_clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    _key_clashes_by_field(errors)
    for field, message in (extra or {}).items():
        errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors)


def _key_clashes_by_field(errors: dict[str, list]) -> None:
    """Django reports a clash on several fields (a window's hall and number) as a non-field
    error. Callers are promised a field, so the clash moves to the constraint's last field:
    the one that varies within the others (the number within its hall)."""
    general = errors.get(NON_FIELD_ERRORS, [])
    for error in list(general):
        check = (getattr(error, "params", None) or {}).get("unique_check")
        if getattr(error, "code", None) == "unique_together" and check:
            general.remove(error)
            errors.setdefault(check[-1], []).append(error)
    if NON_FIELD_ERRORS in errors and not general:
        del errors[NON_FIELD_ERRORS]


def save(obj: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    """Save inside a savepoint. Validation already ran; a unique clash can still be lost to
    a concurrent writer, and that must reach the caller as a validation error too."""
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationError(
            _("This conflicts with a record saved a moment ago: reload and try again.")
        ) from exc


def check_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    if unknown := set(data) - set(allowed):
        raise TypeError(f"cannot update {sorted(unknown)} here")
