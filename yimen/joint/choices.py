"""Choices of joint handling (主题式联审联办)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JointStatus(models.TextChoices):
    RECEIVED = "received", _("Materials received, awaiting acceptance")
    CORRECTION = "correction", _("Awaiting corrections")
    IN_REVIEW = "in_review", _("Departments reviewing in parallel")
    DECIDED = "decided", _("All decided, awaiting fees or materials before issue")
    READY = "ready", _("Results ready for delivery")
    DELIVERED = "delivered", _("Delivered")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The application is still being handled: the applicant may withdraw it.
OPEN_STATES = frozenset({JointStatus.RECEIVED, JointStatus.CORRECTION, JointStatus.IN_REVIEW})
FINAL_STATES = frozenset({JointStatus.DELIVERED, JointStatus.NOT_ACCEPTED, JointStatus.WITHDRAWN})


class JointDocumentKind(models.TextChoices):
    """The documents the applicant receives for the whole application (each department's
    decision stays on its own case)."""

    RECEIPT = "receipt", _("Receipt of materials")
    ACCEPTANCE = "acceptance", _("Notice of acceptance")
    NON_ACCEPTANCE = "non_acceptance", _("Notice of non-acceptance")
    CORRECTION = "correction", _("Combined notice of corrections")
    EXTENSION = "extension", _("Notice of extension")
    SERVICE_RECEIPT = "service_receipt", _("Proof of service")


class ClockPurpose(models.TextChoices):
    ACCEPTANCE = "joint.acceptance", _("Acceptance")
    JOINT = "joint.decision", _("Joint decision")
