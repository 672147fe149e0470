"""Reads of the hotline's configuration: the category taxonomy (its leaves, where orders are
filed, and the whole tree) and the deadline rules of every type × urgency."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from .choices import OrderType, Urgency
from .models import Category, DeadlineRule
from .services import deadline_for, default_rule


def categories(*, active_only: bool = False) -> QuerySet[Category]:
    """Every category with what its `path` and its default unit need, in one query."""
    qs = Category.objects.select_related("parent__parent", "default_unit")
    return qs.filter(is_active=True) if active_only else qs


def leaves(*, active_only: bool = True) -> QuerySet[Category]:
    """The categories an order can be filed under: those without (active) subcategories, in
    the taxonomy's order."""
    children = Category.objects.filter(parent=OuterRef("pk"))
    if active_only:
        children = children.filter(is_active=True)
    return (
        categories(active_only=active_only)
        .filter(~Exists(children))
        .order_by("parent__parent__order", "parent__order", "order", "code")
    )


def category_by_code(code: str) -> Category | None:
    return categories().filter(code=code).first()


@dataclass
class Node:
    """A category of the tree with its subcategories, in order."""

    category: Category
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def tree(*, active_only: bool = True) -> list[Node]:
    """The taxonomy as nested nodes (one query), top level first, each level by its order."""
    rows = list(
        Category.objects.select_related("default_unit")
        .filter(**({"is_active": True} if active_only else {}))
        .order_by("level", "order", "code")
    )
    nodes = {c.pk: Node(c) for c in rows}
    roots = []
    for category in rows:
        node = nodes[category.pk]
        if category.parent_id is None:
            roots.append(node)
        elif parent := nodes.get(category.parent_id):
            parent.children.append(node)
            category.parent = parent.category  # `path` without another query
    return roots


def walk(nodes: list[Node]):
    """The nodes depth-first, in the tree's order (for lists and exports)."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def deadline_rules() -> list[DeadlineRule]:
    """The rule in force for every type × urgency (saved rows; the defaults, unsaved with pk
    None, where no row exists), by type then urgency from the most urgent."""
    rows = {(r.order_type, r.urgency): r for r in DeadlineRule.objects.all()}
    urgencies = (Urgency.VERY_URGENT, Urgency.URGENT, Urgency.NORMAL)
    return [rows.get((t, u)) or default_rule(t, u) for t in OrderType.values for u in urgencies]


__all__ = [
    "Node",
    "categories",
    "category_by_code",
    "deadline_for",
    "deadline_rules",
    "leaves",
    "tree",
    "walk",
]
