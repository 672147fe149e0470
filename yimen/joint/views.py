"""The applicant's and the clerk's pages of joint handling (主题式联审联办): the apply
wizard (scenario answers, then ONE merged form and ONE material set), the application page
with every department's case side by side and the actions the user may take, its documents
and files, the applicant's applications and projects, and a project's stages.

Thin: the selectors read, the services decide and write; a service's ValidationError goes
back on the form (400), PermissionDenied is a 403, an application the user may not see is
not found, and a step someone else took first is told as the state it is in now (409)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from yimen.cases import pdf
from yimen.cases import selectors as case_selectors
from yimen.cases.choices import Performer
from yimen.cases.permissions import visible_cases
from yimen.catalog.choices import Target
from yimen.catalog.selectors import answers_given, theme_plan, theme_with_items, themes_in_force
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict

from . import permissions, selectors, services, workflow
from .choices import JointStatus
from .forms import (
    MaterialSetForm,
    action_form,
    application_form,
    needed_by,
    offered_actions,
    plan,
    raw_values,
    spread_errors,
)

PAGE_SIZE = 20
# Actions that end or refuse the application: their buttons look it.
ENDING = frozenset({"refuse", "withdraw"})


def _applicant(user):
    """The applicant profile of the signed-in user (None for staff-only accounts)."""
    return getattr(user, "applicant", None) if user.is_authenticated else None


# --- the apply wizard -------------------------------------------------------------------------


def _choice(request, theme, applicant):
    """The answers, stage and project in the query string, and what is wrong with them."""
    errors: dict[str, list] = {}
    option_ids = request.GET.getlist("answer")
    try:
        answers = answers_given(theme, option_ids)
    except ValidationError as exc:
        answers, errors["answer"] = {}, exc.messages
    stage = project = None
    stages = list(theme.stages.all())
    if raw := request.GET.get("stage", ""):
        stage = next((s for s in stages if str(s.pk) == raw), None)
        if stage is None:
            errors["stage"] = [_("Choose a stage of this theme.")]
    if raw := request.GET.get("project", ""):
        project = next((p for p in _projects(applicant, theme) if str(p.public_id) == raw), None)
        if project is None:
            errors["project"] = [_("This is not one of your projects under this theme.")]
    return option_ids, answers, stage, project, errors


def _projects(applicant, theme):
    return [p for p in selectors.projects_of(applicant) if p.theme_id == theme.pk]


def _step_one(request, theme, applicant, context, *, answers, stage, project, errors):
    """The scenario questions (and, for a staged theme, the stage and the project)."""
    chosen = {o for options in answers.values() for o in options}
    context.update(
        step=1,
        questions=list(theme.questions.all()),
        stages=list(theme.stages.all()),
        projects=_projects(applicant, theme),
        chosen=chosen,
        stage=stage,
        project=project,
        errors=[m for messages_ in errors.values() for m in messages_],
    )
    return render(request, "joint/apply.html", context, status=400 if errors else 200)


@never_cache
@login_required
def apply(request, code):
    """Apply for a theme (or a stage of it): step 1 takes the scenario answers (`answer=`
    option ids, repeated; `stage=` and `project=` for a staged theme) by GET; step 2 is the
    one merged form and the one material set, posted with one idempotency key."""
    theme = theme_with_items(get_object_or_404(themes_in_force(), code=code))
    applicant = _applicant(request.user)
    context = {"theme": theme, "applicant": applicant}
    refused = 400 if request.method == "POST" else 200
    if applicant is None:
        return render(request, "joint/apply.html", context, status=403)
    if not Target(theme.target).serves(applicant.kind):
        context["wrong_kind"] = True
        return render(request, "joint/apply.html", context, status=refused)

    option_ids, answers, stage, project, errors = _choice(request, theme, applicant)
    staged = bool(theme.stages.all())
    answered = "answer" in request.GET or not theme.questions.all()
    if errors or not answered or (staged and stage is None) or "edit" in request.GET:
        if request.method == "POST" and not errors:
            errors = {"answer": [_("Answer the questions first.")]}
        return _step_one(
            request, theme, applicant, context,
            answers=answers, stage=stage, project=project, errors=errors,
        )  # fmt: skip

    stage_plan = next(p for p in theme_plan(theme, answers).stages if p.stage == stage)
    merge = services.application_merge(stage_plan.merge, staged=stage is not None)
    context.update(step=2, stage=stage, project=project, merge=merge, plan=stage_plan)
    context["answers"] = [
        (question, [o for o in question.options.all() if o.pk in answers.get(question.pk, ())])
        for question in theme.questions.all()
    ]
    again = request.GET.copy()
    again["edit"] = "1"
    context["change_url"] = f"{request.path}?{again.urlencode()}"
    if refusal := services.stage_refusal(
        theme=theme, stage=stage, project=project, applicant=applicant
    ):
        context["refusal"] = [m for messages_ in refusal.values() for m in messages_]
        return render(request, "joint/apply.html", context, status=refused)
    if not merge.versions:
        context["nothing"] = True
        return render(request, "joint/apply.html", context, status=refused)

    first_stage = stage is not None and project is None
    set_kwargs = {"merge": merge, "applicant": applicant, "first_stage": first_stage}
    if request.method != "POST":
        context["form"] = application_form(merge)
        context["set_form"] = MaterialSetForm(
            initial={"project_name": request.GET.get("project_name", "")}, **set_kwargs
        )
        return render(request, "joint/apply.html", context)

    form = application_form(merge, request.POST)
    set_form = MaterialSetForm(request.POST, request.FILES, **set_kwargs)
    if form.is_valid() & set_form.is_valid():
        uploads, names = set_form.uploads()
        try:
            joint = services.theme_apply(
                applicant=applicant,
                theme=theme,
                submitted_by=request.user,
                channel=Channel.ONLINE,
                answers=option_ids,
                form_data=raw_values(form),
                uploads=uploads,
                stage=stage,
                project=project,
                project_name=set_form.cleaned_data.get("project_name", ""),
                idempotency_key=str(set_form.cleaned_data["idempotency_key"]),
            )
        except ValidationError as exc:
            rename = {f"materials.{i}": name for i, name in enumerate(names)}
            spread_errors(exc, form=form, other=set_form, rename=rename)
        else:
            messages.success(
                request,
                _("Your application has been submitted. Application number: %(number)s.")
                % {"number": joint.number},
            )
            return redirect(joint)
    context.update(form=form, set_form=set_form)
    return render(request, "joint/apply.html", context, status=400)


# --- the application page ---------------------------------------------------------------------


def _visible(request, number):
    joint = selectors.application_for_page(user=request.user, number=number)
    if joint is None:
        raise Http404
    return joint


_EVENT_LABELS = {
    "submit": gettext_lazy("Application submitted"),
    "settle": gettext_lazy("Every item decided"),
}


def _history(joint):
    """The application's audit events, oldest first, as the page shows them."""
    rows = []
    for event in selectors.history_events(joint):
        name = event.action.removeprefix("joint.")
        step = workflow.STEPS.get(name)
        if event.actor_id is not None and event.actor_id == joint.applicant.user_id:
            who = _("Applicant") if not event.role else event.actor_label
        elif event.actor_id is None:
            who = _("System")
        else:
            who = event.actor_label
        status = event.to_state
        rows.append(
            {
                "at": event.occurred_at,
                "label": step.label if step else _EVENT_LABELS.get(name, event.action),
                "who": who,
                "reason": event.reason,
                "status": JointStatus(status).label if status in JointStatus.values else "",
            }
        )
    return rows


def _render_application(request, joint, *, bound=None, status=200):
    """The page; `bound` is the (action, form) that failed, shown with its errors."""
    entries = []
    for action in offered_actions(request.user, joint):
        form = bound[1] if bound is not None and bound[0] == action else None
        entries.append(_entry(action, form or action_form(action, joint, request.user)))
    if bound is not None and bound[0] not in {e["action"] for e in entries}:
        entries.append(_entry(*bound))
    merge = plan(joint)
    current = services.current_set(joint)
    readable = permissions.readable_form_keys(request.user, joint)
    data = {k: v for k, v in (joint.form_data or {}).items() if readable is None or k in readable}
    form_rows = case_selectors.labelled_form(data, [m.field for m in merge.fields])
    acting = permissions.performers(request.user, joint)
    is_applicant = Performer.APPLICANT in acting
    context = {
        "joint": joint,
        "state": selectors.running_state(joint),
        "rows": selectors.progress(
            joint, sent_only=not permissions.sees_internal(request.user, joint)
        ),
        "results": selectors.results(joint),
        "openable": set(  # the cases the user may open (a department its own)
            visible_cases(request.user, joint.cases.all()).values_list("pk", flat=True)
        ),
        "set_rows": [(m, current.get(m.material_type.pk), needed_by(m)) for m in merge.materials],
        "merge": merge,
        "form_rows": form_rows,
        "pending": selectors.pending_corrections(joint)
        if permissions.sees_internal(request.user, joint)
        else [],
        "open_corrections": selectors.open_corrections(joint),
        "documents": list(joint.documents.all()),
        "history": _history(joint),
        "actions": entries,
        "is_applicant": is_applicant,
        "can_open_files": permissions.may_open_files(request.user, joint),
    }
    return render(request, "joint/application.html", context, status=status)


def _entry(action, form) -> dict:
    return {
        "action": action,
        "step": workflow.STEPS[action],
        "form": form,
        "ending": action in ENDING,
    }


@never_cache
@login_required
@require_GET
def application(request, number):
    return _render_application(request, _visible(request, number))


def _channel(user, joint, step) -> str:
    """The window for a clerk, online for the applicant."""
    if Performer.CLERK in permissions.performers(user, joint) & step.performers:
        return Channel.WINDOW
    return Channel.ONLINE


def _stale(request, number):
    joint = _visible(request, number)
    messages.warning(
        request,
        _("The application changed meanwhile: it is now “%(status)s”. Check it and try again.")
        % {"status": joint.get_status_display()},
    )
    return _render_application(request, joint, status=409)


@login_required
@require_POST
def act(request, number, action):
    """One step on the application, through its service."""
    step = workflow.STEPS.get(action)
    if step is None:
        raise Http404
    joint = _visible(request, number)
    if joint.status not in step.sources:
        return _stale(request, number)
    if not permissions.may_perform(request.user, joint, step):
        raise PermissionDenied
    form = action_form(action, joint, request.user, request.POST, request.FILES)
    if form.is_valid():
        try:
            getattr(services, action)(
                joint=joint,
                actor=request.user,
                channel=_channel(request.user, joint, step),
                **form.service_kwargs(),
            )
        except StateConflict:
            return _stale(request, number)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(
                request,
                _("Done: %(action)s. The application is now “%(status)s”.")
                % {"action": step.label, "status": joint.get_status_display()},
            )
            return redirect(joint)
    return _render_application(request, joint, bound=(action, form), status=400)


# --- its papers -------------------------------------------------------------------------------


@require_GET
@login_required
def document_pdf(request, number, code):
    """A document of an application the user may see; any other is not found."""
    joint = _visible(request, number)
    document = get_object_or_404(joint.documents.all(), code=code)
    response = HttpResponse(pdf.render(document), content_type="application/pdf")
    title = document.content.get("title") or document.get_kind_display()
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=f"{title}-{joint.number}.pdf"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@login_required
def material_file(request, number, pk):
    """A file of the material set, to the applicant and the window (never a public storage
    URL: these are personal papers; departments open them on their own cases)."""
    joint = _visible(request, number)
    if not permissions.may_open_files(request.user, joint):
        raise Http404
    material = get_object_or_404(joint.materials.exclude(file=""), pk=pk)
    response = FileResponse(material.file.open("rb"), filename=material.file_name)
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- the applicant's applications and projects ------------------------------------------------


@never_cache
@login_required
def mine(request):
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "joint/mine.html", {"applicant": None}, status=403)
    page = Paginator(selectors.applications_of(applicant), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "applicant": applicant,
        "page": page,
        "rows": [(joint, selectors.running_state(joint)) for joint in page],
        "page_range": page.paginator.get_elided_page_range(page.number),
        "projects": list(selectors.projects_of(applicant)),
    }
    return render(request, "joint/mine.html", context)


@never_cache
@login_required
def project(request, public_id):
    """A project: its stages, each with its application, and whether (and why not) the
    next may be applied for."""
    found = selectors.project_for_page(user=request.user, public_id=public_id)
    if found is None:
        raise Http404
    rows = [
        {
            "stage": row.stage,
            "application": row.application,
            "may_apply": row.may_apply,
            "refusal": [m for messages_ in (row.refusal or {}).values() for m in messages_],
        }
        for row in selectors.project_stages(found, user=request.user)
    ]
    context = {
        "project": found,
        "rows": rows,
        "is_applicant": found.applicant.user_id == request.user.pk,
    }
    return render(request, "joint/project.html", context)
