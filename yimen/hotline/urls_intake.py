"""Routes of the hotline's intake pages (included by yimen.hotline.urls): the agent's
console with its side panel, the citizen's report and the citizen's own orders."""

from django.urls import path

from . import views_intake

urlpatterns = [
    path("console/", views_intake.console, name="console"),
    path("console/history/", views_intake.console_history, name="console_history"),
    path("console/suggestions/", views_intake.console_suggestions, name="console_suggestions"),
    path("report/", views_intake.report, name="report"),
    path("mine/", views_intake.mine, name="mine"),
]
