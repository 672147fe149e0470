"""The window's pages of theme applications (主题式联审联办): the queue and applying at the
window for an applicant who is present."""

from django.urls import path

from . import desk_views

app_name = "joint_desk"
urlpatterns = [
    path("", desk_views.queue, name="queue"),
    path("apply/<slug:code>/", desk_views.apply, name="apply"),
    path("apply/<slug:code>/<uuid:public_id>/", desk_views.apply_form, name="apply_form"),
]
