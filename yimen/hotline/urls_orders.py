"""Routes of the hotline's orders pages (included by yimen.hotline.urls). An order number is
letters then digits (GD2026120700042), so words under orders/ stay free for other pages."""

from django.urls import path, re_path

from . import views_orders as views

NUMBER = r"(?P<number>[A-Z]+[0-9]+)"

urlpatterns = [
    path("orders/", views.order_list, name="orders"),
    re_path(rf"^orders/{NUMBER}/$", views.order, name="order"),
    re_path(rf"^orders/{NUMBER}/act/(?P<action>[a-z_]+)/$", views.act, name="act"),
    path("center/", views.center, name="center"),
    path("unit/", views.unit, name="unit"),
    path("unit/notices/read/", views.notices_read, name="notices_read"),
]
