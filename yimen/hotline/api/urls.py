from django.urls import path

from . import orders, views

urlpatterns = [
    path("knowledge/", views.KnowledgeSearchView.as_view(), name="api-hotline-knowledge"),
    path(
        "knowledge/<uuid:public_id>/",
        views.KnowledgeDetailView.as_view(),
        name="api-hotline-article",
    ),
    path("categories/", views.CategoryTreeView.as_view(), name="api-hotline-categories"),
    path("deadlines/", views.DeadlineRuleListView.as_view(), name="api-hotline-deadlines"),
    # Work orders ("duplicates/" before "<number>/", which would take it for a number).
    path("orders/", orders.OrderListView.as_view(), name="api-hotline-orders"),
    path(
        "orders/duplicates/",
        orders.DuplicatesView.as_view(),
        name="api-hotline-order-duplicates",
    ),
    path("orders/<str:number>/", orders.OrderDetailView.as_view(), name="api-hotline-order"),
    *(
        path(f"orders/<str:number>/{name}/", view.as_view(), name=f"api-hotline-order-{name}")
        for name, view in orders.ACTION_VIEWS.items()
    ),
    path(
        "dispatch/suggest/",
        orders.DispatchSuggestView.as_view(),
        name="api-hotline-dispatch-suggest",
    ),
    path("notices/", orders.NoticeListView.as_view(), name="api-hotline-notices"),
    path("notices/read/", orders.NoticesReadView.as_view(), name="api-hotline-notices-read"),
]
