"""The public pages of the catalogue (网上办事大厅): browse and search the guides in force,
read one guide whole, and see what a theme asks once its items are merged.

Drafts are shown only to the catalogue admins who may edit them, with the checker's findings.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from yimen.joint import selectors as joint_selectors

from . import quality
from .choices import Node, ThemeCategory, VersionStatus
from .forms import TAG_GROUPS, TAGS, TARGETS, ItemFilterForm
from .models import ItemVersion
from .permissions import can_edit_department
from .selectors import (
    answers_given,
    theme_plan,
    theme_with_items,
    themes_counted,
    themes_in_force,
    versions_in_force,
)

PAGE_SIZE = 20


def _listed():
    """The guides in force as a list shows them: no materials, fields or steps."""
    return versions_in_force().prefetch_related(None)


def index(request):
    """The hall's front page: a search box and the ways to browse."""
    published = _listed()
    counts = published.aggregate(
        total=Count("pk"),
        **{key: Count("pk", filter=Q(target__in=t)) for key, (_l, t) in TARGETS.items()},
        **{f"tag_{tag}": Count("pk", filter=match) for tag, (_l, match) in TAGS.items()},
    )
    departments = (
        published.values("item__department", "item__department__name")
        .annotate(count=Count("pk"))
        .order_by("item__department__name")
    )
    context = {
        "total": counts["total"],
        "targets": [(key, label, counts[key]) for key, (label, _t) in TARGETS.items()],
        "tag_groups": [
            (group, [(tag, TAGS[tag][0], counts[f"tag_{tag}"]) for tag in tags])
            for group, tags in TAG_GROUPS
        ],
        "departments": departments,
        "themes": themes_counted(),
    }
    return render(request, "catalog/index.html", context)


def items(request):
    """The result list. Filters come from links and the sidebar; an impossible one is a
    400 that says which and why."""
    form = ItemFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "catalog/items.html", {"form": form}, status=400)
    page = Paginator(form.filter(_listed()), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
    }
    return render(request, "catalog/items.html", context)


def item(request, implementation_code):
    """The guide in force."""
    version = versions_in_force().filter(item__implementation_code=implementation_code).first()
    if version is None:
        raise Http404
    return _guide(request, version)


def item_version(request, implementation_code, number):
    """One version: published and archived ones are public record; a draft is shown only to
    those who may edit it, with what the checker found."""
    version = get_object_or_404(
        ItemVersion.objects.with_guide(),
        item__implementation_code=implementation_code,
        number=number,
    )
    if version.is_draft and not can_edit_department(request.user, version.item.department_id):
        raise Http404
    return _guide(request, version)


def _guide(request, version: ItemVersion):
    context = {
        "version": version,
        "item": version.item,
        "nodes": [Node(n) for n in sorted(version.nodes)],
    }
    if version.is_draft:
        findings = quality.stored_findings(version)
        context["findings"] = sorted(findings, key=lambda f: not f.blocking)
    elif version.status == VersionStatus.ARCHIVED:
        context["current"] = ItemVersion.objects.published().filter(item=version.item).first()
    elif request.user.is_authenticated and can_edit_department(
        request.user, version.item.department_id
    ):
        context["draft"] = version.item.versions.filter(status=VersionStatus.DRAFT).first()
    return render(request, "catalog/item.html", context)


def themes(request):
    """The themes, by category."""
    listed = list(themes_counted())
    groups = [
        (label, [t for t in listed if t.category == value])
        for value, label in ThemeCategory.choices
    ]
    return render(request, "catalog/themes.html", {"groups": [g for g in groups if g[1]]})


def theme(request, code):
    """A theme: its scenario questions as a form, the items that apply to the answers given
    (every item before any), and their one material set and one form with how much they
    save. Answers are `answer=<option id>`, repeated; a blank one only says the applicant
    answered (so that answering none of the options narrows the list too)."""
    theme = theme_with_items(get_object_or_404(themes_in_force(), code=code))
    answers, errors = None, []
    if "answer" in request.GET:
        try:
            answers = answers_given(theme, request.GET.getlist("answer"))
        except ValidationError as exc:
            errors = exc.messages
    # As applications ask it: not what the theme's items issue themselves, a staged theme
    # stage by stage (its figures the sum of its stages; its lists each thing once).
    merged = theme_plan(theme, answers)
    plan = joint_selectors.as_applied(merged)
    listed = joint_selectors.application_merge(
        merged.whole, staged=any(s.stage for s in merged.stages)
    )
    questions = list(theme.questions.all())
    for question in questions:
        for option in question.options.all():
            option.guides = [
                plan.guides[ti.item_id]
                for ti in option.theme_items.all()
                if ti.item_id in plan.guides
            ]
    for theme_item in plan.theme_items:
        theme_item.guide = plan.guides.get(theme_item.item_id)
    context = {
        "theme": theme,
        "plan": plan,
        "listed": listed,
        "staged": any(stage.stage for stage in plan.stages),
        "questions": questions,
        "answered": answers is not None,
        "chosen": {option for options in (answers or {}).values() for option in options},
        "errors": errors,
    }
    return render(request, "catalog/theme.html", context, status=400 if errors else 200)
