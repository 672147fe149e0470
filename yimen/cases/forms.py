"""Forms of the applicant's pages and of the actions on the case page.

Each action form collects what its service takes (`service_kwargs`); the service checks it
again and decides. Field names follow the services' error keys, so a ValidationError from a
service lands on the field it is about."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yimen.catalog.choices import Requirement
from yimen.common.choices import Rating
from yimen.common.forms import StyledFormMixin, set_service_errors
from yimen.licences import selectors as licence_selectors

from . import permissions, services
from . import selectors as case_selectors
from .choices import DeliveryMethod, MaterialState, PauseKind, Performer
from .models import Case
from .workflow import actions_from


def _accept_attribute() -> str:
    return ",".join(f".{t.lower()}" for t in settings.YIMEN_UPLOAD_TYPES)


def _file_field(material, *, required: bool, help_text="") -> forms.FileField:
    # Added after StyledFormMixin styled the declared fields, so styled here.
    return forms.FileField(
        label=material.display_name,
        required=required,
        help_text=help_text,
        widget=forms.FileInput(attrs={"accept": _accept_attribute(), "class": "form-control"}),
    )


def material_help(material) -> str:
    """What the guide says about a material, in one line under its upload."""
    parts = [str(Requirement(material.requirement).label)]
    if material.condition:
        parts.append(material.condition)
    if material.tolerable:
        parts.append(
            str(
                _("May be supplied later (%(how)s, within %(days)s working days).")
                % {"how": material.tolerance_method, "days": material.tolerance_days}
            )
        )
    if material.note:
        parts.append(material.note)
    return " · ".join(parts)


# --- online application -----------------------------------------------------------------------


def application_form(version, data=None) -> forms.Form:
    """The guide's application form (services.form_for), styled like every other form."""
    base = type(services.form_for(version))
    return type("StyledApplicationForm", (StyledFormMixin, base), {})(data=data)


@dataclass(frozen=True)
class MaterialRow:
    """One material of the guide as the apply page shows it: the licence that stands for it
    (零提交: no upload), or its upload and, where the applicant has one, the choice of an
    earlier file."""

    material: Any
    required: bool = False
    licence: Any = None
    file: forms.BoundField | None = None
    reuse: forms.BoundField | None = None
    reusable: Any = None  # selectors.Reusable


def reuse_label(reusable) -> str:
    """“Use the file … from case N (valid until …)” of an earlier file."""
    if reusable.valid_until is None:
        return _("Use “%(name)s” from case %(case)s (does not expire)") % {
            "name": reusable.row.file_name,
            "case": reusable.row.case.number,
        }
    return _("Use “%(name)s” from case %(case)s (valid until %(until)s)") % {
        "name": reusable.row.file_name,
        "case": reusable.row.case.number,
        "until": reusable.valid_until.isoformat(),
    }


class ApplicantMaterials:
    """What the applicant already has for a guide's materials: the valid licences that stand
    for them (by material id) and their reusable earlier files (by material id). Read in a
    fixed number of queries, whatever the number of licences and files (`reuse=False`: the
    licences alone)."""

    def __init__(self, version, applicant, *, reuse: bool = True):
        materials = list(version.materials.all())
        by_type = {m.material_type_id: m for m in materials}
        self.licences: dict[int, Any] = {}
        self.reusable: dict[int, Any] = {}
        if applicant is None or not materials:
            return
        for type_id, licence in licence_selectors.replacing(applicant, set(by_type)).items():
            self.licences[by_type[type_id].pk] = licence
        for found in case_selectors.reusable_materials(applicant=applicant) if reuse else ():
            material = by_type.get(found.row.material.material_type_id)
            if material is not None and material.pk not in self.licences:
                self.reusable[material.pk] = found


class MaterialsForm(StyledFormMixin, forms.Form):
    """One upload per material the guide takes electronically, and the idempotency key
    generated when the page was drawn (a second submit with it returns the first case).

    A material a valid licence of the applicant stands for has no upload (零提交: the
    service records the licence). A material the applicant gave in an earlier case, still
    valid, offers that file (`reuse_<id>`, ticked by default); a new file given beside it
    wins."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, version, applicant=None, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4()})
        super().__init__(*args, **kwargs)
        known = ApplicantMaterials(version, applicant)
        self.materials = {}
        self.required: set[str] = set()
        self.reusable: dict[str, Any] = {}  # file field name → selectors.Reusable
        self.zero_submission = []  # (material, licence)
        self.at_window = []
        self._rows = []
        for material in version.materials.all():
            if licence := known.licences.get(material.pk):
                self.zero_submission.append((material, licence))
                self._rows.append((material, licence, None, None))
                continue
            if not material.electronic_accepted:
                self.at_window.append(material)
                continue
            name = f"material_{material.pk}"
            required = material.requirement == Requirement.REQUIRED and not material.tolerable
            reusable = known.reusable.get(material.pk)
            # With an earlier file to pick, "required" is checked in clean(): a file or the pick.
            self.fields[name] = _file_field(
                material, required=required and reusable is None, help_text=material_help(material)
            )
            self.materials[name] = material
            if required:
                self.required.add(name)
            if reusable is not None:
                self.reusable[name] = reusable
                self.fields[f"reuse_{material.pk}"] = forms.BooleanField(
                    label=reuse_label(reusable),
                    required=False,
                    initial=True,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            self._rows.append((material, None, name, reusable))

    def rows(self) -> list[MaterialRow]:
        """The guide's materials in order, but those brought to the window only."""
        rows = []
        for material, licence, name, reusable in self._rows:
            rows.append(
                MaterialRow(
                    material=material,
                    required=name in self.required,
                    licence=licence,
                    file=self[name] if name else None,
                    reuse=self[f"reuse_{material.pk}"] if reusable else None,
                    reusable=reusable,
                )
            )
        return rows

    def _picked(self, name: str):
        """The earlier file picked for the upload field `name` (None: none picked)."""
        reusable = self.reusable.get(name)
        if reusable and self.cleaned_data.get(f"reuse_{self.materials[name].pk}"):
            return reusable.row
        return None

    def clean(self):
        # A required material with an earlier file to pick: a new file, or the pick.
        for name in self.required & set(self.reusable):
            given = self.cleaned_data.get(name) or self._picked(name)
            if not given and name not in self.errors:
                self.add_error(name, _("Upload the file, or use the earlier one."))
        return self.cleaned_data

    def uploads(self) -> tuple[list[services.Upload], list[str]]:
        """The files given (a new file, else the earlier file picked), and the field each
        came from (the service names errors by the upload's position)."""
        uploads, names = [], []
        for name, material in self.materials.items():
            if file := self.cleaned_data.get(name):
                uploads.append(services.Upload(material, file))
                names.append(name)
            elif picked := self._picked(name):
                uploads.append(services.Upload(material, reused=picked))
                names.append(f"reuse_{material.pk}")
        return uploads, names


# --- actions on a case ------------------------------------------------------------------------


ROWS = {"rows": 2}


class ActionForm(StyledFormMixin, forms.Form):
    """The base of the action forms, and the form of an action with nothing to fill in (its
    button is the form)."""

    def __init__(self, *args, case: Case, user=None, **kwargs):
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)

    @classmethod
    def applies(cls, case: Case) -> bool:
        """Whether the page offers it (the service decides again on submit)."""
        return True

    def service_kwargs(self) -> dict:
        return {}

    def set_errors(self, exc: ValidationError) -> None:
        set_service_errors(self, exc)


class ReasonForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs=ROWS),
        help_text=_("The applicant is told this reason."),
    )

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class WithdrawForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = ""


class ReviewPassForm(ActionForm):
    opinion = forms.CharField(
        label=_("Opinion"), max_length=2000, required=False, widget=forms.Textarea(attrs=ROWS)
    )

    @classmethod
    def applies(cls, case):
        return not _at_last_step(case)

    def service_kwargs(self):
        return {"opinion": self.cleaned_data["opinion"]}

    def set_errors(self, exc):
        set_service_errors(self, exc, rename={"reason": "opinion"})


def _at_last_step(case: Case) -> bool:
    steps = list(case.item_version.review_steps.all())
    return not steps or case.review_step is None or case.review_step + 1 >= len(steps)


class SendBackForm(ReasonForm):
    @classmethod
    def applies(cls, case):
        return bool(case.review_step)


class DenyForm(ReasonForm):
    @classmethod
    def applies(cls, case):
        return _at_last_step(case)


class ApproveForm(ActionForm):
    reason = forms.CharField(
        label=_("Reasons"), max_length=2000, required=False, widget=forms.Textarea(attrs=ROWS)
    )
    fee = forms.DecimalField(
        label=_("Fee (yuan)"), min_value=0, max_digits=12, decimal_places=2, required=False
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        version = case.item_version
        if version.is_free:
            del self.fields["fee"]
        else:
            self.fields["fee"].initial = version.fee_amount
            self.fields["fee"].help_text = version.fee_basis

    @classmethod
    def applies(cls, case):
        return _at_last_step(case)

    def service_kwargs(self):
        return {"reason": self.cleaned_data["reason"], "fee": self.cleaned_data.get("fee")}


class SuspendForm(ReasonForm):
    kind = forms.ChoiceField(
        label=_("Kind of special procedure"),
        choices=[c for c in PauseKind.choices if c[0] != PauseKind.CORRECTION],
    )
    field_order = ["kind", "reason"]

    def service_kwargs(self):
        return {"kind": self.cleaned_data["kind"], "reason": self.cleaned_data["reason"]}


class ExtendForm(ReasonForm):
    days = forms.IntegerField(
        label=_("Working days to add"),
        min_value=1,
        max_value=services.STATUTORY_EXTENSION * 10,
        initial=services.STATUTORY_EXTENSION,
    )

    def service_kwargs(self):
        return {"reason": self.cleaned_data["reason"], "days": self.cleaned_data["days"]}


class RecordFeeForm(ActionForm):
    @classmethod
    def applies(cls, case):
        return case.fee_amount is not None and case.fee_paid_at is None


class DeliverForm(ActionForm):
    method = forms.ChoiceField(label=_("Delivery"), choices=DeliveryMethod.choices)
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=64,
        required=False,
        help_text=_("For delivery by post."),
    )
    originals_checked = forms.BooleanField(
        label=_("Originals checked against the files sent online"),
        required=False,
        help_text=_("Needed for items whose originals are checked at pickup."),
    )

    def service_kwargs(self):
        return {
            "method": self.cleaned_data["method"],
            "tracking_number": self.cleaned_data["tracking_number"],
            "originals_checked": self.cleaned_data["originals_checked"],
        }


class EvaluateForm(ActionForm):
    rating = forms.TypedChoiceField(
        label=_("Rating"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs=ROWS),
        help_text=_("Required for the two lowest ratings: tell us what went wrong."),
    )

    @classmethod
    def applies(cls, case):
        return case.rating is None

    def service_kwargs(self):
        return {"rating": self.cleaned_data["rating"], "comment": self.cleaned_data["comment"]}


class CorrectionItemForm(StyledFormMixin, forms.Form):
    material = forms.ChoiceField(label=_("Material"), required=False)
    problem = forms.CharField(label=_("What is wrong or missing"), max_length=500)

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = [
            ("", _("The application form")),
            *((str(m.pk), m.display_name) for m in materials),
        ]


CorrectionItems = forms.formset_factory(
    CorrectionItemForm, extra=2, min_num=1, validate_min=True, max_num=50, validate_max=True
)


class CorrectionForm(ActionForm):
    """一次性告知: every material to correct, each with its problem, in one notice."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.materials = {str(m.pk): m for m in case.item_version.materials.all()}
        self.formset = CorrectionItems(
            self.data if self.is_bound else None,
            prefix="items",
            auto_id=self.auto_id.replace("%s", "items_%s") if self.auto_id else False,
            form_kwargs={"materials": self.materials.values()},
        )

    def is_valid(self):
        return self.formset.is_valid() & super().is_valid()

    def service_kwargs(self):
        items = []
        for row in self.formset.cleaned_data:
            if row.get("problem"):
                material = self.materials.get(row.get("material") or "")
                name = material.display_name if material else ""
                items.append({"material": name, "problem": row["problem"]})
        return {"items": items}

    def set_errors(self, exc):
        set_service_errors(self, exc, rename={"reason": "items"})


class AskCorrectionForm(CorrectionForm):
    """联审补正: the department reviewing its case of a joint application lists what to
    correct, each naming a material of its guide by id (empty: the form); the application
    sends every department's requests to the applicant in one notice."""

    def service_kwargs(self):
        items = [
            {"material": row.get("material") or "", "problem": row["problem"]}
            for row in self.formset.cleaned_data
            if row.get("problem")
        ]
        return {"items": items}


class UploadForm(ActionForm):
    """Files for materials of the guide (resubmitting corrections, supplying tolerated ones)."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.materials = {}
        for material in self.offered(case):
            name = f"material_{material.pk}"
            self.fields[name] = _file_field(material, required=False)
            self.materials[name] = material
        self.upload_names: list[str] = []

    @staticmethod
    def offered(case: Case):
        return [m for m in case.item_version.materials.all() if m.electronic_accepted]

    def uploads(self) -> list[services.Upload]:
        uploads, self.upload_names = [], []
        for name, material in self.materials.items():
            if file := self.cleaned_data.get(name):
                uploads.append(services.Upload(material, file))
                self.upload_names.append(name)
        return uploads

    def clean(self):
        if not any(self.cleaned_data.get(name) for name in self.materials):
            raise ValidationError(_("Choose at least one file."))
        return self.cleaned_data

    def service_kwargs(self):
        return {"uploads": self.uploads()}

    def set_errors(self, exc):
        rename = {f"materials.{i}": name for i, name in enumerate(self.upload_names)}
        set_service_errors(self, exc, rename=rename)


class SupplyForm(UploadForm):
    """Materials promised under 容缺受理: a file each, or (at the window) the original seen."""

    seen = forms.MultipleChoiceField(
        label=_("Originals seen at the window"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.pending = {str(m.material_id): m.material for m in self.awaited(case)}
        if Performer.CLERK in permissions.performers(self.user, case):
            self.fields["seen"].choices = [(k, m.display_name) for k, m in self.pending.items()]
        else:
            del self.fields["seen"]  # only the window sees originals

    @staticmethod
    def awaited(case: Case):
        return [
            m for m in case.materials.all() if m.state == MaterialState.TOLERATED and m.material
        ]

    @classmethod
    def applies(cls, case):
        return bool(cls.awaited(case))

    @staticmethod
    def offered(case):
        awaited = {m.material_id for m in SupplyForm.awaited(case)}
        materials = case.item_version.materials.all()
        return [m for m in materials if m.pk in awaited and m.electronic_accepted]

    def clean(self):
        if not self.cleaned_data.get("seen"):
            return super().clean()
        return self.cleaned_data

    def service_kwargs(self):
        seen = [self.pending[k] for k in self.cleaned_data.get("seen", [])]
        return {"uploads": self.uploads(), "materials": seen}


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "refuse": ReasonForm,
    "request_correction": CorrectionForm,
    "ask_correction": AskCorrectionForm,
    "resubmit": UploadForm,
    "review_pass": ReviewPassForm,
    "send_back": SendBackForm,
    "suspend": SuspendForm,
    "extend": ExtendForm,
    "approve": ApproveForm,
    "deny": DenyForm,
    "record_fee": RecordFeeForm,
    "supply_tolerated": SupplyForm,
    "deliver": DeliverForm,
    "evaluate": EvaluateForm,
    "withdraw": WithdrawForm,
    "terminate": ReasonForm,
}


def action_form_class(action: str) -> type[ActionForm]:
    return ACTION_FORMS.get(action, ActionForm)


def action_form(action: str, case: Case, user, data=None, files=None) -> ActionForm:
    """The form of `action` on `case` for `user`, with ids unique on the page."""
    return action_form_class(action)(data, files, case=case, user=user, auto_id=f"id_{action}_%s")


def offered_actions(user, case: Case) -> list[str]:
    """The actions the case page offers `user` now."""
    acting = permissions.performers(user, case)
    return [
        t.action
        for t in actions_from(case)
        if acting & t.performers and action_form_class(t.action).applies(case)
    ]


# --- progress query ---------------------------------------------------------------------------


class ProgressForm(StyledFormMixin, forms.Form):
    """办件查询: the case number and the applicant's full ID number or credit code."""

    number = forms.CharField(
        label=_("Case number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "440604-20261123-00017"}
        ),
    )
    identifier = forms.CharField(
        label=_("Applicant's ID number or unified social credit code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
