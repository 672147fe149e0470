"""Reads of the organisation app. Each queryset carries the joins its readers need, so a
list costs the same number of queries whatever its length."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from .models import Department, Hall, Membership, Region, Window, WindowCategory
from .roles import (
    active_memberships,
    departments_for,
    is_staff_member,
    is_system_admin,
    roles_of,
    window_categories_for,
)


def regions() -> QuerySet[Region]:
    return Region.objects.select_related("parent")


def departments() -> QuerySet[Department]:
    return Department.objects.select_related("region", "parent")


def window_categories() -> QuerySet[WindowCategory]:
    return WindowCategory.objects.all()


def halls() -> QuerySet[Hall]:
    return Hall.objects.select_related("region")


def windows() -> QuerySet[Window]:
    return Window.objects.select_related("hall").prefetch_related("categories")


def memberships() -> QuerySet[Membership]:
    return Membership.objects.select_related(
        "user", "department", "hall", "window", "region"
    ).prefetch_related("categories")


@dataclass
class RegionNode:
    """One region in a tree, with its sub-regions in code order."""

    id: int
    code: str
    name: str
    level: int
    children: list[RegionNode] = field(default_factory=list)


def regions_tree(*, root: Region | None = None, max_level: int | None = None) -> list[RegionNode]:
    """The regions as nested nodes, from `root` (else from every region without a parent)
    down to `max_level`. One query: a whole city is a few thousand rows at most, and
    building the tree in memory beats one query per level."""
    rows = Region.objects.order_by("code").values_list("id", "code", "name", "level", "parent_id")
    if root is not None:
        rows = rows.filter(level__gte=root.level)
    if max_level is not None:
        rows = rows.filter(level__lte=max_level)
    nodes: dict[int, RegionNode] = {}
    parents: dict[int, int | None] = {}
    for pk, code, name, level, parent_id in rows:
        nodes[pk] = RegionNode(id=pk, code=code, name=name, level=level)
        parents[pk] = parent_id
    tops: list[RegionNode] = []
    for pk, node in nodes.items():
        parent = nodes.get(parents[pk]) if parents[pk] is not None else None
        if parent is not None:
            parent.children.append(node)
        elif parents[pk] is None:
            tops.append(node)
    if root is not None:
        return [nodes[root.pk]] if root.pk in nodes else []
    return tops


@dataclass(frozen=True)
class StaffScope:
    """What a user may do in the organisation: their roles and where they hold them."""

    username: str
    full_name: str
    is_staff_member: bool
    is_system_admin: bool
    roles: list[str]
    memberships: list[Membership]
    department_ids: list[int]
    window_category_ids: list[int]


def staff_scope(*, user) -> StaffScope:
    """The user's roles and scopes, built from the memberships roles.py caches on the user
    (so this and the permission checks of the same request share their queries)."""
    memberships = active_memberships(user)
    roles = roles_of(user)
    return StaffScope(
        username=user.get_username(),
        full_name=getattr(user, "full_name", ""),
        is_staff_member=is_staff_member(user),
        is_system_admin=is_system_admin(user),
        roles=sorted(roles),
        memberships=memberships,
        department_ids=sorted(departments_for(user, *roles)),
        window_category_ids=sorted(window_categories_for(user)),
    )
