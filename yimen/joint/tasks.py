"""Background tasks of joint handling."""

from celery import shared_task

from . import services


@shared_task
def sweep_joint() -> dict[str, int]:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): theme applications left without an
    acceptance decision for 5 working days are accepted from their day of receipt, and
    their cases open."""
    return {"deemed_accepted": services.deem_overdue_acceptances()}
