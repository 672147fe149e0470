"""Gap-free daily counters (case numbers, queue tickets) that hold under concurrency."""

from __future__ import annotations

from django.db import connection, models


def bump(model: type[models.Model], **key) -> int:
    """Add one to the `last` column of `model`'s row for `key` and return the new value.

    One statement increments and reads back, so the row stays locked (SQLite: the database)
    only until the caller's transaction ends; the day's first call creates the row."""
    last = _increment(model, key)
    if last is None:
        model.objects.get_or_create(**key)
        last = _increment(model, key)
    return last


def _increment(model: type[models.Model], key: dict) -> int | None:
    fields = [model._meta.get_field(name) for name in sorted(key)]
    quote = connection.ops.quote_name
    where = " AND ".join(f"{quote(f.column)} = %s" for f in fields)
    values = [f.get_db_prep_value(_plain(key[f.name]), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET last = last + 1 WHERE {where}"
            " RETURNING last",
            values,
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _plain(value):
    """A row's key for a foreign key given as the row itself."""
    return value.pk if isinstance(value, models.Model) else value
