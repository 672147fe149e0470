"""The window clerk's calling panel (叫号) and the hall statistics, under /desk/window/."""

from django.urls import path

from . import window_views as views

app_name = "window"
urlpatterns = [
    path("", views.panel, name="panel"),
    path("choose/", views.choose, name="choose"),
    path("call/", views.call, name="call"),
    path("recall/", views.act, {"action": "recall"}, name="recall"),
    path("start/", views.act, {"action": "start"}, name="start"),
    path("finish/", views.act, {"action": "finish"}, name="finish"),
    path("no-show/", views.act, {"action": "no_show"}, name="no_show"),
    path("transfer/", views.transfer, name="transfer"),
    path("stats/", views.stats, name="stats"),
    path("stats/export.xlsx", views.stats_export, name="stats_export"),
]
