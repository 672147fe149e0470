"""The steps of a joint application as data: the states each starts from and who takes it.
No ORM here; yimen.joint.services looks a step up before it changes anything, and the
pages and the API ask `actions_from(status)` which buttons to offer."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from yimen.cases.choices import Performer
from yimen.common.errors import StateConflict

from .choices import OPEN_STATES, JointStatus

S = JointStatus
P = Performer


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    sources: frozenset[str]
    performers: frozenset[str]
    needs_reason: bool = False


def _s(action, label, sources, performers, *, needs_reason=False) -> Step:
    return Step(action, label, frozenset(sources), frozenset(performers), needs_reason)


STEPS: dict[str, Step] = {
    s.action: s
    for s in (
        _s("accept", _("Accept: open a case per item"), {S.RECEIVED}, {P.CLERK}),
        _s("deem_accepted", _("Deemed accepted"), {S.RECEIVED}, {P.SYSTEM}),
        _s("refuse", _("Do not accept"), {S.RECEIVED}, {P.CLERK}, needs_reason=True),
        _s("request_correction", _("Ask for corrections"), {S.RECEIVED}, {P.CLERK},
           needs_reason=True),
        _s("send_corrections", _("Send the departments' corrections in one notice"),
           {S.IN_REVIEW}, {P.CLERK}),
        _s("resubmit", _("Resubmit the corrected materials"), {S.CORRECTION},
           {P.APPLICANT, P.CLERK}),
        _s("extend", _("Extend the joint time limit"), {S.IN_REVIEW, S.CORRECTION}, {P.HEAD},
           needs_reason=True),
        _s("withdraw", _("Withdraw the application"), OPEN_STATES | {S.DECIDED}, {P.APPLICANT},
           needs_reason=True),
        _s("deliver", _("Deliver every result at once"), {S.READY}, {P.CLERK}),
        _s("evaluate", _("Rate the service"), {S.DELIVERED}, {P.APPLICANT}),
    )
}  # fmt: skip


class StepRefused(StateConflict):
    """The step does not start from the application's state (a stale page, a double click)."""

    def __init__(self, action: str, status: str):
        label = JointStatus(status).label if status in JointStatus.values else status
        name = STEPS[action].label if action in STEPS else action
        message = _("“%(action)s” is not possible while the application is “%(status)s”.") % {
            "action": name,
            "status": label,
        }
        super().__init__({"status": [message]})


def step(action: str, status: str) -> Step:
    found = STEPS.get(action)
    if found is None or status not in found.sources:
        raise StepRefused(action, status)
    return found


def actions_from(status: str) -> list[Step]:
    return [s for s in STEPS.values() if status in s.sources]
