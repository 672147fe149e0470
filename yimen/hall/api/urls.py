from django.urls import path

from . import views

urlpatterns = [
    path("halls/", views.HallListView.as_view(), name="api-hall-halls"),
    path("halls/<int:id>/slots/", views.SlotListView.as_view(), name="api-hall-slots"),
    path("halls/<int:id>/board/", views.BoardView.as_view(), name="api-hall-board"),
    path("halls/<int:id>/tickets/", views.TicketTakeView.as_view(), name="api-hall-take"),
    path("halls/<int:id>/figures/", views.FiguresView.as_view(), name="api-hall-figures"),
    path("appointments/", views.AppointmentListView.as_view(), name="api-hall-appointments"),
    path(
        "appointments/<uuid:public_id>/cancel/",
        views.AppointmentCancelView.as_view(),
        name="api-hall-appointment-cancel",
    ),
    path("tickets/<uuid:public_id>/", views.TicketSlipView.as_view(), name="api-hall-ticket"),
    path("tickets/<uuid:public_id>/rate/", views.TicketRateView.as_view(), name="api-hall-rate"),
    *(
        path(f"tickets/<uuid:public_id>/{name}/", view.as_view(), name=f"api-hall-ticket-{name}")
        for name, view in views.TICKET_ACTION_VIEWS.items()
    ),
    path("windows/", views.WindowListView.as_view(), name="api-hall-windows"),
    path("windows/<int:id>/call-next/", views.CallNextView.as_view(), name="api-hall-call-next"),
]
