from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("items", views.ItemViewSet, basename="catalog-item")
router.register("themes", views.ThemeViewSet, basename="catalog-theme")
router.register("material-types", views.MaterialTypeViewSet, basename="catalog-material-type")
router.register("fields", views.FieldDefinitionViewSet, basename="catalog-field")
router.register("versions", views.VersionViewSet, basename="catalog-version")

urlpatterns = router.urls
