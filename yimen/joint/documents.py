"""The documents of a joint application: what each states, stored like a case's (content,
SM3 digest, verification code) so that the cases' PDF module draws them and the public
verify page confirms them. Each department's decision stays a document of its own case;
these are the applicant's papers for the whole application: the receipt of the one
material set, the one acceptance listing every case it opened, the combined correction
notice grouped by department, a refusal, and the one proof of service."""

from __future__ import annotations

import json
import secrets

from django.utils import timezone

from yimen.cases.documents import DELIVERY_METHODS, REMEDIES, TITLES, canonical
from yimen.cases.models import CaseDocument
from yimen.common.audit import sm3_hex
from yimen.licences.selectors import issued_for_cases

from .choices import JointDocumentKind
from .models import JointCase, JointDocument

K = JointDocumentKind
# One place in the documents' numbering, after the 11 of a case.
SERIAL = {
    K.RECEIPT: 21,
    K.ACCEPTANCE: 22,
    K.NON_ACCEPTANCE: 23,
    K.CORRECTION: 24,
    K.SERVICE_RECEIPT: 25,
    K.EXTENSION: 26,
}


def _base(joint: JointCase, kind: str, issued_at) -> dict:
    applicant = joint.applicant
    item = joint.theme.name + (f"（{joint.stage.name}）" if joint.stage_id else "")
    return {
        "kind": kind,
        "title": TITLES[kind],
        "case_number": joint.number,
        "applicant": applicant.name,
        "applicant_kind": applicant.kind,
        "applicant_identifier": applicant.masked_identifier,
        "item": item,
        "item_code": joint.project.code if joint.project_id else "",
        "department": f"{joint.region.name}政务服务中心",
        "submitted_at": joint.submitted_at,
        "issued_at": issued_at,
        "joint": True,
    }


def _received(joint: JointCase, given: dict) -> dict:
    rows = joint.materials.filter(superseded_at=None).select_related("material_type", "licence")
    return {
        "received_at": joint.submitted_at,
        "materials": [
            {
                "material": row.material_type.name
                + (f"（电子证照 {row.licence.identifier}）" if row.licence_id else ""),
                "file": row.file_name,
                "original": row.original_seen,
            }
            for row in rows
        ],
    }


def _accepted(joint: JointCase, given: dict) -> dict:
    clock = joint.joint_clock
    children = joint.cases.select_related("item_version", "department", "decision_clock")
    return {
        "accepted_at": joint.accepted_at,
        "promised": {"limit": clock.limit, "unit": clock.unit} if clock else None,
        "statutory": {"limit": 45, "unit": "workdays"},
        "due_at": clock.due_at if clock is not None else None,
        "cases": [
            {
                "number": c.number,
                "item": c.item_version.name,
                "department": c.department.name,
                "due_at": c.decision_clock.due_at if c.decision_clock else None,
            }
            for c in children
        ],
    }


def _refused(joint: JointCase, given: dict) -> dict:
    return {"reason": (given.get("reason") or joint.close_reason).strip(), "remedies": REMEDIES}


def _correction(joint: JointCase, given: dict) -> dict:
    items = [
        {
            "material": (f"【{i['department']}】" if i.get("department") else "")
            + (i.get("material") or ""),
            "problem": i["problem"],
            "department": i.get("department", ""),
        }
        for i in given.get("items", ())
    ]
    return {"items": items}


def _extension(joint: JointCase, given: dict) -> dict:
    clock = joint.joint_clock
    return {
        "accepted_at": joint.accepted_at,
        "days": given.get("days"),
        "unit": clock.unit,
        "reason": (given.get("reason") or "").strip(),
        "due_at": clock.due_at,
    }


def _service_receipt(joint: JointCase, given: dict) -> dict:
    decisions = CaseDocument.objects.filter(
        case__joint=joint, kind__in=("approval", "denial", "termination")
    ).select_related("case")
    served = [
        {
            "title": f"{TITLES[d.kind]}（{d.content.get('item', '')}）",
            "number": d.content.get("number"),
        }
        for d in decisions
    ]
    served += [
        {"title": licence.licence_type.name, "number": licence.identifier}
        for licence in issued_for_cases(joint.cases.all())
    ]
    return {
        "method_kind": joint.delivery_method,
        "method": DELIVERY_METHODS.get(joint.delivery_method, ""),
        "tracking_number": joint.tracking_number,
        "delivered_at": joint.delivered_at,
        "served": served,
    }


STATES = {
    K.RECEIPT: _received,
    K.ACCEPTANCE: _accepted,
    K.NON_ACCEPTANCE: _refused,
    K.CORRECTION: _correction,
    K.EXTENSION: _extension,
    K.SERVICE_RECEIPT: _service_receipt,
}


def _number(joint: JointCase, kind: str) -> str:
    number = f"{joint.number}-{SERIAL[kind]}"
    earlier = joint.documents.filter(kind=kind).count()
    return f"{number}-{earlier + 1}" if earlier else number


def issue(*, joint: JointCase, kind: str, actor, details: dict | None = None) -> JointDocument:
    """Write one document of `joint` (inside the caller's transaction)."""
    issued_at = timezone.now()
    given = dict(details or {})
    content = {
        **_base(joint, kind, issued_at),
        **given,
        **STATES[kind](joint, given),
        "number": _number(joint, kind),
    }
    content = json.loads(canonical(content))
    return JointDocument.objects.create(
        joint=joint,
        kind=kind,
        code=secrets.token_urlsafe(12),
        content=content,
        digest=sm3_hex(canonical(content)),
        issued_at=issued_at,
        issued_by=actor,
    )
