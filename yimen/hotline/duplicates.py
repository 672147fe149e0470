"""Finding the duplicates of a new order (重复件): an open order of the last few days
(YIMEN_HOTLINE_DUPLICATE_DAYS) from the same phone, or about the same thing (similar words,
in the same category or district). They are suggestions: the agent links an order to its
master with yimen.hotline.orders.order_link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from yimen.common.identifiers import normalise_phone

from .choices import OrderStatus
from .models import WorkOrder
from .search import tokens

SIMILAR = 0.35  # Jaccard similarity of the content's word sets that counts as "the same thing"
SCANNED = 500  # recent open orders compared by content at most


@dataclass(frozen=True)
class Candidate:
    order: WorkOrder
    score: float  # 0…1: word overlap, plus 0.5 for the same phone (capped at 1)
    same_phone: bool
    similarity: float


def candidates(
    *,
    content: str,
    phone: str = "",
    category_id: int | None = None,
    district_id: int | None = None,
    exclude: WorkOrder | None = None,
    now: dt.datetime | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """The open orders this one probably repeats, best first."""
    now = now or timezone.now()
    phone = normalise_phone(phone)  # as order_fields stores it
    since = now - dt.timedelta(days=settings.YIMEN_HOTLINE_DUPLICATE_DAYS)
    recent = (
        WorkOrder.objects.filter(received_at__gte=since, received_at__lte=now)
        .exclude(status__in=[OrderStatus.CLOSED, OrderStatus.LINKED])
        .select_related("category", "lead_unit")
    )
    if exclude is not None:
        recent = recent.exclude(pk=exclude.pk)
    # The caller's own orders are looked up by number (indexed, few); the others that could
    # be about the same thing (same category or district) are scanned, newest first.
    rows = list(recent.filter(caller_phone=phone)[:SCANNED]) if phone else []
    near = Q(pk__in=[])
    if category_id:
        near |= Q(category_id=category_id)
    if district_id:
        near |= Q(district_id=district_id)
    nearby = recent.filter(near) if (category_id or district_id) else recent
    if phone:
        nearby = nearby.exclude(caller_phone=phone)
    rows += list(nearby.order_by("-received_at")[:SCANNED])
    words = set(tokens(content))
    found = []
    for order in rows:
        other = set(tokens(order.content))
        overlap = len(words & other) / len(words | other) if words and other else 0.0
        same_phone = bool(phone) and order.caller_phone == phone
        if same_phone or overlap >= SIMILAR:
            score = min(1.0, overlap + (0.5 if same_phone else 0.0))
            found.append(Candidate(order, round(score, 3), same_phone, round(overlap, 3)))
    found.sort(key=lambda c: (-c.score, -c.order.received_at.timestamp()))
    return found[:limit]
