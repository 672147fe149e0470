"""The api keys of Open311 clients. A key is 32 random bytes (URL-safe base64); only its
SHA-256 and its first characters are stored, so a key is shown once, when it is made, and
a lost key is revoked and replaced. Making and revoking a key is audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import audit
from yimen.common.choices import Channel

from ..choices import OrderChannel
from ..models import Open311Client

PREFIX_LENGTH = Open311Client._meta.get_field("key_prefix").max_length
NAME_LENGTH = Open311Client._meta.get_field("name").max_length


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clients() -> QuerySet[Open311Client]:
    return Open311Client.objects.order_by("name")


def make_key(
    name: str, channel: str = OrderChannel.APP, *, actor=None
) -> tuple[Open311Client, str]:
    """A new client and its key (the only time the key is at hand). The channel is the one
    its orders are registered under."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Name the client application.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = _("At most %(n)d characters.") % {"n": NAME_LENGTH}
    elif Open311Client.objects.filter(name=name).exists():
        errors["name"] = _("A client named “%(name)s” exists already.") % {"name": name}
    if channel not in OrderChannel.values:
        errors["channel"] = _("Choose one of the channels: %(choices)s.") % {
            "choices": ", ".join(OrderChannel.values)
        }
    if errors:
        raise ValidationError(errors)
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name,
            key_hash=key_hash(raw),
            key_prefix=raw[:PREFIX_LENGTH],
            channel=channel,
            created_at=timezone.now(),
        )
        audit.record(
            action="hotline.open311.key_create",
            obj=client,
            actor=actor,
            channel=Channel.SYSTEM if actor is None else Channel.ADMIN,
            payload={"name": name, "channel": channel, "prefix": client.key_prefix},
        )
    return client, raw


def check_key(raw: str | None) -> Open311Client | None:
    """The active client of the key, or None. Looked up by its prefix, then compared in
    constant time."""
    raw = (raw or "").strip()
    if len(raw) < PREFIX_LENGTH:
        return None
    wanted = key_hash(raw)
    for client in Open311Client.objects.filter(key_prefix=raw[:PREFIX_LENGTH], is_active=True):
        if hmac.compare_digest(client.key_hash, wanted):
            return client
    return None


def authenticate(raw: str | None) -> Open311Client | None:
    """check_key, and note when the client was last seen."""
    client = check_key(raw)
    if client is not None:
        client.last_used_at = timezone.now()
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=client.last_used_at)
    return client


def revoke_key(client: Open311Client, *, actor=None) -> Open311Client:
    """The key no longer works (the client stays on record, with its orders)."""
    with transaction.atomic():
        locked = Open311Client.objects.select_for_update().get(pk=client.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
            audit.record(
                action="hotline.open311.key_revoke",
                obj=locked,
                actor=actor,
                channel=Channel.SYSTEM if actor is None else Channel.ADMIN,
                payload={"name": locked.name, "prefix": locked.key_prefix},
            )
    client.is_active = False
    return client
