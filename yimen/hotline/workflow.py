"""The steps of a work order as data: the states each starts from and who takes it. No ORM
here; yimen.hotline.orders looks a step up before it changes anything, and the pages and
the API ask `actions_from(status)` which steps to offer.

    registered ─answer──────────────────────────────────────────────▶ closed
        │ └─link──▶ linked (follows its master; unlink → registered)
        └─dispatch─▶ dispatched ─sign─▶ handling ─reply─▶ replied ─accept_reply─▶ callback
                      ▲  │redispatch        ▲  │               │send_back           │
                      └──┘ (to a sub-unit)  │  └───────────────┘                    │
                                            └──── callback: dissatisfied (reopen) ◀─┘
                                                   otherwise ─▶ closed
    A unit asks to return (退单, approved → registered) or to extend; the center decides.
    Supervisors issue supervision orders (督办) and cards; units answer supervision orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from yimen.common.errors import StateConflict

from .choices import Actor, OrderStatus

S = OrderStatus
A = Actor
HELD = {S.DISPATCHED, S.HANDLING}  # a unit holds the order
WITH_UNITS = HELD | {S.REPLIED, S.CALLBACK}


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    sources: frozenset[str]
    actors: frozenset[str]
    needs_reason: bool = False


def _s(action, label, sources, actors, *, needs_reason=False) -> Step:
    return Step(action, label, frozenset(sources), frozenset(actors), needs_reason)


STEPS: dict[str, Step] = {
    s.action: s
    for s in (
        _s("answer", _("Answer at once (closes the order)"), {S.REGISTERED}, {A.AGENT}),
        _s("dispatch", _("Dispatch to a unit"), {S.REGISTERED}, {A.AGENT}),
        _s("link", _("Link to an earlier order (duplicate)"), {S.REGISTERED}, {A.AGENT}),
        _s("unlink", _("Unlink from the master order"), {S.LINKED}, {A.AGENT},
           needs_reason=True),
        _s("redispatch", _("Re-dispatch to a sub-unit"), HELD, {A.LEAD}),
        _s("sign", _("Sign for the order"), {S.DISPATCHED}, {A.LEAD}),
        _s("co_opinion", _("Give the co-handler's opinion"), WITH_UNITS - {S.CALLBACK}, {A.CO}),
        _s("reply", _("Reply"), {S.HANDLING}, {A.LEAD}),
        _s("accept_reply", _("Accept the reply"), {S.REPLIED}, {A.AGENT}),
        _s("send_back", _("Send the reply back"), {S.REPLIED}, {A.AGENT}, needs_reason=True),
        _s("callback", _("Record the callback"), {S.CALLBACK}, {A.AGENT, A.CALLER}),
        _s("request_return", _("Ask to return the order (not ours)"), HELD, {A.LEAD},
           needs_reason=True),
        _s("request_extension", _("Ask for more time"), HELD, {A.LEAD}, needs_reason=True),
        _s("decide_request", _("Decide a return or extension request"), HELD, {A.AGENT}),
        _s("supervise", _("Issue a supervision order"), WITH_UNITS - {S.CALLBACK},
           {A.SUPERVISOR}, needs_reason=True),
        _s("answer_supervision", _("Answer the supervision order"),
           WITH_UNITS | {S.CLOSED}, {A.UNIT}),
        _s("card", _("Issue a card for an overdue order"), WITH_UNITS, {A.SUPERVISOR},
           needs_reason=True),
    )
}  # fmt: skip


class StepRefused(StateConflict):
    """The step does not start from the order's state (a stale page, a double click)."""

    def __init__(self, action: str, status: str):
        label = OrderStatus(status).label if status in OrderStatus.values else status
        name = STEPS[action].label if action in STEPS else action
        message = _("“%(action)s” is not possible while the order is “%(status)s”.") % {
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
