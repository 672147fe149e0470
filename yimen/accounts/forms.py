"""Forms of the accounts app."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from yimen.common.forms import StyledFormMixin
from yimen.common.identifiers import (
    citizen_id_error,
    normalize_citizen_id,
    normalize_uscc,
    uscc_error,
)

from .choices import ApplicantKind


class LoginForm(StyledFormMixin, AuthenticationForm):
    pass


class PasswordForm(StyledFormMixin, PasswordChangeForm):
    pass


def clean_citizen_id(value: str) -> str:
    value = normalize_citizen_id(value)
    if error := citizen_id_error(value):
        raise forms.ValidationError(error)
    return value


class PersonRegistrationForm(StyledFormMixin, forms.Form):
    """Online self-registration of a natural person (identity level L1)."""

    name = forms.CharField(label=_("Full name"), max_length=100)
    id_number = forms.CharField(
        label=_("Citizen ID number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_id_number(self):
        return clean_citizen_id(self.cleaned_data["id_number"])

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class ApplicantLookupForm(StyledFormMixin, forms.Form):
    """A clerk types (or scans) the full ID number or credit code."""

    q = forms.CharField(
        label=_("ID number or unified social credit code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )

    def clean_q(self):
        value = normalize_citizen_id(self.cleaned_data["q"])
        if citizen_id_error(value) and uscc_error(value):
            raise forms.ValidationError(
                _("Enter a complete 18-character ID number or unified social credit code.")
            )
        return value


class WalkInApplicantForm(StyledFormMixin, forms.Form):
    """A clerk registers a walk-in applicant the lookup did not find."""

    kind = forms.ChoiceField(label=_("Applicant kind"), choices=ApplicantKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    identifier = forms.CharField(
        label=_("ID number or unified social credit code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    legal_representative = forms.CharField(
        label=_("Legal representative"), max_length=100, required=False
    )
    phone = forms.CharField(label=_("Mobile number"), max_length=11, required=False)

    def clean(self):
        data = super().clean()
        kind, identifier = data.get("kind"), data.get("identifier", "")
        if kind == ApplicantKind.PERSON:
            value = normalize_citizen_id(identifier)
            if error := citizen_id_error(value):
                self.add_error("identifier", error)
            data["id_number"], data["uscc"] = value, ""
        elif kind == ApplicantKind.ENTERPRISE:
            value = normalize_uscc(identifier)
            if error := uscc_error(value):
                self.add_error("identifier", error)
            if not data.get("legal_representative"):
                self.add_error("legal_representative", _("A legal person needs a representative."))
            data["id_number"], data["uscc"] = "", value
        return data
