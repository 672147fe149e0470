"""The 11 documents (文书) of a case: what each states, stored as data with its SM3 digest and
a verification code, so that the PDF can be drawn again at any time and the public verify
page can confirm that a paper in someone's hand is genuine."""

from __future__ import annotations

import json
import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from yimen.common.audit import sm3_hex
from yimen.common.masking import mask_citizen_id

from .models import Case, CaseDocument


def canonical(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _base_content(case: Case, kind: str, issued_at) -> dict:
    applicant = case.applicant
    identifier = mask_citizen_id(applicant.id_number) if applicant.id_number else applicant.uscc
    version = case.item_version
    return {
        "kind": kind,
        "case_number": case.number,
        "applicant": applicant.name,
        "applicant_identifier": identifier,
        "item": version.name,
        "item_code": version.item.implementation_code,
        "item_version": version.number,
        "department": case.department.name,
        "submitted_at": case.submitted_at,
        "issued_at": issued_at,
    }


def issue(*, case: Case, kind: str, actor, details: dict | None = None) -> CaseDocument:
    """Write one document of `case` (inside the caller's transaction)."""
    issued_at = timezone.now()
    content = {**_base_content(case, kind, issued_at), **(details or {})}
    content = json.loads(canonical(content))  # what is stored is exactly what was hashed
    return CaseDocument.objects.create(
        case=case,
        kind=kind,
        code=secrets.token_urlsafe(12),
        content=content,
        digest=sm3_hex(canonical(content)),
        issued_at=issued_at,
        issued_by=actor,
    )


def is_genuine(document: CaseDocument) -> bool:
    return sm3_hex(canonical(document.content)) == document.digest
