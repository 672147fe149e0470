"""Choices of the cases module (办件)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting pre-review")
    PREREVIEWED = "prereviewed", _("Pre-review passed, awaiting the originals")
    RECEIVED = "received", _("Materials received, awaiting acceptance")
    CORRECTION = "correction", _("Awaiting corrections")
    IN_REVIEW = "in_review", _("Under review")
    SUSPENDED = "suspended", _("In a special procedure")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    READY = "ready", _("Result ready for delivery")
    DELIVERED = "delivered", _("Delivered")
    ARCHIVED = "archived", _("Archived")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    TERMINATED = "terminated", _("Terminated")


# States before a decision: the applicant may still withdraw, the department terminate.
OPEN_STATES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.PREREVIEWED,
        CaseStatus.RECEIVED,
        CaseStatus.CORRECTION,
        CaseStatus.IN_REVIEW,
        CaseStatus.SUSPENDED,
    }
)
# States with nothing left to do.
FINAL_STATES = frozenset(
    {CaseStatus.ARCHIVED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN, CaseStatus.TERMINATED}
)


class Performer(models.TextChoices):
    """Who performs an action, as the workflow names them (the permissions module maps each
    to roles and scopes)."""

    APPLICANT = "applicant", _("Applicant")
    CLERK = "clerk", _("Window clerk")
    REVIEWER = "reviewer", _("Reviewer of the current step")
    HEAD = "head", _("Department head")
    SYSTEM = "system", _("System")


class MaterialState(models.TextChoices):
    PROVIDED = "provided", _("Provided")
    MISSING = "missing", _("Missing")
    DEFECTIVE = "defective", _("Defective")
    TOLERATED = "tolerated", _("To be supplied later")
    SUPPLIED = "supplied", _("Supplied later")


class PauseKind(models.TextChoices):
    """Why a case's clock stops (行政许可法 Art. 45, and corrections)."""

    CORRECTION = "correction", _("Correction of materials")
    HEARING = "hearing", _("Hearing")
    TENDER = "tender", _("Tender or auction")
    TESTING = "testing", _("Testing, inspection or quarantine")
    APPRAISAL = "appraisal", _("Appraisal or expert review")
    SURVEY = "survey", _("Site survey")
    CONSULTATION = "consultation", _("Third-party consultation")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("Collected at the window")
    POST = "post", _("By post (EMS)")
    ELECTRONIC = "electronic", _("Electronically")


class DocumentKind(models.TextChoices):
    """The 11 documents (文书) of a case."""

    RECEIPT = "receipt", _("Receipt of materials")
    ACCEPTANCE = "acceptance", _("Notice of acceptance")
    NON_ACCEPTANCE = "non_acceptance", _("Notice of non-acceptance")
    CORRECTION = "correction", _("Notice of corrections (one-time)")
    TOLERANCE = "tolerance", _("Commitment for tolerated materials")
    SPECIAL_PROCEDURE = "special_procedure", _("Notice of a special procedure")
    EXTENSION = "extension", _("Notice of extension")
    APPROVAL = "approval", _("Decision to grant the licence")
    DENIAL = "denial", _("Decision not to grant the licence")
    SERVICE_RECEIPT = "service_receipt", _("Proof of service")
    TERMINATION = "termination", _("Notice of termination")


class ClockPurpose(models.TextChoices):
    ACCEPTANCE = "case.acceptance", _("Acceptance")
    DECISION = "case.decision", _("Decision")
    DELIVERY = "case.delivery", _("Delivery")


# The clock a case runs on in each status; in the others none runs (and it shows no light).
CLOCK_OF_STATUS = {
    CaseStatus.RECEIVED: "acceptance_clock",
    CaseStatus.CORRECTION: "acceptance_clock",
    CaseStatus.IN_REVIEW: "decision_clock",
    CaseStatus.SUSPENDED: "decision_clock",
    CaseStatus.APPROVED: "delivery_clock",
    CaseStatus.DENIED: "delivery_clock",
    CaseStatus.READY: "delivery_clock",
}
