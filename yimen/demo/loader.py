"""Loads the demo city through the services, step by step. Every step skips what exists,
so loading twice adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from yimen.accounts import services as account_services
from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.catalog import services as catalog_services
from yimen.catalog.choices import (
    MANDATORY_NODES,
    HandlingType,
    MaterialKind,
    Node,
    OnlineDepth,
    Requirement,
    TongbanScope,
)
from yimen.catalog.models import (
    FieldDefinition,
    MaterialType,
    ScenarioOption,
    ScenarioQuestion,
    ServiceItem,
    Theme,
    ThemeItem,
    ThemeStage,
)
from yimen.catalog.selectors import versions_in_force
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.licences.models import Licence
from yimen.org import services as org_services
from yimen.org.choices import RegionLevel
from yimen.org.models import Department, Hall, Membership, Region, Window, WindowCategory

from . import cases as demo_cases
from . import catalogue, city
from . import hall as demo_hall
from . import hotline as demo_hotline
from . import joint as demo_joint
from . import licences as demo_licences

SYSTEM = {"channel": Channel.SYSTEM}


@dataclass
class Report:
    """How many rows each step created (0 everywhere on a second run)."""

    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def _region(code: str, name: str, level: int, parent: Region | None, report: Report) -> Region:
    if existing := Region.objects.filter(code=code).first():
        return existing
    report.add(_("regions"))
    return org_services.region_create(
        code=code, name=name, level=level, parent=parent, created_by=None, **SYSTEM
    )


def load_regions(report: Report) -> None:
    code, name = city.CITY
    root = _region(code, name, RegionLevel.CITY, None, report)
    for district_code, district_name, towns in city.DISTRICTS:
        district = _region(
            f"{district_code}000000", district_name, RegionLevel.DISTRICT, root, report
        )
        for town_suffix, town_name, villages in towns:
            town_code = f"{district_code}{town_suffix}"
            town = _region(f"{town_code}000", town_name, RegionLevel.TOWN, district, report)
            for n, village in enumerate(villages, start=1):
                _region(f"{town_code}{n:03d}", village, RegionLevel.VILLAGE, town, report)


def load_window_categories(report: Report) -> None:
    for order, (code, name, prefix) in enumerate(city.WINDOW_CATEGORIES, start=1):
        if not WindowCategory.objects.filter(code=code).exists():
            org_services.window_category_create(
                code=code, name=name, queue_prefix=prefix, order=order, created_by=None, **SYSTEM
            )
            report.add(_("window categories"))


def department_uscc(key: str) -> str:
    index = [d[0] for d in city.DEPARTMENTS].index(key)
    region6 = city.DEPARTMENTS[index][3]
    return city.demo_uscc(region6, index + 1)


def load_departments(report: Report) -> None:
    for key, name, short_name, region6, parent_key in city.DEPARTMENTS:
        uscc = department_uscc(key)
        if Department.objects.filter(uscc=uscc).exists():
            continue
        org_services.department_create(
            name=name,
            short_name=short_name,
            uscc=uscc,
            region=Region.objects.get(code=f"{region6}000000"),
            parent=Department.objects.get(uscc=department_uscc(parent_key)) if parent_key else None,
            phone="12345",
            created_by=None,
            **SYSTEM,
        )
        report.add(_("departments"))


def load_halls(report: Report) -> None:
    categories = {c.code: c for c in WindowCategory.objects.all()}
    for _key, name, region_code, address, windows in city.HALLS:
        hall = Hall.objects.filter(name=name).first()
        if hall is None:
            hall = org_services.hall_create(
                name=name,
                region=Region.objects.get(code=region_code),
                address=address,
                phone="0757-12345",
                opening_hours="周一至周五 9:00–12:00，14:00–17:30；周六 9:00–12:00",
                created_by=None,
                **SYSTEM,
            )
            report.add(_("halls"))
        for number, codes in windows:
            if not Window.objects.filter(hall=hall, number=number).exists():
                org_services.window_create(
                    hall=hall,
                    number=number,
                    categories=[categories[c] for c in codes],
                    created_by=None,
                    **SYSTEM,
                )
                report.add(_("windows"))


def _login(username: str, full_name: str, report: Report, *, superuser=False) -> User:
    if user := User.objects.filter(username=username).first():
        return user
    report.add(_("logins"))
    return account_services.staff_account_create(
        username=username,
        full_name=full_name,
        password=city.DEMO_PASSWORD,
        is_superuser=superuser,
        **SYSTEM,
    )


def _scope(scope) -> dict:
    if scope is None:
        return {}
    if isinstance(scope, tuple):
        hall_key, number = scope
        hall_name = next(h[1] for h in city.HALLS if h[0] == hall_key)
        window = Window.objects.get(hall__name=hall_name, number=number)
        return {"hall": window.hall, "window": window}
    return {"department": Department.objects.get(uscc=department_uscc(scope))}


def load_staff(report: Report) -> None:
    for username, full_name, role, scope in city.STAFF:
        user = _login(username, full_name, report, superuser=(username == "admin"))
        if not Membership.objects.filter(user=user, role=role, is_active=True).exists():
            org_services.membership_grant(
                user=user, role=role, granted_by=None, **_scope(scope), **SYSTEM
            )
            report.add(_("role memberships"))


def load_applicants(report: Report) -> None:
    for serial, (name, region6, birth, phone, username) in enumerate(city.PERSONS):
        number = city.demo_citizen_id(region6, birth, serial)
        if Applicant.objects.filter(id_number=number).exists():
            continue
        user = _login(username, name, report) if username else None
        account_services.applicant_register(
            kind=ApplicantKind.PERSON,
            name=name,
            id_number=number,
            phone=phone,
            user=user,
            **SYSTEM,
        )
        report.add(_("applicants"))
    for serial, (name, region6, representative, phone, username) in enumerate(
        city.ENTERPRISES, start=1
    ):
        uscc = city.demo_uscc(region6, serial, kind="91")
        if Applicant.objects.filter(uscc=uscc).exists():
            continue
        user = _login(username, name, report) if username else None
        account_services.applicant_register(
            kind=ApplicantKind.ENTERPRISE,
            name=name,
            uscc=uscc,
            legal_representative=representative,
            phone=phone,
            user=user,
            **SYSTEM,
        )
        report.add(_("applicants"))


# --- the catalogue ------------------------------------------------------------------------------


def _form_rows() -> dict[str, list[tuple[str, str]]]:
    """(label, sample value) rows of each form of the library: the fields of the items that
    ask for it, in order, unless the catalogue states the form's rows."""
    fields = {key: (label, sample) for key, label, _t, _h, _o, sample in catalogue.FIELDS}
    rows = {
        code: [] for code, _n, kind, _h, _d in catalogue.MATERIAL_TYPES if kind == MaterialKind.FORM
    }
    for entry in [*catalogue.ITEMS, catalogue.DRAFT_EXAMPLE]:
        keys = [key.lstrip("?") for key in entry["fields"]]
        for spec in entry["materials"]:
            form = rows.get(spec if isinstance(spec, str) else spec["type"])
            if form is not None:
                form += [fields[key] for key in keys if fields[key] not in form]
    return rows | catalogue.FORM_ROWS


def _form_xlsx(title: str, rows: list[tuple[str, str]], *, sample: bool) -> bytes:
    """A one-sheet form: the title, then a row per field (filled in on the sample)."""
    book = Workbook()
    sheet = book.active
    sheet.title = catalogue.FORM_SHEET
    sheet.append([catalogue.FORM_SAMPLE_TITLE.format(title) if sample else title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:B1")
    sheet.append(list(catalogue.FORM_HEADER))
    for label, example in [*rows, catalogue.FORM_SIGNATURE]:
        sheet.append([label, example if sample else ""])
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 50
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def load_material_library(report: Report) -> None:
    rows = _form_rows()
    for code, name, kind, holder_kind, description in catalogue.MATERIAL_TYPES:
        if MaterialType.objects.filter(code=code).exists():
            continue
        files = {}
        if kind == MaterialKind.FORM:
            form = rows[code]
            files = {
                "template_file": ContentFile(_form_xlsx(name, form, sample=False), f"{code}.xlsx"),
                "sample_file": ContentFile(
                    _form_xlsx(name, form, sample=True), f"{code}-sample.xlsx"
                ),
            }
        catalog_services.material_type_create(
            code=code,
            name=name,
            kind=kind,
            holder_kind=holder_kind,
            description=description,
            validity_days=catalogue.VALIDITY_DAYS.get(code),
            actor=None,
            **files,
            **SYSTEM,
        )
        report.add(_("material types"))


def load_field_dictionary(report: Report) -> None:
    for key, label, datatype, holder_kind, options, _sample in catalogue.FIELDS:
        if FieldDefinition.objects.filter(key=key).exists():
            continue
        catalog_services.field_definition_create(
            key=key,
            label=label,
            datatype=datatype,
            holder_kind=holder_kind,
            actor=None,
            **options,
            **SYSTEM,
        )
        report.add(_("dictionary fields"))


def implementation_code(entry: dict) -> str:
    """The department's credit code, 1 (the statutory authority), the basic code."""
    return f"{department_uscc(entry['department'])}1{entry['code']}"


def _place(entry: dict, department: Department, category: str) -> tuple[str, str]:
    """Where and when the item is handled: the hall of the department's district."""
    key = "chancheng" if department.region.code == "440604000000" else "city"
    _key, hall_name, _region_code, address, windows = next(h for h in city.HALLS if h[0] == key)
    hours = Hall.objects.get(name=hall_name).opening_hours
    if "location" in entry:
        return entry["location"], hours
    place = catalogue.HALL_PLACE.format(
        hall=hall_name,
        category=next(c[1] for c in city.WINDOW_CATEGORIES if c[0] == category),
        windows="、".join(number for number, codes in windows if category in codes),
        address=address,
    )
    if catalogue.DEPTHS[entry["depth"]] == OnlineDepth.FULL_ONLINE:
        place = catalogue.ONLINE_PLACE.format(place)
    if "就近办" in entry["tags"].split():
        place += catalogue.NEARBY_PLACE
    return place, hours


def _flow(entry: dict, immediate: bool) -> str:
    if "flow" in entry:
        return entry["flow"]
    steps = list(catalogue.FLOWS["immediate" if immediate else "promised"])
    if special := entry.get("special"):
        steps.insert(len(steps) - 2, catalogue.SPECIAL_STEP.format(special))
    return " → ".join(steps)


def _nodes(entry: dict) -> list[int]:
    """The process nodes the guide implies: the hall's when the applicant comes, pre-review
    online, the special procedure, fees and a certificate when the guide has them."""
    nodes = set(MANDATORY_NODES)
    if entry["visits"]:
        nodes |= {Node.APPOINTMENT, Node.TICKET}
    if catalogue.DEPTHS[entry["depth"]] in (OnlineDepth.FULL_ONLINE, OnlineDepth.ONLINE_PREREVIEW):
        nodes.add(Node.PREREVIEW)
    if entry.get("special"):
        nodes.add(Node.SPECIAL_PROCEDURE)
    if "fee" in entry:
        nodes.add(Node.FEES)
    if entry.get("certificate"):
        nodes.add(Node.CERTIFICATE)
    return sorted(int(n) for n in nodes)


def _guide(entry: dict, department: Department, categories: dict) -> dict:
    tags = entry["tags"].split()
    if unknown := set(tags) - catalogue.TAGS.keys() - catalogue.TONGBAN.keys():
        raise ValueError(f"{entry['key']}: unknown tags {sorted(unknown)}")
    (statutory, statutory_unit), (promised, promised_unit) = entry["statutory"], entry["promised"]
    immediate = promised == 0
    fee_amount, fee_basis = entry.get("fee", (None, ""))
    location, hours = _place(entry, department, entry["window"])
    return {
        "name": entry["name"],
        "item_type": entry["type"],
        "window_category": categories[entry["window"]],
        "target": entry["target"],
        "keywords": entry["keywords"],
        "conditions": entry["conditions"],
        "legal_basis": list(entry["basis"]),
        "statutory_limit": statutory,
        "statutory_unit": catalogue.UNITS[statutory_unit],
        "promised_limit": promised,
        "promised_unit": catalogue.UNITS[promised_unit],
        "handling_type": HandlingType.IMMEDIATE if immediate else HandlingType.PROMISED,
        "is_free": "fee" not in entry,
        "fee_amount": fee_amount,
        "fee_basis": fee_basis,
        "visits": entry["visits"],
        "online_depth": catalogue.DEPTHS[entry["depth"]],
        **{name: word in tags for word, name in catalogue.TAGS.items()},
        "tongban": next(
            (scope for word, scope in catalogue.TONGBAN.items() if word in tags), TongbanScope.NONE
        ),
        "supervision_phone": catalogue.SUPERVISION_PHONE,
        "consultation_phone": catalogue.CONSULTATION_PHONES[entry["department"]],
        "location": location,
        "hours": hours,
        "flow_description": _flow(entry, immediate),
        "nodes": _nodes(entry),
    }


def _material(spec: str | dict, library: dict[str, MaterialType]) -> dict:
    spec = {"type": spec} if isinstance(spec, str) else spec
    row = {
        "material_type": library[spec["type"]],
        "name": spec.get("name", ""),
        "originals": spec.get("originals", 1),
        "copies": spec.get("copies", 0),
        "electronic_accepted": spec.get("electronic", True),
        "note": spec.get("note", ""),
    }
    if condition := spec.get("condition"):
        row |= {"requirement": Requirement.CONDITIONAL, "condition": condition}
    if tolerable := spec.get("tolerable"):
        method, days = tolerable
        row |= {"tolerable": True, "tolerance_method": method, "tolerance_days": days}
    return row


def load_service_items(report: Report) -> None:
    """Every item of the catalogue, published; the draft example stays a draft."""
    library = {m.code: m for m in MaterialType.objects.all()}
    dictionary = {f.key: f for f in FieldDefinition.objects.all()}
    categories = {c.code: c for c in WindowCategory.objects.all()}
    for entry in [*catalogue.ITEMS, catalogue.DRAFT_EXAMPLE]:
        code = implementation_code(entry)
        if ServiceItem.objects.filter(implementation_code=code).exists():
            continue
        department = Department.objects.select_related("region").get(uscc=code[:18])
        immediate = entry["promised"][0] == 0
        chain = catalogue.CHAINS[1 if immediate else entry.get("chain", 3)]
        version = catalog_services.item_create(
            department=department,
            implementation_code=code,
            guide=_guide(entry, department, categories),
            materials=[_material(spec, library) for spec in entry["materials"]],
            form_fields=[
                {"field": dictionary[key.lstrip("?")], "required": not key.startswith("?")}
                for key in entry["fields"]
            ],
            review_steps=[{"name": name, "role": role} for name, role in chain],
            actor=None,
            **SYSTEM,
        )
        if not entry.get("draft"):
            catalog_services.publish(version=version, actor=None, **SYSTEM)
        report.add(_("service items"))


@transaction.atomic
def _theme_create(
    spec: dict, *, order: int, items: dict[str, ServiceItem], window: WindowCategory
) -> Theme:
    """A theme with its stages, items and scenario questions. The catalogue has no theme
    services, so this writes the rows and their audit event itself, in one transaction."""
    theme = Theme(
        code=spec["code"],
        name=spec["name"],
        category=spec["category"],
        target=spec["target"],
        description=spec["description"],
        promised_limit=spec.get("promised_limit"),
        denial_blocks_all=spec.get("denial_blocks_all", False),
        window_category=window,
        order=order,
    )
    theme.full_clean()
    theme.save()
    stages = spec.get("stages") or [(None, "", spec["items"])]
    theme_items: dict[str, ThemeItem] = {}
    for stage_order, (name, description, keys) in enumerate(stages, start=1):
        stage = None
        if name:
            stage = ThemeStage.objects.create(
                theme=theme, order=stage_order, name=name, description=description
            )
        for item_order, key in enumerate(keys, start=1):
            theme_items[key] = ThemeItem.objects.create(
                theme=theme, stage=stage, item=items[key], order=item_order
            )
    for question_order, (text, multiple, answers) in enumerate(spec["questions"], start=1):
        question = ScenarioQuestion.objects.create(
            theme=theme, order=question_order, text=text, multiple=multiple
        )
        for answer_order, (answer, keys) in enumerate(answers, start=1):
            option = ScenarioOption.objects.create(
                question=question, order=answer_order, text=answer
            )
            option.theme_items.set([theme_items[key] for key in keys])
    audit.record(
        action="catalog.theme.create",
        obj=theme,
        channel=Channel.SYSTEM,
        payload={
            "items": [items[key].implementation_code for key in theme_items],
            "stages": len(spec.get("stages", [])),
            "questions": len(spec["questions"]),
        },
    )
    return theme


def _theme_window(theme: Theme, window: WindowCategory) -> None:
    """A theme loaded before themes had a window category gets the catalogue's."""
    theme.window_category = window
    theme.save(update_fields=["window_category"])
    audit.record(
        action="catalog.theme.update",
        obj=theme,
        channel=Channel.SYSTEM,
        payload={"window_category": window.code},
    )


def load_themes(report: Report) -> None:
    codes = {entry["key"]: implementation_code(entry) for entry in catalogue.ITEMS}
    by_code = ServiceItem.objects.in_bulk(codes.values(), field_name="implementation_code")
    items = {key: by_code[code] for key, code in codes.items()}
    categories = {c.code: c for c in WindowCategory.objects.all()}
    for order, spec in enumerate(catalogue.THEMES, start=1):
        window = categories[spec["window"]]
        if theme := Theme.objects.filter(code=spec["code"]).first():
            if theme.window_category_id is None:
                _theme_window(theme, window)
            continue
        _theme_create(spec, order=order, items=items, window=window)
        report.add(_("themes"))


def load_licences(report: Report) -> None:
    """The licence catalogue, the issuing departments' signing keys and the paper licences
    (yimen.demo.licences). Before the cases: their 制证 issues the licences of the item."""
    codes = {
        entry["key"]: implementation_code(entry)
        for entry in catalogue.ITEMS
        if entry["key"] in demo_licences.ITEMS
    }
    by_code = ServiceItem.objects.in_bulk(codes.values(), field_name="implementation_code")
    departments = {
        key: Department.objects.get(uscc=department_uscc(key)) for key in demo_licences.DEPARTMENTS
    }
    created = demo_licences.load(
        items={key: by_code[code] for key, code in codes.items()}, departments=departments
    )
    labels = {
        "types": _("licence types"),
        "keys": _("signing keys"),
        "licences": _("licences"),
    }
    for what, n in created.items():
        if n:
            report.add(labels[what], n)


def load_cases(report: Report) -> None:
    """The demo cases (yimen.demo.cases), walked through the case services; those that
    reach 制证 issue their item's licences."""
    codes = {entry["key"]: implementation_code(entry) for entry in catalogue.ITEMS}
    by_code = {v.item.implementation_code: v for v in versions_in_force()}
    licences = Licence.objects.count()
    if created := demo_cases.load({key: by_code[code] for key, code in codes.items()}):
        report.add(_("cases"), created)
    if issued := Licence.objects.count() - licences:
        report.add(_("licences"), issued)


def load_joint(report: Report) -> None:
    """The demo joint applications (yimen.demo.joint): 开办企业 from application to rating,
    one in review and one waiting at the window, and a construction project at its third
    stage, walked through the joint and case services."""
    codes = {entry["key"]: implementation_code(entry) for entry in catalogue.ITEMS}
    by_code = {v.item.implementation_code: v for v in versions_in_force()}
    created = demo_joint.load({key: by_code[code] for key, code in codes.items()})
    labels = {
        "logins": _("logins"),
        "applicants": _("applicants"),
        "applications": _("joint applications"),
        "projects": _("projects"),
        "licences": _("licences"),
    }
    for what, n in created.items():
        if n:
            report.add(labels[what], n)


def load_hall(report: Report) -> None:
    """The hall's quotas, a month of queue history, today's queue and upcoming
    appointments (yimen.demo.hall)."""
    codes = {
        entry["key"]: implementation_code(entry)
        for entry in catalogue.ITEMS
        if entry["key"] in demo_hall.ITEMS
    }
    by_code = ServiceItem.objects.in_bulk(codes.values(), field_name="implementation_code")
    created = demo_hall.load({key: by_code[code] for key, code in codes.items()})
    labels = {
        "quotas": _("appointment quotas"),
        "tickets": _("queue tickets"),
        "appointments": _("appointments"),
    }
    for what, n in created.items():
        if n:
            report.add(labels[what], n)


def load_hotline(report: Report) -> None:
    """The 12345 hotline's taxonomy (each leaf with its default unit), its deadline rules and
    the knowledge base (yimen.demo.hotline): written by the demo agent, reviewed by the demo
    system admin, through the hotline's services."""
    keys = {unit for _c, _n, _p, unit, _o in demo_hotline.taxonomy_rows() if unit}
    keys |= {article["department"] for article in demo_hotline.ARTICLES}
    departments = {key: Department.objects.get(uscc=department_uscc(key)) for key in keys}
    created = demo_hotline.load(
        departments=departments,
        agent=User.objects.get(username="agent"),
        reviewer=User.objects.get(username="admin"),
    )
    labels = {
        "categories": _("hotline categories"),
        "deadline_rules": _("hotline deadline rules"),
        "articles": _("knowledge articles"),
    }
    for what, n in created.items():
        if n:
            report.add(labels[what], n)


STEPS: list[tuple[str, Callable[[Report], None]]] = [
    ("regions", load_regions),
    ("window categories", load_window_categories),
    ("departments", load_departments),
    ("halls and windows", load_halls),
    ("staff", load_staff),
    ("applicants", load_applicants),
    ("material library", load_material_library),
    ("field dictionary", load_field_dictionary),
    ("service items", load_service_items),
    ("themes", load_themes),
    ("licences", load_licences),
    ("cases", load_cases),
    ("joint applications", load_joint),
    ("hall", load_hall),
    ("12345 hotline", load_hotline),
]


def _where(scope) -> str:
    """Where a demo login works: its department, or its hall and window."""
    if scope is None:
        return ""
    if isinstance(scope, tuple):
        hall_key, number = scope
        return f" · {next(h[1] for h in city.HALLS if h[0] == hall_key)} {number}"
    return f" · {next(d[2] for d in city.DEPARTMENTS if d[0] == scope)}"


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, what the account is for), for the printed table."""
    rows = [
        (username, city.DEMO_PASSWORD, f"{full_name} · {role.label}{_where(scope)}")
        for username, full_name, role, scope in city.STAFF
    ]
    rows += [
        (p[4], city.DEMO_PASSWORD, f"{p[0]} · {ApplicantKind.PERSON.label}")
        for p in city.PERSONS
        if p[4]
    ]
    rows += [
        (e[4], city.DEMO_PASSWORD, f"{e[0]} · {ApplicantKind.ENTERPRISE.label}")
        for e in city.ENTERPRISES
        if e[4]
    ]
    rows += [
        (e.username, city.DEMO_PASSWORD, f"{e.name} · {ApplicantKind.ENTERPRISE.label}")
        for e in demo_joint.ENTERPRISES
        if e.username
    ]
    return rows
