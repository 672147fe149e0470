"""The applicant's pages and the case page: applying online, 我的办件, the case with its
history and the actions the user may take, and the public progress query (办件查询).

Thin: the selectors read, the services decide and write; a service's ValidationError goes
back on the form (400), PermissionDenied is a 403, and a step someone else took first is
told as the state the case is in now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yimen.catalog.choices import OnlineDepth, Target
from yimen.catalog.selectors import versions_in_force
from yimen.common.choices import Channel
from yimen.common.masking import mask_name
from yimen.common.ratelimit import over_limit

from . import permissions, rules, selectors, services
from .choices import CaseStatus, Performer
from .forms import (
    MaterialsForm,
    ProgressForm,
    action_form,
    application_form,
    offered_actions,
)
from .workflow import TRANSITIONS, TransitionRefused

PAGE_SIZE = 20
# Actions that end or refuse the application: their buttons look it.
ENDING = frozenset({"refuse", "deny", "withdraw", "terminate"})
PROGRESS_QUERIES_PER_MINUTE = 20  # per client address


def _applicant(user):
    """The applicant profile of the signed-in user (None for staff-only accounts)."""
    return getattr(user, "applicant", None) if user.is_authenticated else None


# --- applying online --------------------------------------------------------------------------


@login_required
def apply(request, implementation_code):
    """Apply for the item in force: its form, an upload per material (none for a material a
    valid licence of the applicant stands for: 零提交; an earlier file may be picked again),
    one idempotency key."""
    version = versions_in_force().filter(item__implementation_code=implementation_code).first()
    if version is None:
        raise Http404
    applicant = _applicant(request.user)
    context = {"version": version, "item": version.item, "applicant": applicant}
    if applicant is None:
        return render(request, "cases/apply.html", context, status=403)
    refused = request.method == "POST"
    if version.online_depth == OnlineDepth.OFFLINE:
        context["offline"] = True
        return render(request, "cases/apply.html", context, status=400 if refused else 200)
    if not Target(version.target).serves(applicant.kind):
        context["wrong_kind"] = True
        return render(request, "cases/apply.html", context, status=400 if refused else 200)

    if request.method != "POST":
        context["form"] = application_form(version)
        context["materials_form"] = MaterialsForm(version=version, applicant=applicant)
        return render(request, "cases/apply.html", context)

    form = application_form(version, request.POST)
    materials_form = MaterialsForm(
        request.POST, request.FILES, version=version, applicant=applicant
    )
    errors = []
    if form.is_valid() & materials_form.is_valid():
        key = str(materials_form.cleaned_data["idempotency_key"])
        if done := selectors.case_by_idempotency_key(user=request.user, key=key):
            return _submitted(request, done)
        uploads, names = materials_form.uploads()
        try:
            case = services.case_submit(
                applicant=applicant,
                version=version,
                submitted_by=request.user,
                channel=Channel.ONLINE,
                form_data=request.POST,
                uploads=uploads,
                idempotency_key=key,
                key_checked=True,
            )
        except ValidationError as exc:
            errors = _apply_errors(exc, form, materials_form, names)
        else:
            return _submitted(request, case)
    context.update(form=form, materials_form=materials_form, errors=errors)
    return render(request, "cases/apply.html", context, status=400)


def _submitted(request, case):
    messages.success(
        request,
        _("Your application has been submitted. Case number: %(number)s.") % {"number": case},
    )
    return redirect(case)


def _apply_errors(exc, form, materials_form, names) -> list[str]:
    """Spread a case_submit ValidationError: form.<key> on the form's field, materials.<i> on
    the i-th upload's field; the rest is returned for the top of the page."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    rest = []
    for key, messages_ in exc.message_dict.items():
        head, _dot, tail = key.partition(".")
        if head == "form" and tail in form.fields:
            form.add_error(tail, messages_)
        elif head == "materials" and tail.isdigit() and int(tail) < len(names):
            materials_form.add_error(names[int(tail)], messages_)
        else:
            rest.extend(messages_)
    return rest


# --- 我的办件 -----------------------------------------------------------------------------------


@login_required
def mine(request):
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "cases/mine.html", {"applicant": None}, status=403)
    page = Paginator(selectors.applicant_cases(applicant=applicant), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(case, selectors.running_state(case)) for case in page]
    context = {
        "applicant": applicant,
        "page": page,
        "rows": rows,
        "page_range": page.paginator.get_elided_page_range(page.number),
    }
    return render(request, "cases/mine.html", context)


# --- the case page ----------------------------------------------------------------------------


def _visible_case(request, number):
    case = selectors.case_for_page(user=request.user, number=number)
    if case is None:
        raise Http404
    return case


@never_cache
@login_required
def case_page(request, number):
    case = _visible_case(request, number)
    if rules.apply_due_rules(case):
        case = _visible_case(request, number)
    return _render_case(request, case)


def _render_case(request, case, *, bound=None, status=200):
    """The page; `bound` is the (action, form) that failed, shown with its errors."""
    forms_ = []
    for action in offered_actions(request.user, case):
        if bound is not None and bound[0] == action:
            forms_.append(_entry(*bound))
        else:
            forms_.append(_entry(action, action_form(action, case, request.user)))
    if bound is not None and bound[0] not in {f["action"] for f in forms_}:
        forms_.append(_entry(*bound))
    context = {
        "case": case,
        "version": case.item_version,
        "is_applicant": permissions.is_applicant(request.user, case),
        "can_open_files": permissions.may_open_files(request.user, case),
        "clocks": selectors.clock_rows(case),
        "timeline": selectors.timeline(case),
        "form_rows": selectors.form_rows(case),
        "missing": services.missing_required(case),
        "actions": forms_,
        "review_step": permissions.current_step(case),
    }
    return render(request, "cases/case.html", context, status=status)


def _entry(action, form) -> dict:
    return {
        "action": action,
        "transition": TRANSITIONS[action],
        "form": form,
        "ending": action in ENDING,
    }


def _channel(user, case, transition) -> str:
    """Where the step is taken from: the window for a clerk, the back office for department
    staff, online for the applicant."""
    acting = permissions.performers(user, case) & transition.performers
    if Performer.CLERK in acting:
        return Channel.WINDOW
    if acting & {Performer.REVIEWER, Performer.HEAD}:
        return Channel.ADMIN
    return Channel.ONLINE


def _stale(request, case, status: str):
    messages.warning(
        request,
        _("Someone acted on this case first: it is now “%(status)s”.")
        % {"status": CaseStatus(status).label},
    )
    return redirect(case)


@login_required
@require_POST
def act(request, number, action):
    """One step on the case, through its service."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Http404
    case = _visible_case(request, number)
    if case.status not in transition.sources:
        return _stale(request, case, case.status)
    if not permissions.may_perform(request.user, case, transition):
        raise PermissionDenied
    form = action_form(action, case, request.user, request.POST, request.FILES)
    if form.is_valid():
        perform = getattr(services, action)
        try:
            perform(
                case=case,
                actor=request.user,
                channel=_channel(request.user, case, transition),
                **form.service_kwargs(),
            )
        except TransitionRefused as exc:
            return _stale(request, case, exc.status)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(
                request,
                _("Done: %(action)s. The case is now “%(status)s”.")
                % {"action": transition.label, "status": case.get_status_display()},
            )
            return redirect(case)
    return _render_case(request, case, bound=(action, form), status=400)


# --- 办件查询 -----------------------------------------------------------------------------------


@never_cache
def progress(request):
    """The public progress query. Both numbers come by POST (never in a URL or a log); a
    wrong number and a wrong ID get the same answer."""
    if request.method != "POST":
        return render(request, "cases/progress.html", {"form": ProgressForm()})
    if over_limit(request, scope="progress", per_minute=PROGRESS_QUERIES_PER_MINUTE):
        context = {"form": ProgressForm(), "too_many": True}
        return render(request, "cases/progress.html", context, status=429)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return render(request, "cases/progress.html", {"form": form}, status=400)
    lookup = {"number": form.cleaned_data["number"], "identifier": form.cleaned_data["identifier"]}
    case = selectors.progress_lookup(**lookup)
    if case is not None and rules.apply_due_rules(case):
        case = selectors.progress_lookup(**lookup)
    context = {"form": form, "case": case, "no_match": case is None}
    if case is not None:
        context.update(
            masked_name=mask_name(case.applicant.name),
            state=selectors.running_state(case),
            steps=selectors.timeline(case),
        )
    return render(request, "cases/progress.html", context)
