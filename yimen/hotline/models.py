"""The 12345 hotline's configuration and knowledge: the category taxonomy (three levels,
each leaf with the unit that usually handles it), the deadlines by type × urgency, and the
knowledge base the agents answer from (with its search index). Every change goes through
yimen.hotline.services."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ArticleStatus, DeadlineUnit, OrderType, Urgency

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
