"""Choices of the 12345 hotline."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderType(models.TextChoices):
    """What the caller wants (the seeds' 咨询 / 求助 / 投诉 / 举报 / 建议 / 表扬)."""

    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report of wrongdoing")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    VERY_URGENT = "very_urgent", _("Very urgent")


class DeadlineUnit(models.TextChoices):
    """Urgent orders run on wall-clock hours; the others on working days (DOMAIN §3)."""

    HOURS = "hours", _("Hours")
    WORKDAYS = "workdays", _("Working days")


class ArticleStatus(models.TextChoices):
    """An article is answered from only once reviewed; an edit goes back to review."""

    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")
