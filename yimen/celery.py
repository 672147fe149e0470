"""Celery application: Redis in production, eager in the embedded default (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yimen.settings")

app = Celery("yimen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
