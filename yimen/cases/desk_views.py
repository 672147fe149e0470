"""The staff consoles: the window clerk's desk (find the applicant, choose the item, check the
materials and decide, all by keyboard), the clerk's queue, the reviewer's inbox and the
supervisors' read-only list of every case. Actions on a single case live on the case page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yimen.accounts.forms import ApplicantLookupForm, WalkInApplicantForm
from yimen.accounts.models import Applicant
from yimen.accounts.selectors import applicant_by_identifier
from yimen.hall.permissions import reads_statistics, works_at_windows

from . import queues
from .choices import CaseStatus
from .desk_forms import CaseFilterForm, ChecklistForm

CONSOLES = [
    (_("Window desk"), "desk:desk", queues.uses_desk),
    (_("My queue"), "desk:queue", queues.uses_desk),
    (_("Theme applications"), "joint_desk:queue", queues.uses_desk),
    (_("Calling panel"), "window:panel", works_at_windows),
    (_("Review inbox"), "desk:inbox", queues.uses_inbox),
    (_("All cases"), "desk:all", queues.sees_all_cases),
    (_("Hall statistics"), "window:stats", reads_statistics),
]


def _require(allowed, user) -> None:
    if not allowed(user):
        raise PermissionDenied


def render_console(request, template, context, *, status=200):
    """Render a console page with the tabs of the consoles the user may use."""
    tabs = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, allowed in CONSOLES
        if allowed(request.user)
    ]
    return render(request, template, {"consoles": tabs, **context}, status=status)


# --- the desk ---------------------------------------------------------------------------------


@login_required
def desk(request):
    """Step 1: the applicant, by their full number (POSTed, never in a URL)."""
    _require(queues.uses_desk, request.user)
    form = ApplicantLookupForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if not form.is_valid():
            return render_console(request, "desk/desk.html", context, status=400)
        value = form.cleaned_data["q"]
        if applicant := applicant_by_identifier(identifier=value):
            return redirect("desk:start", public_id=applicant.public_id)
        kind = "person" if value[:17].isdigit() else "enterprise"
        context["walk_in_form"] = WalkInApplicantForm(initial={"identifier": value, "kind": kind})
    return render_console(request, "desk/desk.html", context)


@login_required
def start(request, public_id):
    """Step 2: the item, searched among the guides of the clerk's window categories (htmx
    asks for the result list alone as the clerk types)."""
    _require(queues.uses_desk, request.user)
    applicant = get_object_or_404(Applicant, public_id=public_id)
    query = request.GET.get("q", "")[:100]
    context = {
        "applicant": applicant,
        "query": query,
        "guides": queues.desk_guides(request.user, applicant=applicant, query=query),
    }
    if request.htmx:
        return render(request, "desk/_items.html", context)
    return render_console(request, "desk/start.html", context)


@login_required
def checklist(request, public_id, implementation_code):
    """Step 3: the materials, the form and the decision, in one submit."""
    _require(queues.uses_desk, request.user)
    applicant = get_object_or_404(Applicant, public_id=public_id)
    guide = queues.desk_guide(request.user, implementation_code)
    if guide is None:
        raise Http404(_("No guide in force of your window categories has this code."))
    status = 200
    if request.method == "POST":
        form = ChecklistForm(request.POST, request.FILES, guide=guide, applicant=applicant)
        if form.is_valid():
            case = form.submit(clerk=request.user, applicant=applicant)
            if case is not None:
                return redirect("desk:done", number=case.number)
        status = 400
    else:
        form = ChecklistForm(guide=guide, applicant=applicant)
    context = {"applicant": applicant, "guide": guide, "form": form}
    return render_console(request, "desk/checklist.html", context, status=status)


@login_required
def done(request, number):
    """The case number, large, and its documents to print."""
    _require(queues.uses_desk, request.user)
    case = queues.desk_case(request.user, number)
    if case is None:
        raise Http404(_("No case of yours has this number."))
    return render_console(request, "desk/done.html", {"case": case})


# --- the lists --------------------------------------------------------------------------------


def _case_list(request, cases, *, title, intro, statuses, departments=None):
    form = CaseFilterForm(request.GET or None, statuses=statuses, departments=departments)
    context = {"title": title, "intro": intro, "form": form, "page": None}
    if form.is_bound and not form.is_valid():
        return render_console(request, "desk/cases.html", context, status=400)
    if form.is_bound:
        cases = form.apply(cases)
    page = Paginator(cases, queues.PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = queues.rows(page.object_list)
    context["page"] = page
    context["page_range"] = page.paginator.get_elided_page_range(page.number)
    return render_console(request, "desk/cases.html", context)


@login_required
def queue(request):
    _require(queues.uses_desk, request.user)
    return _case_list(
        request,
        queues.clerk_queue(request.user),
        title=_("My queue"),
        intro=_("Cases of your window categories waiting at the window, the most urgent first."),
        statuses=queues.CLERK_STATES,
    )


@login_required
def inbox(request):
    _require(queues.uses_inbox, request.user)
    return _case_list(
        request,
        queues.inbox(request.user),
        title=_("Review inbox"),
        intro=_(
            "Cases of your departments at a step of yours, in a special procedure or "
            "approved, the most urgent first."
        ),
        statuses=queues.INBOX_STATES,
    )


@login_required
def all_cases(request):
    _require(queues.sees_all_cases, request.user)
    return _case_list(
        request,
        queues.all_cases(request.user),
        title=_("All cases"),
        intro=_("Every case you supervise, the most urgent first. Read only."),
        statuses=CaseStatus.values,
        departments=queues.supervised_departments(request.user),
    )
