"""The 12345 hotline's pages: the knowledge base (search, articles, review), the work orders
(the agent's intake console, the center's and the units' queues, each order with its steps)
and the citizen's own reports."""

from django.urls import include, path

from . import views

app_name = "hotline"
urlpatterns = [
    path("knowledge/", views.knowledge_search, name="knowledge"),
    path("knowledge/new/", views.article_create, name="create"),
    path("knowledge/drafts/", views.drafts, name="drafts"),
    path("knowledge/review/", views.review_queue, name="review"),
    path("knowledge/<uuid:public_id>/", views.article_detail, name="article"),
    path("knowledge/<uuid:public_id>/edit/", views.article_edit, name="edit"),
    path("knowledge/<uuid:public_id>/submit/", views.article_submit, name="submit"),
    path("knowledge/<uuid:public_id>/review/", views.article_review, name="review_article"),
    path("knowledge/<uuid:public_id>/retire/", views.article_retire, name="retire"),
    path("", include("yimen.hotline.urls_orders")),
    path("", include("yimen.hotline.urls_intake")),
    path("", include("yimen.hotline.urls_stats")),
]
