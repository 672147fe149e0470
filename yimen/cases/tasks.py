"""Background tasks of the cases module."""

from celery import shared_task

from . import rules, services


@shared_task
def sweep_cases() -> dict[str, int]:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): cases left without an acceptance decision
    for 5 working days are accepted from their day of receipt, and each overdue 容缺
    commitment alerts the supervisor once. Returns how many of each."""
    accepted = services.deem_overdue_acceptances()
    alerted = sum(rules.alert_overdue_commitment(row) for row in rules.commitments_to_alert())
    return {"deemed_accepted": accepted, "commitments_overdue": alerted}
