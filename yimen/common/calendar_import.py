"""Importing a year's holiday arrangement from the State Council's annual notice.

Every November the State Council publishes next year's holidays and make-up working days
(国务院办公厅关于XXXX年部分节假日安排的通知). An administrator types them into a CSV file

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-07,workday,春节

and imports it. All rows are checked before anything is written, every bad row is reported,
and one bad row means nothing is imported. A good file replaces the year's exception days,
marks the year as known (source: notice), writes one audit event, and recomputes the
deadlines that were computed on the weekends-only guess.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import audit, workdays
from .choices import Channel
from .clocks import recompute_unconfirmed
from .models import CalendarDay, CalendarYear

HEADER = ("date", "kind", "name")
KIND_ALIASES = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
}
FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarRow(NamedTuple):
    """One row as read: its line in the file and its cells, (date, kind) or (date, kind,
    name); a date may be a string (YYYY-MM-DD) or a date."""

    line: int
    cells: tuple[str | dt.date, ...]


def numbered(rows: Iterable[Sequence[str | dt.date]], *, first_line: int = 1) -> list[CalendarRow]:
    """CalendarRows of plain (date, kind, name) tuples, numbered from `first_line`."""
    return [CalendarRow(line, tuple(cells)) for line, cells in enumerate(rows, first_line)]


@dataclass(frozen=True)
class RowError:
    """Why one row was refused; line 0 means the file as a whole."""

    line: int
    column: str
    reason: str

    def __str__(self):
        if not self.line:  # about the whole file
            return f"{self.column}: {self.reason}"
        return gettext("line %(line)s, %(column)s: %(reason)s") % {
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }


class CalendarImportError(ValidationError):
    """The file or its rows are wrong; nothing was written. `row_errors` lists every bad row."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = row_errors
        super().__init__([str(error) for error in row_errors], code="calendar_import")


@dataclass(frozen=True)
class ImportSummary:
    """What an import changed."""

    year: int
    holidays: int
    workdays: int
    replaced: int
    recomputed_clocks: int


@dataclass(frozen=True)
class _Day:
    date: dt.date
    kind: str
    name: str


def import_year(
    *,
    year: int,
    rows: Iterable[CalendarRow],
    notice: str,
    actor=None,
    channel: str = Channel.ADMIN,
) -> ImportSummary:
    """Replace `year`'s exception days with `rows` and mark the year known from `notice`.

    Raises CalendarImportError listing every bad row, and writes nothing, if any row is
    wrong. `rows` may be a progress-bar wrapper: it is read exactly once."""
    _check_year_and_notice(year, notice)
    days = parse_rows(year=year, rows=rows)
    holidays = sum(1 for day in days if day.kind == CalendarDay.Kind.HOLIDAY)
    with transaction.atomic():
        calendar_year, previous_source = _upsert_year(year=year, notice=notice, actor=actor)
        replaced, _by_model = CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(date=day.date, kind=day.kind, name=day.name) for day in days
        )
        audit.record(
            action="calendar.import",
            obj=calendar_year,
            actor=actor,
            channel=channel,
            from_state=previous_source,
            to_state=CalendarYear.Source.NOTICE,
            reason=notice,
            payload={"holidays": holidays, "workdays": len(days) - holidays, "replaced": replaced},
        )
        # Recomputing reads the new calendar inside this transaction; the cache is then
        # dropped again so other threads never keep an uncommitted calendar, and once more
        # at commit for those that read the old one meanwhile.
        workdays.invalidate()
        recomputed = recompute_unconfirmed()
        workdays.invalidate()
        transaction.on_commit(workdays.invalidate)
    return ImportSummary(year, holidays, len(days) - holidays, replaced, recomputed)


def parse_rows(*, year: int, rows: Iterable[CalendarRow]) -> list[_Day]:
    """The checked days of `rows`, or CalendarImportError with every bad row."""
    days: list[_Day] = []
    errors: list[RowError] = []
    first_line: dict[dt.date, int] = {}
    for row in rows:
        day, row_errors = _parse_row(row, year)
        if day is not None and day.date in first_line:
            row_errors.append(
                RowError(
                    row.line,
                    "date",
                    gettext("duplicate date, already on line %(line)s")
                    % {"line": first_line[day.date]},
                )
            )
        elif day is not None:
            first_line[day.date] = row.line
        if row_errors:
            errors.extend(row_errors)
        elif day is not None:
            days.append(day)
    if not errors and not days:
        errors.append(RowError(0, "file", gettext("there are no rows to import")))
    if errors:
        raise CalendarImportError(errors)
    return days


def read_calendar_csv(source: str | Path | IO[bytes]) -> list[CalendarRow]:
    """The rows of a UTF-8 CSV file (a BOM is allowed) with the header `date,kind,name`.
    Blank lines are skipped; line numbers are the file's own."""
    raw = source.read() if hasattr(source, "read") else Path(source).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CalendarImportError(
            [RowError(0, "file", gettext("the file is not UTF-8 text"))]
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[CalendarRow] = []
    header_seen = False
    for cells in reader:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if not header_seen:
            _check_header(cells, reader.line_num)
            header_seen = True
            continue
        rows.append(CalendarRow(reader.line_num, tuple(cells)))
    if not header_seen:
        raise CalendarImportError([RowError(1, "header", gettext("the file is empty"))])
    return rows


def _check_header(cells: list[str], line: int) -> None:
    if tuple(cell.lower() for cell in cells) != HEADER:
        raise CalendarImportError(
            [
                RowError(
                    line,
                    "header",
                    gettext("expected the header “date,kind,name”, found “%(found)s”")
                    % {"found": ",".join(cells)},
                )
            ]
        )


def _parse_row(row: CalendarRow, year: int) -> tuple[_Day | None, list[RowError]]:
    if len(row.cells) not in (2, 3):
        reason = gettext("expected 3 columns, found %(count)s") % {"count": len(row.cells)}
        return None, [RowError(row.line, "row", reason)]
    raw_date, raw_kind, raw_name = (*row.cells, "")[:3]
    errors: list[RowError] = []
    day = _parse_date(raw_date)
    if day is None:
        reason = gettext("“%(value)s” is not a date (YYYY-MM-DD)") % {"value": raw_date}
        errors.append(RowError(row.line, "date", reason))
    elif day.year != year:
        reason = gettext("%(date)s is not in %(year)s") % {"date": day, "year": year}
        errors.append(RowError(row.line, "date", reason))
    kind = KIND_ALIASES.get(str(raw_kind).strip().lower())
    if kind is None:
        reason = gettext("unknown kind “%(value)s” (use holiday/休 or workday/班)") % {
            "value": raw_kind
        }
        errors.append(RowError(row.line, "kind", reason))
    elif day is not None and kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
        reason = gettext("%(date)s is a weekday; a make-up working day is a Saturday or Sunday")
        errors.append(RowError(row.line, "kind", reason % {"date": day}))
    name = str(raw_name).strip()
    if len(name) > CalendarDay._meta.get_field("name").max_length:
        errors.append(RowError(row.line, "name", gettext("the name is longer than 64 characters")))
    if day is None or kind is None:
        return None, errors
    return _Day(day, kind, name), errors


def _parse_date(value: str | dt.date) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _check_year_and_notice(year: int, notice: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("The year must be between %(first)s and %(last)s."),
            code="year",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    if not notice or len(notice) > CalendarYear._meta.get_field("notice").max_length:
        raise ValidationError(
            _("Name the notice the calendar comes from (at most 200 characters)."),
            code="notice",
        )


def _upsert_year(*, year: int, notice: str, actor) -> tuple[CalendarYear, str]:
    """The year's row, locked and updated (or created); and its source before."""
    imported_by = actor if getattr(actor, "is_authenticated", False) else None
    existing = CalendarYear.objects.select_for_update().filter(year=year).first()
    if existing is None:
        created = CalendarYear.objects.create(
            year=year, source=CalendarYear.Source.NOTICE, notice=notice, imported_by=imported_by
        )
        return created, ""
    previous = existing.source
    existing.source, existing.notice, existing.imported_by = (
        CalendarYear.Source.NOTICE,
        notice,
        imported_by,
    )
    existing.save(update_fields=["source", "notice", "imported_by", "imported_at"])
    return existing, previous
