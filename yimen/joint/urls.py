"""The pages of joint handling (主题式联审联办): applying for a theme, an application with
its actions, documents and files, the applicant's applications, and a project's stages."""

from django.urls import path

from . import views

app_name = "joint"
urlpatterns = [
    path("apply/<slug:code>/", views.apply, name="apply"),
    path("mine/", views.mine, name="mine"),
    path("projects/<uuid:public_id>/", views.project, name="project"),
    path("<str:number>/", views.application, name="case"),
    path("<str:number>/documents/<slug:code>/", views.document_pdf, name="document"),
    path("<str:number>/materials/<int:pk>/", views.material_file, name="material"),
    path("<str:number>/act/<slug:action>/", views.act, name="act"),
]
