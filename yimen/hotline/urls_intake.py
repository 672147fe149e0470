"""Routes of the hotline's intake pages (included by yimen.hotline.urls)."""

urlpatterns = []
