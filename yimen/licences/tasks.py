"""Background tasks of the licences module."""

from celery import shared_task

from . import services


@shared_task
def expire_licences() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): valid licences past their last day become expired."""
    return services.expire_due()
