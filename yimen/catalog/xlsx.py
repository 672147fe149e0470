"""The catalogue as an xlsx workbook: how departments hand over their item lists, and how
the city gives them back (docs/catalogue-xlsx.md describes the template).

The workbook is an exchange format, so its sheet names, headers and the words written in
its cells (行政许可, 即办件, 是/否…) are fixed Chinese vocabulary defined here, whatever the
language of the person exporting: a file exported under one language imports under any
other. Import also accepts the codes (`licence`, `immediate`) in place of the words.

Import reports every problem of a file in one run. First every cell of every sheet is read
and checked, and every reference (department, region, window category, material type,
dictionary key) resolved. Then, in one transaction, the library rows and every item whose
rows were read cleanly are written through the services, so that the services' own checks
(the models' rules, the blocking quality findings of a published row) run too; an error a
service raises is mapped back to its sheet, row and column, and the import goes on with
the next item. If anything was wrong the transaction is rolled back: nothing is written.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from yimen.common import writes
from yimen.org.choices import Role
from yimen.org.models import Department, Region, WindowCategory

from . import selectors, services
from .choices import (
    FieldType,
    HandlingType,
    HolderKind,
    ItemType,
    LimitUnit,
    MaterialKind,
    OnlineDepth,
    Requirement,
    Target,
    TongbanScope,
    VersionStatus,
)
from .models import (
    FieldDefinition,
    ItemVersion,
    MaterialType,
    ServiceItem,
)

# --- the vocabulary of the template ------------------------------------------------------------

STATUS_WORDS = {
    VersionStatus.DRAFT: "草稿",
    VersionStatus.PUBLISHED: "已发布",
    VersionStatus.ARCHIVED: "已下架",
}
ITEM_TYPE_WORDS = {
    ItemType.LICENCE: "行政许可",
    ItemType.PAYMENT: "行政给付",
    ItemType.CONFIRMATION: "行政确认",
    ItemType.LEVY: "行政征收",
    ItemType.REWARD: "行政奖励",
    ItemType.ADJUDICATION: "行政裁决",
    ItemType.OTHER_POWER: "其他行政权力",
    ItemType.PUBLIC_SERVICE: "公共服务",
}
TARGET_WORDS = {Target.PERSON: "自然人", Target.ENTERPRISE: "法人", Target.BOTH: "自然人和法人"}
UNIT_WORDS = {LimitUnit.WORKDAYS: "工作日", LimitUnit.DAYS: "自然日"}
HANDLING_WORDS = {HandlingType.IMMEDIATE: "即办件", HandlingType.PROMISED: "承诺件"}
DEPTH_WORDS = {
    OnlineDepth.FULL_ONLINE: "全程网办",
    OnlineDepth.ONLINE_PREREVIEW: "原件预审",
    OnlineDepth.ORIGINAL_CHECK: "原件核验",
    OnlineDepth.OFFLINE: "仅窗口办理",
}
TONGBAN_WORDS = {
    TongbanScope.NONE: "",
    TongbanScope.CITYWIDE: "全市通办",
    TongbanScope.CROSS_REGION: "异地通办",
}
REQUIREMENT_WORDS = {Requirement.REQUIRED: "必需", Requirement.CONDITIONAL: "按条件提交"}
MATERIAL_KIND_WORDS = {
    MaterialKind.CERTIFICATE: "证照",
    MaterialKind.FORM: "表格",
    MaterialKind.DOCUMENT: "其他文书",
}
HOLDER_WORDS = {
    HolderKind.ANY: "任何人",
    HolderKind.PERSON: "仅自然人",
    HolderKind.ENTERPRISE: "仅法人",
}
FIELD_TYPE_WORDS = {
    FieldType.TEXT: "文本",
    FieldType.TEXTAREA: "长文本",
    FieldType.INTEGER: "整数",
    FieldType.DECIMAL: "数字",
    FieldType.DATE: "日期",
    FieldType.BOOLEAN: "是/否",
    FieldType.CHOICE: "单选",
    FieldType.MULTICHOICE: "多选",
    FieldType.CITIZEN_ID: "身份证号",
    FieldType.USCC: "统一社会信用代码",
    FieldType.MOBILE: "手机号码",
    FieldType.EMAIL: "电子邮箱",
}
ROLE_WORDS = {Role.REVIEWER: "审批人员", Role.DEPARTMENT_HEAD: "部门负责人"}
YES, NO = "是", "否"
NODE_NAMES = (
    "预约", "取号", "申请", "预审", "收件", "受理", "审查", "特别程序", "决定", "缴费", "制证",
    "送达", "评价归档",
)  # fmt: skip

# What an item that the file marks archived is withdrawn for.
ARCHIVE_REASON = "由导入文件下架"
DRAFT_NOTE = "由导入文件更新"

# --- the template: sheets and columns --------------------------------------------------------

TEXT, LONG, CODE, KEY, LINES, INT, DECIMAL, BOOL, CHOICE, NODES = (
    "text", "long", "code", "key", "lines", "int", "decimal", "bool", "choice", "nodes",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the model field it carries, its Chinese header and how its
    cells are written. CODE cells are upper-cased identifiers (credit codes); KEY cells are
    library keys, kept as written."""

    field: str
    header: str
    kind: str = TEXT
    width: int = 14
    words: Mapping[str, str] | None = None
    required: bool = False
    note: str = ""

    @property
    def allowed(self) -> list[str]:
        """The words a cell may hold, for the header's comment and the drop-down list."""
        if self.kind == BOOL:
            return [YES, NO]
        if self.words:
            return [word for word in self.words.values() if word]
        return []


@dataclass(frozen=True)
class Sheet:
    name: str
    about: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)


def _code_column(**options) -> Column:
    return Column("implementation_code", "实施编码", CODE, width=36, required=True, **options)


def _order_column() -> Column:
    return Column("order", "序号", INT, width=6, required=True, note="决定同一事项内的先后顺序")


ITEMS = Sheet(
    "事项",
    "每个事项一行：事项的最新版本（有草稿时为草稿）及其状态。",
    (
        _code_column(
            note="部门统一社会信用代码 + 实施主体性质 + 基本编码（+ 业务办理项），31 或 33 位"
        ),
        Column("department", "实施主体信用代码", CODE, width=22, required=True),
        Column("region", "行政区划代码", CODE, width=14, note="12 位；留空取部门所在区划"),
        Column("status", "状态", CHOICE, width=8, words=STATUS_WORDS, required=True),
        Column("name", "事项名称", width=30),
        Column("item_type", "事项类型", CHOICE, width=12, words=ITEM_TYPE_WORDS),
        Column("window_category", "窗口类别编码", KEY, width=14, note="留空：不指定窗口类别"),
        Column("target", "服务对象", CHOICE, width=12, words=TARGET_WORDS),
        Column("keywords", "关键词", width=20, note="以空格分隔"),
        Column("conditions", "受理条件", LONG, width=40),
        Column("legal_basis", "设定依据", LINES, width=40, note="每行一条，写明条款"),
        Column("statutory_limit", "法定办结时限", INT, width=10),
        Column("statutory_unit", "法定时限单位", CHOICE, width=10, words=UNIT_WORDS),
        Column("promised_limit", "承诺办结时限", INT, width=10, note="0 表示当场办结"),
        Column("promised_unit", "承诺时限单位", CHOICE, width=10, words=UNIT_WORDS),
        Column("handling_type", "办件类型", CHOICE, width=10, words=HANDLING_WORDS),
        Column("is_free", "是否免费", BOOL, width=8),
        Column("fee_amount", "收费金额（元）", DECIMAL, width=12, note="免费时留空"),
        Column("fee_basis", "收费标准及依据", LONG, width=30),
        Column("visits", "到现场次数", INT, width=8, words={"0": "0", "1": "1", "2": "2"}),
        Column("online_depth", "网办深度", CHOICE, width=12, words=DEPTH_WORDS),
        Column("zero_visit", "零跑动", BOOL, width=8),
        Column("zero_submission", "零提交", BOOL, width=8),
        Column("on_the_spot", "马上办", BOOL, width=8),
        Column("online", "网上办", BOOL, width=8),
        Column("one_visit", "一次办", BOOL, width=8),
        Column("nearby", "就近办", BOOL, width=8),
        Column("tongban", "通办范围", CHOICE, width=10, words=TONGBAN_WORDS, note="留空：不通办"),
        Column("supervision_phone", "监督投诉电话", width=16),
        Column("consultation_phone", "咨询电话", width=16),
        Column("location", "办理地点", width=24),
        Column("hours", "办理时间", width=20),
        Column("flow_description", "办理流程", LONG, width=30),
        Column("nodes", "办理环节", NODES, width=30, note="环节编号，以逗号分隔"),
    ),
)
MATERIALS = Sheet(
    "材料",
    "每项申请材料一行，按实施编码归属事项，按序号排列。",
    (
        _code_column(),
        _order_column(),
        Column("material_type", "材料类型编码", KEY, width=20, required=True),
        Column("name", "材料名称", width=30, note="留空：用材料目录中的名称"),
        Column("originals", "原件份数", INT, width=8),
        Column("copies", "复印件份数", INT, width=8),
        Column("electronic_accepted", "接受电子材料", BOOL, width=8),
        Column("requirement", "必要性", CHOICE, width=12, words=REQUIREMENT_WORDS),
        Column("condition", "提交条件", width=30, note="按条件提交的材料必填，必需材料留空"),
        Column("tolerable", "可容缺", BOOL, width=8),
        Column("tolerance_method", "容缺补交方式", width=24, note="可容缺时必填"),
        Column("tolerance_days", "容缺补交时限（工作日）", INT, width=10, note="可容缺时必填"),
        Column("note", "备注", width=24),
    ),
)
FORM_FIELDS = Sheet(
    "表单字段",
    "每个申请表字段一行：引用字段字典中的一个字段键。",
    (
        _code_column(),
        _order_column(),
        Column("field", "字段键", KEY, width=20, required=True),
        Column("required", "必填", BOOL, width=8),
    ),
)
REVIEW_STEPS = Sheet(
    "审查环节",
    "每个审查步骤一行（如 承办 → 审核 → 审批），按序号依次执行。",
    (
        _code_column(),
        _order_column(),
        Column("name", "环节名称", width=12),
        Column("role", "办理角色", CHOICE, width=12, words=ROLE_WORDS),
    ),
)
MATERIAL_TYPES = Sheet(
    "材料目录",
    "共用材料库：每种材料一行，以材料类型编码为键；空白表格和样表文件不在本文件中，"
    "须在管理后台上传。",
    (
        Column("code", "材料类型编码", KEY, width=20, required=True, note="字母、数字、- 和 _"),
        Column("name", "材料类型名称", width=30),
        Column("description", "说明", LONG, width=40),
        Column("kind", "材料种类", CHOICE, width=10, words=MATERIAL_KIND_WORDS),
        Column("holder_kind", "所属对象", CHOICE, width=10, words=HOLDER_WORDS),
        Column("validity_days", "有效期（天）", INT, width=10, note="留空：长期有效"),
        Column("is_active", "启用", BOOL, width=8),
    ),
)
DICTIONARY = Sheet(
    "字段字典",
    "共用字段字典：每个字段一行，以字段键为键。",
    (
        Column("key", "字段键", KEY, width=20, required=True, note="字母、数字、- 和 _"),
        Column("label", "字段名称", width=20),
        Column("datatype", "数据类型", CHOICE, width=14, words=FIELD_TYPE_WORDS),
        Column("choices", "选项", LINES, width=24, note="单选、多选字段必填，每行一个"),
        Column("max_length", "最大长度", INT, width=8),
        Column("min_value", "最小值", DECIMAL, width=10),
        Column("max_value", "最大值", DECIMAL, width=10),
        Column("pattern", "校验正则", width=20),
        Column("pattern_message", "校验提示", width=20),
        Column("help_text", "填写说明", width=24),
        Column("holder_kind", "所属对象", CHOICE, width=10, words=HOLDER_WORDS),
        Column("is_active", "启用", BOOL, width=8),
    ),
)
# The 事项 columns that say which item and in which state; the others are its guide.
IDENTITY = ("implementation_code", "department", "region", "status")
GUIDE_COLUMNS = tuple(c for c in ITEMS.columns if c.field not in IDENTITY)
SHEETS = (ITEMS, MATERIALS, FORM_FIELDS, REVIEW_STEPS, MATERIAL_TYPES, DICTIONARY)
PART_SHEETS = {"materials": MATERIALS, "form_fields": FORM_FIELDS, "review_steps": REVIEW_STEPS}
# A part's own columns: those after its item's code and its order.
PART_COLUMNS = {keyword: sheet.columns[2:] for keyword, sheet in PART_SHEETS.items()}
INSTRUCTIONS = "说明"

RULES = (
    "第一行是表头，表头文字不要改动；列的顺序可以调整，表头之外多出的列导入时忽略。"
    "表头的批注写有字段代码和可选值。",
    "「是/否」列填写“是”或“否”。",
    "有下拉列表的列填写列表中的词语（导入时也接受字段代码，如 licence、immediate）。",
    "设定依据、字段选项：一个单元格内每行一条（Alt+Enter 换行）。",
    "办理环节：环节编号，以逗号分隔。"
    + "，".join(f"{n} {name}" for n, name in enumerate(NODE_NAMES, 1))
    + "；3、5、6、7、9、12、13 为必经环节。",
    "材料、表单字段、审查环节按「实施编码」归属事项，按「序号」排列；"
    "导入时以文件为准，整体替换该事项的清单。",
    "导入：材料目录、字段字典按编码新增或更新；事项按实施编码新增，或在内容变化时生成新草稿；"
    "状态为“已发布”的事项随即发布（质量检查有阻断性问题则报错），“已下架”的发布后下架。"
    "与现有最新版本相同的行不作任何修改。",
    "任何一行有错误，整个文件都不导入；一次列出全部错误，写明工作表、行号、列和原因。",
    "文件中没有的事项不会被删除或下架。主题（一件事）不在本文件中。",
    "每个事项只导出最新版本，不含历史版本。",
)


# --- reading cells ------------------------------------------------------------------------------


class CellError(Exception):
    """Why one cell cannot be read."""


def _words_list(words: Iterable[str]) -> str:
    return "、".join(w for w in words if w)


def _as_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def parse_cell(column: Column, raw: Any) -> Any:
    """The value a cell holds for its model field (library references as their codes)."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        if column.required:
            raise CellError(gettext("This cell must not be empty."))
        if column.kind == BOOL:
            raise CellError(gettext("Write 是 or 否."))
        if column.kind == CHOICE and "" not in (column.words or {}):
            raise CellError(
                gettext("Write one of: %(words)s.") % {"words": _words_list(column.allowed)}
            )
        return {LINES: [], NODES: [], INT: None, DECIMAL: None, KEY: None}.get(column.kind, "")
    kind = column.kind
    if kind in (TEXT, LONG, KEY):
        return _as_text(raw)
    if kind == CODE:
        return _as_text(raw).upper()
    if kind == LINES:
        return [line.strip() for line in str(raw).splitlines() if line.strip()]
    if kind == INT:
        return _parse_int(raw)
    if kind == DECIMAL:
        return _parse_decimal(raw)
    if kind == BOOL:
        if isinstance(raw, bool):
            return raw
        if raw in (YES, NO):
            return raw == YES
        raise CellError(gettext("Write 是 or 否, not 「%(value)s」.") % {"value": raw})
    if kind == CHOICE:
        text = _as_text(raw)
        for value, word in column.words.items():
            if text in (word, value):
                return value
        raise CellError(
            gettext("「%(value)s」 is not one of: %(words)s.")
            % {"value": text, "words": _words_list(column.allowed)}
        )
    if kind == NODES:
        return _parse_nodes(raw)
    raise AssertionError(kind)


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CellError(gettext("Not a whole number: 「%(value)s」.") % {"value": raw})
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    raise CellError(gettext("Not a whole number: 「%(value)s」.") % {"value": raw})


def _parse_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(gettext("Not a number: 「%(value)s」.") % {"value": raw})
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise CellError(gettext("Not a number: 「%(value)s」.") % {"value": raw})
    return value


def _parse_nodes(raw: Any) -> list[int]:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        parts = [_as_text(raw)]
    else:
        parts = [p for p in re.split(r"[,，、;；\s]+", str(raw)) if p]
    if not all(p.isdigit() for p in parts):
        raise CellError(
            gettext("Process nodes are numbers separated by commas, not 「%(value)s」.")
            % {"value": raw}
        )
    nodes = [int(p) for p in parts]
    if len(set(nodes)) != len(nodes):
        raise CellError(gettext("A process node is listed twice."))
    return nodes


# --- writing cells -------------------------------------------------------------------------------


def format_cell(column: Column, value: Any) -> Any:
    """What a cell shows for a field's value: the inverse of `parse_cell`."""
    kind = column.kind
    if value is None:
        return None
    if kind == BOOL:
        value = YES if value else NO
    elif kind == CHOICE:
        value = column.words.get(value, value)
    elif kind == LINES:
        value = "\n".join(value)
    elif kind == NODES:
        value = ",".join(str(n) for n in value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value) or None  # control characters cannot be stored
    return value


def _item_record(version: ItemVersion) -> dict[str, Any]:
    """The 事项 row of a version, fields by name, library references by their codes."""
    item = version.item
    return {
        "implementation_code": item.implementation_code,
        "department": item.department.uscc,
        "region": item.region.code,
        "status": version.status,
        **_guide_of(version),
    }


def _guide_of(version: ItemVersion) -> dict[str, Any]:
    guide = {c.field: getattr(version, c.field) for c in GUIDE_COLUMNS}
    guide["window_category"] = version.window_category.code if version.window_category else None
    return guide


def _parts_of(version: ItemVersion) -> dict[str, list[dict[str, Any]]]:
    """The version's parts in their order, each as its sheet's fields (with the order)."""
    parts = {}
    for keyword, columns in PART_COLUMNS.items():
        rows = []
        for part in getattr(version, keyword).all():
            row = {"order": part.order}
            row.update((c.field, getattr(part, c.field)) for c in columns)
            if keyword == "materials":
                row["material_type"] = part.material_type.code
            elif keyword == "form_fields":
                row["field"] = part.field.key
            rows.append(row)
        parts[keyword] = rows
    return parts


def _unordered(parts: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The parts without their order numbers: only the sequence matters."""
    return {
        keyword: [{k: v for k, v in row.items() if k != "order"} for row in rows]
        for keyword, rows in parts.items()
    }


def _library_record(sheet: Sheet, obj) -> dict[str, Any]:
    return {c.field: getattr(obj, c.field) for c in sheet.columns}


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _header_comment(column: Column) -> Comment:
    lines = [column.field]
    if allowed := column.allowed:
        lines.append("可选：" + _words_list(allowed))
    if column.note:
        lines.append(column.note)
    comment = Comment("\n".join(lines), "Yimen")
    comment.width, comment.height = 240, 90
    return comment


def _write_sheet(book: Workbook, sheet: Sheet, records: Iterable[Mapping[str, Any]]) -> None:
    ws = book.create_sheet(sheet.name)
    for index, column in enumerate(sheet.columns, 1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
        cell.comment = _header_comment(column)
        ws.column_dimensions[get_column_letter(index)].width = column.width
    for row, record in enumerate(records, 2):
        for index, column in enumerate(sheet.columns, 1):
            value = format_cell(column, record[column.field])
            cell = ws.cell(row=row, column=index, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            if column.kind in (LONG, LINES):
                cell.alignment = _WRAP
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{max(ws.max_row, 2)}"
    for index, column in enumerate(sheet.columns, 1):
        if allowed := column.allowed:
            validation = DataValidation(
                type="list",
                formula1='"{}"'.format(",".join(allowed)),
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                error="可选：" + _words_list(allowed),
            )
            letter = get_column_letter(index)
            validation.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(validation)


def _write_instructions(book: Workbook) -> None:
    ws = book.create_sheet(INSTRUCTIONS)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 14, 100
    ws.append(["政务服务事项目录", "导入导出模板"])
    ws.append([])
    ws.append(["工作表", "内容"])
    for sheet in SHEETS:
        ws.append([sheet.name, sheet.about])
    ws.append([])
    ws.append(["填写规则", None])
    for number, rule in enumerate(RULES, 1):
        ws.append([number, rule])
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = _WRAP
    for cell in (ws["A1"], ws["A3"], ws["B3"], ws[f"A{5 + len(SHEETS)}"]):
        cell.font = _HEADER_FONT


def export_catalogue(
    target: str | IO[bytes],
    versions: Iterable[ItemVersion] | None = None,
    *,
    progress: Callable[..., Iterable] | None = None,
) -> int:
    """Write `versions` (by default each item's latest, selectors.latest_versions()) and the
    whole material library and field dictionary to a workbook; returns the items written.
    Versions passed in should have their guide prefetched (ItemVersion.objects.with_guide())."""
    progress = progress or _no_progress
    if versions is None:
        versions = selectors.latest_versions()
    versions = sorted(versions, key=lambda v: v.item.implementation_code)
    items, parts = [], {keyword: [] for keyword in PART_SHEETS}
    for version in progress(versions, desc=gettext("Exporting items"), total=len(versions)):
        items.append(_item_record(version))
        code = version.item.implementation_code
        for keyword, rows in _parts_of(version).items():
            parts[keyword] += [{"implementation_code": code, **row} for row in rows]
    book = Workbook()
    book.remove(book.active)
    _write_instructions(book)
    _write_sheet(book, ITEMS, items)
    for keyword, sheet in PART_SHEETS.items():
        _write_sheet(book, sheet, parts[keyword])
    _write_sheet(
        book,
        MATERIAL_TYPES,
        (_library_record(MATERIAL_TYPES, t) for t in MaterialType.objects.order_by("code")),
    )
    _write_sheet(
        book,
        DICTIONARY,
        (_library_record(DICTIONARY, f) for f in FieldDefinition.objects.order_by("key")),
    )
    book.save(target)
    return len(items)


def _no_progress(iterable, **options):
    return iterable


# --- import: results and errors ---------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of the file: the sheet, its row (1 is the header) and column (the Chinese
    header) where it is, and why. Empty sheet: the whole file; row 0: the whole sheet or a
    column."""

    sheet: str
    row: int
    column: str
    reason: str
    letter: str = ""

    def __str__(self):
        if not self.sheet:
            return self.reason
        if not self.row:
            where = f"{self.sheet}「{self.column}」" if self.column else self.sheet
            return f"{where}: {self.reason}"
        if not self.column:
            return gettext("%(sheet)s row %(row)s: %(reason)s") % {
                "sheet": self.sheet,
                "row": self.row,
                "reason": self.reason,
            }
        return f"{self.sheet}!{self.letter}{self.row}「{self.column}」: {self.reason}"


class ImportFailed(ValidationError):
    """The file, or some of its rows, are wrong; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(error) for error in errors], code="catalog_import")


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    items: Tally = field(default_factory=Tally)
    material_types: Tally = field(default_factory=Tally)
    fields: Tally = field(default_factory=Tally)
    dry_run: bool = False


# --- import: reading the file ---------------------------------------------------------------


@dataclass
class _Table:
    sheet: Sheet
    letters: dict[str, str]  # field → its column's letter in the file
    rows: list[tuple[int, dict[str, Any]]]  # (row number, field → raw cell)


def _open(source) -> dict[str, _Table]:
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        reason = gettext("This is not an xlsx workbook: save it from Excel or WPS as .xlsx.")
        raise ImportFailed([RowError("", 0, "", reason)]) from exc
    except OSError as exc:
        reason = gettext("The file cannot be read: %(error)s") % {"error": exc}
        raise ImportFailed([RowError("", 0, "", reason)]) from exc
    try:
        return _tables(book)
    finally:
        book.close()


def _tables(book) -> dict[str, _Table]:
    tables, errors = {}, []
    for sheet in SHEETS:
        if sheet.name not in book.sheetnames:
            errors.append(RowError(sheet.name, 0, "", gettext("The sheet is missing.")))
            continue
        rows = book[sheet.name].iter_rows(values_only=True)
        header = next(rows, None) or ()
        positions = {}
        for index, cell in enumerate(header):
            if isinstance(cell, str) and cell.strip():
                positions.setdefault(cell.strip(), index)
        missing = [c for c in sheet.columns if c.header not in positions]
        for column in missing:
            errors.append(RowError(sheet.name, 0, column.header, gettext("The column is missing.")))
        if missing:
            continue
        index_of = {c.field: positions[c.header] for c in sheet.columns}
        table = _Table(sheet, {f: get_column_letter(i + 1) for f, i in index_of.items()}, rows=[])
        for number, cells in enumerate(rows, 2):
            raw = {f: cells[i] if i < len(cells) else None for f, i in index_of.items()}
            if any(v is not None and str(v).strip() for v in raw.values()):
                table.rows.append((number, raw))
        tables[sheet.name] = table
    if errors:
        raise ImportFailed(errors)
    return tables


@dataclass
class _Row:
    number: int
    data: dict[str, Any]


@dataclass
class _ItemRow(_Row):
    code: str = ""
    parts: dict[str, list[_Row]] = field(default_factory=dict)


@dataclass
class _LibraryRow(_Row):
    obj: Any = None  # the new or existing row with the file's values, validated, unsaved
    changed: dict[str, list] = field(default_factory=dict)  # existing row: field → [old, new]
    is_new: bool = True


# --- import: the whole run -----------------------------------------------------------------------


def import_catalogue(
    source: str | IO[bytes],
    *,
    actor,
    channel: str,
    progress: Callable[..., Iterable] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Apply a workbook to the catalogue in one transaction. Raises ImportFailed listing
    every problem of the file (in sheet, row and column order), and writes nothing, when any
    row is wrong. A dry run checks and counts everything, then rolls back.
    `progress(iterable, desc=..., total=...)` may wrap the loops (e.g. a progress bar)."""
    run = _Import(actor=actor, channel=channel, progress=progress or _no_progress)
    tables = _open(source)
    run.check(tables)
    with transaction.atomic():
        report = run.write()
        if run.errors:
            raise ImportFailed(sorted(run.errors, key=_position))  # and roll back
        if dry_run:
            report.dry_run = True
            transaction.set_rollback(True)
    return report


def _position(error: RowError) -> tuple:
    """Where an error is in the file, for listing them in reading order."""
    sheets = [sheet.name for sheet in SHEETS]
    column = column_index_from_string(error.letter) if error.letter else 0
    return sheets.index(error.sheet), error.row, column


class _Import:
    def __init__(self, *, actor, channel: str, progress):
        self.actor, self.channel, self.progress = actor, channel, progress
        self.errors: list[RowError] = []
        self.bad_rows: set[tuple[str, int]] = set()  # (sheet, row) of each error
        self.tables: dict[str, _Table] = {}

    def error(self, sheet: Sheet, row: int, name: str | None, reason) -> None:
        self.bad_rows.add((sheet.name, row))
        column = sheet.column(name) if name else None
        if column is None:
            reason = f"{name}: {reason}" if name else str(reason)
            self.errors.append(RowError(sheet.name, row, "", reason))
            return
        letter = self.tables[sheet.name].letters[column.field]
        self.errors.append(RowError(sheet.name, row, column.header, str(reason), letter))

    def validation_error(self, sheet: Sheet, row: int, exc: ValidationError, rename=None):
        """A model's or a service's errors, each at its column (or the row)."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.error(sheet, row, None, message)
            return
        for key, messages in exc.message_dict.items():
            target_sheet, target_row, name = (rename or (lambda k: (sheet, row, k)))(key)
            for message in messages:
                self.error(target_sheet, target_row, name, message)

    # --- phase one: read and check every row ---------------------------------------------------

    def _parsed(self, table: _Table) -> Iterable[_Row]:
        """Each row of the table with its cells read; a row with a bad cell is reported and
        still returned (without that cell), so that its other problems are reported too."""
        rows = self.progress(
            table.rows,
            desc=gettext("Checking %(sheet)s") % {"sheet": table.sheet.name},
            total=len(table.rows),
        )
        for number, raw in rows:
            data = {}
            for column in table.sheet.columns:
                try:
                    data[column.field] = parse_cell(column, raw[column.field])
                except CellError as exc:
                    self.error(table.sheet, number, column.field, exc)
            yield _Row(number, data)

    def check(self, tables: dict[str, _Table]) -> None:
        self.tables = tables
        self.material_types = self._check_library(MATERIAL_TYPES, MaterialType, "code")
        self.fields = self._check_library(DICTIONARY, FieldDefinition, "key")
        self.items = self._check_items()
        self._check_parts()

    def _check_library(self, sheet: Sheet, model, key: str) -> list[_LibraryRow]:
        rows = list(self._parsed(self.tables[sheet.name]))
        keys = [row.data.get(key) for row in rows]
        existing = model.objects.in_bulk([k for k in keys if k], field_name=key)
        checked, seen = [], set()
        for row in rows:
            value = row.data.get(key)
            if value and value in seen:
                self.error(sheet, row.number, key, gettext("This is already listed above."))
                continue
            seen.add(value)
            if len(row.data) < len(sheet.columns):
                continue  # a bad cell, reported
            current = existing.get(value)
            obj = current or model()
            changed = {}
            for name, new in row.data.items():
                old = getattr(obj, name)
                if current is not None and _normal(old) != _normal(new):
                    changed[name] = [str(old), str(new)]
                setattr(obj, name, new)
            try:
                writes.validate(obj)
            except ValidationError as exc:
                self.validation_error(sheet, row.number, exc)
                continue
            checked.append(
                _LibraryRow(row.number, row.data, obj=obj, changed=changed, is_new=not current)
            )
        return checked

    def _check_items(self) -> list[_ItemRow]:
        rows = list(self._parsed(self.tables[ITEMS.name]))
        self.item_codes = {
            r.data["implementation_code"] for r in rows if r.data.get("implementation_code")
        }
        self.departments = Department.objects.in_bulk(
            {r.data["department"] for r in rows if r.data.get("department")}, field_name="uscc"
        )
        self.regions = Region.objects.in_bulk(
            {r.data["region"] for r in rows if r.data.get("region")}, field_name="code"
        )
        self.categories = WindowCategory.objects.in_bulk(
            {r.data["window_category"] for r in rows if r.data.get("window_category")},
            field_name="code",
        )
        self.existing = {
            i.implementation_code: i
            for i in ServiceItem.objects.filter(
                implementation_code__in=self.item_codes
            ).select_related("department", "region")
        }
        checked, seen = [], set()
        for row in rows:
            code, data = row.data.get("implementation_code"), row.data
            if code and code in seen:
                self.error(
                    ITEMS,
                    row.number,
                    "implementation_code",
                    gettext("This is already listed above."),
                )
            seen.add(code)
            department = self.departments.get(data.get("department"))
            if data.get("department") and department is None:
                self.error(
                    ITEMS,
                    row.number,
                    "department",
                    gettext("No department has the credit code %(uscc)s.")
                    % {"uscc": data["department"]},
                )
            if data.get("region") and data["region"] not in self.regions:
                self.error(
                    ITEMS,
                    row.number,
                    "region",
                    gettext("No region has the code %(code)s.") % {"code": data["region"]},
                )
            if data.get("window_category") and data["window_category"] not in self.categories:
                self.error(
                    ITEMS,
                    row.number,
                    "window_category",
                    gettext("No window category has the code %(code)s.")
                    % {"code": data["window_category"]},
                )
            if item := self.existing.get(code):
                if department and item.department_id != department.pk:
                    self.error(
                        ITEMS,
                        row.number,
                        "department",
                        gettext("The item belongs to %(department)s; an import cannot move it.")
                        % {"department": item.department},
                    )
                if data.get("region") and data["region"] != item.region.code:
                    self.error(
                        ITEMS,
                        row.number,
                        "region",
                        gettext("The item is in region %(code)s; an import cannot move it.")
                        % {"code": item.region.code},
                    )
            checked.append(
                _ItemRow(row.number, data, code=code, parts={k: [] for k in PART_SHEETS})
            )
        return checked

    def _check_parts(self) -> None:
        by_code: dict[str, _ItemRow] = {}
        for row in self.items:
            by_code.setdefault(row.code, row)  # a repeated row is refused; parts go to the first
        known = {
            "materials": (
                "material_type",
                {r.data["code"] for r in self.material_types}
                | set(MaterialType.objects.values_list("code", flat=True)),
                gettext("No material type has the code %(code)s."),
            ),
            "form_fields": (
                "field",
                {r.data["key"] for r in self.fields}
                | set(FieldDefinition.objects.values_list("key", flat=True)),
                gettext("The field dictionary has no key %(code)s."),
            ),
        }
        for keyword, sheet in PART_SHEETS.items():
            orders: dict[str, set[int]] = {}
            for row in self._parsed(self.tables[sheet.name]):
                code, order = row.data.get("implementation_code"), row.data.get("order")
                if code and code not in self.item_codes:
                    self.error(
                        sheet,
                        row.number,
                        "implementation_code",
                        gettext("No item with this code is on the sheet %(sheet)s.")
                        % {"sheet": ITEMS.name},
                    )
                if order is not None:
                    if order < 1:
                        self.error(sheet, row.number, "order", gettext("Orders start at 1."))
                    elif order in orders.setdefault(code, set()):
                        self.error(sheet, row.number, "order", gettext("This order is used twice."))
                    orders[code].add(order)
                if keyword in known:
                    name, keys, message = known[keyword]
                    if (value := row.data.get(name)) and value not in keys:
                        self.error(sheet, row.number, name, message % {"code": value})
                if code in by_code:
                    by_code[code].parts[keyword].append(row)
        for item in self.items:
            for rows in item.parts.values():
                rows.sort(key=lambda r: r.data.get("order") or 0)

    # --- phase two: write (rolled back if any row is wrong) ------------------------------------

    def write(self) -> ImportReport:
        report = ImportReport()
        self._write_library(
            self.material_types, report.material_types, services.material_type_create
        )
        self._write_library(self.fields, report.fields, services.field_definition_create)
        self.material_type_objs = MaterialType.objects.in_bulk(field_name="code")
        self.field_objs = FieldDefinition.objects.in_bulk(field_name="key")
        latest = {
            v.item.implementation_code: v
            for v in selectors.latest_versions().filter(
                item__implementation_code__in=[row.code for row in self.items]
            )
        }
        for row in self.progress(self.items, desc=gettext("Writing items"), total=len(self.items)):
            if not self._read_cleanly(row):
                continue  # its content is not known: its errors are reported, the rest waits
            try:
                with transaction.atomic():
                    changed = self._write_item(row, latest.get(row.code))
            except ValidationError as exc:
                self.validation_error(ITEMS, row.number, exc, rename=self._renamer(row))
                continue
            tally = report.items
            if changed is None:
                tally.created += 1
            elif changed:
                tally.updated += 1
            else:
                tally.unchanged += 1
        return report

    def _read_cleanly(self, row: _ItemRow) -> bool:
        """Whether the item's row and the rows of its parts passed phase one."""
        rows = [(ITEMS, row)] + [
            (PART_SHEETS[keyword], part) for keyword, parts in row.parts.items() for part in parts
        ]
        return all((sheet.name, r.number) not in self.bad_rows for sheet, r in rows)

    def _write_library(self, rows: list[_LibraryRow], tally: Tally, create):
        for row in rows:
            if row.is_new:
                create(actor=self.actor, channel=self.channel, **row.data)
                tally.created += 1
            elif row.changed:
                services.library_update(
                    entry=type(row.obj).objects.get(pk=row.obj.pk),
                    data=row.data,
                    actor=self.actor,
                    channel=self.channel,
                )
                tally.updated += 1
            else:
                tally.unchanged += 1

    def _resolved(self, row: _ItemRow):
        """The row's guide and parts as the services take them (library rows as objects)."""
        guide = _guide_codes(row)
        code = guide["window_category"]
        guide["window_category"] = self.categories[code] if code else None
        parts = {}
        for keyword, rows in _part_codes(row).items():
            parts[keyword] = []
            for data in rows:
                if keyword == "materials":
                    data["material_type"] = self.material_type_objs[data["material_type"]]
                elif keyword == "form_fields":
                    data["field"] = self.field_objs[data["field"]]
                parts[keyword].append(data)
        return guide, parts

    def _write_item(self, row: _ItemRow, version: ItemVersion | None) -> bool | None:
        """Create or bring the item to the row; None when created, else whether it changed."""
        status = row.data["status"]
        guide, parts = self._resolved(row)
        who = {"actor": self.actor, "channel": self.channel}
        if version is None:
            department = self.departments[row.data["department"]]
            region = self.regions.get(row.data["region"]) or department.region
            version = services.item_create(
                department=department,
                implementation_code=row.code,
                region=region,
                guide=guide,
                **parts,
                **who,
            )
            self._reach(version, status)
            return None
        in_file = (_guide_codes(row), _part_codes(row))
        differs = _normal(in_file) != _normal((_guide_of(version), _unordered(_parts_of(version))))
        if not differs and status == version.status:
            return False
        new_version_needed = (
            differs
            or status == VersionStatus.DRAFT
            or (status == VersionStatus.PUBLISHED and version.status == VersionStatus.ARCHIVED)
        )
        if version.status != VersionStatus.DRAFT and new_version_needed:
            version = services.draft_start(item=version.item, change_note=DRAFT_NOTE, **who)
        if differs:
            version = services.draft_update(version=version, guide=guide, **parts, **who)
        self._reach(version, status)
        return True

    def _reach(self, version: ItemVersion, status: str) -> None:
        who = {"actor": self.actor, "channel": self.channel}
        if version.status == VersionStatus.DRAFT and status != VersionStatus.DRAFT:
            version = services.publish(version=version, **who)
        if version.status == VersionStatus.PUBLISHED and status == VersionStatus.ARCHIVED:
            services.archive(version=version, reason=ARCHIVE_REASON, **who)

    def _renamer(self, row: _ItemRow):
        """Where a service's error key (`promised_limit`, `materials.2.condition`) is."""

        def rename(key: str):
            head, _dot, rest = key.partition(".")
            if head in PART_SHEETS and rest:
                index, _dot, name = rest.partition(".")
                parts = row.parts[head]
                if index.isdigit() and int(index) < len(parts):
                    name = None if name == NON_FIELD_ERRORS else name
                    return PART_SHEETS[head], parts[int(index)].number, name
            if key == "reason":
                key = "status"
            return ITEMS, row.number, None if key == NON_FIELD_ERRORS else key

        return rename


def _guide_codes(row: _ItemRow) -> dict[str, Any]:
    """The row's guide as read (library references as their codes)."""
    return {c.field: row.data[c.field] for c in GUIDE_COLUMNS}


def _part_codes(row: _ItemRow) -> dict[str, list[dict[str, Any]]]:
    """The row's parts as read, in their order, without the order numbers."""
    return {
        keyword: [{c.field: part.data[c.field] for c in columns} for part in row.parts[keyword]]
        for keyword, columns in PART_COLUMNS.items()
    }


def _normal(value: Any) -> Any:
    """A value as a cell gives it back: text stripped, with plain line ends (a browser's
    textarea sends CRLF; the workbook returns LF)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value
