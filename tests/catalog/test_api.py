"""The catalogue API: the public reads and their filters, each role on the writes, field
errors, publishing, query counts and the published schema."""

import pytest
from rest_framework.test import APIClient

from yimen.catalog import services
from yimen.catalog.choices import (
    FieldType,
    HandlingType,
    ItemType,
    OnlineDepth,
    Target,
    ThemeCategory,
    TongbanScope,
    VersionStatus,
)
from yimen.catalog.models import (
    FormField,
    ItemVersion,
    Material,
    ReviewStep,
    ScenarioOption,
    ScenarioQuestion,
    ServiceItem,
    Theme,
    ThemeItem,
    ThemeStage,
)
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import (
    FieldDefinitionFactory,
    MaterialTypeFactory,
    good_guide,
    implementation_code,
    make_item,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def code(version) -> str:
    return version.item.implementation_code


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["implementation_code"] for row in response.json()["results"]]


def new_draft(version) -> ItemVersion:
    return services.draft_start(item=version.item, actor=None, channel=Channel.SYSTEM)


@pytest.fixture
def anonymous():
    return client_for()


@pytest.fixture
def department():
    return DepartmentFactory()


@pytest.fixture
def admin_user():
    """A catalogue admin of every department."""
    return grant(UserFactory(), Role.CATALOGUE_ADMIN)


@pytest.fixture
def as_admin(admin_user):
    return client_for(admin_user)


@pytest.fixture
def as_department_admin(department):
    return client_for(grant(UserFactory(), Role.CATALOGUE_ADMIN, department=department))


@pytest.fixture
def as_other_admin():
    """A catalogue admin of another department than `department`."""
    return client_for(grant(UserFactory(), Role.CATALOGUE_ADMIN, department=DepartmentFactory()))


# --- the guides in force ---------------------------------------------------------------------


class TestItems:
    def test_only_guides_in_force_are_listed(self, anonymous, department):
        published = make_item(department=department)
        make_item(department=department, status=VersionStatus.DRAFT)
        make_item(department=department, status=VersionStatus.ARCHIVED)
        under_a_draft = make_item(department=department)
        new_draft(under_a_draft)

        response = anonymous.get(f"{BASE}/items/")

        assert sorted(codes(response)) == sorted([code(published), code(under_a_draft)])
        body = response.json()
        assert body["count"] == 2
        assert {row["version"] for row in body["results"]} == {1}

    def test_the_list_is_paginated(self, anonymous):
        make_item()
        body = anonymous.get(f"{BASE}/items/").json()
        assert set(body) >= {"count", "next", "previous", "results"}

    def test_detail_is_the_whole_guide(self, anonymous):
        material_type = MaterialTypeFactory(code="id-card", name="居民身份证")
        field = FieldDefinitionFactory(
            key="business-scope",
            label="经营范围",
            datatype=FieldType.CHOICE,
            choices=["餐饮", "零售"],
            max_length=None,
        )
        version = make_item(
            materials=[{"material_type": material_type, "originals": 1, "copies": 2}],
            form_fields=[{"field": field, "required": False}],
            zero_visit=True,
        )

        response = anonymous.get(f"{BASE}/items/{code(version)}/", HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 200
        body = response.json()
        assert body["name"] == version.name and body["version"] == 1
        assert body["published_at"] and body["department"]["id"] == version.item.department_id
        assert body["legal_basis"] == version.legal_basis
        [material] = body["materials"]
        assert material["material_type"]["code"] == "id-card"
        assert material["material_type"]["name"] == material["display_name"] == "居民身份证"
        assert (material["originals"], material["copies"]) == (1, 2)
        [form_field] = body["form_fields"]
        assert form_field["required"] is False
        assert form_field["field"] == {
            "key": "business-scope",
            "label": "经营范围",
            "datatype": "choice",
            "choices": ["餐饮", "零售"],
        }
        assert [(s["name"], s["role"]) for s in body["review_steps"]] == [
            ("承办", Role.REVIEWER),
            ("审批", Role.DEPARTMENT_HEAD),
        ]
        assert body["nodes"] == version.nodes
        assert body["zero_visit"] is True and "zero visits" in body["tags"]

    @pytest.mark.parametrize("status", [VersionStatus.DRAFT, VersionStatus.ARCHIVED])
    def test_drafts_and_archived_versions_have_no_page(self, anonymous, status):
        version = make_item(status=status)
        assert anonymous.get(f"{BASE}/items/{code(version)}/").status_code == 404

    def test_the_page_shows_the_version_in_force_under_a_draft(self, anonymous):
        version = make_item(name="出生登记")
        draft = new_draft(version)
        services.draft_update(
            version=draft, guide={"name": "出生登记（新）"}, actor=None, channel=Channel.SYSTEM
        )
        body = anonymous.get(f"{BASE}/items/{code(version)}/").json()
        assert (body["name"], body["version"]) == ("出生登记", 1)


# Each filter: the query, a guide it keeps, a guide it leaves out.
FILTERS = [
    ("item_type=licence", {"item_type": ItemType.LICENCE}, {}),
    (
        "online_depth=offline",
        {"online_depth": OnlineDepth.OFFLINE, "online": False, "visits": 1},
        {},
    ),
    ("handling_type=immediate", {"handling_type": HandlingType.IMMEDIATE, "promised_limit": 0}, {}),
    ("tongban=citywide", {"tongban": TongbanScope.CITYWIDE}, {}),
    ("tongban=cross_region", {"tongban": TongbanScope.CROSS_REGION}, {}),
    *((f"{tag}=true", {tag: True}, {tag: False}) for tag in ItemVersion.TAG_FIELDS),
    ("online=false", {"online": False}, {"online": True}),
]


class TestFilters:
    @pytest.mark.parametrize(("query", "kept", "left_out"), FILTERS)
    def test_filter(self, anonymous, query, kept, left_out):
        wanted = make_item(**kept)
        other = make_item(**left_out)
        found = codes(anonymous.get(f"{BASE}/items/?{query}"))
        assert code(wanted) in found
        assert code(other) not in found

    @pytest.mark.parametrize(
        ("target", "expected"),
        [
            ("person", {Target.PERSON, Target.BOTH}),
            ("enterprise", {Target.ENTERPRISE, Target.BOTH}),
            ("both", {Target.BOTH}),
        ],
    )
    def test_target_includes_items_for_both(self, anonymous, target, expected):
        by_target = {t: code(make_item(target=t)) for t in Target}
        found = set(codes(anonymous.get(f"{BASE}/items/?target={target}")))
        assert found == {by_target[t] for t in expected}

    def test_department_and_region(self, anonymous, department):
        here = make_item(department=department)
        elsewhere = make_item()
        assert codes(anonymous.get(f"{BASE}/items/?department={department.pk}")) == [code(here)]
        assert codes(anonymous.get(f"{BASE}/items/?region={department.region_id}")) == [code(here)]
        assert code(elsewhere) in codes(anonymous.get(f"{BASE}/items/"))

    def test_theme(self, anonymous):
        in_theme = make_item()
        make_item()
        theme = Theme.objects.create(
            code="open-a-shop", name="开店", category=ThemeCategory.JOINT, target=Target.PERSON
        )
        ThemeItem.objects.create(theme=theme, item=in_theme.item)
        assert codes(anonymous.get(f"{BASE}/items/?theme=open-a-shop")) == [code(in_theme)]
        assert codes(anonymous.get(f"{BASE}/items/?theme=nothing")) == []

    def test_search_in_chinese_best_first(self, anonymous):
        shop = make_item(name="个体工商户设立登记", keywords="开店 营业执照")
        food = make_item(name="食品经营许可", keywords="")
        drugs = make_item(name="药品零售企业许可", keywords="")
        assert codes(anonymous.get(f"{BASE}/items/?q=营业执照")) == [code(shop)]
        assert codes(anonymous.get(f"{BASE}/items/?q=我想开店")) == [code(shop)]
        assert codes(anonymous.get(f"{BASE}/items/?q=食品经营许可")) == [code(food), code(drugs)]

    def test_search_with_another_filter(self, anonymous, department):
        here = make_item(department=department, name="食品经营许可")
        make_item(name="食品经营许可")
        query = f"q=食品&department={department.pk}"
        assert codes(anonymous.get(f"{BASE}/items/?{query}")) == [code(here)]

    @pytest.mark.parametrize(
        "query",
        [
            "target=robot",
            "tongban=moon",
            "department=999999",
            "zero_visit=yes",
            "online=maybe",
            "nearby=2",
            "one_visit=truee",
        ],
    )
    def test_bad_filter_is_a_400(self, anonymous, query):
        make_item()
        response = anonymous.get(f"{BASE}/items/?{query}")
        assert response.status_code == 400
        assert query.split("=")[0] in response.json()

    @pytest.mark.parametrize(("value", "kept"), [("1", True), ("0", False), ("True", True)])
    def test_yes_no_filters_take_true_false_or_one_zero(self, anonymous, value, kept):
        online, offline = make_item(online=True), make_item(online=False)
        found = codes(anonymous.get(f"{BASE}/items/?online={value}"))
        assert found == [code(online if kept else offline)]

    def test_a_blank_yes_no_filter_is_left_out(self, anonymous):
        make_item(online=True)
        make_item(online=False)
        assert len(codes(anonymous.get(f"{BASE}/items/?online="))) == 2

    def test_the_library_active_filter_is_strict_too(self, anonymous):
        response = anonymous.get(f"{BASE}/material-types/?active=yes")
        assert response.status_code == 400 and "active" in response.json()


# --- themes and the library ------------------------------------------------------------------


@pytest.fixture
def project_theme():
    """A theme in two stages: the first two items share a material type and a field, the
    third is brought in by an answer."""
    shared_type, shared_field = MaterialTypeFactory(), FieldDefinitionFactory()
    planning = make_item(
        name="建设工程规划许可证核发",
        materials=[
            {"material_type": shared_type},
            {"material_type": MaterialTypeFactory()},
        ],
        form_fields=[{"field": shared_field}],
    )
    land = make_item(
        name="建设用地规划许可证核发",
        materials=[{"material_type": shared_type}],
        form_fields=[{"field": shared_field}],
    )
    works = make_item(name="建筑工程施工许可证核发")
    theme = Theme.objects.create(
        code="construction",
        name="工程建设项目审批",
        category=ThemeCategory.CONSTRUCTION,
        target=Target.ENTERPRISE,
    )
    first = ThemeStage.objects.create(theme=theme, order=1, name="立项用地规划许可")
    second = ThemeStage.objects.create(theme=theme, order=2, name="施工许可")
    ThemeItem.objects.create(theme=theme, stage=first, item=planning.item, order=1)
    ThemeItem.objects.create(theme=theme, stage=first, item=land.item, order=2)
    optional = ThemeItem.objects.create(theme=theme, stage=second, item=works.item)
    question = ScenarioQuestion.objects.create(theme=theme, text="是否需要施工？")
    ScenarioOption.objects.create(question=question, text="是", order=1).theme_items.add(optional)
    ScenarioOption.objects.create(question=question, text="否", order=2)
    return theme, planning, land, works


class TestThemes:
    def test_list(self, anonymous, project_theme):
        Theme.objects.create(
            code="closed",
            name="停用主题",
            category=ThemeCategory.JOINT,
            target=Target.PERSON,
            is_active=False,
        )
        body = anonymous.get(f"{BASE}/themes/").json()
        [theme] = body["results"]
        assert theme["code"] == "construction" and theme["item_count"] == 3
        assert [s["name"] for s in theme["stages"]] == ["立项用地规划许可", "施工许可"]

    def test_detail(self, anonymous, project_theme):
        _theme, planning, land, works = project_theme

        response = anonymous.get(f"{BASE}/themes/construction/")

        assert response.status_code == 200
        body = response.json()
        assert [(i["implementation_code"], i["name"], i["stage"]) for i in body["items"]] == [
            (code(planning), "建设工程规划许可证核发", 1),
            (code(land), "建设用地规划许可证核发", 1),
            (code(works), "建筑工程施工许可证核发", 2),
        ]
        [question] = body["questions"]
        assert [(o["text"], o["items"]) for o in question["options"]] == [
            ("是", [code(works)]),
            ("否", []),
        ]
        first, second = (stage["reduction"] for stage in body["stages"])
        assert (first["materials_before"], first["materials_after"]) == (3, 2)
        assert (first["fields_before"], first["fields_after"]) == (2, 1)
        assert second["materials_before"] == second["materials_after"] == 1
        whole = body["reduction"]
        assert (whole["materials_before"], whole["materials_after"]) == (4, 3)
        assert (whole["fields_before"], whole["fields_after"]) == (3, 2)
        assert whole["fields_cut"] == 33
        shared = next(m for m in whole["materials"] if len(m["items"]) == 2)
        assert set(shared["items"]) == {code(planning), code(land)}

    def test_item_without_a_guide_in_force(self, anonymous, project_theme):
        _theme, _planning, _land, works = project_theme
        services.archive(version=works, actor=None, channel=Channel.SYSTEM, reason="取消")
        body = anonymous.get(f"{BASE}/themes/construction/").json()
        row = next(i for i in body["items"] if i["implementation_code"] == code(works))
        assert (row["name"], row["in_force"]) == (None, False)
        assert body["stages"][1]["reduction"]["materials_before"] == 0

    def test_answers_narrow_the_items_and_the_reduction(self, anonymous, project_theme):
        # given the theme's question: does the project need works?
        _theme, planning, land, works = project_theme
        [question] = anonymous.get(f"{BASE}/themes/construction/").json()["questions"]
        yes, no = (option["id"] for option in question["options"])

        # when the applicant answers no / then the works permit and its stage's merge go
        body = anonymous.get(f"{BASE}/themes/construction/?answer={no}").json()
        assert [i["implementation_code"] for i in body["items"]] == [code(planning), code(land)]
        assert body["answers"] == [no]
        assert body["stages"][1]["reduction"]["materials_before"] == 0
        whole = body["reduction"]
        assert (whole["materials_before"], whole["materials_after"]) == (3, 2)
        # the question still names what each answer brings in
        assert body["questions"][0]["options"][0]["items"] == [code(works)]

        # and answering yes brings it back
        body = anonymous.get(f"{BASE}/themes/construction/?answer={yes}").json()
        assert code(works) in [i["implementation_code"] for i in body["items"]]
        assert body["reduction"]["materials_before"] == 4

    def test_an_empty_answer_answers_nothing(self, anonymous, project_theme):
        _theme, _planning, _land, works = project_theme
        body = anonymous.get(f"{BASE}/themes/construction/?answer=").json()
        assert body["answers"] == []
        assert code(works) not in [i["implementation_code"] for i in body["items"]]

    def test_without_answers_every_item_is_listed(self, anonymous, project_theme):
        body = anonymous.get(f"{BASE}/themes/construction/").json()
        assert body["answers"] is None and len(body["items"]) == 3

    @pytest.mark.parametrize("bad", ["elsewhere", "abc", "9" * 30, "both"])
    def test_an_answer_that_is_not_the_themes_is_a_400(self, anonymous, project_theme, bad):
        theme = project_theme[0]
        other = Theme.objects.create(
            code="other", name="其他", category=ThemeCategory.JOINT, target=Target.PERSON
        )
        elsewhere = ScenarioOption.objects.create(
            question=ScenarioQuestion.objects.create(theme=other, text="？"), text="是"
        )
        yes, no = ScenarioOption.objects.filter(question__theme=theme)
        query = {
            "elsewhere": f"answer={elsewhere.pk}",
            "abc": "answer=abc",
            "9" * 30: f"answer={'9' * 30}",
            "both": f"answer={yes.pk}&answer={no.pk}",
        }[bad]

        response = anonymous.get(f"{BASE}/themes/construction/?{query}", HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 400
        [reason] = response.json()["answer"]
        assert ("takes one answer" if bad == "both" else "is not an answer") in reason

    def test_the_count_leaves_out_items_not_offered_at_present(self, anonymous, project_theme):
        _theme, _planning, _land, works = project_theme
        services.archive(version=works, actor=None, channel=Channel.SYSTEM, reason="取消")
        [theme] = anonymous.get(f"{BASE}/themes/").json()["results"]
        assert theme["item_count"] == 2

    def test_inactive_theme_is_not_found(self, anonymous):
        Theme.objects.create(
            code="closed",
            name="停用主题",
            category=ThemeCategory.JOINT,
            target=Target.PERSON,
            is_active=False,
        )
        assert anonymous.get(f"{BASE}/themes/closed/").status_code == 404


class TestLibrary:
    def test_material_types(self, anonymous):
        MaterialTypeFactory(code="id-card", name="居民身份证")
        MaterialTypeFactory(code="old", name="旧材料", is_active=False)
        body = anonymous.get(f"{BASE}/material-types/?active=true").json()
        assert [row["code"] for row in body["results"]] == ["id-card"]
        detail = anonymous.get(f"{BASE}/material-types/id-card/").json()
        assert (detail["name"], detail["kind"]) == ("居民身份证", "document")

    def test_fields(self, anonymous):
        FieldDefinitionFactory(key="mobile", label="手机号码", datatype=FieldType.MOBILE)
        FieldDefinitionFactory(key="name", label="姓名")
        body = anonymous.get(f"{BASE}/fields/?datatype=mobile").json()
        assert [row["key"] for row in body["results"]] == ["mobile"]
        assert anonymous.get(f"{BASE}/fields/name/").json()["label"] == "姓名"

    def test_library_is_read_only(self, as_admin):
        response = as_admin.post(f"{BASE}/material-types/", {"code": "x", "name": "x"})
        assert response.status_code == 405


# --- catalogue admins ------------------------------------------------------------------------


def new_item_payload(department, /, **overrides) -> dict:
    payload = {
        "implementation_code": implementation_code(department),
        "department": department.pk,
        **good_guide(),
        "materials": [{"material_type": MaterialTypeFactory().code, "originals": 1, "copies": 1}],
        "form_fields": [{"field": FieldDefinitionFactory().key, "required": True}],
        "review_steps": [
            {"name": "承办", "role": Role.REVIEWER},
            {"name": "审批", "role": Role.DEPARTMENT_HEAD},
        ],
    }
    payload.update(overrides)
    return payload


def every_request(version) -> list[tuple[str, str, dict | None]]:
    """Each endpoint of the versions, as (method, url, body)."""
    url = f"{BASE}/versions/{version.pk}/"
    return [
        ("get", f"{BASE}/versions/", None),
        ("post", f"{BASE}/versions/", new_item_payload(version.item.department)),
        ("get", url, None),
        ("patch", url, {"name": "新名称"}),
        ("delete", url, None),
        ("post", f"{url}publish/", None),
        ("post", f"{url}archive/", {"reason": "事项取消"}),
        ("post", f"{url}new-draft/", {}),
    ]


def send(client, method, url, body):
    return getattr(client, method)(url, body, format="json")


class TestAccess:
    @pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk", "reviewer"])
    def test_others_are_refused(self, request, who):
        users = {"anonymous": lambda: None, "citizen": UserFactory}
        client = client_for(users.get(who, lambda: request.getfixturevalue(who))())
        version = make_item(status=VersionStatus.DRAFT)
        for method, url, body in every_request(version):
            response = send(client, method, url, body)
            expected = (401, 403) if who == "anonymous" else (403,)
            assert response.status_code in expected, (method, url)
        version.refresh_from_db()
        assert (version.status, version.name) == (VersionStatus.DRAFT, good_guide()["name"])
        assert ServiceItem.objects.count() == 1

    def test_admin_of_another_department_sees_nothing(self, as_other_admin, department):
        version = make_item(department=department, status=VersionStatus.DRAFT)
        requests = every_request(version)
        listing, create, *on_the_version = requests

        assert send(as_other_admin, *listing).json()["results"] == []
        assert send(as_other_admin, *create).status_code == 403
        for method, url, body in on_the_version:
            assert send(as_other_admin, method, url, body).status_code == 404, (method, url)
        version.refresh_from_db()
        assert version.status == VersionStatus.DRAFT
        assert ServiceItem.objects.count() == 1

    def test_department_admin_sees_only_their_department(self, as_department_admin, department):
        theirs = make_item(department=department, status=VersionStatus.DRAFT)
        make_item(status=VersionStatus.DRAFT)
        body = as_department_admin.get(f"{BASE}/versions/").json()
        assert [row["id"] for row in body["results"]] == [theirs.pk]

    @pytest.mark.parametrize("who", ["as_admin", "as_department_admin"])
    def test_catalogue_admin_works_through_the_life_of_an_item(self, request, who, department):
        client = request.getfixturevalue(who)

        created = send(client, "post", f"{BASE}/versions/", new_item_payload(department))
        assert created.status_code == 201, created.json()
        draft = created.json()
        assert (draft["status"], draft["number"]) == ("draft", 1)
        url = f"{BASE}/versions/{draft['id']}/"

        changed = client.patch(url, {"name": "食品经营许可"}, format="json")
        assert changed.status_code == 200, changed.json()
        assert changed.json()["name"] == "食品经营许可"
        assert client.get(url).status_code == 200

        published = client.post(f"{url}publish/")
        assert published.status_code == 200, published.json()
        assert published.json()["status"] == "published"

        started = client.post(f"{url}new-draft/", {"change_note": "调整材料"}, format="json")
        assert started.status_code == 201, started.json()
        assert (started.json()["number"], started.json()["change_note"]) == (2, "调整材料")
        discarded = client.delete(f"{BASE}/versions/{started.json()['id']}/")
        assert discarded.status_code == 204

        archived = client.post(f"{url}archive/", {"reason": "事项取消"}, format="json")
        assert archived.status_code == 200, archived.json()
        assert archived.json()["status"] == "archived"

        actions = list(
            AuditEvent.objects.filter(channel=Channel.API)
            .order_by("pk")
            .values_list("action", flat=True)
        )
        assert actions == [
            "catalog.item.create",
            "catalog.version.update",
            "catalog.version.publish",
            "catalog.version.start",
            "catalog.version.discard",
            "catalog.version.archive",
        ]


class TestVersions:
    def test_list_shows_the_latest_version_of_each_item(self, as_admin):
        published = make_item()
        draft = new_draft(published)
        withdrawn = make_item(status=VersionStatus.ARCHIVED)
        body = as_admin.get(f"{BASE}/versions/").json()
        assert {row["id"] for row in body["results"]} == {draft.pk, withdrawn.pk}

    def test_filter_by_status(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT)
        published = make_item()
        for status, expected in (("draft", draft), ("published", published)):
            rows = as_admin.get(f"{BASE}/versions/?status={status}").json()["results"]
            assert [row["id"] for row in rows] == [expected.pk]

    def test_detail_has_findings_and_history(self, as_admin):
        version = make_item(consultation_phone="")
        draft = new_draft(version)
        body = as_admin.get(f"{BASE}/versions/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
        assert {
            "code": "no-consultation-phone",
            "severity": "warning",
            "blocking": False,
            "message": "No consultation phone is published",
            "detail": "",
        } in body["findings"]
        assert [(v["number"], v["status"]) for v in body["history"]] == [
            (2, "draft"),
            (1, "published"),
        ]

    def test_the_version_in_force_under_a_draft_can_be_opened(self, as_admin):
        version = make_item()
        new_draft(version)
        assert as_admin.get(f"{BASE}/versions/{version.pk}/").json()["status"] == "published"

    def test_patch_replaces_the_lists_given(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT)
        steps = list(draft.review_steps.values_list("name", flat=True))
        material_type = MaterialTypeFactory(code="licence-copy")

        response = as_admin.patch(
            f"{BASE}/versions/{draft.pk}/",
            {"materials": [{"material_type": "licence-copy", "copies": 2}]},
            format="json",
        )

        assert response.status_code == 200, response.json()
        [material] = response.json()["materials"]
        assert material["material_type"]["code"] == material_type.code
        assert [s["name"] for s in response.json()["review_steps"]] == steps

    def test_published_version_is_not_edited(self, as_admin):
        version = make_item()
        response = as_admin.patch(f"{BASE}/versions/{version.pk}/", {"name": "x"}, format="json")
        assert response.status_code == 400 and "status" in response.json()
        assert as_admin.delete(f"{BASE}/versions/{version.pk}/").status_code == 400
        version.refresh_from_db()
        assert version.name == good_guide()["name"]

    def test_discarding_the_first_draft_removes_the_item(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT)
        assert as_admin.delete(f"{BASE}/versions/{draft.pk}/").status_code == 204
        assert not ServiceItem.objects.exists()

    def test_publish_refused_on_a_blocking_finding(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT, legal_basis=[])

        response = as_admin.post(f"{BASE}/versions/{draft.pk}/publish/")

        assert response.status_code == 400
        body = response.json()
        assert "status" in body
        assert [f["code"] for f in body["findings"]] == ["no-legal-basis"]
        assert body["findings"][0]["blocking"] is True
        draft.refresh_from_db()
        assert draft.status == VersionStatus.DRAFT and draft.published_at is None

    def test_publish_archives_the_previous_version(self, as_admin, anonymous):
        first = make_item(name="出生登记")
        draft = as_admin.post(f"{BASE}/versions/{first.pk}/new-draft/").json()
        as_admin.patch(f"{BASE}/versions/{draft['id']}/", {"name": "出生登记（新）"}, format="json")

        response = as_admin.post(f"{BASE}/versions/{draft['id']}/publish/")

        assert response.status_code == 200, response.json()
        first.refresh_from_db()
        assert first.status == VersionStatus.ARCHIVED and first.archived_at
        body = anonymous.get(f"{BASE}/items/{code(first)}/").json()
        assert (body["name"], body["version"]) == ("出生登记（新）", 2)

    def test_archive_needs_a_reason(self, as_admin, anonymous):
        version = make_item()
        response = as_admin.post(f"{BASE}/versions/{version.pk}/archive/", {}, format="json")
        assert response.status_code == 400 and "reason" in response.json()
        response = as_admin.post(
            f"{BASE}/versions/{version.pk}/archive/", {"reason": "事项取消"}, format="json"
        )
        assert response.status_code == 200
        assert codes(anonymous.get(f"{BASE}/items/")) == []
        assert AuditEvent.objects.latest("pk").reason == "事项取消"

    def test_second_draft_is_refused(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT)
        response = as_admin.post(f"{BASE}/versions/{draft.pk}/new-draft/")
        assert response.status_code == 400 and "status" in response.json()


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"implementation_code": "123"}, "implementation_code"),
            ({"name": ""}, "name"),
            ({"item_type": "astronaut"}, "item_type"),
            ({"is_free": False, "fee_basis": ""}, "fee_basis"),
            ({"nodes": [1, 2]}, "nodes"),
            ({"nodes": [99]}, "nodes.0"),
            ({"supervision_phone": "call me"}, "supervision_phone"),
            ({"department": 999999}, "department"),
            (
                {"materials": [{"material_type": "nothing-like-it"}]},
                "materials.0.material_type",
            ),
            ({"materials": "id-card"}, "materials"),
            (
                {
                    "materials": [
                        {"material_type": "id-card"},
                        {"material_type": "id-card", "requirement": "conditional"},
                    ]
                },
                "materials.1.condition",
            ),
            ({"materials": [{"material_type": "id-card", "tolerable": True}]}, "materials.0"),
            ({"form_fields": [{"field": "no-such-key"}]}, "form_fields.0.field"),
            ({"review_steps": [{"name": "受理", "role": "window_clerk"}]}, "review_steps.0.role"),
        ],
    )
    def test_create_names_the_field(self, as_admin, department, change, field):
        MaterialTypeFactory(code="id-card")
        response = as_admin.post(
            f"{BASE}/versions/", new_item_payload(department, **change), format="json"
        )
        assert response.status_code == 400
        assert any(key == field or key.startswith(f"{field}.") for key in response.json()), (
            response.json()
        )
        assert not ServiceItem.objects.exists()

    def test_code_of_another_department(self, as_admin, department):
        payload = new_item_payload(
            department, implementation_code=implementation_code(DepartmentFactory())
        )
        response = as_admin.post(f"{BASE}/versions/", payload, format="json")
        assert response.status_code == 400 and "implementation_code" in response.json()

    def test_patch_names_the_part_field(self, as_admin):
        draft = make_item(status=VersionStatus.DRAFT)
        response = as_admin.patch(
            f"{BASE}/versions/{draft.pk}/",
            {
                "materials": [
                    {
                        "material_type": draft.materials.get().material_type.code,
                        "requirement": "conditional",
                    }
                ]
            },
            format="json",
        )
        assert response.status_code == 400
        assert "materials.0.condition" in response.json()


# --- query counts ----------------------------------------------------------------------------


def make_rows(endpoint: str, n: int) -> None:
    """n rows for the endpoint, each with every relation its serializer shows filled in."""
    if endpoint in ("items", "versions"):
        for _ in range(n):
            make_item()
            make_item(status=VersionStatus.DRAFT)
    elif endpoint == "themes":
        for i in range(n):
            theme = Theme.objects.create(
                code=f"theme-{n}-{i}",
                name="主题",
                category=ThemeCategory.JOINT,
                target=Target.BOTH,
            )
            stage = ThemeStage.objects.create(theme=theme, order=1, name="阶段")
            ThemeItem.objects.create(theme=theme, stage=stage, item=make_item().item)
    elif endpoint == "material-types":
        MaterialTypeFactory.create_batch(n)
    elif endpoint == "fields":
        FieldDefinitionFactory.create_batch(n)


# Session, user, memberships (admins only); count, page and the page's prefetches.
MAX_LIST_QUERIES = 10


@pytest.mark.parametrize(
    ("endpoint", "who"),
    [
        ("items", "anonymous"),
        ("items?q=个体工商户", "anonymous"),
        ("themes", "anonymous"),
        ("material-types", "anonymous"),
        ("fields", "anonymous"),
        ("versions", "as_admin"),
    ],
)
def test_list_queries_do_not_grow_with_rows(request, endpoint, who, django_assert_max_num_queries):
    client = request.getfixturevalue(who)
    path, _, query = endpoint.partition("?")
    counts = []
    for rows in (1, 4):
        make_rows(path, rows)
        with django_assert_max_num_queries(MAX_LIST_QUERIES) as captured:
            response = client.get(f"{BASE}/{path}/?{query}")
        assert response.status_code == 200
        assert response.json()["count"] >= rows
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_items_list_loads_no_part_of_the_guides(anonymous, django_assert_max_num_queries):
    for _ in range(3):
        make_item()
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as captured:
        response = anonymous.get(f"{BASE}/items/")
    assert response.json()["count"] == 3
    parts = [f'"{m._meta.db_table}"' for m in (Material, FormField, ReviewStep)]
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert [table for table in parts if table in sql] == []
    # the page of a guide still has them
    first = response.json()["results"][0]["implementation_code"]
    guide = anonymous.get(f"{BASE}/items/{first}/").json()
    assert guide["materials"] and guide["form_fields"] and guide["review_steps"]


# --- schema ----------------------------------------------------------------------------------


def test_schema_lists_the_catalogue_paths(anonymous):
    response = anonymous.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "items/",
        "items/{implementation_code}/",
        "themes/",
        "themes/{code}/",
        "material-types/",
        "material-types/{code}/",
        "fields/",
        "fields/{key}/",
        "versions/",
        "versions/{id}/",
        "versions/{id}/publish/",
        "versions/{id}/archive/",
        "versions/{id}/new-draft/",
    ]:
        assert f"{BASE}/{path}" in paths, path
    assert set(paths[f"{BASE}/versions/{{id}}/"]) == {"get", "patch", "delete"}
    publish = paths[f"{BASE}/versions/{{id}}/publish/"]["post"]["responses"]
    assert "400" in publish
