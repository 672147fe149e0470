"""Open311 GeoReport v2, mounted at /open311/v2/: each resource with its format as the
extension (`services.xml`, `requests/GD2026030200001.json`); any other path is a 404 as the
spec's error document."""

from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<service_code>[-\w]+)" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[-\w]+)" + FMT, views.request_detail, name="request"
    ),
    re_path(r"^tokens/(?P<token>[-\w]+)" + FMT, views.token, name="token"),
    # Anything else (services/..json, requests/%00.json): the spec's error document, not
    # the site's HTML page.
    re_path(r"^(?P<path>.*)$", views.unknown, name="unknown"),
]
