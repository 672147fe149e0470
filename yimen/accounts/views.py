"""Web pages of the accounts app: sign-in, registration, home pages, the applicant lookup."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimen.common import workdays
from yimen.common.choices import Channel
from yimen.common.forms import set_service_errors
from yimen.org.roles import active_memberships, is_staff_member

from . import services
from .forms import (
    ApplicantLookupForm,
    LoginForm,
    PasswordForm,
    PersonRegistrationForm,
    WalkInApplicantForm,
)
from .models import Applicant
from .permissions import can_look_up_applicants
from .selectors import applicant_by_identifier


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordForm
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_password_change(user=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


def register(request):
    """Online self-registration of a natural person."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = PersonRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.person_account_register(
                username=data["username"],
                password=data["password1"],
                name=data["name"],
                id_number=data["id_number"],
                phone=data["phone"],
            )
        except ValidationError as exc:
            set_service_errors(form, exc, rename={"password": "password1", "__all__": "password1"})
        else:
            login(request, user, backend="yimen.accounts.backends.AccountBackend")
            messages.success(request, _("Welcome! Your account has been created."))
            return redirect("accounts:home")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def home(request):
    """The staff workbench for staff, my space for applicants."""
    if is_staff_member(request.user):
        today = timezone.localdate()
        context = {
            "memberships": active_memberships(request.user),
            "today": today,
            "today_is_workday": workdays.is_workday(today),
            # What a clerk tells an applicant across the counter.
            "deadlines": [(n, workdays.add_workdays(today, n)) for n in (5, 20)],
        }
        return render(request, "accounts/home_staff.html", context)
    applicant = Applicant.objects.filter(user=request.user).first()
    if applicant is not None:
        return redirect("space:home")  # 我的空间: licences, cases, reusable materials
    return render(request, "accounts/home_applicant.html", {"applicant": applicant})


def _require_clerk(request):
    if not can_look_up_applicants(request.user):
        raise PermissionDenied


@login_required
def applicant_lookup(request):
    """Find a walk-in applicant by their full number; offer to register them if unknown.

    The number is POSTed, never put in a URL, so it stays out of access logs and history.
    """
    _require_clerk(request)
    form = ApplicantLookupForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        value = form.cleaned_data["q"]
        applicant = applicant_by_identifier(identifier=value)
        if applicant is not None and not request.htmx:
            return redirect("accounts:applicant_detail", public_id=applicant.public_id)
        context["applicant"] = applicant
        if applicant is None:
            kind = "person" if value[:17].isdigit() else "enterprise"
            context["walk_in_form"] = WalkInApplicantForm(
                initial={"identifier": value, "kind": kind}
            )
    template = "accounts/_lookup_result.html" if request.htmx else "accounts/lookup.html"
    return render(request, template, context)


@login_required
def applicant_detail(request, public_id):
    _require_clerk(request)
    applicant = get_object_or_404(Applicant.objects.select_related("user"), public_id=public_id)
    return render(
        request, "accounts/lookup.html", {"form": ApplicantLookupForm(), "applicant": applicant}
    )


@login_required
@require_POST
def applicant_walk_in(request):
    _require_clerk(request)
    form = WalkInApplicantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            applicant = services.applicant_register(
                kind=data["kind"],
                name=data["name"],
                id_number=data["id_number"],
                uscc=data["uscc"],
                phone=data["phone"],
                legal_representative=data["legal_representative"],
                registered_by=request.user,
                channel=Channel.WINDOW,
            )
        except ValidationError as exc:
            set_service_errors(form, exc, rename={"id_number": "identifier", "uscc": "identifier"})
        else:
            messages.success(request, _("Applicant %(name)s registered.") % {"name": applicant})
            return redirect("accounts:applicant_detail", public_id=applicant.public_id)
    return render(
        request,
        "accounts/lookup.html",
        {"form": ApplicantLookupForm(), "walk_in_form": form},
        status=400,
    )


@login_required
@require_POST
def applicant_verify(request, public_id):
    _require_clerk(request)
    applicant = get_object_or_404(Applicant, public_id=public_id)
    try:
        services.applicant_verify_in_person(applicant=applicant, clerk=request.user)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(name)s is now verified in person (L3).") % {"name": applicant}
        )
    return redirect("accounts:applicant_detail", public_id=public_id)
