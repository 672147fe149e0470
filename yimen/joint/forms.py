"""Forms of the joint application pages: the one merged form and the one material set of
the apply wizard, and the forms of the actions on an application page.

Each form collects what its service takes (`service_kwargs`); the service checks it again
and decides. The action forms with nothing joint-specific are the case page's own
(yimen.cases.forms), so both pages ask the same way."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yimen.cases import forms as case_forms
from yimen.cases import selectors as case_selectors
from yimen.catalog.selectors import Merge
from yimen.common.forms import StyledFormMixin, set_service_errors
from yimen.licences import selectors as licence_selectors

from . import selectors, services
from .models import JointCase

FORM_PREFIX = "form"  # the merged form's fields are dictionary keys: kept apart from ours


def application_form(merge: Merge, data=None, *, prefix=FORM_PREFIX, initial=None) -> forms.Form:
    """The one merged form (services.form_for), styled like every other form."""
    base = type(services.form_for(merge))
    styled = type("StyledJointForm", (StyledFormMixin, base), {})
    return styled(data=data, prefix=prefix, initial=initial)


def raw_values(form: forms.Form, names=None) -> dict[str, Any]:
    """What was typed into `form`, by dictionary key (no prefix), for the service to check."""
    return {
        name: form.fields[name].widget.value_from_datadict(
            form.data, form.files, form.add_prefix(name)
        )
        for name in (form.fields if names is None else names)
    }


def spread_errors(exc: ValidationError, *, form: forms.Form | None, other: forms.Form, rename):
    """A service's ValidationError on the page's forms: `form.<key>` on the merged form's
    field, the rest on `other` (through `rename`, e.g. `materials.<i>` → its upload field)."""
    if not hasattr(exc, "error_dict"):
        other.add_error(None, exc.messages)
        return
    rest = {}
    for key, messages in exc.message_dict.items():
        head, _dot, tail = key.partition(".")
        if form is not None and head == "form" and tail in form.fields:
            form.add_error(tail, messages)
        else:
            rest[key] = messages
    if rest:
        set_service_errors(other, ValidationError(rest), rename=rename)


def _file_field(label, *, required: bool, help_text="") -> forms.FileField:
    # Added after StyledFormMixin styled the declared fields, so styled here.
    return forms.FileField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.FileInput(
            attrs={"accept": case_forms._accept_attribute(), "class": "form-control"}
        ),
    )


def needed_by(merged) -> str:
    """“Needed by: A、B” under a material of the set."""
    names = "、".join(dict.fromkeys(v.name for v in merged.items))
    return str(_("Needed by: %(items)s") % {"items": names})


# --- the apply wizard -------------------------------------------------------------------------


@dataclass(frozen=True)
class SetRow:
    """One material type of the set as the apply page shows it: the licence that stands
    for it (零提交), or its upload and, where the applicant has one, an earlier file."""

    merged: Any  # catalog.selectors.MergedMaterial
    required: bool = False
    licence: Any = None
    file: forms.BoundField | None = None
    reuse: forms.BoundField | None = None
    needed: str = ""


class MaterialSetForm(StyledFormMixin, forms.Form):
    """The one material set: a file per material type (`material_<type id>`), none for a
    type a valid licence of the applicant stands for (零提交), an earlier file of the
    applicant offered again (`reuse_<type id>`, ticked by default; a new file wins); the
    project name when the application opens a project; and the idempotency key."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    project_name = forms.CharField(
        label=_("Project name"),
        max_length=200,
        help_text=_("The application for the first stage opens the project under this name."),
    )

    def __init__(self, *args, merge: Merge, applicant, first_stage: bool = False, **kwargs):
        initial = kwargs["initial"] = dict(kwargs.get("initial") or {})
        initial.setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        if not first_stage:
            del self.fields["project_name"]
        type_ids = {m.material_type.pk for m in merge.materials}
        self.licences = licence_selectors.replacing(applicant, type_ids) if type_ids else {}
        reusable = {}
        if type_ids:
            for found in case_selectors.reusable_materials(applicant=applicant):
                type_id = found.row.material.material_type_id
                if type_id in type_ids and type_id not in self.licences:
                    reusable[type_id] = found
        self.types: dict[str, Any] = {}  # file field name → MaterialType
        self.required: set[str] = set()
        self.reusable: dict[str, Any] = {}  # file field name → cases.selectors.Reusable
        self._rows = []
        for merged in merge.materials:
            material_type = merged.material_type
            if licence := self.licences.get(material_type.pk):
                self._rows.append((merged, licence, None))
                continue
            name = f"material_{material_type.pk}"
            earlier = reusable.get(material_type.pk)
            self.fields[name] = _file_field(
                material_type.name,
                required=merged.required and earlier is None,
                help_text=needed_by(merged),
            )
            self.types[name] = material_type
            if merged.required:
                self.required.add(name)
            if earlier is not None:
                self.reusable[name] = earlier
                self.fields[f"reuse_{material_type.pk}"] = forms.BooleanField(
                    label=case_forms.reuse_label(earlier),
                    required=False,
                    initial=True,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            self._rows.append((merged, None, name))

    def rows(self) -> list[SetRow]:
        rows = []
        for merged, licence, name in self._rows:
            reuse = f"reuse_{merged.material_type.pk}"
            rows.append(
                SetRow(
                    merged=merged,
                    required=merged.required,
                    licence=licence,
                    file=self[name] if name else None,
                    reuse=self[reuse] if name in self.reusable else None,
                    needed=needed_by(merged),
                )
            )
        return rows

    def _picked(self, name: str):
        earlier = self.reusable.get(name)
        if earlier and self.cleaned_data.get(f"reuse_{self.types[name].pk}"):
            return earlier.row
        return None

    def clean(self):
        for name in self.required & set(self.reusable):
            if not (self.cleaned_data.get(name) or self._picked(name)) and name not in self.errors:
                self.add_error(name, _("Upload the file, or use the earlier one."))
        return self.cleaned_data

    def uploads(self) -> tuple[list[services.SetUpload], list[str]]:
        """The files given (a new file, else the earlier one picked) and the field each came
        from (the service names errors by the upload's position)."""
        uploads, names = [], []
        for name, material_type in self.types.items():
            if file := self.cleaned_data.get(name):
                uploads.append(services.SetUpload(material_type, file=file))
                names.append(name)
            elif picked := self._picked(name):
                uploads.append(services.SetUpload(material_type, reused=picked))
                names.append(f"reuse_{material_type.pk}")
        return uploads, names


# --- actions on an application ----------------------------------------------------------------


def plan(joint: JointCase) -> Merge:
    """The merge the application was submitted under, read once per request."""
    if not hasattr(joint, "_plan"):
        joint._plan = services.plan_of(joint)
    return joint._plan


class JointActionForm(case_forms.ActionForm):
    """An action on an application (`self.case` is the application)."""

    @property
    def joint(self) -> JointCase:
        return self.case


class CorrectionItemForm(StyledFormMixin, forms.Form):
    material_type = forms.ChoiceField(label=_("Material"), required=False)
    problem = forms.CharField(label=_("What is wrong or missing"), max_length=500)

    def __init__(self, *args, types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material_type"].choices = [
            ("", _("The application form")),
            *((str(t.pk), t.name) for t in types),
        ]


CorrectionItems = forms.formset_factory(
    CorrectionItemForm, extra=2, min_num=1, validate_min=True, max_num=50, validate_max=True
)


class RequestCorrectionForm(JointActionForm):
    """一次性告知 at the window: every material of the set (or the form) to correct, each
    with its problem, in one notice."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        types = [m.material_type for m in plan(case).materials]
        self.formset = CorrectionItems(
            self.data if self.is_bound else None,
            prefix="items",
            auto_id=self.auto_id.replace("%s", "items_%s") if self.auto_id else False,
            form_kwargs={"types": types},
        )

    def is_valid(self):
        return self.formset.is_valid() & super().is_valid()

    def service_kwargs(self):
        items = [
            {"material_type": row.get("material_type") or "", "problem": row["problem"]}
            for row in self.formset.cleaned_data
            if row.get("problem")
        ]
        return {"items": items}


class SendCorrectionsForm(JointActionForm):
    """The departments' pending requests, shown grouped by department, sent in one notice."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        groups = defaultdict(list)
        for request in selectors.pending_corrections(case):
            groups[request.case.department.name if request.case_id else ""].append(request)
        self.groups = sorted(groups.items())


class ResubmitForm(JointActionForm):
    """The corrections asked in the notice, once: a file per material type asked for, and
    the form (prefilled) when the form was asked; only the fields changed are sent."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        asked = selectors.open_corrections(case)
        self.asked = asked
        self.types = {}
        for request in asked:
            material_type = request.material_type
            name = f"material_{material_type.pk}" if material_type else None
            if name and name not in self.fields:
                self.fields[name] = _file_field(material_type.name, required=False)
                self.types[name] = material_type
        self.subform = None
        if any(r.material_type_id is None for r in asked):
            self.subform = application_form(
                plan(case),
                self.data if self.is_bound else None,
                prefix="resubmit-form",
                initial=case.form_data,
            )
        self.upload_names: list[str] = []

    def is_valid(self):
        valid = super().is_valid()
        return (self.subform.is_valid() if self.subform is not None else True) & valid

    def service_kwargs(self):
        uploads, self.upload_names = [], []
        for name, material_type in self.types.items():
            if file := self.cleaned_data.get(name):
                uploads.append(services.SetUpload(material_type, file=file))
                self.upload_names.append(name)
        changed = {}
        if self.subform is not None:
            changed = raw_values(self.subform, self.subform.changed_data)
        return {"uploads": uploads, "form_data": changed}

    def set_errors(self, exc):
        rename = {f"materials.{i}": name for i, name in enumerate(self.upload_names)}
        spread_errors(exc, form=self.subform, other=self, rename=rename)


class ExtendForm(case_forms.ExtendForm):
    """延期 of the joint limit (at most 15 working days in all)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What is left of the 15 days (the service refuses more).
        left = selectors.extension_days_left(self.case)
        self.fields["days"].initial = self.fields["days"].widget.attrs["max"] = max(left, 1)


ACTION_FORMS: dict[str, type[case_forms.ActionForm]] = {
    "accept": JointActionForm,
    "refuse": case_forms.ReasonForm,
    "request_correction": RequestCorrectionForm,
    "send_corrections": SendCorrectionsForm,
    "resubmit": ResubmitForm,
    "extend": ExtendForm,
    "withdraw": case_forms.WithdrawForm,
    "deliver": case_forms.DeliverForm,
    "evaluate": case_forms.EvaluateForm,  # offered while the application is not rated
}


def action_form(action: str, joint: JointCase, user, data=None, files=None):
    """The form of `action` on `joint` for `user`, with ids unique on the page."""
    form_class = ACTION_FORMS.get(action, JointActionForm)
    return form_class(data, files, case=joint, user=user, auto_id=f"id_{action}_%s")


def offered_actions(user, joint: JointCase) -> list[str]:
    """The actions the application page offers `user` now."""
    return [step.action for step in selectors.offered_steps(user, joint)]
