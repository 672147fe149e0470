"""Background tasks of the common app."""

import logging

from celery import shared_task

from .workdays import missing_calendar_years

logger = logging.getLogger(__name__)


@shared_task
def check_calendar_coverage() -> list[int]:
    """Daily (CELERY_BEAT_SCHEDULE): warn the operators when the working-day calendar lacks
    this year, or next year once YIMEN_CALENDAR_WARN_FROM has passed, so the State Council
    notice gets imported before deadlines start falling back to weekends only."""
    missing = missing_calendar_years()
    if missing:
        logger.warning(
            "The working-day calendar is missing %s: deadlines there count weekends only and "
            "are marked unconfirmed. Import the State Council notice with "
            "`manage.py import_calendar`.",
            ", ".join(str(year) for year in missing),
        )
    return missing
