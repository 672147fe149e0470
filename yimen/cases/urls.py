"""The applicant's pages and the case page."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("apply/<str:implementation_code>/", views.apply, name="apply"),
    path("mine/", views.mine, name="mine"),
    path("progress/", views.progress, name="progress"),
    path("<str:number>/", views.case_page, name="case"),
    path("<str:number>/act/<slug:action>/", views.act, name="act"),
]
