"""The append-only audit chain shared by every module."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yimen.common.choices import Channel


class AppendOnlyError(Exception):
    """Raised on an attempt to change or delete a recorded audit event."""


class AuditEvent(models.Model):
    """One recorded state change. hash = SM3(prev_hash + canonical record), so editing or
    deleting any row breaks the chain (see yimen.common.audit and `manage.py audit_verify`)."""

    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.SYSTEM
    )
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64)
    from_state = models.CharField(_("from state"), max_length=32, blank=True)
    to_state = models.CharField(_("to state"), max_length=32, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.pk} {self.object_type}:{self.object_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")


class AuditHead(models.Model):
    """The chain's single head row: locked while appending, and it remembers the last link
    so that deleting the newest events is detected too."""

    last_id = models.BigIntegerField(_("last event id"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64)
    count = models.BigIntegerField(_("events"), default=0)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self):
        return f"{self.count} events, last #{self.last_id}"
