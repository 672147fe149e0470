"""Forms of the intake pages: the agent's console (the order, then what happens to it at
once: register only, answer, dispatch or link), the query behind the console's side panel,
and the citizen's web report.

The forms parse; yimen.hotline.orders decides. Field names follow the services' keys, so a
service's ValidationError lands on the field it names (yimen.common.forms.set_service_errors).
"""

from __future__ import annotations

import uuid

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from yimen.common.forms import StyledFormMixin
from yimen.org.choices import RegionLevel
from yimen.org.models import Department, Region

from . import permissions, selectors
from .choices import OrderChannel, OrderType, Urgency
from .forms import DepartmentChoiceField, active_departments
from .models import Category, KnowledgeArticle
from .orders import MAX_CONTENT

PHONE_MAX = 20


# --- shared fields ----------------------------------------------------------------------------


class LeafIterator(ModelChoiceIterator):
    """The leaves as option groups, one per parent (城乡建设 › 市政设施: 路灯不亮, …); a leaf
    at the top level stands alone."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for leaf in self.queryset:
            if leaf.parent_id is None:
                yield self.choice(leaf)
            else:
                groups.setdefault(leaf.parent.path, []).append(self.choice(leaf))
        yield from groups.items()


class LeafChoiceField(forms.ModelChoiceField):
    """A leaf of the taxonomy, offered grouped by its path."""

    iterator = LeafIterator

    def label_from_instance(self, obj):
        return obj.name


def districts():
    """The districts (level 2 regions) an order is located in."""
    return Region.objects.filter(level=RegionLevel.DISTRICT).order_by("code")


class DistrictChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def _order_fields(form: forms.Form) -> None:
    """Querysets of the order fields, read when the form renders or validates."""
    form.fields["category"].queryset = selectors.leaves()
    form.fields["district"].queryset = districts()


class OrderFieldsMixin:
    """What order_register takes, as the service names it."""

    ORDER_KEYS = (
        "order_type",
        "urgency",
        "category",
        "district",
        "address",
        "title",
        "content",
        "caller_name",
        "caller_phone",
        "confidential",
    )

    def order_data(self) -> dict:
        return {key: self.cleaned_data.get(key) for key in self.ORDER_KEYS if key in self.fields}


def _content_field(**attrs) -> forms.CharField:
    return forms.CharField(
        label=_("Content"),
        max_length=MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 6, **attrs}),
        error_messages={"required": _("Say what the caller asks or reports.")},
    )


# --- the agent's console ----------------------------------------------------------------------


class IntakeForm(OrderFieldsMixin, StyledFormMixin, forms.Form):
    """One phone call: the order, and the step taken at once. Access keys are on the widgets
    (the page lists them); the side panel's buttons fill `lead`, `article` and `master`."""

    REGISTER, ANSWER, DISPATCH, LINK = "register", "answer", "dispatch", "link"
    STEPS = (
        (REGISTER, _("Register only (dispatch later)")),
        (ANSWER, _("Answer at once (closes the order)")),
        (DISPATCH, _("Dispatch to a unit")),
        (LINK, _("Link to an earlier order (duplicate)")),
    )
    # The fields of each step: only the chosen step's are kept (and can be wrong).
    STEP_FIELDS = {
        ANSWER: ("answer", "article"),
        DISPATCH: ("lead", "co_units", "note"),
        LINK: ("master",),
    }
    EMPTY = {
        "answer": "",
        "article": None,
        "lead": None,
        "co_units": (),
        "note": "",
        "master": None,
    }

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=OrderChannel.choices, initial=OrderChannel.PHONE
    )
    caller_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=PHONE_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autofocus": True,
                "autocomplete": "off",
                "inputmode": "tel",
                "accesskey": "p",
            }
        ),
    )
    caller_name = forms.CharField(
        label=_("Caller's name"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "accesskey": "n"}),
    )
    confidential = forms.BooleanField(
        label=_("Confidential (the units are not told who the caller is)"), required=False
    )
    order_type = forms.ChoiceField(
        label=_("Type"),
        choices=[("", "—"), *OrderType.choices],
        widget=forms.Select(attrs={"accesskey": "t"}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.Select(attrs={"accesskey": "u"}),
    )
    category = LeafChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),  # the leaves, set in __init__
        required=False,
        empty_label="—",
        widget=forms.Select(attrs={"accesskey": "c"}),
    )
    district = DistrictChoiceField(
        label=_("District"),
        queryset=Region.objects.none(),
        required=False,
        empty_label="—",
        widget=forms.Select(attrs={"accesskey": "r"}),
    )
    address = forms.CharField(
        label=_("Location"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"accesskey": "a"}),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=100,
        required=False,
        help_text=_("Left empty, the first 30 characters of the content."),
        widget=forms.TextInput(attrs={"accesskey": "i"}),
    )
    content = _content_field(accesskey="x")

    next_step = forms.ChoiceField(
        label=_("Then"),
        choices=STEPS,
        initial=REGISTER,
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Answer given to the caller"),
        required=False,
        max_length=MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 4, "accesskey": "w"}),
    )
    article = forms.ModelChoiceField(
        label=_("Answered from the article"),
        queryset=KnowledgeArticle.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.HiddenInput,
    )
    lead = DepartmentChoiceField(
        label=_("Lead unit"),
        queryset=Department.objects.none(),
        required=False,
        empty_label="—",
        widget=forms.Select(attrs={"accesskey": "l"}),
    )
    co_units = forms.ModelMultipleChoiceField(
        label=_("Co-handling units"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Ctrl+click (or Shift+arrows) to choose several."),
    )
    note = forms.CharField(
        label=_("Note to the units"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    master = forms.CharField(
        label=_("Master order number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "class": "font-monospace", "accesskey": "m"}
        ),
    )

    def __init__(self, *args, user, **kwargs):
        initial = kwargs["initial"] = dict(kwargs.get("initial") or {})
        initial.setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.user = user
        _order_fields(self)
        units = active_departments()
        self.fields["lead"].queryset = units
        self.fields["co_units"].queryset = units
        self.fields["co_units"].label_from_instance = lambda unit: unit.name
        self.fields["article"].queryset = permissions.visible_articles(
            user, KnowledgeArticle.objects.all()
        )

    def clean_caller_phone(self) -> str:
        return "".join(self.cleaned_data["caller_phone"].split())

    def clean_master(self):
        number = self.cleaned_data["master"].strip().upper()
        if not number:
            return None
        found = selectors.order_by_number(self.user, number)
        if found is None:
            raise forms.ValidationError(
                _("No order has the number %(number)s."), params={"number": number}
            )
        return found

    def clean(self):
        data = super().clean()
        step = data.get("next_step")
        if step is not None:
            self._forget_other_steps(step, data)
        if step == self.ANSWER and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer given to the caller."))
        elif step == self.DISPATCH and data.get("lead") is None and "lead" not in self.errors:
            self.add_error("lead", _("Choose the unit to lead."))
        elif step == self.LINK and data.get("master") is None and "master" not in self.errors:
            self.add_error("master", _("Give the number of the order this one repeats."))
        return data

    def _forget_other_steps(self, step: str, data: dict) -> None:
        """What is left in the sections of the steps not chosen (a master number filled from
        the panel, then “register only” chosen) is neither checked nor used."""
        for other, names in self.STEP_FIELDS.items():
            if other == step:
                continue
            for name in names:
                self._errors.pop(name, None)
                data[name] = self.EMPTY[name]

    @property
    def step(self) -> str:
        return self.cleaned_data["next_step"]

    def chosen_article(self) -> KnowledgeArticle | None:
        """The article picked, for showing its title again on a refused form."""
        if hasattr(self, "cleaned_data"):
            return self.cleaned_data.get("article")
        return None


class SuggestForm(forms.Form):
    """What the side panel is asked about: the content, title, address, phone, category and
    district typed so far (from the console's fields, same names)."""

    content = forms.CharField(required=False, max_length=MAX_CONTENT)
    title = forms.CharField(required=False, max_length=100)
    address = forms.CharField(required=False, max_length=200)
    caller_phone = forms.CharField(required=False, max_length=PHONE_MAX)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False)
    district = forms.ModelChoiceField(queryset=Region.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _order_fields(self)

    def clean_content(self) -> str:
        return " ".join(self.cleaned_data["content"].split())

    def clean_caller_phone(self) -> str:
        return "".join(self.cleaned_data["caller_phone"].split())


# --- the citizen's report ---------------------------------------------------------------------


class ReportForm(OrderFieldsMixin, StyledFormMixin, forms.Form):
    """A citizen's question or report on the web; sent twice, it makes one order."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    order_type = forms.ChoiceField(
        label=_("What is it?"),
        choices=[("", "—"), *OrderType.choices],
        widget=forms.Select(attrs={"autofocus": True}),
    )
    category = LeafChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("I don't know"),
        help_text=_("Optional: the center files it if you are not sure."),
    )
    district = DistrictChoiceField(
        label=_("District"), queryset=Region.objects.none(), required=False, empty_label="—"
    )
    address = forms.CharField(
        label=_("Where"),
        max_length=200,
        required=False,
        help_text=_("The street and number, or a landmark."),
    )
    title = forms.CharField(label=_("Title"), max_length=100, required=False)
    content = _content_field()
    caller_phone = forms.CharField(
        label=_("Your phone"),
        max_length=PHONE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("The center calls you back on this number about the answer."),
    )
    confidential = forms.BooleanField(
        label=_("Keep my name from the units handling it"),
        required=False,
        help_text=_("For reports of wrongdoing: only the center knows who you are."),
    )

    def __init__(self, *args, **kwargs):
        initial = kwargs["initial"] = dict(kwargs.get("initial") or {})
        initial.setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        _order_fields(self)

    def clean_caller_phone(self) -> str:
        return "".join(self.cleaned_data["caller_phone"].split())
