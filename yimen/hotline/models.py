"""The 12345 hotline: its configuration (the 3-level category taxonomy, each leaf with the
unit that usually handles it, and the deadlines by type × urgency), the knowledge base the
agents answer from (with its search index), and the work orders with what happens to them
(dispatches, return and extension requests, supervision orders, cards, notices to units)
and the dispatch assistant's trained models. Every change goes through
yimen.hotline.services, .knowledge and .orders."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import (
    ArticleStatus,
    AssignmentRole,
    CardColour,
    DeadlineUnit,
    NoticeKind,
    OrderChannel,
    OrderClock,
    OrderStatus,
    OrderType,
    RequestKind,
    RequestStatus,
    Resolution,
    Satisfaction,
    Urgency,
)

MAX_LEVEL = 3


class Category(models.Model):
    """A node of the 3-level taxonomy (e.g. 城乡建设 › 市政设施 › 路灯不亮). Work orders are
    filed under leaves; a leaf's default unit is the dispatch rule used before any model is
    trained."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("level"), editable=False)
    default_unit = models.ForeignKey(
        "org.Department",
        verbose_name=_("default unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The unit an order of this category goes to when nothing better is known."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["level", "order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="hotline_category_unique_name")
        ]

    def __str__(self):
        return self.path

    @property
    def path(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))

    def clean(self):
        self.level = 1 if self.parent is None else self.parent.level + 1
        if self.level > MAX_LEVEL:
            raise ValidationError({"parent": _("The taxonomy has three levels at most.")})
        if self.parent is not None and self.pk is not None and self.parent.pk == self.pk:
            raise ValidationError({"parent": _("A category cannot be its own parent.")})


class DeadlineRule(models.Model):
    """The time limits of an order of one type and urgency: to sign for it (签收), to reply
    (回复) and to close it (办结), from its dispatch."""

    order_type = models.CharField(_("type"), max_length=16, choices=OrderType.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    unit = models.CharField(_("unit"), max_length=16, choices=DeadlineUnit.choices)
    sign_limit = models.PositiveSmallIntegerField(_("to sign for it"))
    reply_limit = models.PositiveSmallIntegerField(_("to reply"))
    close_limit = models.PositiveSmallIntegerField(_("to close"))

    class Meta:
        ordering = ["order_type", "urgency"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(
                fields=["order_type", "urgency"], name="hotline_deadline_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(sign_limit__gt=0)
                & models.Q(reply_limit__gte=models.F("sign_limit"))
                & models.Q(close_limit__gte=models.F("reply_limit")),
                name="hotline_deadline_ordered_limits",
            ),
        ]

    def __str__(self):
        return f"{self.get_order_type_display()} · {self.get_urgency_display()}"

    def clean(self):
        if self.sign_limit is not None and self.sign_limit < 1:
            raise ValidationError({"sign_limit": _("At least 1.")})
        if None not in (self.sign_limit, self.reply_limit) and self.reply_limit < self.sign_limit:
            raise ValidationError(
                {"reply_limit": _("Replying cannot be due before signing for the order.")}
            )
        if None not in (self.reply_limit, self.close_limit) and self.close_limit < self.reply_limit:
            raise ValidationError({"close_limit": _("Closing cannot be due before replying.")})


class KnowledgeArticle(models.Model):
    """An answer of the knowledge base (知识库): the question as callers put it (several
    ways), the answer the agent reads out, the department it comes from, until when it
    holds, and its review."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    questions = models.TextField(
        _("question variants"), blank=True, help_text=_("One way of asking per line.")
    )
    answer = models.TextField(_("answer"))
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
    )
    tags = models.CharField(_("tags"), max_length=200, blank=True, help_text=_("Space-separated."))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_note = models.TextField(_("review note"), blank=True)
    # The article's length in search tokens (for BM25's length normalisation).
    length = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self):
        return self.title


class KnowledgeTerm(models.Model):
    """The search index: how often a token occurs in an article (title tokens weigh more).
    Written by the services whenever an article's text changes; read by
    yimen.hotline.search."""

    term = models.CharField(max_length=32)
    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveSmallIntegerField()

    class Meta:
        # One index serves every lookup (the re-indexing writes each pair once); a unique
        # constraint beside it would add a quarter to the largest table.
        indexes = [models.Index(fields=["term", "article", "weight"])]

    def __str__(self):
        return f"{self.term} → {self.article_id} × {self.weight}"


class OrderCounter(models.Model):
    """The last work-order number given on a day (numbers are gap-free per day)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day:%Y%m%d}: {self.last}"


def _clock():
    return models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )


class WorkOrder(models.Model):
    """A 12345 work order (工单): what a caller asked or reported, and its way through the
    center and the units until the callback closes it."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("order number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=OrderChannel.choices)
    order_type = models.CharField(_("type"), max_length=16, choices=OrderType.choices)
    urgency = models.CharField(
        _("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    title = models.CharField(_("title"), max_length=100)
    content = models.TextField(_("content"))
    district = models.ForeignKey(
        "org.Region",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.CharField(_("location"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    media_url = models.URLField(_("photo or file link"), max_length=500, blank=True)
    caller_name = models.CharField(_("caller"), max_length=64, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True, db_index=True)
    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caller's account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_orders",
    )
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_("The units are not told who the caller is (a report of wrongdoing)."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.REGISTERED
    )
    received_at = models.DateTimeField(_("received at"), db_index=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Idempotent intake from the web, the API and Open311 (a resent request is one order).
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    master = models.ForeignKey(
        "self",
        verbose_name=_("master order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    article = models.ForeignKey(
        KnowledgeArticle,
        verbose_name=_("answered from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    # The unit that holds the order now (the deepest active lead dispatch), for lists.
    lead_unit = models.ForeignKey(
        "org.Department",
        verbose_name=_("lead unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_orders",
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)

    sign_clock = _clock()
    reply_clock = _clock()
    close_clock = _clock()

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["status", "lead_unit"]),
            models.Index(fields=["lead_unit", "received_at"]),
        ]

    def __str__(self):
        return self.number  # the title may hold a caller's number: it is shown masked

    def get_absolute_url(self):
        return reverse("hotline:order", args=[self.number])


class Assignment(models.Model):
    """One dispatch (派单) of an order to a unit: by the center (level 1) or by a unit to one
    of its sub-units (level 2); lead (主办) or co-handler (协办). It stays on record when the
    order moves on, so a unit keeps seeing what it once held."""

    order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("work order"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    unit = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("re-dispatched from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("instructions"), blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    opinion = models.TextField(_("co-handler's opinion"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["dispatched_at", "pk"]
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        indexes = [
            models.Index(fields=["unit", "is_active"]),
            models.Index(fields=["role", "dispatched_at"]),  # the statistics' received per unit
        ]

    def __str__(self):
        return f"{self.order.number} → {self.unit} ({self.get_role_display()})"


class OrderRequest(models.Model):
    """A unit's request to return an order that is not theirs (退单) or to extend its
    deadlines (延期); the center approves or rejects it."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="requests"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    unit = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    amount = models.PositiveSmallIntegerField(
        _("extension"), null=True, blank=True, help_text=_("In the unit of the order's deadlines.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("return or extension request")
        verbose_name_plural = _("return and extension requests")
        constraints = [
            # One open request of each kind per order: a double click cannot ask twice.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=models.Q(status="pending"),
                name="hotline_request_one_pending",
            )
        ]

    def __str__(self):
        return f"{self.order.number}: {self.get_kind_display()} ({self.get_status_display()})"


class Supervision(models.Model):
    """A supervision order (督办) from the center to the unit that holds an order, with its
    own deadline to answer."""

    order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("work order"),
        on_delete=models.CASCADE,
        related_name="supervisions",
    )
    unit = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    instruction = models.TextField(_("instruction"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    clock = _clock()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")

    def __str__(self):
        return f"{self.order.number} → {self.unit}"


class Card(models.Model):
    """A yellow or red card (黄牌 / 红牌) to a unit for an overdue order: one per overdue
    deadline, issued by the sweep (or by a supervisor)."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="cards"
    )
    unit = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    colour = models.CharField(_("colour"), max_length=8, choices=CardColour.choices)
    deadline = models.CharField(_("deadline missed"), max_length=32, choices=OrderClock.choices)
    clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self):
        return f"{self.get_colour_display()}: {self.order.number} → {self.unit}"


class Notice(models.Model):
    """A message to a unit's inbox: an order dispatched to it, a card, a supervision order,
    a decision on its request."""

    unit = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NoticeKind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        indexes = [models.Index(fields=["unit", "read_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.order.number}"


class DispatchModel(models.Model):
    """A trained dispatch assistant (智能派单): text → lead unit and text → category, as a
    versioned artifact with the accuracy measured on its held-out orders. The newest active
    version answers."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"))
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trained by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    artifact = models.BinaryField(_("artifact"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    train_size = models.PositiveIntegerField(_("orders trained on"))
    test_size = models.PositiveIntegerField(_("orders held out"))
    unit_top1 = models.FloatField(_("unit top-1 accuracy"))
    unit_top3 = models.FloatField(_("unit top-3 accuracy"))
    category_top1 = models.FloatField(_("category top-1 accuracy"))
    category_top3 = models.FloatField(_("category top-3 accuracy"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("dispatch model")
        verbose_name_plural = _("dispatch models")

    def __str__(self):
        return f"v{self.version} ({self.unit_top1:.1%} / {self.unit_top3:.1%})"


class Open311Client(models.Model):
    """An application allowed to file requests through Open311 GeoReport v2 (its api_key).
    Only the key's SHA-256 is stored; the key itself is shown once, when it is made."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key prefix"), max_length=8, editable=False)
    channel = models.CharField(
        _("channel"), max_length=16, choices=OrderChannel.choices, default=OrderChannel.APP
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name
