"""The applicant's space (我的空间, `space:`) and the three lists (三张清单, `licence_lists:`),
mounted at the site root: `/space/` and `/lists/`."""

from django.urls import include, path

from . import list_views, space_views

space_patterns = [
    path("", space_views.space, name="home"),
]

list_patterns = [
    path("", list_views.licence_list, name="index"),
    path("<slug:which>.xlsx", list_views.export, name="export"),
    path("<slug:which>/", list_views.licence_list, name="list"),
]

urlpatterns = [
    path("space/", include((space_patterns, "space"))),
    path("lists/", include((list_patterns, "licence_lists"))),
]
