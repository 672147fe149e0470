"""The public verify page of e-licences and the printable licence."""

from django.urls import path

from . import views

app_name = "licences"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/<str:identifier>/", views.verify_identifier, name="verify_identifier"),
    path("<uuid:public_id>/licence.pdf", views.licence_pdf, name="pdf"),
]
