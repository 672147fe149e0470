"""The hotline's category taxonomy as an xlsx workbook (one sheet, 分类): how the center
hands the taxonomy over and takes it back.

Like the catalogue's workbook (yimen.catalog.xlsx), the sheet name, the headers and the
words in the cells are fixed Chinese vocabulary, whatever the language of the person
exporting. Columns: 分类编码 (the code), 分类名称, 上级编码 (empty for a top-level category),
默认承办单位 (the department's credit code, or its full or short name), 排序, 启用 (是/否;
optional, 是 when absent). 单位名称 is written on export for the reader and ignored on import.

Import reports every problem of the file at once, by row and column. Rows are matched to
categories by code: a new code is created, a known one updated (its name, parent, unit,
order, whether it is active). Parents come before their children whatever the order of the
rows; a parent may be a row of the file or a category that exists already. Categories the
file does not name are left as they are. Every write goes through yimen.hotline.services (so
their rules and the audit apply) in one transaction: if any row is wrong nothing is written.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from yimen.org.models import Department

from . import selectors, services
from .models import MAX_LEVEL, Category

SHEET = "分类"
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    width: int = 14
    required: bool = True  # the column must be in the header row


COLUMNS = (
    Column("code", "分类编码", 18),
    Column("name", "分类名称", 20),
    Column("parent", "上级编码", 18),
    Column("default_unit", "默认承办单位", 24),
    Column("order", "排序", 8),
    Column("is_active", "启用", 8, required=False),
    Column("unit_name", "单位名称", 36, required=False),
)
IMPORTED = ("code", "name", "parent", "default_unit", "order", "is_active")


# --- export -------------------------------------------------------------------------------------


def as_text(cells: Iterable[Any]) -> None:
    """Every text cell stays text: a name starting with = (or +, -, @) is never taken for a
    formula by the spreadsheet that opens the file."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def export_taxonomy(target: str | IO[bytes]) -> int:
    """Write every category (active or not), tree order, to a workbook; returns the rows."""
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    for index, column in enumerate(COLUMNS, 1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    count = 0
    for node in selectors.walk(selectors.tree(active_only=False)):
        count += 1
        c = node.category
        unit = c.default_unit
        ws.append(
            [
                c.code,
                c.name,
                c.parent.code if c.parent_id else "",
                unit.uscc if unit else "",
                c.order,
                YES if c.is_active else NO,
                unit.name if unit else "",
            ]
        )
        as_text(ws[ws.max_row])
    ws.freeze_panes = "A2"
    book.save(target)
    return count


# --- import -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of the file: its row (1 is the header; 0 the whole file) and column."""

    row: int
    column: str
    reason: str

    def __str__(self):
        if not self.row:
            return f"「{self.column}」: {self.reason}" if self.column else self.reason
        if not self.column:
            return gettext("Row %(row)s: %(reason)s") % {"row": self.row, "reason": self.reason}
        return gettext("Row %(row)s, %(column)s: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
        }


class ImportFailed(ValidationError):
    """The file, or some of its rows, are wrong; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(error) for error in errors], code="hotline_taxonomy_import")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False


@dataclass
class _Row:
    number: int
    code: str
    values: dict[str, Any] = field(default_factory=dict)  # field → parsed value
    parent_code: str = ""


def import_taxonomy(
    source: str | IO[bytes], *, actor, channel: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Apply a workbook to the taxonomy. Raises ImportFailed (every problem, in row order)
    and writes nothing when anything is wrong; a dry run checks and counts, then rolls back."""
    rows, errors = _read(source)
    with transaction.atomic():
        report = _write(rows, errors, actor=actor, channel=channel)
        if errors:
            raise ImportFailed(sorted(errors, key=lambda e: (e.row, _column_index(e.column))))
        if dry_run:
            report.dry_run = True
            transaction.set_rollback(True)
    return report


def _column_index(header: str) -> int:
    return next((i for i, c in enumerate(COLUMNS) if c.header == header), -1)


def _header(name: str) -> str:
    return next(c.header for c in COLUMNS if c.field == name)


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def _read(source) -> tuple[list[_Row], list[RowError]]:
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        reason = gettext("This is not an xlsx workbook: save it from Excel or WPS as .xlsx.")
        raise ImportFailed([RowError(0, "", reason)]) from None
    try:
        if SHEET not in book.sheetnames:
            reason = gettext("The sheet “%(sheet)s” is missing.") % {"sheet": SHEET}
            raise ImportFailed([RowError(0, "", reason)])
        lines = book[SHEET].iter_rows(values_only=True)
        header = [_text(cell) for cell in next(lines, None) or ()]
        missing = [c.header for c in COLUMNS if c.required and c.header not in header]
        if missing:
            reason = gettext("The column is missing.")
            raise ImportFailed([RowError(0, h, reason) for h in missing])
        index = {c.field: header.index(c.header) for c in COLUMNS if c.header in header}
        rows, errors = [], []
        for number, cells in enumerate(lines, 2):
            raw = {f: cells[i] if i < len(cells) else None for f, i in index.items()}
            if not any(_text(v) for v in raw.values()):
                continue
            rows.append(_parse(number, raw, errors))
    finally:
        book.close()
    _check_codes(rows, errors)
    return rows, errors


def _parse(number: int, raw: dict[str, Any], errors: list[RowError]) -> _Row:
    def bad(name: str, reason) -> None:
        errors.append(RowError(number, _header(name), str(reason)))

    row = _Row(number, code=_text(raw.get("code")), parent_code=_text(raw.get("parent")))
    if not row.code:
        bad("code", gettext("This cell must not be empty."))
    row.values["name"] = _text(raw.get("name"))
    if not row.values["name"]:
        bad("name", gettext("This cell must not be empty."))
    order = _text(raw.get("order")) or "0"
    try:
        row.values["order"] = int(order)
        if row.values["order"] < 0:
            raise ValueError
    except ValueError:
        bad("order", gettext("Enter a whole number from 0."))
    active = _text(raw.get("is_active")) or YES
    if active not in (YES, NO):
        bad("is_active", gettext("Write 是 or 否."))
    row.values["is_active"] = active == YES
    unit = _text(raw.get("default_unit"))
    row.values["default_unit"] = None
    if unit:
        try:
            row.values["default_unit"] = _department(unit)
        except ValueError as exc:
            bad("default_unit", exc)
    return row


def _department(text: str) -> Department:
    """A department named by its credit code, its full name or its short name."""
    found = list(Department.objects.filter(uscc=text.upper())[:1])
    if not found:
        found = list(Department.objects.filter(name=text)[:2]) or list(
            Department.objects.filter(short_name=text)[:2]
        )
    if not found:
        raise ValueError(gettext("No department has this credit code or name."))
    if len(found) > 1:
        raise ValueError(gettext("Several departments have this name: write the credit code."))
    return found[0]


def _check_codes(rows: list[_Row], errors: list[RowError]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.code in seen:
            errors.append(
                RowError(
                    row.number,
                    _header("code"),
                    gettext("This code is on row %(row)s already.") % {"row": seen[row.code]},
                )
            )
        elif row.code:
            seen[row.code] = row.number


def _in_tree_order(rows: list[_Row], errors: list[RowError]) -> list[_Row]:
    """Parents before children; a row whose parent is nowhere, or that is its own ancestor
    within the file, is an error."""
    by_code = {row.code: row for row in rows}
    known = set(
        Category.objects.filter(code__in=[r.parent_code for r in rows]).values_list(
            "code", flat=True
        )
    )
    depth: dict[str, int] = {}

    def level(row: _Row, trail: tuple[str, ...] = ()) -> int | None:
        if row.code in depth:
            return depth[row.code]
        if not row.parent_code:
            result = 1
        elif row.parent_code in trail or row.parent_code == row.code:
            return None
        elif parent := by_code.get(row.parent_code):
            above = level(parent, (*trail, row.code))
            result = None if above is None else above + 1
        elif row.parent_code in known:
            result = MAX_LEVEL  # placed after every row of the file; the services check it
        else:
            result = None
        depth[row.code] = result
        return result

    ordered = []
    for row in rows:
        if not row.code:
            continue
        if level(row) is None:
            if row.parent_code in by_code or row.parent_code == row.code:
                reason = gettext("The categories of the file form a loop.")
            else:
                reason = gettext("No category has this code, in the file or in the system.")
            errors.append(RowError(row.number, _header("parent"), reason))
            continue
        ordered.append(row)
    return sorted(ordered, key=lambda r: (depth[r.code], r.number))


def _write(rows: list[_Row], errors: list[RowError], *, actor, channel) -> ImportReport:
    report = ImportReport()
    bad_rows = {e.row for e in errors}
    failed: set[str] = set()
    existing = {c.code: c for c in Category.objects.filter(code__in=[r.code for r in rows])}
    for row in _in_tree_order(rows, errors):
        if row.number in bad_rows or row.parent_code in failed:
            failed.add(row.code)
            continue
        parent = None
        if row.parent_code:
            parent = existing.get(row.parent_code) or Category.objects.get(code=row.parent_code)
            existing[row.parent_code] = parent
        values = {**row.values, "parent": parent}
        try:
            category = existing.get(row.code)
            if category is None:
                active = values.pop("is_active")
                category = services.category_create(
                    actor=actor, code=row.code, channel=channel, **values
                )
                if not active:
                    services.category_deactivate(category=category, actor=actor, channel=channel)
                existing[row.code] = category
                report.created += 1
                continue
            changed = {k: v for k, v in values.items() if _differs(category, k, v)}
            if not changed:
                report.unchanged += 1
                continue
            services.category_update(category=category, actor=actor, channel=channel, **changed)
            report.updated += 1
        except ValidationError as exc:
            failed.add(row.code)
            _service_errors(row.number, exc, errors)
    return report


def _differs(category: Category, name: str, value: Any) -> bool:
    if name in ("parent", "default_unit"):
        return getattr(category, f"{name}_id") != (value.pk if value else None)
    return getattr(category, name) != value


def _service_errors(number: int, exc: ValidationError, errors: list[RowError]) -> None:
    if not hasattr(exc, "error_dict"):
        errors += [RowError(number, "", message) for message in exc.messages]
        return
    headers = {c.field: c.header for c in COLUMNS}
    for name, messages in exc.message_dict.items():
        column = "" if name == NON_FIELD_ERRORS else headers.get(name, "")
        for message in messages:
            errors.append(RowError(number, column, message))


def rows_of(errors: Iterable[RowError]) -> list[int]:
    """The rows with errors (for tests and reports)."""
    return sorted({e.row for e in errors})
