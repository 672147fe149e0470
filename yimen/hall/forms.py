"""Forms of the hall's public pages: booking a half-day (预约), cancelling it, the kiosk
(取号 and check-in with an appointment code) and the rating of a service (好差评).

The forms parse; the services decide. Field names follow the services' error keys (a
service's ValidationError lands on the field it is about, see `set_service_errors`)."""

from __future__ import annotations

import datetime as dt
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yimen.common.choices import Rating
from yimen.common.forms import StyledFormMixin, mark_invalid, set_service_errors
from yimen.common.identifiers import citizen_id_error, normalize_citizen_id, uscc_error
from yimen.org.models import Hall, WindowCategory

from .choices import Period

SLOT_SEPARATOR = "|"


def slot_value(day: dt.date, period: str) -> str:
    """How a half-day travels in a form: 2026-11-23|am."""
    return f"{day.isoformat()}{SLOT_SEPARATOR}{period}"


# --- 预约 ---------------------------------------------------------------------------------------


class BookingForm(StyledFormMixin, forms.Form):
    """What appointment_book takes: the hall, the category and one half-day (`slot`)."""

    hall = forms.ModelChoiceField(queryset=Hall.objects.none(), widget=forms.HiddenInput)
    category = forms.ModelChoiceField(
        queryset=WindowCategory.objects.none(), widget=forms.HiddenInput
    )
    item = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    slot = forms.CharField(
        label=_("Half-day"),
        max_length=16,
        error_messages={"required": _("Choose a half-day with places left.")},
    )

    def __init__(self, *args, halls, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hall"].queryset = halls
        self.fields["category"].queryset = categories

    def clean_slot(self) -> tuple[dt.date, str]:
        day, _sep, period = self.cleaned_data["slot"].partition(SLOT_SEPARATOR)
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            raise ValidationError(_("Choose a half-day with places left.")) from None
        if period not in Period.values:
            raise ValidationError(_("Choose the morning or the afternoon."))
        return day, period

    def set_errors(self, exc: ValidationError) -> None:
        # The service speaks of the day and the period; the page shows them as one choice.
        set_service_errors(self, exc, rename={"day": "slot", "period": "slot"})


class CancelForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- the kiosk ----------------------------------------------------------------------------------


def _halfwidth(value: str) -> str:
    """Full-width digits and letters (and the ideographic space), as a Chinese input method
    types them, made ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", value or "")


class TakeTicketForm(StyledFormMixin, forms.Form):
    """取号: a queue of the hall, and (if the applicant wishes) their ID number or credit
    code, so that the clerk finds them at once."""

    category = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=WindowCategory.objects.none(),
        error_messages={"invalid_choice": _("No window of this hall serves this category.")},
    )
    identifier = forms.CharField(
        label=_("ID number or unified social credit code (optional)"),
        max_length=32,
        required=False,
        help_text=_("The window then finds your details at once."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories

    def clean_identifier(self) -> str:
        """A valid citizen ID number or unified social credit code, or nothing. The reasons
        never repeat the number: the page is read by whoever stands at the kiosk next."""
        value = normalize_citizen_id(_halfwidth(self.cleaned_data["identifier"]))
        if not value:
            return value
        if len(value) != 18:
            raise ValidationError(
                _("Type all 18 characters of the number, or leave the box empty.")
            )
        id_error, uscc_error_ = citizen_id_error(value), uscc_error(value)
        if id_error and uscc_error_:
            # Digits and a final X read as an ID number; anything else as a credit code.
            looks_like_id = value[:17].isascii() and value[:17].isdigit()
            raise ValidationError(id_error if looks_like_id else uscc_error_)
        return value


class CheckInForm(StyledFormMixin, forms.Form):
    """签到: the 8-digit code of an appointment."""

    code = forms.CharField(
        label=_("Appointment code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "pattern": "[0-9]{8}",
                "placeholder": "12345678",
            }
        ),
    )

    def clean_code(self) -> str:
        code = _halfwidth(self.cleaned_data["code"]).replace(" ", "")
        if not (len(code) == 8 and code.isascii() and code.isdigit()):
            raise ValidationError(_("The appointment code has 8 digits."))
        return code


# --- 好差评 -------------------------------------------------------------------------------------


class RatingForm(forms.Form):
    """Five levels, and a comment that the service requires for the two lowest. Drawn by
    hand as large touch targets, so not styled by StyledFormMixin."""

    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=Rating.choices,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": _("Choose one of the five levels.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("Required for the two lowest ratings: tell us what went wrong."),
    )

    def full_clean(self):
        super().full_clean()
        mark_invalid(self)

    def set_errors(self, exc: ValidationError) -> None:
        set_service_errors(self, exc)
