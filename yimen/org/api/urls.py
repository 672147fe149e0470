from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="org-region")
router.register("departments", views.DepartmentViewSet, basename="org-department")
router.register("window-categories", views.WindowCategoryViewSet, basename="org-window-category")
router.register("halls", views.HallViewSet, basename="org-hall")
router.register("windows", views.WindowViewSet, basename="org-window")
router.register("memberships", views.MembershipViewSet, basename="org-membership")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="org-me"),
    *router.urls,
]
