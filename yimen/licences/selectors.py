"""Reads of the licences module: verification, a holder's licences, and the licences that
stand for a material (零提交)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When

from yimen.common.identifiers import licence_identifier_error
from yimen.common.masking import mask_name

from . import services
from .choices import LicenceStatus, Verdict
from .models import Licence, LicenceType

_VERDICT_OF_STATUS = {
    LicenceStatus.VALID: Verdict.VALID,
    LicenceStatus.EXPIRED: Verdict.EXPIRED,
    LicenceStatus.REVOKED: Verdict.REVOKED,
    LicenceStatus.REPLACED: Verdict.REPLACED,
}


def _licences() -> QuerySet[Licence]:
    return Licence.objects.select_related("licence_type", "holder", "issuer", "signing_key")


@dataclass(frozen=True)
class Verification:
    """What anyone may learn of a licence from its identifier: nothing personal beyond the
    holder's masked name."""

    identifier: str
    verdict: str
    licence: Licence | None = None

    @property
    def verdict_label(self) -> str:
        return Verdict(self.verdict).label

    @property
    def masked_holder(self) -> str:
        return mask_name(self.licence.holder.name) if self.licence else ""


def verify(identifier: str) -> Verification:
    """The verdict on an identifier: unknown, not genuine (the stored licence no longer
    matches its signature), or genuine with its status, expiry applied first."""
    identifier = (identifier or "").strip().upper()
    if licence_identifier_error(identifier):
        return Verification(identifier, Verdict.UNKNOWN)
    found = _licences().filter(identifier=identifier)
    services.expire_due(among=found)  # the status read below is then today's
    licence = found.first()
    if licence is None:
        return Verification(identifier, Verdict.UNKNOWN)
    if not services.is_genuine(licence):
        return Verification(identifier, Verdict.NOT_GENUINE, licence)
    return Verification(identifier, _VERDICT_OF_STATUS[licence.status], licence)


def licences_of(holder) -> QuerySet[Licence]:
    """A holder's licences, valid first, after applying expiry."""
    mine = _licences().filter(holder=holder)
    services.expire_due(among=mine)
    valid_first = Case(
        When(status=LicenceStatus.VALID, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return mine.order_by(valid_first, "-issued_on", "-pk")


def replacing(holder, material_type_ids) -> dict[int, Licence]:
    """For each material type, a valid and genuine licence of the holder that stands for it
    (用证): a record that no longer matches its signature stands for nothing."""
    found: dict[int, Licence] = {}
    licences = (
        licences_of(holder)
        .filter(status=LicenceStatus.VALID, licence_type__replaces__in=material_type_ids)
        .prefetch_related("licence_type__replaces")
    )
    for licence in licences:
        if not services.is_genuine(licence):
            continue
        for material_type in licence.licence_type.replaces.all():
            if material_type.pk in material_type_ids:
                found.setdefault(material_type.pk, licence)
    return found


def issued_for_cases(cases) -> QuerySet[Licence]:
    """The licences issued at the 制证 of these cases."""
    return Licence.objects.filter(case__in=cases).select_related("licence_type")


def replaced_by_items(item_ids) -> dict[int, int]:
    """{material type id: id of an item whose licence stands for it} over the licence types
    these items issue (发证清单 × 用证清单)."""
    rows = LicenceType.objects.filter(issuing_items__in=item_ids, is_active=True).values_list(
        "replaces", "issuing_items"
    )
    return {type_id: item_id for type_id, item_id in rows if type_id is not None}
