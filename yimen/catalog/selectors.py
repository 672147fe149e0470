"""Reads of the catalogue: the guides in force, and what a theme asks of an applicant once
its items' forms and materials are merged (一表 and 一套材料)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

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
)


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


def theme_with_items(theme: Theme) -> Theme:
    """The theme with its stages, questions and items, ready for a page."""
    return Theme.objects.prefetch_related(
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
    ).get(pk=theme.pk)


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


def versions_for(theme_items: Iterable[ThemeItem]) -> dict[int, ItemVersion]:
    """{theme item id: the guide in force of its item}; items with none are left out."""
    theme_items = list(theme_items)
    by_item = {
        v.item_id: v
        for v in versions_in_force().filter(item__in=[ti.item_id for ti in theme_items])
    }
    return {ti.pk: by_item[ti.item_id] for ti in theme_items if ti.item_id in by_item}


@dataclass
class StagePlan:
    """A stage of a theme (or the whole theme when it has no stages): its items' guides and
    their merge."""

    stage: object | None
    theme_items: list[ThemeItem]
    merge: Merge


def theme_plan(theme: Theme, answers: Mapping[int, Iterable[int]] | None = None) -> list[StagePlan]:
    """What the theme asks of an applicant, stage by stage. Load `theme` with
    theme_with_items()."""
    chosen = items_for_answers(theme, answers)
    versions = versions_for(chosen)
    stages = list(theme.stages.all()) or [None]
    plans = []
    for stage in stages:
        in_stage = [ti for ti in chosen if stage is None or ti.stage_id == stage.pk]
        plans.append(
            StagePlan(
                stage,
                in_stage,
                merge([versions[ti.pk] for ti in in_stage if ti.pk in versions]),
            )
        )
    return plans


def theme_merge(theme: Theme, answers: Mapping[int, Iterable[int]] | None = None) -> Merge:
    """The whole theme merged at once (the reduction the theme page reports)."""
    versions = versions_for(items_for_answers(theme, answers))
    return merge(list(versions.values()))


def status_counts() -> dict[str, int]:
    """How many versions are in each state (for the admin's overview)."""
    from django.db.models import Count

    rows = ItemVersion.objects.values("status").annotate(n=Count("pk"))
    counts = {s: 0 for s in VersionStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
