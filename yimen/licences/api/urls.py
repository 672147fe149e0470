from django.urls import path

from . import views

urlpatterns = [
    path("types/", views.LicenceTypeListView.as_view(), name="api-licences-types"),
    path("verify/<str:identifier>/", views.VerifyView.as_view(), name="api-licences-verify"),
    path("mine/", views.MyLicenceListView.as_view(), name="api-licences-mine"),
    path(
        "holders/<str:identifier>/licences/",
        views.HolderLicenceListView.as_view(),
        name="api-licences-holder",
    ),
    path("<uuid:public_id>/revoke/", views.LicenceRevokeView.as_view(), name="api-licences-revoke"),
    path(
        "<uuid:public_id>/replace/",
        views.LicenceReplaceView.as_view(),
        name="api-licences-replace",
    ),
]
