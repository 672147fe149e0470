"""Routes of the hotline's stats pages (included by yimen.hotline.urls)."""

from django.urls import path

from . import views_stats

urlpatterns = [
    path("stats/", views_stats.stats_page, name="stats"),
    path("stats/report.xlsx", views_stats.stats_xlsx, name="stats_xlsx"),
    path("stats/report.pdf", views_stats.stats_pdf, name="stats_pdf"),
]
