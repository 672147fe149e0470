"""The one rule of every evaluation: five levels, and a reason for the two lowest."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import Rating


def checked_rating(rating, comment: str = "") -> tuple[int, str]:
    """(rating, comment) when they make a valid evaluation, else a ValidationError by field."""
    if not isinstance(rating, int) or isinstance(rating, bool) or rating not in Rating.values:
        raise ValidationError({"rating": _("Rate from 1 (very poor) to 5 (very good).")})
    comment = (comment or "").strip()
    if rating <= Rating.POOR and not comment:
        raise ValidationError({"comment": _("Tell us what went wrong.")})
    return rating, comment
