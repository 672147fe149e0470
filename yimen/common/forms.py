"""Form styling shared by every app (Bootstrap classes, accessible error markup) and the one way
a service's ValidationError lands on a form."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Renders every form with the project's field template (labels, help, errors, aria)."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class StyledFormMixin:
    """Gives widgets Bootstrap's classes and marks invalid fields for assistive technology."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        mark_invalid(self)


def mark_invalid(form: forms.BaseForm) -> None:
    """Bootstrap's and assistive technology's marks on each field with an error."""
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            widget.attrs["aria-invalid"] = "true"


def set_service_errors(form: forms.BaseForm, exc: ValidationError, *, rename=None) -> None:
    """Put a service's ValidationError on the form: each key on its field (through
    `rename`), the rest above the form; the fields it names are marked invalid."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        target = rename.get(key, key)
        form.add_error(target if target in form.fields else None, messages)
    mark_invalid(form)
