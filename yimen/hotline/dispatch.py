"""The dispatch assistant (智能派单): the units most likely to handle an order, best first.

Rules until a model is trained: the category's default unit, then the district's own
government."""

from __future__ import annotations

from dataclasses import dataclass

from yimen.org.models import Department, Region

from .models import Category


@dataclass(frozen=True)
class Suggestion:
    unit: Department
    score: float  # 0…1
    source: str  # "model", "category" or "district"


def suggest(
    *, text: str, category: Category | None = None, district: Region | None = None, limit: int = 3
) -> list[Suggestion]:
    found: list[Suggestion] = []
    if category is not None and category.default_unit is not None:
        found.append(Suggestion(category.default_unit, 1.0, "category"))
    if district is not None:
        local = Department.objects.filter(region=district, parent=None, is_active=True).first()
        if local is not None and all(s.unit != local for s in found):
            found.append(Suggestion(local, 0.5, "district"))
    return found[:limit]
