from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("register/", views.register, name="register"),
    path("home/", views.home, name="home"),
    path("applicants/", views.applicant_lookup, name="applicant_lookup"),
    path("applicants/<uuid:public_id>/", views.applicant_detail, name="applicant_detail"),
    path("applicants/new/", views.applicant_walk_in, name="applicant_walk_in"),
    path("applicants/<uuid:public_id>/verify/", views.applicant_verify, name="applicant_verify"),
]
