"""The three lists (三张清单): what each says (only active licence types and guides in force),
the signing key shown by its fingerprint and never the key, the count of licences in force,
the pages for every role, the xlsx export for the admins only, and queries that do not grow
with the rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from yimen.catalog.choices import VersionStatus
from yimen.common.sm2 import fingerprint
from yimen.licences import lists, services
from yimen.licences.models import SigningKey
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..catalog.factories import MaterialTypeFactory, make_item
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import (
    MONDAY,
    LicenceTypeFactory,
    enterprise,
    issue,
    keyed_department,
    monday,
    person,
)

pytestmark = pytest.mark.django_db

ISSUING = reverse("licence_lists:index")
ACCEPTING = reverse("licence_lists:list", args=["accepting"])
SYSTEMS = reverse("licence_lists:list", args=["systems"])
PAGES = {"issuing": ISSUING, "accepting": ACCEPTING, "systems": SYSTEMS}


def export_url(which: str) -> str:
    return reverse("licence_lists:export", args=[which])


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    return monday(monkeypatch)


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = english(Client())
    client.force_login(user)
    return client


class World:
    """Two issuing departments (one can sign, one has no key yet), their licence types and
    the items that issue and accept them."""

    def __init__(self):
        self.food_dept = keyed_department(name="市场监督管理局")
        self.copy = MaterialTypeFactory(name="营业执照复印件")
        self.issuer_item = make_item(department=self.food_dept, name="食品经营许可")
        self.draft_item = make_item(
            department=self.food_dept, name="尚未发布的事项", status=VersionStatus.DRAFT
        )
        self.archived_item = make_item(
            department=self.food_dept, name="已取消的事项", status=VersionStatus.ARCHIVED
        )
        self.other_dept = DepartmentFactory(name="卫生健康局")
        self.asking_item = make_item(
            department=self.other_dept,
            name="公共场所卫生许可",
            materials=[{"material_type": self.copy, "originals": 1}],
        )
        self.food = LicenceTypeFactory(
            name="食品经营许可证",
            issuer=self.food_dept,
            issuing_items=[
                self.issuer_item.item,
                self.draft_item.item,
                self.archived_item.item,
            ],
            replaces=[self.copy],
        )
        self.health = LicenceTypeFactory(name="公共场所卫生许可证", issuer=self.other_dept)
        self.retired = LicenceTypeFactory(name="已停发证照", issuer=self.food_dept, is_active=False)


@pytest.fixture
def world():
    return World()


# --- the selectors ----------------------------------------------------------------------------


def test_the_issuing_list_names_the_items_in_force_that_issue_each_active_type(world):
    rows = {row.licence_type: row for row in lists.issuing_list()}
    assert set(rows) == {world.food, world.health}  # the retired type is not listed
    (item,) = rows[world.food].items  # the draft and the archived item are not in force
    assert (item.name, item.department) == ("食品经营许可", "市场监督管理局")
    assert item.url == reverse("catalog:item", args=[world.issuer_item.item.implementation_code])
    assert rows[world.health].items == []


def test_the_accepting_list_follows_the_material_types_to_the_guides_that_ask_for_them(world):
    rows = {row.licence_type: row for row in lists.accepting_list()}
    (replaced,) = rows[world.food].replaces
    assert replaced.material_type == world.copy
    assert [i.name for i in replaced.items] == ["公共场所卫生许可"]
    assert rows[world.health].replaces == []
    # A draft that asks for the material does not accept the licence yet
    make_item(
        department=world.other_dept,
        name="草稿事项",
        status=VersionStatus.DRAFT,
        materials=[{"material_type": world.copy, "originals": 1}],
    )
    rows = {row.licence_type: row for row in lists.accepting_list()}
    assert [i.name for i in rows[world.food].replaces[0].items] == ["公共场所卫生许可"]


def test_the_systems_list_shows_whether_a_department_signs_and_its_licences_in_force(world):
    holder = person()
    issue(world.food, holder)
    revoked = issue(world.food, holder)
    services.licence_revoke(licence=revoked, actor=UserFactory(), reason="吊销")
    one_year = LicenceTypeFactory(issuer=world.food_dept, validity_years=1)
    issue(one_year, holder)

    rows = {row.department: row for row in lists.systems_list()}
    assert set(rows) == {world.food_dept, world.other_dept}
    food, health = rows[world.food_dept], rows[world.other_dept]
    assert food.has_key and not health.has_key and health.key_fingerprint == ""
    key = SigningKey.objects.get(department=world.food_dept, is_active=True)
    assert food.key_fingerprint == fingerprint(key.public_key)[:19]  # 16 digits, 3 spaces
    assert set(food.licence_types) == {world.food, one_year}  # the retired type is not listed
    assert food.valid_licences == 2 and health.valid_licences == 0
    # Two years on, the one-year licence is past its day though not yet marked expired
    later = lists.systems_list(today=MONDAY + dt.timedelta(days=730))
    assert {r.department: r.valid_licences for r in later}[world.food_dept] == 1


def _more(world, n: int):
    """`n` more types with an issuing item, a replaced material, an asking item, a keyed
    department and licences."""
    for i in range(n):
        department = keyed_department()
        material = MaterialTypeFactory()
        item = make_item(department=department, name=f"事项{i}")
        make_item(department=world.other_dept, materials=[{"material_type": material}])
        licence_type = LicenceTypeFactory(
            issuer=department, issuing_items=[item.item], replaces=[material, world.copy]
        )
        issue(licence_type)


@pytest.mark.parametrize(
    "reader", [lists.issuing_list, lists.accepting_list, lists.systems_list], ids=lists.LISTS
)
def test_each_list_reads_in_three_queries_whatever_its_length(
    world, reader, django_assert_num_queries
):
    with django_assert_num_queries(3):
        few = reader()
    _more(world, 4)
    with django_assert_num_queries(3):
        many = reader()
    assert len(many) == len(few) + 4


def test_the_signing_keys_private_half_is_not_even_read(world):
    with CaptureQueriesContext(connection) as captured:
        lists.systems_list()
    assert not any("private_key" in q["sql"] for q in captured.captured_queries)


# --- the pages --------------------------------------------------------------------------------


def _clients(world_) -> dict[str, Client]:
    staff = grant(UserFactory(), Role.REVIEWER, department=world_.food_dept)
    return {
        "anonymous": english(Client()),
        "person": signed_in(person().user),
        "enterprise": signed_in(enterprise().user),
        "staff": signed_in(staff),
    }


@pytest.mark.parametrize("which", lists.LISTS)
def test_every_role_reads_every_list_and_only_admins_are_offered_the_workbook(world, which):
    for role, client in _clients(world).items():
        response = client.get(PAGES[which])
        assert response.status_code == 200, role
        page = response.text
        assert "食品经营许可证" in page and "已停发证照" not in page, role
        assert export_url(which) not in page, role
        # The three tabs, the current one marked
        assert all(url in page for url in PAGES.values())
        assert f'href="{PAGES[which]}" aria-current="page"' in page
    for admin in (
        grant(UserFactory(), Role.SYSTEM_ADMIN),
        grant(UserFactory(), Role.CATALOGUE_ADMIN),
    ):
        assert export_url(which) in signed_in(admin).get(PAGES[which]).text


def test_the_pages_show_what_each_list_says(world):
    client = english(Client())
    issuing = client.get(ISSUING).text
    assert "食品经营许可" in issuing and "尚未发布的事项" not in issuing
    assert "已取消的事项" not in issuing and "No service in force issues it." in issuing
    accepting = client.get(ACCEPTING).text
    assert "营业执照复印件" in accepting and "公共场所卫生许可" in accepting
    systems = client.get(SYSTEMS).text
    key = SigningKey.objects.get(department=world.food_dept, is_active=True)
    assert fingerprint(key.public_key)[:19] in systems
    assert key.public_key not in systems and key.private_key not in systems
    assert 'data-has-key="yes"' in systems and 'data-has-key="no"' in systems


def test_an_unknown_list_is_not_found(world):
    assert english(Client()).get(reverse("licence_lists:list", args=["other"])).status_code == 404
    admin = signed_in(grant(UserFactory(), Role.SYSTEM_ADMIN))
    assert admin.get(export_url("other")).status_code == 404


@pytest.mark.parametrize("which", lists.LISTS)
def test_the_list_pages_queries_do_not_grow_with_the_rows(world, which):
    client = english(Client())
    client.get(PAGES[which])
    with CaptureQueriesContext(connection) as few:
        client.get(PAGES[which])
    _more(world, 3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(PAGES[which])
    assert len(response.context["rows"]) == 5
    assert len(many) == len(few) == 3  # anonymous: the list's own three


def test_the_navigation_offers_the_lists_to_everyone(world):
    for client in _clients(world).values():
        assert f'href="{ISSUING}"' in client.get(reverse("home")).text


# --- the workbook -----------------------------------------------------------------------------


def _sheet(response):
    book = load_workbook(io.BytesIO(response.content))
    return book.active


@pytest.mark.parametrize("which", lists.LISTS)
def test_only_system_and_catalogue_admins_download_the_workbooks(world, which):
    url = export_url(which)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(
        reverse("accounts:login")
    )
    for role, client in _clients(world).items():
        if role != "anonymous":
            assert client.get(url).status_code == 403, role
    scoped_catalogue_admin = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=world.food_dept)
    for admin in (grant(UserFactory(), Role.SYSTEM_ADMIN), scoped_catalogue_admin):
        response = signed_in(admin).get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert f"licence-{which}-list.xlsx" in response["Content-Disposition"]
        assert _sheet(response).title == lists.SHEET_TITLES[which]


def test_the_workbooks_have_chinese_headers_and_one_row_per_pair(world, sysadmin):
    issue(world.food, person())
    client = signed_in(sysadmin)
    issuing = _sheet(client.get(export_url("issuing")))
    rows = list(issuing.iter_rows(values_only=True))
    assert rows[0] == ("证照类型代码", "证照名称", "发证部门", "持证主体", "有效期（年）",
                       "事项名称", "实施编码", "实施部门")  # fmt: skip
    by_type = {row[1]: row for row in rows[1:]}
    food = by_type["食品经营许可证"]
    assert food[3:7] == ("自然人", 5, "食品经营许可", world.issuer_item.item.implementation_code)
    assert by_type["公共场所卫生许可证"][5:] == (None, None, None)  # no item issues it
    assert "已停发证照" not in by_type

    accepting = list(_sheet(client.get(export_url("accepting"))).iter_rows(values_only=True))
    assert accepting[0][3] == "可替代材料"
    assert ("食品经营许可证", "营业执照复印件", "公共场所卫生许可") in {
        (row[1], row[3], row[4]) for row in accepting[1:]
    }

    systems = list(_sheet(client.get(export_url("systems"))).iter_rows(values_only=True))
    assert systems[0] == ("部门名称", "统一社会信用代码", "签发证照", "签名密钥",
                          "公钥指纹（前16位）", "有效证照数")  # fmt: skip
    by_department = {row[0]: row for row in systems[1:]}
    assert by_department["市场监督管理局"][3] == "有" and by_department["市场监督管理局"][5] == 1
    assert by_department["卫生健康局"][3:6] == ("无", None, 0)


def test_a_name_that_looks_like_a_formula_stays_text(world, sysadmin):
    LicenceTypeFactory(name='=HYPERLINK("http://x")', issuer=world.food_dept)
    sheet = _sheet(signed_in(sysadmin).get(export_url("issuing")))
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    (cell,) = [c for c in cells if str(c.value).startswith("=")]
    assert cell.data_type == "s"
