"""Forms of the window desk: the acceptance checklist that starts and decides a case in one
submit, and the filters of the staff lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yimen.catalog.choices import Requirement
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.forms import StyledFormMixin
from yimen.hall import selectors as hall_selectors
from yimen.org.models import Department

from . import selectors, services
from .choices import CaseStatus
from .forms import ApplicantMaterials, reuse_label
from .models import Case
from .queues import with_light


class Decision:
    ACCEPT = "accept"
    TOLERANT = "accept_tolerant"
    CORRECTION = "correction"
    REFUSE = "refuse"

    CHOICES = [
        (ACCEPT, _("Accept")),
        (TOLERANT, _("Accept with materials to follow")),
        (CORRECTION, _("Ask for corrections")),
        (REFUSE, _("Do not accept")),
    ]


@dataclass(frozen=True)
class ChecklistRow:
    """One material of the checklist: its fields, the licence that stands for it (零提交:
    ticked and marked) and the choice of the applicant's earlier file, if any."""

    material: Any
    seen: forms.BoundField
    scan: forms.BoundField
    problem: forms.BoundField
    licence: Any = None
    reuse: forms.BoundField | None = None


class ChecklistForm(StyledFormMixin, forms.Form):
    """The acceptance checklist of one guide for one applicant: per material, whether the
    original was seen (or provided), an optional scan and what is wrong with it; the guide's
    application form (prefixed "f-"); and the clerk's decision, given by the button pressed.

    Given the `applicant`, a material a valid licence of theirs stands for is ticked and
    marked (零提交: no original, the case records the licence), and a material they gave in
    an earlier case, still valid, offers that file (`reuse_<id>`; a scan given wins).

    `submit()` starts the case and decides it in one transaction, so a refused decision
    leaves no case behind."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # Given by the button pressed (Enter in a text box presses the first: accept).
    decision = forms.ChoiceField(choices=Decision.CHOICES)
    reason = forms.CharField(
        label=_("Reason for not accepting"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when not accepting: the applicant is told it."),
    )

    def __init__(self, *args, guide, applicant=None, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", guide.pk)
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.guide = guide
        self.materials = list(guide.materials.all())
        # What the applicant already has: licences standing for materials (零提交) and
        # earlier files to pick again. Without the applicant, submit() reads the licences.
        self.known = ApplicantMaterials(guide, applicant) if applicant is not None else None
        licences = self.known.licences if self.known else {}
        reusable = self.known.reusable if self.known else {}
        small = {"class": "form-control form-control-sm"}
        for material in self.materials:
            covered = material.pk in licences
            self.fields[f"seen_{material.pk}"] = forms.BooleanField(
                label=_("Original seen / provided"),
                required=False,
                # A licence stands for it: ticked, and not the clerk's to untick.
                disabled=covered,
                initial=covered,
                widget=forms.CheckboxInput(
                    attrs={
                        "class": "form-check-input",
                        "aria-labelledby": f"material-{material.pk}",
                        **({"aria-describedby": f"licence-{material.pk}"} if covered else {}),
                    }
                ),
            )
            self.fields[f"scan_{material.pk}"] = forms.FileField(
                label=_("Scan"), required=False, widget=forms.ClearableFileInput(attrs=small)
            )
            if found := reusable.get(material.pk):
                self.fields[f"reuse_{material.pk}"] = forms.BooleanField(
                    label=reuse_label(found),
                    required=False,
                    initial=True,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            self.fields[f"problem_{material.pk}"] = forms.CharField(
                label=_("Problem"),
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs=small),
            )
        if open_ := [m for m in self.materials if m.pk not in licences]:
            self.fields[f"seen_{open_[0].pk}"].widget.attrs["autofocus"] = True
        styled = type("DeskApplicationForm", (StyledFormMixin, type(services.form_for(guide))), {})
        self.application = styled(self.data if self.is_bound else None, prefix="f")

    def rows(self) -> list[ChecklistRow]:
        """One row per material of the guide, for the template."""
        licences = self.known.licences if self.known else {}
        return [
            ChecklistRow(
                material=m,
                seen=self[f"seen_{m.pk}"],
                scan=self[f"scan_{m.pk}"],
                problem=self[f"problem_{m.pk}"],
                licence=licences.get(m.pk),
                reuse=self[f"reuse_{m.pk}"] if f"reuse_{m.pk}" in self.fields else None,
            )
            for m in self.materials
        ]

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.application.is_valid()])

    def clean_version(self):
        if self.cleaned_data["version"] != self.guide.pk:
            raise ValidationError(
                _("The guide has changed since this page was opened: check the materials again.")
            )
        return self.cleaned_data["version"]

    # --- what the checklist says ---

    def _covered(self, material) -> bool:
        """A valid licence of the applicant stands for the material (零提交)."""
        return bool(self.known and material.pk in self.known.licences)

    def _picked(self, material):
        """The earlier file picked for the material (None: none picked)."""
        found = self.known.reusable.get(material.pk) if self.known else None
        if found is not None and self.cleaned_data.get(f"reuse_{material.pk}"):
            return found.row
        return None

    def _provided(self, material) -> bool:
        data = self.cleaned_data
        return bool(
            data.get(f"seen_{material.pk}")
            or data.get(f"scan_{material.pk}")
            or self._picked(material)
            or self._covered(material)
        )

    def uploads(self) -> list[services.Upload]:
        """A scan given, else the earlier file picked."""
        uploads = []
        for m in self.materials:
            if scan := self.cleaned_data.get(f"scan_{m.pk}"):
                uploads.append(services.Upload(m, scan))
            elif picked := self._picked(m):
                uploads.append(services.Upload(m, reused=picked))
        return uploads

    def originals(self):
        """The originals seen: a material a licence stands for has none to see."""
        return [
            m
            for m in self.materials
            if self.cleaned_data.get(f"seen_{m.pk}") and not self._covered(m)
        ]

    def corrections(self) -> list[dict]:
        """Every material with a problem written, and every required one not provided (a
        conditional one only when a problem is written: its condition may not apply)."""
        items = []
        for m in self.materials:
            problem = (self.cleaned_data.get(f"problem_{m.pk}") or "").strip()
            if not problem and not self._provided(m) and m.requirement == Requirement.REQUIRED:
                problem = gettext("Not provided.")
            if problem:
                items.append({"material": m.display_name, "problem": problem})
        return items

    def form_data(self) -> QueryDict:
        """The application form's answers under their dictionary keys."""
        data = QueryDict(mutable=True)
        for name in self.application.fields:
            data.setlist(name, self.data.getlist(self.application.add_prefix(name)))
        return data

    # --- starting the case ---

    def submit(self, *, clerk, applicant) -> Case | None:
        """Start the case at the window and decide on it; None with the errors on the form
        when a service refuses (nothing is kept then). PermissionDenied passes through. The
        case records the queue ticket the clerk is serving, unless it is another applicant's."""
        key = self.cleaned_data["idempotency_key"]
        if done := selectors.case_by_idempotency_key(user=clerk, key=key):
            return done
        if self.known is None:  # the licences decide which materials count as provided
            self.known = ApplicantMaterials(self.guide, applicant, reuse=False)
        uploads = self.uploads()
        ticket = hall_selectors.in_service(clerk=clerk)
        if ticket is not None and ticket.applicant_id not in (None, applicant.pk):
            ticket = None  # the clerk serves someone else: the case is not theirs
        try:
            with transaction.atomic():
                case = services.case_submit(
                    applicant=applicant,
                    version=self.guide,
                    submitted_by=clerk,
                    channel=Channel.WINDOW,
                    form_data=self.form_data(),
                    uploads=uploads,
                    originals=self.originals(),
                    idempotency_key=key,
                    key_checked=True,
                    ticket=ticket,
                )
                if case.status == CaseStatus.RECEIVED:  # not a double submit's first case
                    self._decide(case, clerk)
        except ValidationError as exc:
            self._add_service_errors(exc, uploads)
            return None
        return case

    def _decide(self, case: Case, clerk) -> None:
        decision = self.cleaned_data["decision"]
        if decision == Decision.ACCEPT:
            services.accept(case=case, actor=clerk)
        elif decision == Decision.TOLERANT:
            services.accept_tolerant(case=case, actor=clerk)
        elif decision == Decision.CORRECTION:
            services.request_correction(case=case, actor=clerk, items=self.corrections())
        else:
            services.refuse(case=case, actor=clerk, reason=self.cleaned_data["reason"])

    def _add_service_errors(self, exc: ValidationError, uploads) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            if key.startswith("form.") and key[5:] in self.application.fields:
                self.application.add_error(key[5:], messages)
            elif key == "reason":
                self.add_error("reason", messages)
            elif key.startswith("materials.") and key[10:].isdigit():
                upload = uploads[int(key[10:])]
                field = "reuse" if upload.reused is not None else "scan"
                self.add_error(f"{field}_{upload.material.pk}", messages)
            else:
                self.add_error(None, messages)


class CaseFilterForm(StyledFormMixin, forms.Form):
    """The filters of a staff list; statuses are limited to those the list holds."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    light = forms.ChoiceField(
        label=_("Light"), required=False, choices=[("", _("Any")), *Light.choices]
    )
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.none()
    )

    def __init__(self, *args, statuses, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any"))] + [
            (s.value, s.label) for s in map(CaseStatus, statuses)
        ]
        if departments is None:
            del self.fields["department"]
        else:
            self.fields["department"].queryset = departments
            self.fields["department"].empty_label = _("Any")

    def apply(self, cases):
        data = self.cleaned_data
        if data.get("status"):
            cases = cases.filter(status=data["status"])
        if data.get("department"):
            cases = cases.filter(department=data["department"])
        if data.get("light"):
            cases = with_light(cases, data["light"])
        return cases
