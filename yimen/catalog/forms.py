"""The filters of the public item list: each a GET parameter that a link or the sidebar sets,
validated so that a mistyped address gets its reason instead of a wrong list."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yimen.common.forms import StyledFormMixin
from yimen.org.models import Department

from . import search
from .choices import ItemType, OnlineDepth, Target, TongbanScope
from .models import ItemVersion

# 个人办事 / 法人办事: an item for both kinds of applicant is in each list.
TARGETS = {
    "person": (_("Services for individuals"), (Target.PERSON, Target.BOTH)),
    "enterprise": (_("Services for businesses"), (Target.ENTERPRISE, Target.BOTH)),
}


def _flag(name: str) -> tuple:
    return ItemVersion._meta.get_field(name).verbose_name, Q(**{name: True})


# Every tag a list can be narrowed to: the 四办 and 双零 flags, and the 通办 scopes.
TAGS = {
    **{name: _flag(name) for name in ItemVersion.TAG_FIELDS},
    **{s.value: (s.label, Q(tongban=s)) for s in TongbanScope if s != TongbanScope.NONE},
}
TAG_GROUPS = (
    (_("Four ways"), ("on_the_spot", "online", "one_visit", "nearby")),  # 四办
    (_("Double zero"), ("zero_visit", "zero_submission")),  # 双零
    (_("Handled anywhere"), tuple(s.value for s in TongbanScope if s != TongbanScope.NONE)),
)


def _grouped_tags() -> list:
    return [(group, [(tag, TAGS[tag][0]) for tag in tags]) for group, tags in TAG_GROUPS]


class ItemFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Item name or keyword")}),
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("All departments"),
    )
    target = forms.ChoiceField(
        label=_("For"),
        choices=[("", _("Everyone")), *((key, label) for key, (label, _t) in TARGETS.items())],
        required=False,
    )
    tag = forms.ChoiceField(
        label=_("Tag"), choices=[("", _("Any tag")), *_grouped_tags()], required=False
    )
    item_type = forms.ChoiceField(
        label=_("Item type"), choices=[("", _("Any type")), *ItemType.choices], required=False
    )
    online_depth = forms.ChoiceField(
        label=_("Online depth"),
        choices=[("", _("Any way")), *OnlineDepth.choices],
        required=False,
    )

    def filter(self, versions: QuerySet[ItemVersion]) -> QuerySet[ItemVersion]:
        """`versions` narrowed by the filters; best matches first when there is a query,
        by name otherwise. Call on a valid form."""
        data = self.cleaned_data
        if data["department"]:
            versions = versions.filter(item__department=data["department"])
        if data["target"]:
            versions = versions.filter(target__in=TARGETS[data["target"]][1])
        if data["tag"]:
            versions = versions.filter(TAGS[data["tag"]][1])
        if data["item_type"]:
            versions = versions.filter(item_type=data["item_type"])
        if data["online_depth"]:
            versions = versions.filter(online_depth=data["online_depth"])
        return search.rank(versions.order_by("name", "pk"), data["q"])
