"""The documents of a case as PDFs, and the public page that verifies a document."""

from django.urls import path

from . import document_views

app_name = "case_documents"
urlpatterns = [
    path("cases/<str:number>/documents/<slug:code>.pdf", document_views.document_pdf, name="pdf"),
    path(
        "cases/<str:number>/materials/<int:pk>/",
        document_views.material_file,
        name="material",
    ),
    path("verify/", document_views.verify_search, name="verify_search"),
    path("verify/<slug:code>/", document_views.verify, name="verify"),
]
