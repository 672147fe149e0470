"""The 11 documents (文书) of a case: what each states, stored as data with its SM3 digest and
a verification code, so that the PDF can be drawn again at any time and the public verify
page can confirm that a paper in someone's hand is genuine.

Each kind adds its own facts to the common ones (case, applicant with a masked identifier,
item, department, dates): the reasons, the materials, the remedies of a refusal, the new
deadline of an extension… The Chinese wording of those facts is data: a legal document is
in Chinese whatever language the clerk's screen is in.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from yimen.common import prefetch
from yimen.common.audit import sm3_hex

from .choices import DeliveryMethod, DocumentKind, MaterialState, PauseKind
from .models import Case, CaseDocument

K = DocumentKind

# The Chinese names of the documents, as printed on them.
TITLES = {
    K.RECEIPT: "材料接收凭证",
    K.ACCEPTANCE: "受理通知书",
    K.NON_ACCEPTANCE: "不予受理通知书",
    K.CORRECTION: "补正材料通知书",
    K.TOLERANCE: "容缺受理承诺书",
    K.SPECIAL_PROCEDURE: "特别程序告知书",
    K.EXTENSION: "延期办理通知书",
    K.APPROVAL: "准予行政许可决定书",
    K.DENIAL: "不予行政许可决定书",
    K.SERVICE_RECEIPT: "送达回证",
    K.TERMINATION: "终止办理通知书",
}

# 行政复议法 Art. 20 (60 days) and 行政诉讼法 Art. 46 (six months).
REMEDIES = (
    "如不服本决定，可以自收到本文书之日起六十日内依法申请行政复议，"
    "或者自收到本文书之日起六个月内依法向人民法院提起行政诉讼。"
)
# The adverse decisions: each states its reason and the applicant's remedies.
REMEDY_KINDS = frozenset({K.NON_ACCEPTANCE, K.DENIAL, K.TERMINATION})

PROCEDURES = {
    PauseKind.HEARING: "听证",
    PauseKind.TENDER: "招标、拍卖",
    PauseKind.TESTING: "检验、检测、检疫",
    PauseKind.APPRAISAL: "鉴定、专家评审",
    PauseKind.SURVEY: "现场勘验",
    PauseKind.CONSULTATION: "征求第三方意见",
}

DELIVERY_METHODS = {
    DeliveryMethod.WINDOW: "窗口领取",
    DeliveryMethod.POST: "邮政寄递（EMS）",
    DeliveryMethod.ELECTRONIC: "电子送达",
}


def canonical(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _base_content(case: Case, kind: str, issued_at) -> dict:
    applicant = case.applicant
    version = case.item_version
    return {
        "kind": kind,
        "title": TITLES[kind],
        "case_number": case.number,
        "applicant": applicant.name,
        "applicant_kind": applicant.kind,
        "applicant_identifier": applicant.masked_identifier,
        "item": version.name,
        "item_code": version.item.implementation_code,
        "item_version": version.number,
        "department": case.department.name,
        "submitted_at": case.submitted_at,
        "issued_at": issued_at,
    }


def _number(case: Case, kind: str) -> str:
    """Case number and the kind's place among the 11; a second notice of a kind (another
    correction, another extension) counts on: 440604-20261123-00017-04-2."""
    number = f"{case.number}-{list(K).index(kind) + 1:02d}"
    known = prefetch.known(case, "documents")
    if known is None:
        earlier = case.documents.filter(kind=kind).count()
    else:
        earlier = sum(1 for document in known if document.kind == kind)
    return f"{number}-{earlier + 1}" if earlier else number


# --- what each kind states ---------------------------------------------------------------------


def _limit(limit, unit) -> dict:
    return {"limit": limit, "unit": unit}


def _received(case: Case, given: dict) -> dict:
    states = (MaterialState.PROVIDED, MaterialState.SUPPLIED)
    known = prefetch.known(case, "materials")
    if known is None:
        rows = case.materials.select_related("material__material_type").filter(state__in=states)
    else:
        rows = [row for row in known if row.state in states]
    return {
        "received_at": case.received_at,
        "materials": [
            {"material": str(row), "file": row.file_name, "original": row.original_seen}
            for row in rows
        ],
    }


def _to_supply(case: Case) -> list[dict]:
    rows = case.materials.select_related("material__material_type").filter(
        state=MaterialState.TOLERATED
    )
    return [{"material": str(row), "supply_by": row.supply_by, "how": row.note} for row in rows]


def _accepted(case: Case, given: dict) -> dict:
    version = case.item_version
    clock = case.decision_clock
    return {
        "accepted_at": case.accepted_at,
        "deemed": bool(case.deemed_accepted or given.get("deemed")),
        "promised": _limit(version.promised_limit, version.promised_unit),
        "statutory": _limit(version.statutory_limit, version.statutory_unit),
        "due_at": clock.due_at if clock is not None else None,
        "to_supply": _to_supply(case),
    }


def _refused(case: Case, given: dict) -> dict:
    return {"reason": (given.get("reason") or case.close_reason).strip(), "remedies": REMEDIES}


def _correction(case: Case, given: dict) -> dict:
    items = [
        {"material": (i.get("material") or "").strip(), "problem": (i.get("problem") or "").strip()}
        for i in given.get("items", ())
    ]
    return {"items": items}


def _tolerance(case: Case, given: dict) -> dict:
    return {"accepted_at": case.accepted_at, "materials": _to_supply(case)}


def _special_procedure(case: Case, given: dict) -> dict:
    clock = case.decision_clock
    pause = clock.pauses.filter(ended_at__isnull=True).last() if clock is not None else None
    kind = pause.kind if pause is not None else ""
    return {
        "accepted_at": case.accepted_at,
        "procedure_kind": kind,
        "procedure": PROCEDURES.get(kind, "特别程序"),
        "reason": (given.get("reason") or (pause.reason if pause else "")).strip(),
        "paused_at": pause.started_at if pause is not None else None,
    }


def _extension(case: Case, given: dict) -> dict:
    clock = case.decision_clock
    return {
        "accepted_at": case.accepted_at,
        "days": given.get("days"),
        "unit": clock.unit if clock is not None else None,
        "reason": (given.get("reason") or "").strip(),
        "due_at": clock.due_at if clock is not None else None,
    }


def _decision(case: Case, given: dict) -> dict:
    version = case.item_version
    return {
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "reason": (given.get("reason") or case.decision_reason).strip(),
        "legal_basis": list(version.legal_basis or ()),
    }


def _approval(case: Case, given: dict) -> dict:
    fee = case.fee_amount if case.fee_amount is not None else given.get("fee")
    return {**_decision(case, given), "fee": fee}


def _denial(case: Case, given: dict) -> dict:
    return {**_decision(case, given), "remedies": REMEDIES}


def _service_receipt(case: Case, given: dict) -> dict:
    decision = case.documents.filter(kind__in=(K.APPROVAL, K.DENIAL)).order_by("-pk").first()
    served = []
    if decision is not None:
        served.append({"title": TITLES[decision.kind], "number": decision.content.get("number")})
        if decision.kind == K.APPROVAL:
            served.append({"title": "行政许可证件（办理结果）", "number": ""})
    return {
        "method_kind": case.delivery_method,
        "method": DELIVERY_METHODS.get(case.delivery_method, ""),
        "tracking_number": (given.get("tracking_number") or case.tracking_number).strip(),
        "delivered_at": case.delivered_at,
        "served": served,
    }


def _termination(case: Case, given: dict) -> dict:
    return {**_refused(case, given), "closed_at": case.closed_at}


STATES: dict[str, Callable[[Case, dict], dict]] = {
    K.RECEIPT: _received,
    K.ACCEPTANCE: _accepted,
    K.NON_ACCEPTANCE: _refused,
    K.CORRECTION: _correction,
    K.TOLERANCE: _tolerance,
    K.SPECIAL_PROCEDURE: _special_procedure,
    K.EXTENSION: _extension,
    K.APPROVAL: _approval,
    K.DENIAL: _denial,
    K.SERVICE_RECEIPT: _service_receipt,
    K.TERMINATION: _termination,
}


def issue(*, case: Case, kind: str, actor, details: dict | None = None) -> CaseDocument:
    """Write one document of `case` (inside the caller's transaction). `details` are what
    the step knows (a reason, the items to correct…); the kind adds what the case says."""
    issued_at = timezone.now()
    given = dict(details or {})
    content = {
        **_base_content(case, kind, issued_at),
        **given,
        **STATES[kind](case, given),
        "number": _number(case, kind),
    }
    content = json.loads(canonical(content))  # what is stored is exactly what was hashed
    document = CaseDocument.objects.create(
        case=case,
        kind=kind,
        code=secrets.token_urlsafe(12),
        content=content,
        digest=sm3_hex(canonical(content)),
        issued_at=issued_at,
        issued_by=actor,
    )
    known = prefetch.known(case, "documents")
    if known is not None:
        known.append(document)
    return document


def is_genuine(document: CaseDocument) -> bool:
    return sm3_hex(canonical(document.content)) == document.digest
