"""The window's side of theme applications (主题式联审联办): the queue of what the window has
to do on them (accept, send the departments' corrections in one notice, deliver every
result at once), and applying at the window for an applicant who is present: find the
applicant, answer the scenario questions, fill the one merged form, scan each material once
and tick the originals seen, then submit. The application page (`joint:case`) takes it
from there; the clerk may accept it at once.

Every write goes through yimen.joint.services; the forms here only collect what it takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yimen.accounts.forms import ApplicantLookupForm, WalkInApplicantForm
from yimen.accounts.models import Applicant
from yimen.accounts.selectors import applicant_by_identifier
from yimen.cases import queues
from yimen.cases import selectors as case_selectors
from yimen.cases.desk_views import render_console
from yimen.cases.forms import reuse_label
from yimen.catalog.choices import Target
from yimen.catalog.models import Theme
from yimen.catalog.selectors import (
    Merge,
    answers_given,
    theme_plan,
    theme_with_items,
    themes_in_force,
    versions_in_force,
)
from yimen.common.choices import Channel
from yimen.common.clocks import clock_state
from yimen.common.forms import StyledFormMixin, mark_invalid
from yimen.licences import selectors as licence_selectors
from yimen.org.roles import window_categories_for

from . import selectors, services
from .models import JointCase

# Rows shown per list of the queue (the oldest first); the page says when there are more.
QUEUE_ROWS = 50

QUEUE_LISTS = (
    (
        "to_accept",
        _("To accept"),
        _("Materials received at the window or online: check the set and accept, ask for "
          "corrections or refuse."),
    ),
    (
        "to_send",
        _("Corrections to send"),
        _("Departments reviewing these applications asked for corrections: send them to the "
          "applicant in one notice."),
    ),
    (
        "to_deliver",
        _("To deliver"),
        _("Every result is issued: hand them over (or send them) in one delivery."),
    ),
)  # fmt: skip


def uses_theme_desk(user) -> bool:
    """Window clerks (who accept theme applications of their window categories)."""
    return queues.uses_desk(user)


def _require(user) -> None:
    if not uses_theme_desk(user):
        raise PermissionDenied


# --- the themes a clerk accepts ---------------------------------------------------------------


def desk_themes(user) -> QuerySet[Theme]:
    """The themes in force that the clerk's window categories accept: the theme's own
    category, else (none set) that of one of its items' guides in force (the service
    decides again on submit, from the items that apply)."""
    categories = window_categories_for(user)
    if not categories:
        return Theme.objects.none()
    items = versions_in_force().filter(window_category__in=categories).values("item")
    return (
        themes_in_force()
        .filter(
            Q(window_category__in=categories) | Q(window_category=None, theme_items__item__in=items)
        )
        .distinct()
        .order_by("order", "code")
    )


def _desk_theme(user, code: str) -> Theme:
    theme = desk_themes(user).filter(code=code).first()
    if theme is None:
        raise Http404(_("No theme in force of your window categories has this code."))
    return theme


# --- the queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    joint: JointCase
    state: Any  # ClockState or None


def _rows(applications: QuerySet[JointCase]) -> tuple[list[QueueRow], bool]:
    found = list(applications[: QUEUE_ROWS + 1])
    rows = []
    for joint in found[:QUEUE_ROWS]:
        state = selectors.running_state(joint)
        if state is None and joint.joint_clock is not None:
            state = clock_state(joint.joint_clock)  # decided: on time or late
        rows.append(QueueRow(joint, state))
    return rows, len(found) > QUEUE_ROWS


@login_required
def queue(request):
    """What the window has to do on theme applications, in three lists, each row with its
    light; and the themes the clerk may start an application for."""
    _require(request.user)
    lists = selectors.window_queue(request.user)
    sections = []
    for key, title, intro in QUEUE_LISTS:
        rows, more = _rows(lists[key])
        sections.append({"key": key, "title": title, "intro": intro, "rows": rows, "more": more})
    context = {"sections": sections, "themes": list(desk_themes(request.user))}
    return render_console(request, "joint/desk_queue.html", context)


# --- applying at the window -------------------------------------------------------------------


@login_required
def apply(request, code):
    """Step 1: the applicant, by their full ID number or credit code (POSTed, never in a
    URL), as at the cases' window desk."""
    _require(request.user)
    theme = _desk_theme(request.user, code)
    form = ApplicantLookupForm(request.POST or None)
    context = {"theme": theme, "form": form}
    if request.method == "POST":
        if not form.is_valid():
            return render_console(request, "joint/desk_find.html", context, status=400)
        value = form.cleaned_data["q"]
        if applicant := applicant_by_identifier(identifier=value):
            return redirect("joint_desk:apply_form", code=theme.code, public_id=applicant.public_id)
        kind = "person" if value[:17].isdigit() else "enterprise"
        context["walk_in_form"] = WalkInApplicantForm(initial={"identifier": value, "kind": kind})
    return render_console(request, "joint/desk_find.html", context)


@dataclass(frozen=True)
class MaterialRow:
    """One material type of the set: its fields, the licence that stands for it (零提交)
    and the applicant's earlier file offered again, if any."""

    merged: Any  # catalog.selectors.MergedMaterial
    seen: forms.BoundField
    scan: forms.BoundField
    licence: Any = None
    reuse: forms.BoundField | None = None


class WindowApplyForm(StyledFormMixin, forms.Form):
    """The application taken at the window: per material type of the merged set, whether
    the original was seen and an optional scan (or the applicant's earlier file, or nothing
    when a valid licence of theirs stands for it); the merged form (prefixed "f-"); the
    project's name when a staged theme's first stage opens one. The scenario answers,
    stage and project come from the page's first step (hidden inputs)."""

    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    project_name = forms.CharField(label=_("Project name"), max_length=200, required=False)

    def __init__(self, *args, merge: Merge, applicant, opens_project: bool, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.merge = merge
        self.types = [m.material_type for m in merge.materials]
        type_ids = {t.pk for t in self.types}
        self.licences = licence_selectors.replacing(applicant, type_ids) if type_ids else {}
        self.reusable = {}
        if type_ids:
            for found in case_selectors.reusable_materials(applicant=applicant):
                type_id = found.row.material.material_type_id
                if type_id in type_ids and type_id not in self.licences:
                    self.reusable.setdefault(type_id, found)
        if opens_project:
            self.fields["project_name"].required = True
            self.fields["project_name"].help_text = _(
                "The first stage opens the project; the later stages are applied for under it."
            )
        else:
            del self.fields["project_name"]
        small = {"class": "form-control form-control-sm"}
        for material_type in self.types:
            covered = material_type.pk in self.licences
            self.fields[f"seen_{material_type.pk}"] = forms.BooleanField(
                label=_("Original seen"),
                required=False,
                disabled=covered,
                initial=covered,
                widget=forms.CheckboxInput(
                    attrs={
                        "class": "form-check-input",
                        "aria-labelledby": f"col-seen material-{material_type.pk}",
                    }
                ),
            )
            self.fields[f"scan_{material_type.pk}"] = forms.FileField(
                label=_("Scan"), required=False, widget=forms.ClearableFileInput(attrs=small)
            )
            if found := self.reusable.get(material_type.pk):
                self.fields[f"reuse_{material_type.pk}"] = forms.BooleanField(
                    label=reuse_label(found),
                    required=False,
                    initial=True,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
        first = next((t for t in self.types if t.pk not in self.licences), None)
        if "project_name" in self.fields:
            self.fields["project_name"].widget.attrs["autofocus"] = True
        elif first is not None:
            self.fields[f"seen_{first.pk}"].widget.attrs["autofocus"] = True
        styled = type("WindowJointForm", (StyledFormMixin, type(services.form_for(merge))), {})
        self.application = styled(self.data if self.is_bound else None, prefix="f")

    def rows(self) -> list[MaterialRow]:
        return [
            MaterialRow(
                merged=merged,
                seen=self[f"seen_{merged.material_type.pk}"],
                scan=self[f"scan_{merged.material_type.pk}"],
                licence=self.licences.get(merged.material_type.pk),
                reuse=(
                    self[f"reuse_{merged.material_type.pk}"]
                    if f"reuse_{merged.material_type.pk}" in self.fields
                    else None
                ),
            )
            for merged in self.merge.materials
        ]

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.application.is_valid()])

    # --- what it says ---

    def uploads(self) -> tuple[list[services.SetUpload], list[str]]:
        """A scan given, else the earlier file picked; and the field each came from (the
        service names errors by the upload's position)."""
        uploads, names = [], []
        for material_type in self.types:
            if scan := self.cleaned_data.get(f"scan_{material_type.pk}"):
                uploads.append(services.SetUpload(material_type, file=scan))
                names.append(f"scan_{material_type.pk}")
            elif self.cleaned_data.get(f"reuse_{material_type.pk}"):
                found = self.reusable[material_type.pk]
                uploads.append(services.SetUpload(material_type, reused=found.row))
                names.append(f"reuse_{material_type.pk}")
        return uploads, names

    def originals(self) -> list:
        """The originals seen (a material a licence stands for has none to see)."""
        return [
            t
            for t in self.types
            if self.cleaned_data.get(f"seen_{t.pk}") and t.pk not in self.licences
        ]

    def form_data(self) -> QueryDict:
        """The merged form's answers under their dictionary keys."""
        data = QueryDict(mutable=True)
        for name in self.application.fields:
            data.setlist(name, self.data.getlist(self.application.add_prefix(name)))
        return data

    def set_errors(self, exc: ValidationError, names: list[str]) -> None:
        """A service's errors on the fields they are about, the rest above the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, errors in exc.message_dict.items():
            if key.startswith("form.") and key[5:] in self.application.fields:
                self.application.add_error(key[5:], errors)
            elif key.startswith("materials.") and key[10:].isdigit() and int(key[10:]) < len(names):
                self.add_error(names[int(key[10:])], errors)
            elif key == "project_name" and key in self.fields:
                self.add_error("project_name", errors)
            else:
                self.add_error(None, errors)
        mark_invalid(self)
        mark_invalid(self.application)


def _choice(source: QueryDict, name: str, options: list, key) -> Any:
    """The option whose `key` is the value given under `name` (None: none, or unknown)."""
    value = source.get(name, "")
    return next((o for o in options if str(key(o)) == value), None)


@login_required
def apply_form(request, code, public_id):
    """Step 2: the scenario answers (and, for a staged theme, the stage and the project),
    then the merged form and the one material set, submitted in one press."""
    _require(request.user)
    theme = theme_with_items(_desk_theme(request.user, code))
    applicant = get_object_or_404(Applicant, public_id=public_id)
    posted = request.method == "POST"
    source = request.POST if posted else request.GET

    questions = list(theme.questions.all())
    stages = list(theme.stages.all())
    projects = list(selectors.projects_of(applicant).filter(theme=theme)) if stages else []
    answered = "answer" in source or not questions
    answers, problems = None, []
    if answered:
        try:
            answers = answers_given(theme, source.getlist("answer"))
        except ValidationError as exc:
            problems, answered = exc.messages, False
    stage = _choice(source, "stage", stages, lambda s: s.pk) if stages else None
    project = _choice(source, "project", projects, lambda p: p.public_id)
    if source.get("stage") and stage is None:
        problems, answered = [*problems, gettext("Choose a stage of this theme.")], False
    elif source.get("project") and project is None:
        problems = [*problems, gettext("This is not a project of this applicant under this theme.")]
        answered = False
    if stages and stage is None:
        stage = stages[0]
    plan = theme_plan(theme, answers or {})
    stage_plan = next(
        (p for p in plan.stages if (p.stage and p.stage.pk) == (stage and stage.pk)), None
    )
    whole = stage_plan.merge if stage_plan is not None else Merge([], [], [])
    merge = services.application_merge(whole, staged=stage is not None)
    refusal = services.stage_refusal(theme=theme, stage=stage, project=project, applicant=applicant)
    opens_project = stage is not None and stage.pk == stages[0].pk and project is None

    if not Target(theme.target).serves(applicant.kind):
        problems = [*problems, gettext("This theme is not for this kind of applicant.")]
    status = 200
    form = None
    if answered and merge.versions and not refusal and not problems:
        form = WindowApplyForm(
            request.POST if posted else None,
            request.FILES if posted else None,
            merge=merge,
            applicant=applicant,
            opens_project=opens_project,
        )
        if posted:
            if form.is_valid():
                joint = _submit(request, form, theme, applicant, stage, project)
                if joint is not None:
                    messages.success(
                        request,
                        gettext(
                            "Application %(number)s is received. Check the set and accept it here."
                        )
                        % {"number": joint.number},
                    )
                    return redirect(joint)
            status = 400
    elif posted or problems:
        status = 400
        if not problems:
            problems = [
                gettext("No item of the theme applies to these answers.")
                if answered
                else gettext("Answer the questions first.")
            ]

    for question in questions:
        for option in question.options.all():
            option.guides = [
                plan.guides[ti.item_id]
                for ti in option.theme_items.all()
                if ti.item_id in plan.guides
            ]
    chosen = {o for options in (answers or {}).values() for o in options}
    context = {
        "theme": theme,
        "applicant": applicant,
        "questions": questions,
        "stages": stages,
        "stage": stage,
        "projects": projects,
        "project": project,
        "answered": answered,
        "chosen": chosen,
        "problems": problems,
        "refusal": [m for messages_ in (refusal or {}).values() for m in messages_],
        "stage_plan": stage_plan,
        "merge": merge,
        "form": form,
    }
    return render_console(request, "joint/desk_apply.html", context, status=status)


def _submit(request, form: WindowApplyForm, theme, applicant, stage, project) -> JointCase | None:
    """Submit through the service; None with its errors on the form when it refuses
    (PermissionDenied passes through)."""
    uploads, names = form.uploads()
    try:
        return services.theme_apply(
            applicant=applicant,
            theme=theme,
            submitted_by=request.user,
            channel=Channel.WINDOW,
            answers=request.POST.getlist("answer"),
            form_data=form.form_data(),
            uploads=uploads,
            originals=form.originals(),
            stage=stage,
            project=project,
            project_name=form.cleaned_data.get("project_name", ""),
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except ValidationError as exc:
        form.set_errors(exc, names)
        return None
