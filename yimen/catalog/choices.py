"""Choices of the service catalogue (事项标准化)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ItemType(models.TextChoices):
    """The kinds of government service item (政务服务事项类型)."""

    LICENCE = "licence", _("Administrative licence")
    PAYMENT = "payment", _("Administrative payment")
    CONFIRMATION = "confirmation", _("Administrative confirmation")
    LEVY = "levy", _("Administrative levy")
    REWARD = "reward", _("Administrative reward")
    ADJUDICATION = "adjudication", _("Administrative adjudication")
    OTHER_POWER = "other_power", _("Other administrative power")
    PUBLIC_SERVICE = "public_service", _("Public service")


class Target(models.TextChoices):
    """Who may apply (服务对象)."""

    PERSON = "person", _("Natural person")
    ENTERPRISE = "enterprise", _("Legal person")
    BOTH = "both", _("Natural and legal persons")

    def serves(self, kind: str) -> bool:
        """Whether an applicant of `kind` ("person" / "enterprise") may apply."""
        return self == Target.BOTH or self == kind


class HolderKind(models.TextChoices):
    """Whom a material or a form field belongs to: used to find guides whose materials
    contradict their target (办理对象和服务对象不统一)."""

    ANY = "any", _("Anyone")
    PERSON = "person", _("Natural persons only")
    ENTERPRISE = "enterprise", _("Legal persons only")


class LimitUnit(models.TextChoices):
    """The unit of a time limit; the values are the clock's units (yimen.common.models.Clock)."""

    WORKDAYS = "workdays", _("working days")
    DAYS = "days", _("natural days")


class HandlingType(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediate (decided on the spot)")
    PROMISED = "promised", _("Promised (decided within the promised limit)")


class OnlineDepth(models.TextChoices):
    """How far an item can be handled online (三种申办方式, or the window only)."""

    FULL_ONLINE = "full_online", _("Fully online")
    ONLINE_PREREVIEW = "online_prereview", _("Online pre-review of originals")
    ORIGINAL_CHECK = "original_check", _("Originals checked at pickup")
    OFFLINE = "offline", _("At the window only")


class TongbanScope(models.TextChoices):
    """Where the item can be applied for regardless of residence (通办)."""

    NONE = "", _("Only where the applicant belongs")
    CITYWIDE = "citywide", _("Anywhere in the city")
    CROSS_REGION = "cross_region", _("Across regions")


class Requirement(models.TextChoices):
    REQUIRED = "required", _("Required")
    CONDITIONAL = "conditional", _("Required when a condition applies")


class MaterialKind(models.TextChoices):
    CERTIFICATE = "certificate", _("Certificate or licence")
    FORM = "form", _("Form to fill in")
    DOCUMENT = "document", _("Other document")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    TEXTAREA = "textarea", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("One of a list")
    MULTICHOICE = "multichoice", _("Several of a list")
    CITIZEN_ID = "citizen_id", _("Citizen ID number")
    USCC = "uscc", _("Unified social credit code")
    MOBILE = "mobile", _("Mobile number")
    EMAIL = "email", _("E-mail address")


class Node(models.IntegerChoices):
    """The 13 nodes of the standard process; each item says which apply."""

    APPOINTMENT = 1, _("Appointment")
    TICKET = 2, _("Queue ticket")
    APPLICATION = 3, _("Application")
    PREREVIEW = 4, _("Online pre-review")
    RECEIPT = 5, _("Materials received")
    ACCEPTANCE = 6, _("Acceptance")
    REVIEW = 7, _("Review")
    SPECIAL_PROCEDURE = 8, _("Special procedure")
    DECISION = 9, _("Decision")
    FEES = 10, _("Fees")
    CERTIFICATE = 11, _("Certificate")
    DELIVERY = 12, _("Delivery")
    EVALUATION = 13, _("Evaluation and archive")


# Every case passes these; an item cannot switch them off.
MANDATORY_NODES = frozenset(
    {
        Node.APPLICATION,
        Node.RECEIPT,
        Node.ACCEPTANCE,
        Node.REVIEW,
        Node.DECISION,
        Node.DELIVERY,
        Node.EVALUATION,
    }
)


class ThemeCategory(models.TextChoices):
    ENTERPRISE_ACCESS = "enterprise_access", _("Starting and running a business")
    CONSTRUCTION = "construction", _("Construction projects")
    PERSONAL_LIFE = "personal_life", _("Personal life events")
    JOINT = "joint", _("Joint handling")


class Severity(models.TextChoices):
    BLOCKING = "blocking", _("Blocking")
    WARNING = "warning", _("Warning")
