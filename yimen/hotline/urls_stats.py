"""Routes of the hotline's stats pages (included by yimen.hotline.urls)."""

urlpatterns = []
