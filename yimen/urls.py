"""Top-level URLs."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("yimen.accounts.urls")),
    path("services/", include("yimen.catalog.urls")),
    path("", include("yimen.cases.urls_documents")),
    path("cases/", include("yimen.cases.urls")),
    path("themes/", include("yimen.joint.urls")),
    path("hall/", include("yimen.hall.urls")),
    path("desk/window/", include("yimen.hall.urls_window")),
    path("licences/", include("yimen.licences.urls")),
    path("", include("yimen.licences.urls_public")),
    path("desk/themes/", include("yimen.joint.urls_desk")),
    path("desk/", include("yimen.cases.urls_desk")),
    path("hotline/", include("yimen.hotline.urls")),
    path("open311/v2/", include("yimen.hotline.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/org/", include("yimen.org.api.urls")),
    path("api/v1/accounts/", include("yimen.accounts.api.urls")),
    path("api/v1/catalog/", include("yimen.catalog.api.urls")),
    path("api/v1/cases/", include("yimen.cases.api.urls")),
    path("api/v1/hall/", include("yimen.hall.api.urls")),
    path("api/v1/licences/", include("yimen.licences.api.urls")),
    path("api/v1/themes/", include("yimen.joint.api.urls")),
    path("api/v1/hotline/", include("yimen.hotline.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("healthz", views.healthz, name="healthz"),
]

handler403 = "yimen.views.permission_denied"
handler404 = "yimen.views.page_not_found"
handler500 = "yimen.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
