"""Loads the demo city through the services, step by step. Every step skips what exists,
so loading twice adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from yimen.accounts import services as account_services
from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.common.choices import Channel
from yimen.org import services as org_services
from yimen.org.choices import RegionLevel
from yimen.org.models import Department, Hall, Membership, Region, Window, WindowCategory

from . import city

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


STEPS: list[tuple[str, Callable[[Report], None]]] = [
    ("regions", load_regions),
    ("window categories", load_window_categories),
    ("departments", load_departments),
    ("halls and windows", load_halls),
    ("staff", load_staff),
    ("applicants", load_applicants),
]


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, what the account is for), for the printed table."""
    rows = [
        (username, city.DEMO_PASSWORD, f"{full_name} · {role.label}")
        for username, full_name, role, _scope in city.STAFF
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
    return rows
