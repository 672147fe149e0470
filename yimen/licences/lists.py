"""The three lists (三张清单) of e-licences, public reads in a fixed number of queries:

- 发证清单 (`issuing_list`): each licence type with the items whose approval issues it;
- 用证清单 (`accepting_list`): each licence type with the material types it stands for and
  the items whose guides ask for those materials, so accept the licence instead (零提交);
- 系统清单 (`systems_list`): the issuing departments with their licence types, whether they
  can sign (an active SM2 key, shown by the first digits of its fingerprint, never the key
  itself) and how many of their licences are in force.

Only active licence types and items with a guide in force are listed: these are what an
applicant can use today. Items are named by their published guide.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from yimen.catalog.choices import VersionStatus
from yimen.catalog.models import ItemVersion, Material, MaterialType, ServiceItem
from yimen.common.sm2 import fingerprint
from yimen.org.models import Department

from .choices import LicenceStatus
from .models import Licence, LicenceType, SigningKey

LISTS = ("issuing", "accepting", "systems")


@dataclass(frozen=True)
class ItemRef:
    """An item as the lists show it: its guide's name, code and department."""

    name: str
    implementation_code: str
    department: str

    @property
    def url(self) -> str:
        return reverse("catalog:item", args=[self.implementation_code])


@dataclass(frozen=True)
class IssuingRow:
    licence_type: LicenceType
    items: list[ItemRef]


@dataclass(frozen=True)
class Replaced:
    """A material type a licence stands for, and the items whose guides ask for it."""

    material_type: MaterialType
    items: list[ItemRef]


@dataclass(frozen=True)
class AcceptingRow:
    licence_type: LicenceType
    replaces: list[Replaced]


@dataclass(frozen=True)
class SystemRow:
    department: Department
    licence_types: list[LicenceType]
    has_key: bool
    key_fingerprint: str  # the first 16 hex digits of the SM3 fingerprint, "" without a key
    valid_licences: int


def _licence_types() -> QuerySet[LicenceType]:
    return LicenceType.objects.filter(is_active=True).select_related("issuer")


def _guide_names(item_ids) -> dict[int, str]:
    """The name of each item's guide in force (one query)."""
    published = ItemVersion.objects.filter(item_id__in=item_ids, status=VersionStatus.PUBLISHED)
    return dict(published.values_list("item_id", "name"))


def issuing_list() -> list[IssuingRow]:
    """发证清单: three queries (types, their items, the items' guides in force)."""
    types = list(
        _licence_types().prefetch_related(
            Prefetch(
                "issuing_items",
                queryset=ServiceItem.objects.select_related("department").order_by(
                    "implementation_code"
                ),
            )
        )
    )
    names = _guide_names({item.pk for t in types for item in t.issuing_items.all()})
    return [
        IssuingRow(
            licence_type,
            [
                ItemRef(names[item.pk], item.implementation_code, item.department.name)
                for item in licence_type.issuing_items.all()
                if item.pk in names
            ],
        )
        for licence_type in types
    ]


def accepting_list() -> list[AcceptingRow]:
    """用证清单: three queries (types, the material types they replace, the materials of the
    guides in force that are of those types, with their items)."""
    types = list(
        _licence_types().prefetch_related(
            Prefetch("replaces", queryset=MaterialType.objects.order_by("name", "pk"))
        )
    )
    wanted = {m.pk for t in types for m in t.replaces.all()}
    asking: dict[int, dict[int, ItemRef]] = {pk: {} for pk in wanted}
    materials = (
        Material.objects.filter(material_type__in=wanted, version__status=VersionStatus.PUBLISHED)
        .select_related("version__item__department")
        .order_by("version__item__implementation_code", "pk")
    )
    for material in materials:
        version = material.version
        asking[material.material_type_id].setdefault(
            version.item_id,
            ItemRef(version.name, version.item.implementation_code, version.item.department.name),
        )
    return [
        AcceptingRow(
            licence_type,
            [Replaced(m, list(asking[m.pk].values())) for m in licence_type.replaces.all()],
        )
        for licence_type in types
    ]


def systems_list(*, today: dt.date | None = None) -> list[SystemRow]:
    """系统清单: three queries (departments with their count of licences in force, their
    active types, their active keys). A licence past its last day is not counted even before
    the daily task marks it expired; a public page does not write."""
    today = today or timezone.localdate()
    in_force = (
        Licence.objects.filter(issuer=OuterRef("pk"), status=LicenceStatus.VALID)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by()
        .values("issuer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    departments = (
        Department.objects.filter(
            pk__in=LicenceType.objects.filter(is_active=True).values("issuer")
        )
        .annotate(valid_licences=Coalesce(Subquery(in_force, output_field=IntegerField()), 0))
        .prefetch_related(
            Prefetch("licence_types", queryset=LicenceType.objects.filter(is_active=True)),
            # The public key only: the private key is not even read.
            Prefetch(
                "signing_keys",
                queryset=SigningKey.objects.filter(is_active=True).only(
                    "pk", "department_id", "public_key"
                ),
                to_attr="active_keys",
            ),
        )
    )
    rows = []
    for department in departments:
        key = department.active_keys[0] if department.active_keys else None
        rows.append(
            SystemRow(
                department,
                list(department.licence_types.all()),
                has_key=key is not None,
                key_fingerprint=short_fingerprint(key.public_key) if key else "",
                valid_licences=department.valid_licences,
            )
        )
    return rows


def short_fingerprint(public_key: str) -> str:
    """The first 16 hex digits of the key's SM3 fingerprint, in groups of four (the start of
    what the printed licence shows)."""
    digits = "".join(fingerprint(public_key).split())[:16]
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


# --- xlsx -------------------------------------------------------------------------------------

SHEET_TITLES = {"issuing": "发证清单", "accepting": "用证清单", "systems": "系统清单"}
_TYPE_HEADERS = ["证照类型代码", "证照名称", "发证部门"]
_ITEM_HEADERS = ["事项名称", "实施编码", "实施部门"]
HEADERS = {
    "issuing": [*_TYPE_HEADERS, "持证主体", "有效期（年）", *_ITEM_HEADERS],
    "accepting": [*_TYPE_HEADERS, "可替代材料", *_ITEM_HEADERS],
    "systems": [
        "部门名称",
        "统一社会信用代码",
        "签发证照",
        "签名密钥",
        "公钥指纹（前16位）",
        "有效证照数",
    ],
}
_HOLDER_TEXT = {"person": "自然人", "enterprise": "法人"}
_NO_ITEM = ["", "", ""]


def _item_cells(item: ItemRef) -> list[str]:
    return [item.name, item.implementation_code, item.department]


def _type_cells(licence_type: LicenceType) -> list[str]:
    return [licence_type.code, licence_type.name, licence_type.issuer.name]


def rows_for_sheet(which: str) -> list[list]:
    """The rows of a list as the workbook writes them: one per (licence type, item) pair,
    a licence type with no item on a row of its own."""
    rows: list[list] = []
    if which == "issuing":
        for row in issuing_list():
            t = row.licence_type
            head = [
                *_type_cells(t),
                _HOLDER_TEXT.get(t.holder_kind, t.holder_kind),
                t.validity_years if t.validity_years else "长期",
            ]
            rows.extend([*head, *_item_cells(item)] for item in row.items)
            if not row.items:
                rows.append([*head, *_NO_ITEM])
    elif which == "accepting":
        for row in accepting_list():
            for replaced in row.replaces:
                head = [*_type_cells(row.licence_type), replaced.material_type.name]
                rows.extend([*head, *_item_cells(item)] for item in replaced.items)
                if not replaced.items:
                    rows.append([*head, *_NO_ITEM])
            if not row.replaces:
                rows.append([*_type_cells(row.licence_type), "", *_NO_ITEM])
    elif which == "systems":
        for row in systems_list():
            rows.append(
                [
                    row.department.name,
                    row.department.uscc,
                    "、".join(t.name for t in row.licence_types),
                    "有" if row.has_key else "无",
                    row.key_fingerprint,
                    row.valid_licences,
                ]
            )
    else:
        raise ValueError(which)
    return rows


def workbook(which: str) -> bytes:
    """One list as an xlsx workbook with Chinese headers; text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLES[which]
    sheet.append(HEADERS[which])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows_for_sheet(which):
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
        )
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula
    for index, _header in enumerate(HEADERS[which]):
        sheet.column_dimensions[chr(ord("A") + index)].width = 24
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
