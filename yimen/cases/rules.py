"""The rules of cases that fall due with time rather than with anyone's action.

- The 5-working-day rule (行政许可法 Art. 32): a case received and left without an
  acceptance decision for 5 working days counts as accepted from the day of receipt. The
  periodic sweep (tasks.sweep_cases) applies it to every case, and `apply_due_rules` to a
  case as it is read, so no page shows a case awaiting acceptance after its time ran out.
- An overdue 容缺 commitment: a material promised under tolerated acceptance and not
  supplied by its date alerts the supervisor once per case and material, as an event in the
  case's history in the audit chain (supervisors read every case). Terminating the case
  stays the department's decision.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent

from . import services
from .models import Case, CaseMaterial
from .selectors import COMMITMENT_OVERDUE, overdue_commitments

logger = logging.getLogger(__name__)


def apply_due_rules(case: Case) -> bool:
    """Apply the rules due on `case` as it is read. True when the case changed: reload it
    then, since its prefetched documents and clocks are stale."""
    if not services.acceptance_overdue(case):
        return False
    # Decided or paused for corrections a moment ago: the reload shows it.
    with contextlib.suppress(ValidationError):
        services.deem_accepted(case=case)
    return True


# --- the sweep ------------------------------------------------------------------------------


def commitments_to_alert(*, today: dt.date | None = None) -> list[CaseMaterial]:
    """The overdue promised materials of open cases whose alert is not in the chain yet."""
    overdue = list(overdue_commitments(today=today))
    alerted = _alerted({row.case_id for row in overdue})
    return [row for row in overdue if (row.case_id, row.material_id) not in alerted]


def alert_overdue_commitment(row: CaseMaterial) -> bool:
    """Record the alert of one overdue promised material, unless the chain has it already
    (the case row is locked meanwhile, so two sweeps at once record it once)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=row.case_id)
        if (case.pk, row.material_id) in _alerted({case.pk}):
            return False
        name = row.material.display_name if row.material else row.file_name
        audit.record(
            action=COMMITMENT_OVERDUE,
            obj=case,
            channel=Channel.SYSTEM,
            from_state=case.status,
            to_state=case.status,
            reason=f"{name}: {row.supply_by.isoformat()}",
            payload={
                "material_id": row.material_id,
                "material": name,
                "supply_by": row.supply_by.isoformat(),
            },
        )
    logger.warning(
        "Case %s: the material promised under tolerated acceptance (%s) was due by %s.",
        case.number,
        name,
        row.supply_by.isoformat(),
    )
    return True


def _alerted(case_ids) -> set[tuple[int, int | None]]:
    """(case id, material id) of the commitment alerts already in the chain."""
    if not case_ids:
        return set()
    events = AuditEvent.objects.filter(
        object_type=Case._meta.label_lower,
        object_id__in=[str(pk) for pk in case_ids],
        action=COMMITMENT_OVERDUE,
    ).values_list("object_id", "payload")
    return {(int(object_id), (payload or {}).get("material_id")) for object_id, payload in events}
