"""Background tasks of the hall module."""

from celery import shared_task

from . import services


@shared_task
def sweep_hall() -> dict[str, int]:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): appointments whose period ended unused are
    missed; tickets of earlier days still in the queue are closed. Returns how many of each."""
    missed, closed = services.sweep()
    return {"appointments_missed": missed, "tickets_closed": closed}
