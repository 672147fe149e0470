"""Writing and verifying the audit chain.

Every state change in every module calls `record(...)` inside the transaction that makes
the change. Each event's hash is SM3(previous hash + canonical JSON of the event), so an
edited or deleted row breaks the chain; the head row catches deletion of the newest rows.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Channel
from .models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


def sm3_hex(data: bytes) -> str:
    h = hashlib.new("sm3")
    h.update(data)
    return h.hexdigest()


def canonical(event: AuditEvent) -> bytes:
    """The bytes that are hashed: every recorded field, in a fixed order and format."""
    record = {
        "id": event.pk,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(
            timespec="microseconds"
        ),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "role": event.role,
        "channel": event.channel,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "payload": event.payload,
    }
    return json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return sm3_hex(prev_hash.encode() + canonical(event))


def object_label(obj) -> tuple[str, str]:
    """("app_label.model", pk) of a model instance."""
    return obj._meta.label_lower, str(obj.pk)


def record(
    *,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    actor=None,
    role: str = "",
    channel: str = Channel.SYSTEM,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call it inside the transaction of the change itself;
    it opens a (nested) atomic block and takes the chain's head row lock."""
    if obj is not None:
        object_type, object_id = object_label(obj)
    if not object_type or not action:
        raise ValueError("an audit event needs an object type and an action")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS_HASH}
        )
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor,
            actor_label=str(actor) if actor is not None else "",
            role=role,
            channel=channel,
            object_type=object_type,
            object_id=str(object_id),
            action=action,
            from_state=str(from_state or ""),
            to_state=str(to_state or ""),
            reason=reason or "",
            payload=json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder)),
            prev_hash=head.last_hash,
            hash="pending",
        )
        # The id is part of what is hashed, so the row is written first and the hash set
        # right after, in the same transaction (the only update an event ever gets).
        AuditEvent.objects.bulk_create([event])
        if event.pk is None:  # backends that do not return ids from bulk_create
            event = AuditEvent.objects.get(hash="pending")
        event.hash = chain_hash(head.last_hash, event)
        AuditEvent.objects.filter(pk=event.pk).update(hash=event.hash)
        head.last_id, head.last_hash, head.count = event.pk, event.hash, head.count + 1
        head.save(update_fields=["last_id", "last_hash", "count"])
    return event


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    event_id: int | None
    problem: str

    def __str__(self):
        if self.event_id is None:
            where = _("chain head")
        else:
            where = _("event #%(id)s") % {"id": self.event_id}
        return f"{where}: {self.problem}"


def _head_state() -> tuple[int, str, int] | None:
    return AuditHead.objects.filter(pk=1).values_list("last_id", "last_hash", "count").first()


def iter_verify(chunk_size: int = 2000) -> Iterator[int | Break]:
    """Walk the chain in order; yields each verified event id, and a Break at the first
    broken link (then stops).

    The head is read before the walk and again after it: events appended while the walk
    runs (a live system) are verified as links and never taken for tampering, while the
    head seen at the start must still be reached, so deleting the newest events is caught.
    """
    start = _head_state()
    reached_start = start is None or start[2] == 0
    prev_hash, last_id, count = GENESIS_HASH, 0, 0
    for event in AuditEvent.objects.order_by("pk").iterator(chunk_size=chunk_size):
        if event.prev_hash != prev_hash:
            yield Break(
                event.pk,
                _("its previous hash does not match: an earlier event was deleted or altered"),
            )
            return
        if chain_hash(prev_hash, event) != event.hash:
            yield Break(event.pk, _("its content does not match its hash: it was altered"))
            return
        prev_hash, last_id, count = event.hash, event.pk, count + 1
        if start is not None and last_id == start[0]:
            if (prev_hash, count) != (start[1], start[2]):
                yield Break(None, _head_mismatch(start, last_id, count, _("the head was altered")))
                return
            reached_start = True
        yield event.pk
    if not reached_start:
        yield Break(
            None, _head_mismatch(start, last_id, count, _("the newest events were deleted"))
        )
        return
    end = _head_state()
    if end is None:
        if count:
            yield Break(None, _("the chain head is missing"))
        return
    if end == (last_id, prev_hash, count) or end[0] > last_id:
        return  # intact; or more events were appended after the walk had read the table
    if end[0] < last_id:
        yield Break(
            None, _head_mismatch(end, last_id, count, _("events were added outside the chain"))
        )
    else:
        yield Break(None, _head_mismatch(end, last_id, count, _("the head was altered")))


def _head_mismatch(head: tuple[int, str, int], last_id: int, count: int, cause: str) -> str:
    message = _(
        "the head expects %(expected)s events ending at #%(head_id)s, "
        "found %(count)s ending at #%(last_id)s: %(cause)s"
    )
    return message % {
        "expected": head[2],
        "head_id": head[0],
        "count": count,
        "last_id": last_id,
        "cause": cause,
    }


def verify() -> Break | None:
    """The first broken link, or None when the whole chain holds."""
    for step in iter_verify():
        if isinstance(step, Break):
            return step
    return None
