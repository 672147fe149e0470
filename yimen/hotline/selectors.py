"""Reads of the hotline: the category taxonomy (its leaves, where orders are filed, and the
whole tree), the deadline rules of every type × urgency, and the work orders (each user's,
the center's and the units' queues, the caller's history, the light, the steps offered)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from yimen.common.audit import object_label
from yimen.common.clock import ClockState
from yimen.common.clocks import clock_state
from yimen.common.identifiers import normalise_phone
from yimen.common.models import AuditEvent, Clock

from . import permissions, workflow
from .choices import (
    AssignmentRole,
    OrderClock,
    OrderStatus,
    OrderType,
    RequestKind,
    RequestStatus,
    Urgency,
)
from .models import Card, Category, DeadlineRule, Notice, Supervision, WorkOrder
from .services import deadline_for, default_rule


def categories(*, active_only: bool = False) -> QuerySet[Category]:
    """Every category with what its `path` and its default unit need, in one query."""
    qs = Category.objects.select_related("parent__parent", "default_unit")
    return qs.filter(is_active=True) if active_only else qs


def leaves(*, active_only: bool = True) -> QuerySet[Category]:
    """The categories an order can be filed under: those without (active) subcategories, in
    the taxonomy's order."""
    children = Category.objects.filter(parent=OuterRef("pk"))
    if active_only:
        children = children.filter(is_active=True)
    return (
        categories(active_only=active_only)
        .filter(~Exists(children))
        .order_by("parent__parent__order", "parent__order", "order", "code")
    )


def category_by_code(code: str) -> Category | None:
    return categories().filter(code=code).first()


@dataclass
class Node:
    """A category of the tree with its subcategories, in order."""

    category: Category
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def tree(*, active_only: bool = True) -> list[Node]:
    """The taxonomy as nested nodes (one query), top level first, each level by its order."""
    rows = list(
        Category.objects.select_related("default_unit")
        .filter(**({"is_active": True} if active_only else {}))
        .order_by("level", "order", "code")
    )
    nodes = {c.pk: Node(c) for c in rows}
    roots = []
    for category in rows:
        node = nodes[category.pk]
        if category.parent_id is None:
            roots.append(node)
        elif parent := nodes.get(category.parent_id):
            parent.children.append(node)
            category.parent = parent.category  # `path` without another query
    return roots


def walk(nodes: list[Node]):
    """The nodes depth-first, in the tree's order (for lists and exports)."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def deadline_rules() -> list[DeadlineRule]:
    """The rule in force for every type × urgency (saved rows; the defaults, unsaved with pk
    None, where no row exists), by type then urgency from the most urgent."""
    rows = {(r.order_type, r.urgency): r for r in DeadlineRule.objects.all()}
    urgencies = (Urgency.VERY_URGENT, Urgency.URGENT, Urgency.NORMAL)
    return [rows.get((t, u)) or default_rule(t, u) for t in OrderType.values for u in urgencies]


__all__ = [
    "Node",
    "categories",
    "category_by_code",
    "deadline_for",
    "deadline_rules",
    "leaves",
    "tree",
    "walk",
]


# --- work orders ------------------------------------------------------------------------------

# The clock that judges an order in each state (a closed order: the close clock, stopped).
CLOCK_OF_STATE = {
    OrderStatus.DISPATCHED: "sign_clock",
    OrderStatus.HANDLING: "reply_clock",
    OrderStatus.REPLIED: "close_clock",
    OrderStatus.CALLBACK: "close_clock",
    OrderStatus.CLOSED: "close_clock",
}


def orders(user) -> QuerySet[WorkOrder]:
    """The orders `user` may see, with what a list row shows (category path, units, the
    clocks with their pauses and extensions): a constant number of queries."""
    qs = WorkOrder.objects.select_related(
        "category__parent__parent",
        "lead_unit",
        "district",
        "sign_clock",
        "reply_clock",
        "close_clock",
    ).prefetch_related(
        *(
            f"{name}__{part}"
            for name in ("sign_clock", "reply_clock", "close_clock")
            for part in ("pauses", "extensions")
        )
    )
    return permissions.visible_orders(user, qs)


def order_by_number(user, number: str) -> WorkOrder | None:
    return orders(user).filter(number=number).first()


def governing_clock(order: WorkOrder) -> Clock | None:
    """The clock the order is judged by now: to sign, to reply, then to close."""
    name = CLOCK_OF_STATE.get(order.status)
    clock = getattr(order, name) if name else None
    # Re-dispatched after signing (the sign clock stopped), sent back after the reply (the
    # reply clock stopped): the next deadline still running governs.
    for later in ("reply_clock", "close_clock"):
        if clock is None or clock.stopped_at is None or order.status == OrderStatus.CLOSED:
            break
        clock = getattr(order, later)
    return clock


def light(order: WorkOrder, *, now: dt.datetime | None = None) -> ClockState | None:
    clock = governing_clock(order)
    return clock_state(clock, now=now) if clock is not None else None


def center_queues(user) -> dict[str, QuerySet[WorkOrder]]:
    """The center's work: orders to dispatch, replies to review, callbacks to make, and the
    orders with a unit's request waiting."""
    mine = orders(user)
    return {
        "registered": mine.filter(status=OrderStatus.REGISTERED).order_by("received_at", "pk"),
        "replied": mine.filter(status=OrderStatus.REPLIED).order_by("replied_at", "pk"),
        "callback": mine.filter(status=OrderStatus.CALLBACK).order_by("replied_at", "pk"),
        # Only where a decision can be taken (a unit that replied meanwhile holds it no more).
        "requests": mine.filter(
            status__in=workflow.STEPS["decide_request"].sources,
            requests__status=RequestStatus.PENDING,
        ).distinct(),
    }


def unit_queues(user) -> dict[str, QuerySet[WorkOrder]]:
    """A unit handler's work: orders to sign for, to handle, co-handling to answer, and
    supervision orders to answer."""
    units = permissions.handler_units(user)
    mine = orders(user)
    return {
        "to_sign": mine.filter(status=OrderStatus.DISPATCHED, lead_unit__in=units),
        "handling": mine.filter(status=OrderStatus.HANDLING, lead_unit__in=units),
        "co_handling": mine.filter(
            status__in=[OrderStatus.DISPATCHED, OrderStatus.HANDLING, OrderStatus.REPLIED],
            assignments__unit__in=units,
            assignments__role=AssignmentRole.CO,
            assignments__is_active=True,
            assignments__opinion="",
        ).distinct(),
        # Only where it can be answered (not once the order was returned to the center).
        "supervised": mine.filter(
            status__in=workflow.STEPS["answer_supervision"].sources,
            supervisions__unit__in=units,
            supervisions__answered_at__isnull=True,
            supervisions__clock__stopped_at__isnull=True,  # ended by a return: not to answer
        ).distinct(),
    }


def notices(user) -> QuerySet[Notice]:
    return Notice.objects.filter(unit__in=permissions.handler_units(user)).select_related(
        "order", "unit"
    )


def caller_history(phone: str, *, limit: int = 20) -> QuerySet[WorkOrder]:
    """The caller's earlier orders, newest first (the agent's console looks them up)."""
    phone = normalise_phone(phone)  # as order_fields stores it
    if not phone:
        return WorkOrder.objects.none()
    return (
        WorkOrder.objects.filter(caller_phone=phone)
        .select_related("category", "lead_unit")
        .order_by("-received_at", "-pk")[:limit]
    )


def offered_steps(user, order: WorkOrder) -> list[workflow.Step]:
    """The steps `user` may take on the order now (pages and API alike)."""
    acting = permissions.actors(user, order)
    return [
        step
        for step in workflow.actions_from(order.status)
        if step.actors & acting and _useful(step.action, order, user)
    ]


def _useful(action: str, order: WorkOrder, user) -> bool:
    if action in ("request_return", "request_extension"):  # one of each kind waits at a time
        kind = RequestKind.RETURN if action == "request_return" else RequestKind.EXTENSION
        return not order.requests.filter(kind=kind, status=RequestStatus.PENDING).exists()
    if action == "decide_request":
        return order.requests.filter(status=RequestStatus.PENDING).exists()
    if action == "reply":  # refused while the unit's return waits for the center
        return not order.requests.filter(
            kind=RequestKind.RETURN, status=RequestStatus.PENDING
        ).exists()
    if action == "redispatch":  # a unit with sub-units, not itself a sub-unit the order went to
        return (
            order.lead_unit is not None
            and order.lead_unit.children.filter(is_active=True).exists()
            and not order.assignments.filter(
                role=AssignmentRole.LEAD, level__gte=2, unit=order.lead_unit_id, is_active=True
            ).exists()
        )
    if action == "answer_supervision":
        return order.supervisions.filter(
            unit__in=permissions.handler_units(user),
            answered_at__isnull=True,
            clock__stopped_at__isnull=True,
        ).exists()
    if action == "card":  # a deadline missed and not carded yet
        return overdue_clocks(timezone.now()).filter(pk__in=order_clocks(order)).exists()
    return True


def history_events(order: WorkOrder) -> QuerySet[AuditEvent]:
    object_type, object_id = object_label(order)
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by(
        "occurred_at", "pk"
    )


# --- deadlines missed -------------------------------------------------------------------------

ORDER_CLOCKS = (OrderClock.SIGN, OrderClock.REPLY, OrderClock.CLOSE)


def order_clocks(order: WorkOrder) -> list[int]:
    """The ids of every clock of the order: its deadlines (those of earlier rounds, before a
    reopening or a return, too) and its supervision orders'."""
    own = Clock.objects.filter(
        subject_type=ContentType.objects.get_for_model(WorkOrder), subject_id=str(order.pk)
    ).values_list("pk", flat=True)
    supervised = Supervision.objects.filter(order=order, clock__isnull=False)
    return [*own, *supervised.values_list("clock_id", flat=True)]


# A clock stopped late is carded by the sweeps of the following days; older ones were
# judged already (this bounds what each sweep reads, whatever the history).
LATE_STOP_LOOKBACK = dt.timedelta(days=7)


def overdue_clocks(now, *, lookback: dt.timedelta | None = LATE_STOP_LOOKBACK):
    """The hotline's clocks that missed their deadline (running past it, or stopped late
    within `lookback`; None: ever) and have no card yet."""
    stopped_late = Q(status=Clock.Status.STOPPED, stopped_at__gt=F("due_at"))
    if lookback is not None:
        stopped_late &= Q(stopped_at__gte=now - lookback)
    late = Q(status=Clock.Status.RUNNING, due_at__lt=now) | stopped_late
    return (
        Clock.objects.filter(late, purpose__in=[*ORDER_CLOCKS, OrderClock.SUPERVISION])
        .filter(~Exists(Card.objects.filter(clock=OuterRef("pk"))))
        .order_by("due_at", "pk")
    )
