"""The demo e-licences (电子证照): the demo city's licence catalogue (证照目录), an SM2 signing
key for every issuing department, and a few historical paper licences that staff registered
so that they can be reused; one of them has since been replaced (换发, version 2), one
revoked, and one had already expired when it was registered.

This step runs before the demo cases, because `yimen.cases.services.produce` (制证) issues
the licences of an approved case's item and needs the types and the keys. Through the cases:
- the three company set-ups of the demo company (佛山市禅城区示例商贸有限公司) that reach
  制证 issue its 营业执照 — so that its later applications for 有限责任公司变更登记 (and for
  药品零售企业许可 and 食品经营许可), which ask for the business licence, find a valid
  licence that stands for it: the demo cases give no file for such a material, and the
  case records it as provided by the licence (零提交);
- 张三's 个体工商户设立登记 issues a 营业执照（个体工商户）;
- the archived 建筑工程施工许可证核发 issues the builder's 施工许可证.

A business licence comes as two types: a licence type has one issuing department and one
kind of holder, and the 个体工商户 item is the district's, for a natural person.

Type codes are the issuing department's credit code and a 3-digit sequence. The clock is
held at each moment, counted back in working days from the load's day like the demo cases:
the catalogue and the keys first, then each registration, revocation and replacement, so
that keys predate what they sign and the audit chain tells the same story. Paper licences
have fixed dates of issue. Every part is skipped when it exists, so loading twice adds
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.db import transaction
from django.utils import timezone

from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.accounts.selectors import applicant_by_identifier
from yimen.catalog.models import FieldDefinition, MaterialType, ServiceItem
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.licences import services
from yimen.licences.choices import LicenceStatus
from yimen.licences.models import Licence, LicenceType, SigningKey
from yimen.org.models import Department

from . import cases as demo_cases

PERSON, ENTERPRISE = ApplicantKind.PERSON, ApplicantKind.ENTERPRISE


@dataclass(frozen=True)
class Kind:
    """A licence type: its issuing department (a key of city.DEPARTMENTS) and the sequence
    that makes its code, who holds it, for how many years (None: for good), the field
    dictionary keys it carries, the catalogue items that issue it (发证清单) and the
    material library codes it stands for (用证清单)."""

    key: str
    department: str
    sequence: int
    name: str
    holder_kind: str
    validity_years: int | None
    fields: tuple[str, ...]
    items: tuple[str, ...]
    replaces: tuple[str, ...] = ()


TYPES = [
    Kind(
        "business",
        "market",
        1,
        "营业执照",
        ENTERPRISE,
        None,
        (
            "enterprise_name", "uscc", "enterprise_type", "legal_representative",
            "registered_capital", "registered_address", "business_scope",
        ),
        ("company-setup",),
        ("business-licence",),
    ),
    Kind(
        "individual-business",
        "chancheng-market",
        1,
        "营业执照（个体工商户）",
        PERSON,
        None,
        (
            "shop_name", "applicant_name", "applicant_id_number", "composition_form",
            "business_address", "business_scope",
        ),
        ("individual-business",),
        ("business-licence",),
    ),
    Kind(
        "food",
        "chancheng-market",
        2,
        "食品经营许可证",
        ENTERPRISE,
        5,
        (
            "enterprise_name", "uscc", "legal_representative", "business_address",
            "food_business_type",
        ),
        ("food-business",),
    ),
    Kind(
        "construction",
        "housing",
        1,
        "建筑工程施工许可证",
        ENTERPRISE,
        None,
        (
            "enterprise_name", "project_name", "project_code", "construction_site",
            "building_area", "contract_price", "designer_name", "contractor_name",
            "supervisor_name", "start_date",
        ),
        ("construction-permit",),
    ),
    Kind(
        "marriage",
        "civil",
        1,
        "结婚证",
        PERSON,
        None,
        ("applicant_name", "applicant_id_number", "spouse_name", "spouse_id_number"),
        ("marriage",),
        ("marriage-certificate",),
    ),
]  # fmt: skip
ITEMS = {key for kind in TYPES for key in kind.items}
DEPARTMENTS = {kind.department for kind in TYPES}

SET_UP = (60, "09:00")  # the catalogue and the keys: (working days ago, time)


@dataclass(frozen=True)
class Change:
    """What became of a paper licence later: `revoke` or `replace` (with new data)."""

    action: str
    ago: int
    at: str
    by: str
    reason: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Paper:
    """A paper licence issued on `issued_on`, registered from paper by the login `by` at
    `at` o'clock `ago` working days before the load; its data beyond the holder's own
    name and number (which are filled in)."""

    kind: str
    holder: str
    issued_on: dt.date
    ago: int
    at: str
    by: str
    data: dict[str, Any]
    change: Change | None = None


PAPER = [
    # The demo company's own business licence; the road of its address was renamed since.
    Paper(
        "business",
        demo_cases.COMPANY,
        dt.date(2018, 5, 16),
        45,
        "10:00",
        "reviewer",
        {
            "enterprise_type": "有限责任公司（自然人投资或控股）",
            "registered_capital": "100",
            "registered_address": "佛山市禅城区祖庙街道示例路1号",
            "business_scope": "日用百货销售；食品销售（仅销售预包装食品）。",
        },
        Change(
            "replace",
            35,
            "15:30",
            "reviewer",
            "住所所在道路更名（示例路更名为示例大道），依职权换发营业执照。",
            {"registered_address": "佛山市禅城区祖庙街道示例大道1号"},
        ),
    ),
    # Its five years ended before it was registered: expired as it is registered.
    Paper(
        "food",
        demo_cases.FOODS,
        dt.date(2020, 6, 15),
        40,
        "09:30",
        "reviewer_cc",
        {
            "business_address": "佛山市禅城区张槎街道示例路6号首层",
            "food_business_type": ["预包装食品销售", "散装食品销售"],
        },
    ),
    # The shop was pulled down; the company applies again elsewhere (a demo case).
    Paper(
        "food",
        demo_cases.TECH,
        dt.date(2023, 3, 20),
        40,
        "10:10",
        "reviewer_cc",
        {
            "business_address": "佛山市禅城区石湾镇街道示例路9号",
            "food_business_type": ["自制饮品制售"],
        },
        Change(
            "revoke",
            30,
            "16:00",
            "head_cc",
            "原经营场所因城市更新拆除，经营者申请注销食品经营许可证。",
        ),
    ),
    Paper(
        "marriage",
        demo_cases.ZHANG,
        dt.date(2012, 10, 8),
        45,
        "11:00",
        "admin",
        {"spouse_name": "李四", "spouse_id_number": demo_cases.identifier("李四")},
    ),
]


def code_of(kind: Kind, departments: Mapping[str, Department]) -> str:
    """The licence type code: the issuing department's credit code and the sequence."""
    return f"{departments[kind.department].uscc}{kind.sequence:03d}"


def load(
    *, items: Mapping[str, ServiceItem], departments: Mapping[str, Department]
) -> dict[str, int]:
    """Load what is missing. `items`: the issuing items by catalogue key; `departments`:
    the issuing departments by key. Returns how many types, keys and licences it made."""
    created = {"types": 0, "keys": 0, "licences": 0}
    today = timezone.localdate()
    with mock.patch("django.utils.timezone.now") as now:
        now.return_value = demo_cases.moment(today, *SET_UP)
        types = _types(items, departments, created)
        for department in departments.values():
            if not SigningKey.objects.filter(department=department, is_active=True).exists():
                services.key_generate(department=department)
                created["keys"] += 1
        for at, _n, step in sorted(_plan(types, today), key=lambda p: p[:2]):
            now.return_value = at
            created["licences"] += step()
    return created


def _types(
    items: Mapping[str, ServiceItem], departments: Mapping[str, Department], created: dict
) -> dict[str, LicenceType]:
    existing = LicenceType.objects.in_bulk(
        [code_of(kind, departments) for kind in TYPES], field_name="code"
    )
    types = {}
    for kind in TYPES:
        code = code_of(kind, departments)
        if code not in existing:
            existing[code] = _type_create(kind, code, items, departments)
            created["types"] += 1
        types[kind.key] = existing[code]
    return types


@transaction.atomic
def _type_create(
    kind: Kind, code: str, items: Mapping[str, ServiceItem], departments: Mapping[str, Department]
) -> LicenceType:
    """A licence type with its items and materials. The licences module keeps its types in
    the admin and has no service for them, so this writes the row and its audit event, in
    one transaction."""
    known = set(FieldDefinition.objects.filter(key__in=kind.fields).values_list("key", flat=True))
    if unknown := set(kind.fields) - known:
        raise ValueError(f"licence type {kind.key}: not in the field dictionary {sorted(unknown)}")
    licence_type = LicenceType(
        code=code,
        name=kind.name,
        issuer=departments[kind.department],
        holder_kind=kind.holder_kind,
        validity_years=kind.validity_years,
        fields=list(kind.fields),
    )
    licence_type.full_clean()
    licence_type.save()
    licence_type.issuing_items.set([items[key] for key in kind.items])
    replaces = list(MaterialType.objects.filter(code__in=kind.replaces))
    if len(replaces) != len(kind.replaces):
        raise ValueError(f"licence type {kind.key}: unknown material types {kind.replaces}")
    licence_type.replaces.set(replaces)
    audit.record(
        action="licence.type.create",
        obj=licence_type,
        channel=Channel.SYSTEM,
        payload={
            "code": code,
            "issuer": licence_type.issuer.uscc,
            "items": [items[key].implementation_code for key in kind.items],
            "replaces": list(kind.replaces),
        },
    )
    return licence_type


def _plan(
    types: Mapping[str, LicenceType], today: dt.date
) -> list[tuple[dt.datetime, int, Callable[[], int]]]:
    """(moment, order, step) for each registration and change still to make; a step
    returns how many licences it made."""
    plan = []
    for n, paper in enumerate(PAPER):
        licence_type = types[paper.kind]
        holder = _applicant(paper.holder)
        registered = Licence.objects.filter(
            licence_type=licence_type,
            holder=holder,
            issued_on=paper.issued_on,
            version=1,
            registered_by__isnull=False,
        ).first()
        if registered is None:
            plan.append(
                (
                    demo_cases.moment(today, paper.ago, paper.at),
                    n,
                    lambda p=paper, t=licence_type, h=holder: _register(p, t, h),
                )
            )
        change = paper.change
        if change is not None and (registered is None or registered.status == LicenceStatus.VALID):
            plan.append(
                (
                    demo_cases.moment(today, change.ago, change.at),
                    n,
                    lambda p=paper, t=licence_type, h=holder: _change(p, t, h),
                )
            )
    return plan


def _register(paper: Paper, licence_type: LicenceType, holder: Applicant) -> int:
    services.licence_issue(
        licence_type=licence_type,
        holder=holder,
        data=_own(holder) | paper.data,
        issued_on=paper.issued_on,
        registered_by=User.objects.get(username=paper.by),
        channel=Channel.ADMIN,
    )
    return 1


def _change(paper: Paper, licence_type: LicenceType, holder: Applicant) -> int:
    change = paper.change
    licence = Licence.objects.get(
        licence_type=licence_type,
        holder=holder,
        issued_on=paper.issued_on,
        version=1,
        registered_by__isnull=False,
    )
    actor = User.objects.get(username=change.by)
    if change.action == "revoke":
        services.licence_revoke(
            licence=licence, actor=actor, reason=change.reason, channel=Channel.ADMIN
        )
        return 0
    services.licence_replace(
        licence=licence, actor=actor, reason=change.reason, data=change.data, channel=Channel.ADMIN
    )
    return 1


def _applicant(name: str) -> Applicant:
    found = applicant_by_identifier(identifier=demo_cases.identifier(name))
    if found is None:
        raise LookupError(f"demo applicant {name} is not loaded")
    return found


def _own(holder: Applicant) -> dict[str, str]:
    """The holder's own name, number and legal representative, as the licence carries them."""
    if holder.kind == PERSON:
        return {"applicant_name": holder.name, "applicant_id_number": holder.id_number}
    return {
        "enterprise_name": holder.name,
        "uscc": holder.uscc,
        "legal_representative": holder.legal_representative,
    }
