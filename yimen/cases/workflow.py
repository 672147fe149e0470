"""The case workflow as data: every action, the states it starts from, the states it may
lead to, the node of the standard process it belongs to, and who performs it.

No ORM here. The services look an action up (`transition(action, status)`) before they
change anything, so a case can never take a step the table does not allow; the pages and
the API ask `actions_from(case)` which buttons to offer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from yimen.catalog.choices import Node
from yimen.common.errors import StateConflict

from .choices import OPEN_STATES, CaseStatus, Performer

S = CaseStatus
P = Performer


# How an action applies to a child case of a joint application (主题联办): its department
# takes it on the case itself, the application takes it for all its cases at once (one
# delivery, 多证同发, one withdrawal), or it never happens there.
ON_CHILD = "child"
BY_THEME = "theme"
NOT_ON_CHILD = "never"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    targets: frozenset[str]  # several when the service decides (e.g. a resubmission)
    node: Node
    performers: frozenset[str]
    needs_reason: bool = False
    child: str = ON_CHILD
    single: bool = True  # False: on a child case of a joint application only

    def applies_to(self, case) -> bool:
        """Offered on `case` as a step of its own (not one its application takes)."""
        return self.child == ON_CHILD if case.joint_id else self.single


def _t(
    action,
    label,
    sources,
    targets,
    node,
    performers,
    *,
    needs_reason=False,
    child=ON_CHILD,
    single=True,
) -> Transition:
    return Transition(
        action,
        label,
        frozenset(sources),
        frozenset(targets),
        node,
        frozenset(performers),
        needs_reason,
        child,
        single,
    )


# A case in review stays in review while it moves along the chain, is sent back, or is
# extended; those actions name IN_REVIEW as both source and target.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("prereview_pass", _("Pass the pre-review"), {S.SUBMITTED}, {S.PREREVIEWED},
           Node.PREREVIEW, {P.CLERK}),
        _t("receive", _("Receive the materials"), {S.SUBMITTED, S.PREREVIEWED}, {S.RECEIVED},
           Node.RECEIPT, {P.CLERK}),
        _t("accept", _("Accept"), {S.RECEIVED}, {S.IN_REVIEW}, Node.ACCEPTANCE, {P.CLERK}),
        _t("accept_tolerant", _("Accept with materials to follow"), {S.RECEIVED},
           {S.IN_REVIEW}, Node.ACCEPTANCE, {P.CLERK}),
        _t("deem_accepted", _("Deemed accepted"), {S.RECEIVED}, {S.IN_REVIEW},
           Node.ACCEPTANCE, {P.SYSTEM}),
        _t("refuse", _("Do not accept"), {S.RECEIVED}, {S.NOT_ACCEPTED}, Node.ACCEPTANCE,
           {P.CLERK}, needs_reason=True),
        _t("request_correction", _("Ask for corrections"), {S.SUBMITTED, S.RECEIVED},
           {S.CORRECTION}, Node.ACCEPTANCE, {P.CLERK}, needs_reason=True, child=NOT_ON_CHILD),
        _t("resubmit", _("Resubmit the corrected materials"), {S.CORRECTION},
           {S.SUBMITTED, S.RECEIVED}, Node.RECEIPT, {P.APPLICANT, P.CLERK}, child=NOT_ON_CHILD),
        # A department reviewing its part of a joint application asks for corrections; the
        # application sends every department's requests in one notice, and its corrected
        # materials bring the case back to review.
        _t("ask_correction", _("Ask for corrections"), {S.IN_REVIEW}, {S.CORRECTION},
           Node.REVIEW, {P.REVIEWER}, needs_reason=True, single=False),
        _t("correction_answered", _("Corrected materials received"), {S.CORRECTION},
           {S.IN_REVIEW}, Node.RECEIPT, {P.APPLICANT, P.CLERK, P.SYSTEM}, child=BY_THEME,
           single=False),
        _t("review_pass", _("Pass to the next step"), {S.IN_REVIEW}, {S.IN_REVIEW},
           Node.REVIEW, {P.REVIEWER}),
        _t("send_back", _("Send back a step"), {S.IN_REVIEW}, {S.IN_REVIEW}, Node.REVIEW,
           {P.REVIEWER}, needs_reason=True),
        _t("suspend", _("Start a special procedure"), {S.IN_REVIEW}, {S.SUSPENDED},
           Node.SPECIAL_PROCEDURE, {P.REVIEWER, P.HEAD}, needs_reason=True),
        _t("resume", _("End the special procedure"), {S.SUSPENDED}, {S.IN_REVIEW},
           Node.SPECIAL_PROCEDURE, {P.REVIEWER, P.HEAD}),
        _t("extend", _("Extend the time limit"), {S.IN_REVIEW, S.SUSPENDED},
           {S.IN_REVIEW, S.SUSPENDED}, Node.DECISION, {P.HEAD}, needs_reason=True),
        _t("approve", _("Grant"), {S.IN_REVIEW}, {S.APPROVED}, Node.DECISION, {P.REVIEWER}),
        _t("deny", _("Refuse"), {S.IN_REVIEW}, {S.DENIED}, Node.DECISION, {P.REVIEWER},
           needs_reason=True),
        _t("record_fee", _("Record the fee paid"), {S.APPROVED}, {S.APPROVED}, Node.FEES,
           {P.CLERK, P.REVIEWER}),
        _t("supply_tolerated", _("Record the materials supplied"),
           {S.IN_REVIEW, S.SUSPENDED, S.APPROVED}, {S.IN_REVIEW, S.SUSPENDED, S.APPROVED},
           Node.RECEIPT, {P.CLERK, P.APPLICANT}),
        _t("produce", _("Produce the result"), {S.APPROVED}, {S.READY}, Node.CERTIFICATE,
           {P.REVIEWER, P.SYSTEM}, child=BY_THEME),
        _t("deliver", _("Deliver"), {S.READY, S.DENIED}, {S.DELIVERED}, Node.DELIVERY,
           {P.CLERK, P.SYSTEM}, child=BY_THEME),
        # A joint application is rated once, as a whole (一事一评).
        _t("evaluate", _("Rate the service"), {S.DELIVERED, S.ARCHIVED, S.NOT_ACCEPTED},
           {S.DELIVERED, S.ARCHIVED, S.NOT_ACCEPTED}, Node.EVALUATION, {P.APPLICANT},
           child=NOT_ON_CHILD),
        _t("archive", _("Archive"), {S.DELIVERED}, {S.ARCHIVED}, Node.EVALUATION,
           {P.CLERK, P.SYSTEM}),
        _t("withdraw", _("Withdraw the application"), OPEN_STATES, {S.WITHDRAWN},
           Node.DECISION, {P.APPLICANT}, needs_reason=True, child=BY_THEME),
        # An approved case too: its promised materials may never arrive (容缺受理).
        _t("terminate", _("Terminate"), (OPEN_STATES - {S.SUBMITTED, S.PREREVIEWED}) | {S.APPROVED},
           {S.TERMINATED}, Node.DECISION, {P.REVIEWER, P.HEAD, P.SYSTEM}, needs_reason=True),
    )
}  # fmt: skip


class TransitionRefused(StateConflict):
    """The action does not start from the case's state (a stale page, a double click),
    keyed on the case's status, telling what state the case is in now."""

    def __init__(self, action: str, status: str):
        self.action, self.status = action, status
        label = CaseStatus(status).label if status in CaseStatus.values else status
        name = TRANSITIONS[action].label if action in TRANSITIONS else action
        message = _("“%(action)s” is not possible while the case is “%(status)s”.") % {
            "action": name,
            "status": label,
        }
        super().__init__({"status": [message]})


def transition(action: str, status: str) -> Transition:
    """The transition of `action` from `status`; TransitionRefused when there is none."""
    found = TRANSITIONS.get(action)
    if found is None or status not in found.sources:
        raise TransitionRefused(action, status)
    return found


def actions_from(case) -> list[Transition]:
    """The actions `case` offers in its status (each still subject to who may perform it)."""
    return [t for t in TRANSITIONS.values() if case.status in t.sources and t.applies_to(case)]
