"""Choices of the 12345 hotline."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class OrderChannel(models.TextChoices):
    """How the order came in (the seeds' 电话 / 网站 / 微信 / APP / 短信 / 信件 / 市民之窗)."""

    PHONE = "phone", _("Phone")
    WEB = "web", _("Website")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("App")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    KIOSK = "kiosk", _("Citizen's window kiosk")


class OrderStatus(models.TextChoices):
    """Where a work order stands. 即时答复 closes it at intake; a linked duplicate follows
    its master instead of being dispatched."""

    REGISTERED = "registered", _("Awaiting dispatch")
    DISPATCHED = "dispatched", _("Awaiting signature")
    HANDLING = "handling", _("Being handled")
    REPLIED = "replied", _("Reply awaiting review")
    CALLBACK = "callback", _("Awaiting callback")
    CLOSED = "closed", pgettext_lazy("order status", "Closed")
    LINKED = "linked", _("Linked to another order")


# States in which a unit holds the order (its clocks run, cards can fall due).
UNIT_STATES = frozenset({OrderStatus.DISPATCHED, OrderStatus.HANDLING})
OPEN_ORDER_STATES = frozenset(
    {
        OrderStatus.REGISTERED,
        OrderStatus.DISPATCHED,
        OrderStatus.HANDLING,
        OrderStatus.REPLIED,
        OrderStatus.CALLBACK,
    }
)


class Resolution(models.TextChoices):
    """How a closed order ended."""

    INSTANT = "instant", _("Answered at once")
    HANDLED = "handled", _("Handled by a unit")
    FOLLOWED_MASTER = "master", _("Closed with its master order")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")
    CO = "co", _("Co-handler")


class Satisfaction(models.TextChoices):
    """The caller's verdict at the callback (回访); an unreachable caller closes the order
    without one."""

    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Dissatisfied")
    UNREACHABLE = "unreachable", _("Caller not reached")


class RequestKind(models.TextChoices):
    RETURN = "return", _("Return (not ours)")
    EXTENSION = "extension", _("Extension")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", pgettext_lazy("request status", "Approved")
    REJECTED = "rejected", pgettext_lazy("request status", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn (the unit replied)")


class CardColour(models.TextChoices):
    YELLOW = "yellow", _("Yellow card")
    RED = "red", _("Red card")


class OrderClock(models.TextChoices):
    """The three deadlines of a dispatched order, and a supervision order's own."""

    SIGN = "hotline.sign", pgettext_lazy("deadline", "Sign for it")
    REPLY = "hotline.reply", pgettext_lazy("deadline", "Reply")
    CLOSE = "hotline.close", pgettext_lazy("deadline", "Close")
    SUPERVISION = "hotline.supervision", _("Answer the supervision")


class Actor(models.TextChoices):
    """Who takes a step of a work order, as the workflow names them (yimen.hotline.permissions
    maps each to roles and scopes)."""

    AGENT = "agent", _("Hotline agent (the center)")
    LEAD = "lead", _("Handler of the lead unit")
    CO = "co", _("Handler of a co-handling unit")
    UNIT = "unit", _("Handler of a unit that holds the order")
    SUPERVISOR = "supervisor", _("Supervisor")
    CALLER = "caller", _("Caller")
    SYSTEM = "system", _("System")


class NoticeKind(models.TextChoices):
    """What a notice in a unit's inbox is about."""

    DISPATCHED = "dispatched", _("Order dispatched to you")
    SENT_BACK = "sent_back", _("Reply sent back")
    REOPENED = "reopened", _("Caller dissatisfied: handle it again")
    CARD = "card", _("Card for an overdue order")
    SUPERVISION = "supervision", _("Supervision order")
    DECISION = "decision", _("Decision on your request")
    RECALLED = "recalled", _("Order taken back")
