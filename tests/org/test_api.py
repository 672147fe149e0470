"""The organisation API: each role on each endpoint, filters, field errors, query counts and
the published schema."""

import re

import pytest
from rest_framework.test import APIClient

from yimen.common.models import AuditEvent
from yimen.org.choices import RegionLevel, Role
from yimen.org.models import Membership, Window

from .factories import (
    CityFactory,
    DepartmentFactory,
    DistrictFactory,
    HallFactory,
    MembershipFactory,
    TownFactory,
    UserFactory,
    WindowCategoryFactory,
    WindowFactory,
    make_uscc,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/org"
LISTS = ["regions", "departments", "window-categories", "halls", "windows", "memberships"]
STRUCTURE = LISTS[:-1]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_anonymous():
    return client_for()


@pytest.fixture
def as_applicant():
    """A signed-in user with no role: an online applicant."""
    return client_for(UserFactory())


@pytest.fixture
def reviewer_membership():
    return MembershipFactory(role=Role.REVIEWER)


@pytest.fixture
def as_reviewer(reviewer_membership):
    return client_for(reviewer_membership.user)


@pytest.fixture
def system_admin():
    return MembershipFactory(system_admin=True).user


@pytest.fixture
def as_admin(system_admin):
    return client_for(system_admin)


def new_payload(endpoint: str) -> dict:
    """A valid body to create one record on the endpoint."""
    if endpoint == "regions":
        city = CityFactory()
        return {
            "code": city.code[:4] + "04000000",
            "name": "禅城区",
            "level": 2,
            "parent": city.pk,
        }
    if endpoint == "departments":
        region = DistrictFactory()
        return {"name": "市场监督管理局", "uscc": make_uscc(region.code, 1), "region": region.pk}
    if endpoint == "window-categories":
        return {"code": "enterprise", "name": "企业办事", "queue_prefix": "B"}
    if endpoint == "halls":
        return {"name": "禅城区行政服务中心", "region": DistrictFactory().pk}
    if endpoint == "windows":
        return {
            "hall": HallFactory().pk,
            "number": "07",
            "categories": [WindowCategoryFactory().pk],
        }
    if endpoint == "memberships":
        return {
            "user": UserFactory().pk,
            "role": Role.REVIEWER,
            "department": DepartmentFactory().pk,
        }
    raise AssertionError(endpoint)


def existing(endpoint: str):
    """One record of the endpoint and a change a system admin may make to it."""
    if endpoint == "regions":
        return DistrictFactory(), {"name": "南海区"}
    if endpoint == "departments":
        return DepartmentFactory(), {"is_active": False}
    if endpoint == "window-categories":
        return WindowCategoryFactory(), {"order": 9}
    if endpoint == "halls":
        return HallFactory(), {"opening_hours": "周一至周五 9:00-17:00"}
    if endpoint == "windows":
        return WindowFactory(), {"number": "99"}
    raise AssertionError(endpoint)


# --- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", LISTS)
class TestAccess:
    def test_anonymous_is_refused(self, as_anonymous, endpoint):
        assert as_anonymous.get(f"{BASE}/{endpoint}/").status_code in (401, 403)
        response = as_anonymous.post(f"{BASE}/{endpoint}/", new_payload(endpoint), format="json")
        assert response.status_code in (401, 403)

    def test_applicant_is_refused(self, as_applicant, endpoint):
        assert as_applicant.get(f"{BASE}/{endpoint}/").status_code == 403
        response = as_applicant.post(f"{BASE}/{endpoint}/", new_payload(endpoint), format="json")
        assert response.status_code == 403

    def test_reviewer_reads_but_cannot_write(self, as_reviewer, endpoint):
        response = as_reviewer.get(f"{BASE}/{endpoint}/")
        assert response.status_code == 200
        assert "results" in response.json()
        response = as_reviewer.post(f"{BASE}/{endpoint}/", new_payload(endpoint), format="json")
        assert response.status_code == 403

    def test_system_admin_creates(self, as_admin, endpoint):
        before = AuditEvent.objects.count()
        response = as_admin.post(f"{BASE}/{endpoint}/", new_payload(endpoint), format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["id"]
        assert AuditEvent.objects.count() == before + 1
        assert AuditEvent.objects.latest("pk").channel == "api"


@pytest.mark.parametrize("endpoint", STRUCTURE)
class TestChange:
    def test_reviewer_cannot_change(self, as_reviewer, endpoint):
        obj, change = existing(endpoint)
        response = as_reviewer.patch(f"{BASE}/{endpoint}/{obj.pk}/", change, format="json")
        assert response.status_code == 403

    def test_system_admin_changes_through_the_service(self, as_admin, endpoint):
        obj, change = existing(endpoint)
        response = as_admin.patch(f"{BASE}/{endpoint}/{obj.pk}/", change, format="json")
        assert response.status_code == 200, response.json()
        for field, value in change.items():
            assert response.json()[field] == value
        event = AuditEvent.objects.latest("pk")
        assert event.action.endswith(".update") and event.object_id == str(obj.pk)
        assert set(event.payload["changes"]) == set(change)

    def test_nothing_is_deleted(self, as_admin, endpoint):
        obj, _ = existing(endpoint)
        assert as_admin.delete(f"{BASE}/{endpoint}/{obj.pk}/").status_code == 405


class TestMemberships:
    def test_grant_returns_the_membership(self, as_admin):
        payload = new_payload("memberships")
        response = as_admin.post(f"{BASE}/memberships/", payload, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["role"] == Role.REVIEWER and body["role_label"]
        assert body["department"] == payload["department"] and body["is_active"] is True
        assert AuditEvent.objects.latest("pk").action == "org.membership.grant"

    def test_role_is_not_edited_in_place(self, as_admin, reviewer_membership):
        url = f"{BASE}/memberships/{reviewer_membership.pk}/"
        response = as_admin.patch(url, {"role": Role.SUPERVISOR}, format="json")
        assert response.status_code == 405
        reviewer_membership.refresh_from_db()
        assert reviewer_membership.role == Role.REVIEWER

    def test_delete_revokes_with_a_reason(self, as_admin, system_admin):
        membership = MembershipFactory()
        response = as_admin.delete(
            f"{BASE}/memberships/{membership.pk}/", {"reason": "调离岗位"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert Membership.objects.filter(pk=membership.pk, is_active=False).exists()
        event = AuditEvent.objects.latest("pk")
        assert (event.action, event.reason, event.actor) == (
            "org.membership.revoke",
            "调离岗位",
            system_admin,
        )

    def test_delete_takes_the_reason_from_the_query_too(self, as_admin):
        membership = MembershipFactory()
        response = as_admin.delete(f"{BASE}/memberships/{membership.pk}/?reason=退休")
        assert response.status_code == 200
        assert AuditEvent.objects.latest("pk").reason == "退休"

    def test_revoking_twice_is_a_400(self, as_admin):
        membership = MembershipFactory(is_active=False)
        response = as_admin.delete(f"{BASE}/memberships/{membership.pk}/")
        assert response.status_code == 400

    def test_reviewer_cannot_revoke(self, as_reviewer, reviewer_membership):
        response = as_reviewer.delete(f"{BASE}/memberships/{reviewer_membership.pk}/")
        assert response.status_code == 403
        reviewer_membership.refresh_from_db()
        assert reviewer_membership.is_active

    def test_revoked_admin_loses_write_access(self, as_admin, system_admin):
        MembershipFactory(system_admin=True)  # someone must stay in charge
        own = system_admin.memberships.get()
        assert as_admin.delete(f"{BASE}/memberships/{own.pk}/").status_code == 200
        response = as_admin.post(f"{BASE}/halls/", new_payload("halls"), format="json")
        assert response.status_code == 403


class TestMe:
    def test_anonymous(self, as_anonymous):
        assert as_anonymous.get(f"{BASE}/me/").status_code in (401, 403)

    def test_applicant_has_no_roles(self, as_applicant):
        body = as_applicant.get(f"{BASE}/me/").json()
        assert body["roles"] == [] and body["memberships"] == []
        assert body["is_staff_member"] is False and body["is_system_admin"] is False

    def test_reviewer_sees_roles_and_scopes(self, as_reviewer, reviewer_membership):
        body = as_reviewer.get(f"{BASE}/me/").json()
        department = reviewer_membership.department
        assert body["roles"] == [Role.REVIEWER]
        assert body["is_staff_member"] is True and body["is_system_admin"] is False
        assert body["department_ids"] == [department.pk]
        [membership] = body["memberships"]
        assert membership["department"] == {
            "id": department.pk,
            "name": department.name,
            "uscc": department.uscc,
        }

    def test_clerk_sees_window_categories(self):
        category = WindowCategoryFactory()
        window = WindowFactory(categories=[category])
        clerk = MembershipFactory(clerk=True, hall=window.hall, window=window)
        body = client_for(clerk.user).get(f"{BASE}/me/").json()
        assert body["window_category_ids"] == [category.pk]
        assert body["memberships"][0]["window"] == {"id": window.pk, "number": window.number}


# --- bad input -------------------------------------------------------------------------------


class TestBadInput:
    @pytest.mark.parametrize(
        ("endpoint", "change", "field"),
        [
            ("regions", {"code": "4406"}, "code"),
            ("regions", {"level": 3}, "level"),
            ("regions", {"level": 7}, "level"),
            ("departments", {"uscc": "91440604MA4UXXXXX0"}, "uscc"),
            ("departments", {"region": 999999}, "region"),
            ("window-categories", {"code": "not a slug"}, "code"),
            ("windows", {"categories": []}, "categories"),
            ("memberships", {"department": None}, "department"),
            ("memberships", {"role": "astronaut"}, "role"),
        ],
    )
    def test_field_errors(self, as_admin, endpoint, change, field):
        payload = {**new_payload(endpoint), **change}
        response = as_admin.post(f"{BASE}/{endpoint}/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()

    def test_window_number_taken_in_the_hall(self, as_admin):
        window = WindowFactory(number="01")
        payload = {
            "hall": window.hall.pk,
            "number": "01",
            "categories": [WindowCategoryFactory().pk],
        }
        response = as_admin.post(f"{BASE}/windows/", payload, format="json")
        assert response.status_code == 400
        assert "number" in response.json()
        assert Window.objects.count() == 1

    def test_duplicate_membership(self, as_admin, reviewer_membership):
        payload = {
            "user": reviewer_membership.user.pk,
            "role": Role.REVIEWER,
            "department": reviewer_membership.department.pk,
        }
        response = as_admin.post(f"{BASE}/memberships/", payload, format="json")
        assert response.status_code == 400
        assert "role" in response.json()

    def test_clerk_window_of_another_hall(self, as_admin):
        payload = {
            "user": UserFactory().pk,
            "role": Role.WINDOW_CLERK,
            "hall": HallFactory().pk,
            "window": WindowFactory().pk,
        }
        response = as_admin.post(f"{BASE}/memberships/", payload, format="json")
        assert response.status_code == 400
        assert "window" in response.json()

    def test_window_does_not_move(self, as_admin):
        window = WindowFactory()
        response = as_admin.patch(
            f"{BASE}/windows/{window.pk}/", {"hall": HallFactory().pk}, format="json"
        )
        assert response.status_code == 400
        assert "hall" in response.json()

    def test_department_loop(self, as_admin):
        top = DepartmentFactory()
        child = DepartmentFactory(parent=top)
        response = as_admin.patch(
            f"{BASE}/departments/{top.pk}/", {"parent": child.pk}, format="json"
        )
        assert response.status_code == 400
        assert "parent" in response.json()

    def test_region_with_children_keeps_its_level(self, as_admin):
        district = TownFactory().parent
        response = as_admin.patch(
            f"{BASE}/regions/{district.pk}/",
            {"level": 3, "parent": DistrictFactory().pk},
            format="json",
        )
        assert response.status_code == 400
        assert "level" in response.json()


# --- filters ---------------------------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


class TestFilters:
    def test_regions(self, as_reviewer):
        foshan = CityFactory(code="440600000000")
        chancheng = DistrictFactory(parent=foshan, code="440604000000")
        town = TownFactory(parent=chancheng)
        other = DistrictFactory()
        assert ids(as_reviewer.get(f"{BASE}/regions/?level=3")) >= {town.pk}
        assert town.pk not in ids(as_reviewer.get(f"{BASE}/regions/?level=2"))
        assert ids(as_reviewer.get(f"{BASE}/regions/?parent={chancheng.pk}")) == {town.pk}
        assert ids(as_reviewer.get(f"{BASE}/regions/?code_prefix=4406")) == {
            foshan.pk,
            chancheng.pk,
            town.pk,
        }
        assert other.pk not in ids(as_reviewer.get(f"{BASE}/regions/?code_prefix=4406"))

    def test_region_tree(self, as_reviewer):
        town = TownFactory()
        district = town.parent
        city = district.parent
        tree = as_reviewer.get(f"{BASE}/regions/tree/?root={city.pk}").json()
        assert tree[0]["id"] == city.pk
        assert tree[0]["children"][0]["id"] == district.pk
        assert tree[0]["children"][0]["children"][0]["id"] == town.pk
        shallow = as_reviewer.get(f"{BASE}/regions/tree/?root={city.pk}&max_level=2").json()
        assert shallow[0]["children"][0]["children"] == []
        response = as_reviewer.get(f"{BASE}/regions/tree/?root=999999")
        assert response.status_code == 400 and "root" in response.json()

    def test_departments(self, as_reviewer, reviewer_membership):
        region = DistrictFactory()
        found = DepartmentFactory(region=region, name="佛山市禅城区市场监督管理局")
        closed = DepartmentFactory(region=region, is_active=False)
        assert ids(as_reviewer.get(f"{BASE}/departments/?region={region.pk}")) == {
            found.pk,
            closed.pk,
        }
        assert ids(as_reviewer.get(f"{BASE}/departments/?region={region.pk}&active=true")) == {
            found.pk
        }
        refused = as_reviewer.get(f"{BASE}/departments/?active=maybe")
        assert refused.status_code == 400 and "active" in refused.json()
        assert ids(as_reviewer.get(f"{BASE}/departments/?search=市场监督")) == {found.pk}
        assert ids(as_reviewer.get(f"{BASE}/departments/?search={closed.uscc}")) == {closed.pk}

    def test_halls(self, as_reviewer):
        hall = HallFactory()
        HallFactory()
        assert ids(as_reviewer.get(f"{BASE}/halls/?region={hall.region.pk}")) == {hall.pk}

    def test_windows(self, as_reviewer):
        personal, enterprise = WindowCategoryFactory(), WindowCategoryFactory()
        hall = HallFactory()
        both = WindowFactory(hall=hall, categories=[personal, enterprise])
        only_personal = WindowFactory(hall=hall, categories=[personal])
        WindowFactory(categories=[enterprise])
        assert ids(as_reviewer.get(f"{BASE}/windows/?hall={hall.pk}")) == {
            both.pk,
            only_personal.pk,
        }
        assert ids(as_reviewer.get(f"{BASE}/windows/?hall={hall.pk}&category={enterprise.pk}")) == {
            both.pk
        }

    def test_memberships(self, as_reviewer, reviewer_membership):
        clerk = MembershipFactory(clerk=True)
        old = MembershipFactory(department=reviewer_membership.department, is_active=False)
        user = reviewer_membership.user
        assert ids(as_reviewer.get(f"{BASE}/memberships/?user={user.pk}")) == {
            reviewer_membership.pk
        }
        assert ids(as_reviewer.get(f"{BASE}/memberships/?role=window_clerk")) == {clerk.pk}
        assert ids(as_reviewer.get(f"{BASE}/memberships/?hall={clerk.hall.pk}")) == {clerk.pk}
        department = reviewer_membership.department.pk
        assert ids(as_reviewer.get(f"{BASE}/memberships/?department={department}")) == {
            reviewer_membership.pk,
            old.pk,
        }
        assert ids(
            as_reviewer.get(f"{BASE}/memberships/?department={department}&active=false")
        ) == {old.pk}


# --- query counts ----------------------------------------------------------------------------

# Session, user, the reader's memberships (with their prefetches), count, page, prefetches.
MAX_LIST_QUERIES = 8


def make_rows(endpoint: str, n: int) -> None:
    """n rows for the endpoint, each with every relation its serializer shows filled in."""
    if endpoint == "regions":
        for _ in range(n):
            TownFactory()
    elif endpoint == "departments":
        parent = DepartmentFactory()
        DepartmentFactory.create_batch(n, parent=parent)
    elif endpoint == "window-categories":
        WindowCategoryFactory.create_batch(n)
    elif endpoint == "halls":
        HallFactory.create_batch(n)
    elif endpoint == "windows":
        categories = WindowCategoryFactory.create_batch(2)
        WindowFactory.create_batch(n, categories=categories)
    elif endpoint == "memberships":
        category = WindowCategoryFactory()
        window = WindowFactory(categories=[category])
        for _ in range(n):
            MembershipFactory(clerk=True, hall=window.hall, window=window, categories=[category])
            MembershipFactory(supervisor=True, region=DistrictFactory())


@pytest.mark.parametrize("endpoint", [*LISTS, "regions/tree", "me"])
def test_list_queries_do_not_grow_with_rows(as_reviewer, endpoint, django_assert_max_num_queries):
    counts = []
    for rows in (3, 17):
        make_rows(endpoint.split("/")[0] if endpoint != "me" else "memberships", rows)
        with django_assert_max_num_queries(MAX_LIST_QUERIES) as captured:
            response = as_reviewer.get(f"{BASE}/{endpoint}/")
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_list_pages_show_many_rows(as_reviewer):
    make_rows("windows", 20)
    assert len(as_reviewer.get(f"{BASE}/windows/").json()["results"]) == 20


# --- schema and docs -------------------------------------------------------------------------


def test_schema_lists_the_org_paths(as_anonymous):
    response = as_anonymous.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    for path in [
        *(f"{BASE}/{endpoint}/" for endpoint in LISTS),
        *(f"{BASE}/{endpoint}/{{id}}/" for endpoint in LISTS),
        f"{BASE}/regions/tree/",
        f"{BASE}/me/",
    ]:
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    assert components["RoleEnum"]["enum"] == list(Role.values)
    assert components["LevelEnum"]["enum"] == list(RegionLevel.values)
    assert "patch" not in schema["paths"][f"{BASE}/memberships/{{id}}/"]
    assert "delete" in schema["paths"][f"{BASE}/memberships/{{id}}/"]


def test_docs_render_without_external_urls(as_anonymous):
    response = as_anonymous.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert re.findall(r"https?://", html) == []
