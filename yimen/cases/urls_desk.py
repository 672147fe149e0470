"""The staff consoles: the window desk, the clerk's queue, the reviewer's inbox and the
supervisors' list."""

from django.urls import path

from . import desk_views

app_name = "desk"
urlpatterns = [
    path("", desk_views.desk, name="desk"),
    path("queue/", desk_views.queue, name="queue"),
    path("inbox/", desk_views.inbox, name="inbox"),
    path("all/", desk_views.all_cases, name="all"),
    path("applicants/<uuid:public_id>/", desk_views.start, name="start"),
    path(
        "applicants/<uuid:public_id>/<str:implementation_code>/",
        desk_views.checklist,
        name="checklist",
    ),
    path("cases/<str:number>/", desk_views.done, name="done"),
]
