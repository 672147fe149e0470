"""Background tasks of the 12345 hotline."""

from celery import shared_task

from . import orders


@shared_task
def sweep_hotline() -> dict[str, int]:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): a yellow or red card, with a notice, for each
    deadline an order or a supervision order missed. Returns how many of each."""
    return orders.sweep()
