"""Forms of the licences module.

RegisterPaperLicenceForm: a system admin copies a historical paper licence into the system
(data entry, audited by the service) so that it becomes reusable. Its data fields depend on
the licence type, so the form is built in two steps: the type alone (`TypeChoiceForm`, a
GET), then the full form for that type.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.accounts.selectors import applicant_by_identifier
from yimen.catalog.models import FieldDefinition

from .models import LicenceType

DATA_PREFIX = "data__"  # the data fields' names: clear of licence_type, holder, issued_on


class TypeChoiceForm(forms.Form):
    """Step one: which licence type the paper licence is of (active types only)."""

    licence_type = forms.ModelChoiceField(
        label=_("Licence type"),
        queryset=LicenceType.objects.filter(is_active=True).select_related("issuer"),
    )


class RegisterPaperLicenceForm(TypeChoiceForm):
    """Step two: the holder, the date it was issued and the data it carries.

    `licence_type` is the type chosen in step one (the view reads it from the request with
    TypeChoiceForm, so a type deactivated meanwhile is refused); it is kept here as a hidden
    field so that the POST says which type it is for."""

    holder = forms.CharField(
        label=_("Holder's citizen ID number or USCC"),
        max_length=32,
        help_text=_("The full 18-character number of an applicant already registered."),
    )
    issued_on = forms.DateField(
        label=_("Issued on"),
        help_text=_("As printed on the paper licence."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, licence_type: LicenceType, **kwargs):
        super().__init__(*args, **kwargs)
        self.licence_type = licence_type
        self.fields["licence_type"].initial = licence_type.pk
        self.fields["licence_type"].widget = forms.HiddenInput()
        labels = dict(
            FieldDefinition.objects.filter(key__in=licence_type.fields).values_list("key", "label")
        )
        for key in licence_type.fields:
            self.fields[DATA_PREFIX + key] = forms.CharField(
                label=labels.get(key, key), max_length=500, required=False
            )

    def data_fields(self):
        return [self[name] for name in self.fields if name.startswith(DATA_PREFIX)]

    def clean_holder(self):
        holder = applicant_by_identifier(identifier=self.cleaned_data["holder"])
        if holder is None:
            raise ValidationError(
                _("No applicant has this citizen ID number or USCC: register the applicant first."),
                code="unknown_holder",
            )
        return holder

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise ValidationError(_("A licence cannot be issued in the future."), code="future")
        return issued_on

    def licence_data(self) -> dict[str, str]:
        """The data the licence carries: the fields filled in, by key, in the type's order."""
        values = {
            key: self.cleaned_data.get(DATA_PREFIX + key, "") for key in self.licence_type.fields
        }
        return {key: value for key, value in values.items() if value}
