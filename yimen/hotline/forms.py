"""Forms of the knowledge-base pages: the search box, an article (create and edit), the
review decision and retiring.

The forms parse; the services (yimen.hotline.knowledge) decide. Field names follow the
services' keyword arguments, so a service's ValidationError lands on the field it names
(see yimen.common.forms.set_service_errors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yimen.common.forms import StyledFormMixin
from yimen.org.models import Department

from .models import Category, KnowledgeArticle

QUERY_MAX_LENGTH = 200


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CategoryChoiceField(forms.ModelChoiceField):
    """A leaf of the taxonomy, labelled with its whole path (城乡建设 › 市政设施 › 路灯不亮)."""

    def label_from_instance(self, obj):
        return obj.path


def active_departments():
    return Department.objects.filter(is_active=True).order_by("name")


def category_choices():
    """The active categories with their parents fetched (each label is the whole path)."""
    return (
        Category.objects.filter(is_active=True)
        .select_related("parent__parent")
        .order_by("level", "order", "code")
    )


class KnowledgeSearchForm(StyledFormMixin, forms.Form):
    """The agent's search: what the caller asks, optionally one department's answers."""

    q = forms.CharField(
        label=_("Question"),
        max_length=QUERY_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments()

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())


class ArticleForm(StyledFormMixin, forms.ModelForm):
    """What article_create and article_update take."""

    department = DepartmentChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )

    class Meta:
        model = KnowledgeArticle
        fields = [
            "title",
            "questions",
            "answer",
            "department",
            "category",
            "tags",
            "valid_until",
        ]
        widgets = {
            "questions": forms.Textarea(attrs={"rows": 4}),
            "answer": forms.Textarea(attrs={"rows": 8}),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments()
        self.fields["category"].queryset = category_choices()

    def _post_clean(self):
        # The service validates and writes; the form does not touch the instance.
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def changed_service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ReviewForm(StyledFormMixin, forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Publish")), (REJECT, _("Send back"))],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note to the author"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when sending the article back."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not data.get("note", "").strip():
            self.add_error("note", _("Say what should change before it can be published."))
        return data

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class RetireForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the article is retired.")},
    )
