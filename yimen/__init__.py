"""Yimen (一门): a one-door, one-network government service platform."""

from .celery import app as celery_app

__all__ = ["celery_app"]
