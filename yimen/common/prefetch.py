"""Rows a caller already holds, handed to the ORM as if prefetched: code that has just
written a case's materials need not read them back to list them."""

from __future__ import annotations

from django.db import models


def remember(obj: models.Model, relation: str, rows) -> None:
    """Keep `rows` as `obj`'s whole `relation`, as prefetch_related would: `.all()` returns
    them without a query, while filtering still asks the database."""
    queryset = getattr(obj, relation).get_queryset()
    queryset._result_cache, queryset._prefetch_done = list(rows), True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


def known(obj: models.Model, relation: str) -> list | None:
    """`obj`'s rows of `relation` when they are in memory (prefetched or remembered), else
    None."""
    cached = getattr(obj, "_prefetched_objects_cache", {}).get(relation)
    return None if cached is None else cached._result_cache
