"""Reads of the catalogue: the guides in force, and what a theme asks of an applicant once
its items' forms and materials are merged (一表 and 一套材料)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import Requirement, VersionStatus
from .models import (
    FieldDefinition,
    FormField,
    ItemVersion,
    Material,
    MaterialType,
    ScenarioOption,
    ScenarioQuestion,
    ServiceItem,
    Theme,
    ThemeItem,
    ThemeStage,
)


def guides_in_force(item_ids: Iterable[int]) -> dict[int, ItemVersion]:
    """{item id: its guide in force} of these items."""
    return {v.item_id: v for v in versions_in_force().filter(item__in=list(item_ids))}


def versions_in_force() -> QuerySet[ItemVersion]:
    """The published guides, with what their pages and lists show."""
    return ItemVersion.objects.published().with_guide()


def version_in_force(item: ServiceItem) -> ItemVersion | None:
    return versions_in_force().filter(item=item).first()


def latest_versions() -> QuerySet[ItemVersion]:
    """Each item's newest version (a draft when there is one): what catalogue admins work on
    and what the xlsx export writes."""
    from django.db.models import Max, OuterRef, Subquery

    newest = (
        ItemVersion.objects.filter(item=OuterRef("item"))
        .values("item")
        .annotate(n=Max("number"))
        .values("n")
    )
    return ItemVersion.objects.filter(number=Subquery(newest)).with_guide()


# --- themes -------------------------------------------------------------------------------------


def themes_in_force() -> QuerySet[Theme]:
    return Theme.objects.filter(is_active=True)


def themes_counted() -> QuerySet[Theme]:
    """The themes in force with `item_count`: their items that have a guide in force (an
    item not offered at present is not counted)."""
    offered = Q(theme_items__item__versions__status=VersionStatus.PUBLISHED)
    # A grouped query drops the model's ordering.
    return (
        themes_in_force()
        .annotate(item_count=Count("theme_items", filter=offered, distinct=True))
        .order_by(*Theme._meta.ordering)
    )


def theme_with_items(theme: Theme) -> Theme:
    """The theme with its stages, questions and items, ready for a page."""
    return themes_with_items(Theme.objects.all()).get(pk=theme.pk)


def themes_with_items(themes: QuerySet[Theme]) -> QuerySet[Theme]:
    """`themes` with their stages, questions and items (for theme_plan)."""
    return themes.prefetch_related(
        "stages",
        Prefetch(
            "questions",
            queryset=ScenarioQuestion.objects.prefetch_related(
                Prefetch("options", queryset=ScenarioOption.objects.prefetch_related("theme_items"))
            ),
        ),
        Prefetch(
            "theme_items",
            queryset=ThemeItem.objects.select_related("stage", "item__department"),
        ),
    )


def items_for_answers(
    theme: Theme, answers: Mapping[int, Iterable[int]] | None = None
) -> list[ThemeItem]:
    """The theme items that apply to an applicant who gave `answers` ({question id: [option
    ids]}): every item no option names, plus those the chosen options name. Without answers,
    every item."""
    theme_items = list(theme.theme_items.all())
    if answers is None:
        return theme_items
    chosen = {int(o) for options in answers.values() for o in options}
    conditional, selected = set(), set()
    for question in theme.questions.all():
        for option in question.options.all():
            ids = {ti.pk for ti in option.theme_items.all()}
            conditional |= ids
            if option.pk in chosen:
                selected |= ids
    return [ti for ti in theme_items if ti.pk not in conditional or ti.pk in selected]


def answers_given(theme: Theme, option_ids: Iterable[str | int]) -> dict[int, list[int]]:
    """The answers of an applicant, given as option ids (blank ones are skipped), grouped by
    question for items_for_answers(). An id that is no option of the theme, or a second
    answer to a one-answer question, is a ValidationError under "answer". Load `theme` with
    theme_with_items()."""
    question_of = {
        option.pk: question
        for question in theme.questions.all()
        for option in question.options.all()
    }
    answers: dict[int, list[int]] = {}
    for raw in option_ids:
        raw = str(raw).strip()
        if not raw:
            continue
        option = _option_id(raw)
        if option not in question_of:
            raise _bad_answer(
                _("“%(value)s” is not an answer to this theme's questions."), value=raw[:20]
            )
        question = question_of[option]
        chosen = answers.setdefault(question.pk, [])
        if option in chosen:
            continue
        if chosen and not question.multiple:
            raise _bad_answer(_("“%(question)s” takes one answer."), question=question.text)
        chosen.append(option)
    return answers


def _option_id(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


def _bad_answer(message, **params) -> ValidationError:
    return ValidationError({"answer": ValidationError(message, code="invalid", params=params)})


@dataclass
class MergedMaterial:
    """One material of a theme's material set: a material type asked once, for every item
    that needs it."""

    material_type: MaterialType
    materials: list[Material] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return any(m.requirement == Requirement.REQUIRED for m in self.materials)

    @property
    def originals(self) -> int:
        return max(m.originals for m in self.materials)

    @property
    def copies(self) -> int:
        return max(m.copies for m in self.materials)

    @property
    def items(self) -> list[ItemVersion]:
        return [m.version for m in self.materials]


@dataclass
class MergedField:
    """One field of a theme's merged form: a dictionary key asked once."""

    field: FieldDefinition
    form_fields: list[FormField] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return any(f.required for f in self.form_fields)


@dataclass
class Merge:
    """A set of guides merged: fields by dictionary key, materials by type."""

    versions: list[ItemVersion]
    materials: list[MergedMaterial]
    fields: list[MergedField]

    @property
    def materials_before(self) -> int:
        return sum(len(m.materials) for m in self.materials)

    @property
    def materials_after(self) -> int:
        return len(self.materials)

    @property
    def fields_before(self) -> int:
        return sum(len(f.form_fields) for f in self.fields)

    @property
    def fields_after(self) -> int:
        return len(self.fields)

    @staticmethod
    def _cut(before: int, after: int) -> int:
        """The reduction in whole per cent (0 when there was nothing)."""
        return round(100 * (before - after) / before) if before else 0

    @property
    def materials_cut(self) -> int:
        return self._cut(self.materials_before, self.materials_after)

    @property
    def fields_cut(self) -> int:
        return self._cut(self.fields_before, self.fields_after)


def merge(versions: Sequence[ItemVersion]) -> Merge:
    """Merge guides (prefetched with ItemVersion.objects.with_guide())."""
    materials: dict[int, MergedMaterial] = {}
    fields: dict[int, MergedField] = {}
    for version in versions:
        for material in version.materials.all():
            merged = materials.setdefault(
                material.material_type_id, MergedMaterial(material.material_type)
            )
            material.version = version
            merged.materials.append(material)
        for form_field in version.form_fields.all():
            fields.setdefault(
                form_field.field_id, MergedField(form_field.field)
            ).form_fields.append(form_field)
    return Merge(list(versions), list(materials.values()), list(fields.values()))


@dataclass
class StagePlan:
    """A stage of a theme (or the whole theme when it has no stages): the items of it that
    apply and their guides merged."""

    stage: ThemeStage | None
    theme_items: list[ThemeItem]
    merge: Merge


@dataclass
class ThemePlan:
    """What a theme asks of an applicant: the items that apply, stage by stage and merged
    as a whole (the reduction the theme reports)."""

    theme_items: list[ThemeItem]
    stages: list[StagePlan]
    whole: Merge
    guides: dict[int, ItemVersion]
    """{item id: guide in force} for every item of the theme, applying or not; an item
    without one is not offered at present."""


def theme_plan(
    theme: Theme,
    answers: Mapping[int, Iterable[int]] | None = None,
    *,
    guides: Mapping[int, ItemVersion] | None = None,
) -> ThemePlan:
    """What the theme asks of an applicant who gave `answers` (every item without answers).
    Load `theme` with theme_with_items(); the guides in force take one query and its
    prefetches, unless `guides` ({item id: guide in force}, e.g. of several themes) are
    given."""
    chosen = items_for_answers(theme, answers)
    if guides is None:
        guides = guides_in_force([ti.item_id for ti in theme.theme_items.all()])
    else:
        guides = {ti.item_id: guides[ti.item_id] for ti in theme.theme_items.all()
                  if ti.item_id in guides}  # fmt: skip

    def merged(theme_items: list[ThemeItem]) -> Merge:
        return merge([guides[ti.item_id] for ti in theme_items if ti.item_id in guides])

    stages = []
    for stage in list(theme.stages.all()) or [None]:
        in_stage = [ti for ti in chosen if stage is None or ti.stage_id == stage.pk]
        stages.append(StagePlan(stage, in_stage, merged(in_stage)))
    return ThemePlan(chosen, stages, merged(chosen), guides)


def status_counts() -> dict[str, int]:
    """How many versions are in each state (for the admin's overview)."""
    from django.db.models import Count

    rows = ItemVersion.objects.values("status").annotate(n=Count("pk"))
    counts = {s: 0 for s in VersionStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
