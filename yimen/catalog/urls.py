"""The public pages of the catalogue (网上办事大厅)."""

from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("items/", views.items, name="items"),
    path("items/<str:implementation_code>/", views.item, name="item"),
    path(
        "items/<str:implementation_code>/v/<int:number>/", views.item_version, name="item_version"
    ),
    path("themes/", views.themes, name="themes"),
    path("themes/<slug:code>/", views.theme, name="theme"),
]
