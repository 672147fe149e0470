"""Joint handling of a theme (主题式联审联办): one application with one merged form and one
material set; one acceptance opens a child case per item (yimen.cases.Case.joint), which
the departments review in parallel; the results are issued together (多证同发) and
delivered once. A construction project (项目) ties the applications of a staged theme.
Every change goes through yimen.joint.services."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yimen.cases.choices import DeliveryMethod
from yimen.common.choices import Channel, Rating

from .choices import JointDocumentKind, JointStatus


class JointCounter(models.Model):
    """The last application number given in a region on a day."""

    region_prefix = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "day"], name="joint_counter_unique")
        ]

    def __str__(self):
        return f"{self.region_prefix}-{self.day:%Y%m%d}: {self.last}"


class ProjectCounter(models.Model):
    """The last project code serial given in a region in a year."""

    region_prefix = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "year"], name="joint_project_counter")
        ]

    def __str__(self):
        return f"{self.region_prefix}-{self.year}: {self.last}"


class Project(models.Model):
    """A construction project (项目) whose stages are applied for one after another: an
    application for a stage is taken only when the items of the stage before are granted."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("project code"), max_length=32, unique=True)
    name = models.CharField(_("project name"), max_length=200)
    theme = models.ForeignKey(
        "catalog.Theme", verbose_name=_("theme"), on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    region = models.ForeignKey(
        "org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("joint:project", args=[self.public_id])


class JointCase(models.Model):
    """One application for a theme (or one stage of it): the parent of the item cases that
    its acceptance opens."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("application number"), max_length=32, unique=True)
    theme = models.ForeignKey(
        "catalog.Theme", verbose_name=_("theme"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        "catalog.ThemeStage",
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    item_versions = models.ManyToManyField(
        "catalog.ItemVersion",
        verbose_name=_("items applied for"),
        related_name="+",
        help_text=_("The guides in force when it was submitted, one per item that applies."),
    )
    answers = models.JSONField(
        _("scenario answers"),
        default=list,
        blank=True,
        help_text=_("The questions and the answers given (办事情形), as text."),
    )
    form_data = models.JSONField(_("form"), default=dict, blank=True)
    window_category = models.ForeignKey(
        "org.WindowCategory",
        verbose_name=_("window category"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="joint_cases",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=16, choices=JointStatus.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("all decided at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("results issued at"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivery"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason for closing"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=Rating.choices
    )
    rating_comment = models.TextField(_("comment on the rating"), blank=True)
    acceptance_clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    joint_clock = models.OneToOneField(
        "common.Clock", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("joint application")
        verbose_name_plural = _("joint applications")
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="joint_case_unique_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["window_category", "status"]),
            models.Index(fields=["applicant", "status"]),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("joint:case", args=[self.number])


class JointMaterial(models.Model):
    """One material of the application's one material set: a material type given once (a
    file, an original seen at the window, or a valid licence of the applicant) for every
    item that asks for it. A corrected material supersedes the earlier one."""

    joint = models.ForeignKey(
        JointCase, verbose_name=_("application"), on_delete=models.CASCADE,
        related_name="materials",
    )  # fmt: skip
    material_type = models.ForeignKey(
        "catalog.MaterialType",
        verbose_name=_("material type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to="joint/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    original_seen = models.BooleanField(_("original seen"), default=False)
    licence = models.ForeignKey(
        "licences.Licence",
        verbose_name=_("satisfied by the e-licence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    added_at = models.DateTimeField(_("added at"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["joint", "material_type__name", "pk"]
        verbose_name = _("material of a joint application")
        verbose_name_plural = _("materials of joint applications")
        constraints = [
            models.UniqueConstraint(
                fields=["joint", "material_type"],
                condition=Q(superseded_at=None),
                name="joint_material_one_current",
            )
        ]

    def __str__(self):
        return self.material_type.name


class JointDocument(models.Model):
    """A document of the whole application, stored like a case's (content, SM3 digest and
    verification code) and drawn by the same PDF module."""

    joint = models.ForeignKey(
        JointCase, verbose_name=_("application"), on_delete=models.CASCADE,
        related_name="documents",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=32, choices=JointDocumentKind.choices)
    code = models.CharField(_("verification code"), max_length=32, unique=True)
    content = models.JSONField(_("content"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["joint", "issued_at", "pk"]
        verbose_name = _("document of a joint application")
        verbose_name_plural = _("documents of joint applications")

    def __str__(self):
        return f"{self.get_kind_display()} {self.joint.number}"


class CorrectionRequest(models.Model):
    """One thing to correct, asked by the window before acceptance or by a department
    reviewing its case; the requests are sent to the applicant together, in one notice."""

    joint = models.ForeignKey(
        JointCase, verbose_name=_("application"), on_delete=models.CASCADE,
        related_name="corrections",
    )  # fmt: skip
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("asked on the case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: asked by the window before acceptance."),
    )
    material_type = models.ForeignKey(
        "catalog.MaterialType",
        verbose_name=_("material type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the application form."),
    )
    problem = models.CharField(_("what is wrong or missing"), max_length=500)
    asked_at = models.DateTimeField(_("asked at"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    notice = models.ForeignKey(
        JointDocument,
        verbose_name=_("sent in the notice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["joint", "asked_at", "pk"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")

    def __str__(self):
        return self.problem
