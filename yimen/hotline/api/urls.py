from django.urls import path

from . import views

urlpatterns = [
    path("knowledge/", views.KnowledgeSearchView.as_view(), name="api-hotline-knowledge"),
    path(
        "knowledge/<uuid:public_id>/",
        views.KnowledgeDetailView.as_view(),
        name="api-hotline-article",
    ),
    path("categories/", views.CategoryTreeView.as_view(), name="api-hotline-categories"),
    path("deadlines/", views.DeadlineRuleListView.as_view(), name="api-hotline-deadlines"),
]
