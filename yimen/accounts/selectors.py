"""Reads of the accounts app."""

from __future__ import annotations

from django.db.models import Q

from yimen.common.identifiers import normalize_citizen_id

from .models import Applicant


def applicant_by_identifier(*, identifier: str) -> Applicant | None:
    """The applicant whose full ID number or credit code this is (exact match only: a
    partial number must never reveal someone)."""
    value = normalize_citizen_id(identifier)
    if len(value) != 18:
        return None
    return (
        Applicant.objects.select_related("user", "verified_by")
        .filter(Q(id_number=value) | Q(uscc=value))
        .first()
    )
