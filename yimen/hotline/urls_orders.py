"""Routes of the hotline's orders pages (included by yimen.hotline.urls)."""

urlpatterns = []
