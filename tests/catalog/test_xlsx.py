"""The catalogue's xlsx template: export, import, and the row-by-row report of a bad file."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from yimen.catalog import selectors, services, xlsx
from yimen.catalog.choices import (
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
from yimen.catalog.management.commands.catalog_import import Command as ImportCommand
from yimen.catalog.models import (
    FieldDefinition,
    ItemVersion,
    MaterialType,
    ReviewStep,
    ServiceItem,
)
from yimen.catalog.xlsx import ImportFailed, export_catalogue, import_catalogue
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.org.choices import Role

from ..org.factories import DepartmentFactory, WindowCategoryFactory
from .factories import FieldDefinitionFactory, MaterialTypeFactory, make_item

pytestmark = pytest.mark.django_db

WHO = {"actor": None, "channel": Channel.SYSTEM}


@pytest.fixture
def catalogue():
    """A small catalogue: a published, a draft, an archived item, and one published item
    with a newer draft; conditional and tolerable materials; list fields."""
    first, second = DepartmentFactory(name="市场监督管理局"), DepartmentFactory(name="卫生健康局")
    category = WindowCategoryFactory(code="enterprise", name="企业办事")
    form = MaterialTypeFactory(
        code="application-form",
        name="申请书",
        kind=MaterialKind.FORM,
        description="申请人签字。\n加盖公章。",
    )
    licence = MaterialTypeFactory(
        code="id-card",
        name="居民身份证",
        kind=MaterialKind.CERTIFICATE,
        holder_kind=HolderKind.PERSON,
        validity_days=3650,
    )
    lease = MaterialTypeFactory(code="lease", name="经营场所证明", is_active=False)
    name = FieldDefinitionFactory(key="applicant-name", label="申请人姓名", max_length=50)
    kind = FieldDefinitionFactory(
        key="business-kind",
        label="经营类别",
        datatype=FieldType.CHOICE,
        choices=["餐饮", "零售", "服务=其他"],
        max_length=None,
        help_text="选择一项",
    )
    FieldDefinitionFactory(
        key="area",
        label="经营面积",
        datatype=FieldType.DECIMAL,
        max_length=None,
        min_value=Decimal("0.5"),
        max_value=Decimal("10000.25"),
        pattern=r"^\d+$",
        pattern_message="写数字",
    )
    make_item(
        department=first,
        name="食品经营许可",
        item_type=ItemType.LICENCE,
        window_category=category,
        target=Target.BOTH,
        conditions="有固定经营场所；\r\n从业人员持有健康证明。",  # as a browser's textarea sends it
        legal_basis=["《中华人民共和国食品安全法》第三十五条", "《食品经营许可管理办法》第十条"],
        statutory_limit=20,
        promised_limit=5,
        promised_unit=LimitUnit.DAYS,
        is_free=False,
        fee_amount=Decimal("12.50"),
        fee_basis="按《收费标准》执行",
        tongban=TongbanScope.CITYWIDE,
        zero_visit=True,
        nearby=True,
        nodes=[1, 3, 5, 6, 7, 9, 11, 12, 13],
        materials=[
            {"material_type": form, "originals": 1, "copies": 0},
            {
                "material_type": licence,
                "name": "法定代表人身份证",
                "originals": 0,
                "copies": 2,
                "electronic_accepted": False,
                "requirement": Requirement.CONDITIONAL,
                "condition": "由代理人办理的",
            },
            {
                "material_type": lease,
                "tolerable": True,
                "tolerance_method": "邮寄",
                "tolerance_days": 5,
                "note": "=原件",
            },
        ],
        form_fields=[{"field": name, "required": True}, {"field": kind, "required": False}],
    )
    make_item(
        department=second,
        status=VersionStatus.DRAFT,
        name="公共场所卫生许可",
        handling_type=HandlingType.IMMEDIATE,
        promised_limit=0,
        online_depth=OnlineDepth.ONLINE_PREREVIEW,
        visits=1,
        review_steps=[{"name": "审批", "role": Role.DEPARTMENT_HEAD}],
    )
    make_item(department=second, status=VersionStatus.ARCHIVED, name="已取消的事项")
    renewed = make_item(department=first, name="个体工商户变更登记", form_fields=[])
    draft = services.draft_start(item=renewed.item, **WHO)
    services.draft_update(version=draft, guide={"keywords": "变更 换照"}, **WHO)


def export_bytes() -> bytes:
    stream = io.BytesIO()
    export_catalogue(stream)
    return stream.getvalue()


def cells(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def findings_by_item() -> dict[str, list[str]]:
    """The codes of the findings stored on each item's latest version."""
    return {
        v.item.implementation_code: [f["code"] for f in v.findings]
        for v in selectors.latest_versions()
    }


def wipe_catalogue():
    ServiceItem.objects.all().delete()
    MaterialType.objects.all().delete()
    FieldDefinition.objects.all().delete()


def edited(data: bytes, edits: dict[str, dict[str, object]]) -> io.BytesIO:
    """The workbook with cells changed: {sheet: {"C2": value}}."""
    book = load_workbook(io.BytesIO(data))
    for sheet, changes in edits.items():
        for address, value in changes.items():
            book[sheet][address] = value
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    return stream


def column_letter(sheet: xlsx.Sheet, field: str) -> str:
    """Where the export puts a field's column."""
    return get_column_letter(sheet.columns.index(sheet.column(field)) + 1)


def row_of(data: bytes, sheet: str, text: str) -> int:
    """The number of the first row of `sheet` with a cell equal to `text`."""
    for number, row in enumerate(cells(data)[sheet], 1):
        if text in row:
            return number
    raise AssertionError(text)


def snapshot():
    """What a failed or repeated import must leave as it was: versions, audit chain, content."""
    return (
        list(ItemVersion.objects.values_list("item__implementation_code", "number", "status")),
        AuditEvent.objects.count(),
        cells(export_bytes()),
    )


# --- the template ------------------------------------------------------------------------------


def test_every_choice_has_a_word_of_its_own():
    # Given the template's vocabulary, when compared with the choices, then nothing is missing
    # and no word stands for two values.
    pairs = [
        (xlsx.STATUS_WORDS, VersionStatus),
        (xlsx.ITEM_TYPE_WORDS, ItemType),
        (xlsx.TARGET_WORDS, Target),
        (xlsx.UNIT_WORDS, LimitUnit),
        (xlsx.HANDLING_WORDS, HandlingType),
        (xlsx.DEPTH_WORDS, OnlineDepth),
        (xlsx.TONGBAN_WORDS, TongbanScope),
        (xlsx.REQUIREMENT_WORDS, Requirement),
        (xlsx.MATERIAL_KIND_WORDS, MaterialKind),
        (xlsx.HOLDER_WORDS, HolderKind),
        (xlsx.FIELD_TYPE_WORDS, FieldType),
    ]
    for words, choices in pairs:
        assert set(words) == set(choices.values), choices
        assert len(set(words.values())) == len(words), choices
    assert set(xlsx.ROLE_WORDS) == {value for value, _label in ReviewStep.ROLES}


def test_the_sheets_carry_every_field_the_services_take():
    # Given the field lists of the services, then each has its column, and nothing else.
    guide = {c.field for c in xlsx.GUIDE_COLUMNS}
    assert guide == set(ItemVersion.GUIDE_FIELDS) - {"change_note"}
    assert [c.field for c in xlsx.PART_COLUMNS["materials"]] == list(services.MATERIAL_FIELDS)
    assert [c.field for c in xlsx.PART_COLUMNS["form_fields"]] == list(services.FORM_FIELD_FIELDS)
    assert [c.field for c in xlsx.PART_COLUMNS["review_steps"]] == list(services.REVIEW_STEP_FIELDS)
    assert [c.field for c in xlsx.MATERIAL_TYPES.columns] == [
        f for f in services.MATERIAL_TYPE_FIELDS if not f.endswith("_file")
    ]
    assert [c.field for c in xlsx.DICTIONARY.columns] == list(services.FIELD_DEFINITION_FIELDS)
    for sheet in xlsx.SHEETS:
        assert len({c.header for c in sheet.columns}) == len(sheet.columns), sheet.name


def test_export_writes_words_and_one_basis_per_line(catalogue):
    # Given the catalogue, when exported
    sheets = cells(export_bytes())

    # Then every sheet is there, the header is Chinese, and values are the template's words.
    assert list(sheets) == ["说明", "事项", "材料", "表单字段", "审查环节", "材料目录", "字段字典"]
    header, *rows = sheets["事项"]
    assert header[:4] == ("实施编码", "实施主体信用代码", "行政区划代码", "状态")
    row = dict(zip(header, next(r for r in rows if r[4] == "食品经营许可"), strict=True))
    assert row["状态"] == "已发布"
    assert row["事项类型"] == "行政许可"
    assert row["服务对象"] == "自然人和法人"
    assert row["设定依据"] == (
        "《中华人民共和国食品安全法》第三十五条\n《食品经营许可管理办法》第十条"
    )
    assert row["是否免费"] == "否"
    assert row["零跑动"] == "是"
    assert row["承诺时限单位"] == "自然日"
    assert row["通办范围"] == "全市通办"
    assert row["窗口类别编码"] == "enterprise"
    assert row["办理环节"] == "1,3,5,6,7,9,11,12,13"
    statuses = sorted(r[3] for r in rows)
    assert statuses == ["已下架", "已发布", "草稿", "草稿"]
    dictionary = {row[0]: row for row in sheets["字段字典"][1:]}
    assert dictionary["business-kind"][1:4] == ("经营类别", "单选", "餐饮\n零售\n服务=其他")


def test_export_styles_the_header():
    # Given an empty catalogue, when exported
    book = load_workbook(io.BytesIO(export_bytes()))

    # Then each data sheet has a frozen header with the field code in its comment.
    ws = book["事项"]
    assert ws.freeze_panes == "B2"
    assert ws["A1"].comment.text.startswith("implementation_code")
    assert "行政许可" in ws["F1"].comment.text
    assert any("是,否" in v.formula1 for v in ws.data_validations.dataValidation)


@pytest.mark.parametrize(
    ("field", "cell", "value"),
    [
        ("nodes", "1，3、5 6", [1, 3, 5, 6]),
        ("nodes", 7, [7]),
        ("promised_limit", 3.0, 3),
        ("promised_limit", " 12 ", 12),
        ("fee_amount", "12.50", Decimal("12.5")),
        ("fee_amount", 0.1, Decimal("0.1")),
        ("zero_visit", True, True),
        ("zero_visit", "否", False),
        ("item_type", "licence", ItemType.LICENCE),
        ("item_type", "行政许可", ItemType.LICENCE),
        ("tongban", None, TongbanScope.NONE),
        ("legal_basis", "甲\r\n\n 乙 ", ["甲", "乙"]),
        ("supervision_phone", 12345.0, "12345"),
        ("implementation_code", " abc ", "ABC"),
    ],
)
def test_cells_are_read_leniently(field, cell, value):
    assert xlsx.parse_cell(xlsx.ITEMS.column(field), cell) == value


@pytest.mark.parametrize(
    ("field", "cell"),
    [
        ("nodes", "1,1"),
        ("nodes", "1-3"),
        ("promised_limit", 2.5),
        ("promised_limit", True),
        ("fee_amount", "十元"),
        ("fee_amount", "NaN"),
        ("zero_visit", None),
        ("zero_visit", "对"),
        ("item_type", None),
        ("status", "发布"),
        ("department", " "),
    ],
)
def test_bad_cells_are_refused(field, cell):
    with pytest.raises(xlsx.CellError):
        xlsx.parse_cell(xlsx.ITEMS.column(field), cell)


# --- the round trip ---------------------------------------------------------------------------


def test_round_trip_is_lossless(catalogue):
    # Given the catalogue exported, its form types without blank-form or sample files (which
    # the workbook does not carry: with them, no-form-download would be the one difference)
    first = export_bytes()
    library = (MaterialType.objects.count(), FieldDefinition.objects.count())
    findings = findings_by_item()
    assert not MaterialType.objects.exclude(template_file="", sample_file="").exists()
    assert any("no-form-download" in codes for codes in findings.values())

    # When the catalogue is wiped and the file imported into the empty tables
    wipe_catalogue()
    report = import_catalogue(io.BytesIO(first), **WHO)

    # Then everything is created, and exporting again gives the very same cells.
    assert (report.items.created, report.items.updated, report.items.unchanged) == (4, 0, 0)
    assert (report.material_types.created, report.fields.created) == library
    assert (MaterialType.objects.count(), FieldDefinition.objects.count()) == library
    assert cells(export_bytes()) == cells(first)
    assert findings_by_item() == findings
    statuses = dict(ItemVersion.objects.values_list("name", "status"))
    assert statuses["公共场所卫生许可"] == VersionStatus.DRAFT
    assert statuses["已取消的事项"] == VersionStatus.ARCHIVED
    assert statuses["食品经营许可"] == VersionStatus.PUBLISHED


def test_reimport_changes_nothing(catalogue):
    # Given the catalogue exported
    data = export_bytes()
    before = snapshot()

    # When the same file is imported again
    report = import_catalogue(io.BytesIO(data), **WHO)

    # Then nothing is written: no version, no audit event.
    assert (report.items.created, report.items.updated, report.items.unchanged) == (0, 0, 4)
    assert (report.material_types.unchanged, report.fields.unchanged) == (
        MaterialType.objects.count(),
        FieldDefinition.objects.count(),
    )
    assert snapshot() == before


def test_a_changed_row_publishes_a_new_version(catalogue):
    # Given a file where a published item's promised limit changed
    data = export_bytes()
    row = row_of(data, "事项", "食品经营许可")
    letter = column_letter(xlsx.ITEMS, "promised_limit")

    # When imported
    report = import_catalogue(edited(data, {"事项": {f"{letter}{row}": 3}}), **WHO)

    # Then the item has a new published version with the new limit, the old one archived.
    assert (report.items.updated, report.items.unchanged) == (1, 3)
    versions = ItemVersion.objects.filter(name="食品经营许可").order_by("number")
    assert [(v.status, v.promised_limit) for v in versions] == [
        (VersionStatus.ARCHIVED, 5),
        (VersionStatus.PUBLISHED, 3),
    ]
    assert [m.material_type.code for m in versions[1].materials.all()] == [
        "application-form",
        "id-card",
        "lease",
    ]


def test_library_rows_are_updated_and_audited(catalogue):
    # Given a file where a material type's name changed
    data = export_bytes()
    row = row_of(data, "材料目录", "lease")
    events = AuditEvent.objects.count()

    # When imported
    report = import_catalogue(edited(data, {"材料目录": {f"B{row}": "营业场所使用证明"}}), **WHO)

    # Then the type is renamed, once, and the change is in the audit chain.
    assert report.material_types.updated == 1
    assert report.material_types.unchanged == MaterialType.objects.count() - 1
    assert MaterialType.objects.get(code="lease").name == "营业场所使用证明"
    event = AuditEvent.objects.latest("pk")
    assert AuditEvent.objects.count() == events + 1
    assert event.action == "catalog.material_type.update"
    assert event.payload["changes"]["name"] == ["经营场所证明", "营业场所使用证明"]


def test_status_words_move_an_item_along(catalogue):
    # Given a file that publishes the draft item and withdraws the published one
    data = export_bytes()
    draft_row = row_of(data, "事项", "公共场所卫生许可")
    published_row = row_of(data, "事项", "食品经营许可")
    status = column_letter(xlsx.ITEMS, "status")
    changes = {f"{status}{draft_row}": "已发布", f"{status}{published_row}": "archived"}

    # When imported
    import_catalogue(edited(data, {"事项": changes}), **WHO)

    # Then the draft is published and the other item withdrawn with the import's reason.
    assert ItemVersion.objects.get(name="公共场所卫生许可").status == VersionStatus.PUBLISHED
    withdrawn = ItemVersion.objects.get(name="食品经营许可")
    assert withdrawn.status == VersionStatus.ARCHIVED
    event = AuditEvent.objects.filter(action="catalog.version.archive").latest("pk")
    assert event.reason == "由导入文件下架"


def test_dry_run_counts_but_writes_nothing(catalogue):
    # Given an exported catalogue, wiped
    data = export_bytes()
    wipe_catalogue()

    # When imported as a dry run
    report = import_catalogue(io.BytesIO(data), dry_run=True, **WHO)

    # Then the counts are those of a real import, and the tables stay empty.
    assert report.dry_run
    assert report.items.created == 4
    assert not ServiceItem.objects.exists()
    assert not MaterialType.objects.exists()


# --- bad files ----------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_written(catalogue):
    # Given a file with bad rows on several sheets
    data = export_bytes()
    items = {
        "food": row_of(data, "事项", "食品经营许可"),
        "hygiene": row_of(data, "事项", "公共场所卫生许可"),
    }
    col = {f: column_letter(xlsx.ITEMS, f) for f in ("department", "promised_limit", "target")}
    edits = {
        "事项": {
            f"{col['department']}{items['food']}": "91440101MA59XXXX0X",
            f"{col['promised_limit']}{items['hygiene']}": "三天",
            f"{col['target']}{items['hygiene']}": "群众",
        },
        "材料": {"C2": "no-such-type", "B3": "x"},
        "表单字段": {"C2": "no-such-key"},
        "审查环节": {"D2": "科员"},
        "字段字典": {"D2": None, "C2": "单选"},
    }
    before = snapshot()

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, edits), **WHO)

    # Then each bad cell is reported with its sheet, row and column, and nothing changed.
    where = {(e.sheet, e.row, e.column) for e in failed.value.errors}
    assert where == {
        ("事项", items["food"], "实施主体信用代码"),
        ("事项", items["hygiene"], "承诺办结时限"),
        ("事项", items["hygiene"], "服务对象"),
        ("材料", 2, "材料类型编码"),
        ("材料", 3, "序号"),
        ("表单字段", 2, "字段键"),
        ("审查环节", 2, "办理角色"),
        ("字段字典", 2, "选项"),
    }
    cell = f"{col['promised_limit']}{items['hygiene']}"
    lines = [str(e) for e in failed.value.errors]
    assert f"事项!{cell}「承诺办结时限」: Not a whole number: 「三天」." in lines
    assert snapshot() == before


def test_a_service_error_is_reported_at_its_column(catalogue):
    # Given a file whose conditional material has lost its condition
    data = export_bytes()
    row = row_of(data, "材料", "由代理人办理的")
    letter = column_letter(xlsx.MATERIALS, "condition")
    before = snapshot()

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, {"材料": {f"{letter}{row}": None}}), **WHO)

    # Then the material's row and its condition column are named, and nothing changed.
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("材料", row, "提交条件")
    assert "condition" in error.reason
    assert snapshot() == before


def test_a_blocking_finding_fails_a_published_row(catalogue):
    # Given a new item, marked published, without a supervision phone
    data = export_bytes()
    wipe_catalogue()
    row = row_of(data, "事项", "食品经营许可")
    letter = column_letter(xlsx.ITEMS, "supervision_phone")

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, {"事项": {f"{letter}{row}": None}}), **WHO)

    # Then that row's status is refused with the rule, and nothing at all was written.
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("事项", row, "状态")
    assert "supervision phone" in error.reason
    assert not ServiceItem.objects.exists()
    assert not MaterialType.objects.exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_cell_and_item_errors_are_reported_in_one_run(catalogue, dry_run):
    # Given a file with bad cells (an item's limit and target, a dictionary field's minimum)
    # and, on other items, errors only the services find: a published row with a blocking
    # finding (no supervision phone) and a conditional material without its condition
    data = export_bytes()
    hygiene = row_of(data, "事项", "公共场所卫生许可")
    renewed = row_of(data, "事项", "个体工商户变更登记")
    area = row_of(data, "字段字典", "area")
    material = row_of(data, "材料", "由代理人办理的")
    item = {f: column_letter(xlsx.ITEMS, f) for f in ("promised_limit", "target", "status")}
    phone = column_letter(xlsx.ITEMS, "supervision_phone")
    edits = {
        "事项": {
            f"{item['promised_limit']}{hygiene}": "三天",
            f"{item['target']}{hygiene}": "群众",
            f"{item['status']}{renewed}": "已发布",
            f"{phone}{renewed}": None,
        },
        "材料": {f"{column_letter(xlsx.MATERIALS, 'condition')}{material}": None},
        "字段字典": {f"{column_letter(xlsx.DICTIONARY, 'min_value')}{area}": "很多"},
    }
    before = snapshot()

    # When imported once
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, edits), dry_run=dry_run, **WHO)

    # Then every problem is listed, in the order of the file, and nothing was written.
    where = [(e.sheet, e.row, e.column) for e in failed.value.errors]
    assert where == sorted(
        [
            ("事项", hygiene, "服务对象"),
            ("事项", hygiene, "承诺办结时限"),
            ("事项", renewed, "状态"),
            ("材料", material, "提交条件"),
            ("字段字典", area, "最小值"),
        ],
        key=lambda w: ([s.name for s in xlsx.SHEETS].index(w[0]), w[1]),
    )
    reasons = {(e.sheet, e.row): e.reason for e in failed.value.errors}
    assert "supervision phone" in reasons["事项", renewed]
    assert "condition" in reasons["材料", material]
    assert snapshot() == before


def test_a_code_of_another_department_is_reported_once(catalogue):
    # Given a new item whose implementation code begins with another department's code
    data = export_bytes()
    wipe_catalogue()
    row = row_of(data, "事项", "食品经营许可")
    other = DepartmentFactory()
    letter = column_letter(xlsx.ITEMS, "department")

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, {"事项": {f"{letter}{row}": other.uscc}}), **WHO)

    # Then the code's cell says so, once, and nothing was written.
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("事项", row, "实施编码")
    assert "must begin with the department's credit code" in error.reason
    assert not ServiceItem.objects.exists()


def test_a_bad_implementation_code_is_reported(catalogue):
    # Given an item row whose implementation code is malformed
    data = export_bytes()
    row = row_of(data, "事项", "公共场所卫生许可")

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, {"事项": {f"A{row}": "12345"}}), **WHO)

    # Then the code's cell is named with the rule it breaks.
    [error, *_parts] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("事项", row, "实施编码")
    assert "31 or 33 characters" in error.reason


def test_an_unknown_item_code_on_a_part_sheet_is_reported(catalogue):
    # Given a material row of an item that is not on the 事项 sheet
    data = export_bytes()

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(edited(data, {"材料": {"A2": "X" * 31}}), **WHO)

    # Then the row is reported at its code.
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("材料", 2, "实施编码")


def test_a_file_that_is_not_a_workbook_is_refused():
    # Given a text file, when imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(io.BytesIO("事项,材料\n".encode()), **WHO)

    # Then one clear error says what is wrong.
    assert [str(e) for e in failed.value.errors] == [
        "This is not an xlsx workbook: save it from Excel or WPS as .xlsx."
    ]


def test_missing_sheets_and_columns_are_named():
    # Given a workbook without most sheets, and a 事项 sheet without its 状态 column
    data = export_bytes()
    book = load_workbook(io.BytesIO(data))
    for name in ("材料", "表单字段", "审查环节", "材料目录"):
        del book[name]
    book["事项"]["D1"] = "state"
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)

    # When imported
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(stream, **WHO)

    # Then every missing sheet and column is listed.
    assert sorted(str(e) for e in failed.value.errors) == sorted(
        [
            "材料: The sheet is missing.",
            "表单字段: The sheet is missing.",
            "审查环节: The sheet is missing.",
            "材料目录: The sheet is missing.",
            "事项「状态」: The column is missing.",
        ]
    )


def test_an_empty_workbook_is_refused():
    stream = io.BytesIO()
    Workbook().save(stream)
    stream.seek(0)
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(stream, **WHO)
    assert len(failed.value.errors) == len(xlsx.SHEETS)


# --- the commands -------------------------------------------------------------------------------


def test_the_commands_export_and_import(catalogue, tmp_path):
    # Given the catalogue exported by the command
    path = tmp_path / "catalogue.xlsx"
    out = io.StringIO()
    call_command("catalog_export", str(path), stdout=out)
    assert "Exported 4 items" in out.getvalue()

    # When the file is imported into an empty catalogue by the command
    wipe_catalogue()
    out = io.StringIO()
    call_command("catalog_import", str(path), stdout=out)

    # Then the report is printed and the items are back.
    assert "Items: 4 created, 0 updated, 0 unchanged." in out.getvalue()
    assert ServiceItem.objects.count() == 4


def test_the_import_command_dry_run(catalogue, tmp_path):
    path = tmp_path / "catalogue.xlsx"
    call_command("catalog_export", str(path), stdout=io.StringIO())
    wipe_catalogue()
    out = io.StringIO()
    call_command("catalog_import", str(path), "--dry-run", stdout=out)
    assert "Items: 4 created" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert not ServiceItem.objects.exists()


def test_the_import_command_lists_errors_and_exits_non_zero(catalogue, tmp_path, capsys):
    # Given a file with a bad cell
    data = export_bytes()
    path = tmp_path / "bad.xlsx"
    path.write_bytes(edited(data, {"材料": {"B2": "first"}}).getvalue())

    # When the command runs as from the shell
    with pytest.raises(SystemExit) as exit_info:
        ImportCommand().run_from_argv(["manage.py", "catalog_import", str(path)])

    # Then it exits 1 and prints the error line, then the summary.
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "材料!B2「序号」: Not a whole number: 「first」." in err
    assert "1 problem found; nothing was imported." in err


def test_the_import_command_refuses_a_non_xlsx_file(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text("实施编码\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("catalog_import", str(path), stderr=err)
    assert "not an xlsx workbook" in err.getvalue()


def test_the_documentation_names_every_sheet_and_column(settings):
    # Given the template documentation, then every sheet, header and code name is in it.
    text = (settings.BASE_DIR / "docs" / "catalogue-xlsx.md").read_text()
    for sheet in xlsx.SHEETS:
        assert f"#### {sheet.name}" in text
        for column in sheet.columns:
            assert f"| {column.header} | `{column.field}` |" in text, column.header
            for word in column.allowed:
                assert word in text, word
