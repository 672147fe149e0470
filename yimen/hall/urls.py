"""The hall's public pages: appointments, the kiosk, the ticket slip and the display board."""

from django.urls import path

from . import views

app_name = "hall"
urlpatterns = [
    path("", views.index, name="index"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/new/", views.book, name="book"),
    path("appointments/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("<int:hall_id>/kiosk/", views.kiosk, name="kiosk"),
    path("<int:hall_id>/board/", views.board, name="board"),
    path("<int:hall_id>/board/live/", views.board_live, name="board_live"),
    path("tickets/<uuid:public_id>/", views.ticket, name="ticket"),
    path("tickets/<uuid:public_id>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<uuid:public_id>/rate/", views.rate, name="rate"),
]
