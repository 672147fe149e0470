"""The hotline API: each role on each endpoint (agent, reviewer, unit handler, supervisor,
citizen, anonymous), the knowledge search (published and in force only, matched terms,
bad input by field), an article (a 404 to whoever may not see it, the review note to its
editors only), the category tree, the deadline rules, the query counts of the lists and the
published schema."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.org.factories import DepartmentFactory
from yimen.hotline import knowledge, search, services
from yimen.hotline.api import views
from yimen.hotline.choices import DeadlineUnit, OrderType, Urgency

from .test_views import draft, expire, leaf, make_people, pending, published

pytestmark = pytest.mark.django_db

BASE = "/api/v1/hotline"
SEARCHERS = ("agent", "reviewer", "handler", "supervisor")
EVERYONE = (*SEARCHERS, "citizen", "anonymous")


@pytest.fixture
def people():
    return make_people()


@pytest.fixture(autouse=True)
def _fresh_search_caches():
    # The search caches N, avgdl and document frequencies per process and forgets them on
    # commit, which never comes in a test: each test starts and ends with none.
    search.invalidate()
    yield
    search.invalidate()


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # the API speaks the caller's language
    if user is not None:
        client.force_login(user)
    return client


def as_role(people, role: str) -> APIClient:
    return client_for(getattr(people, role))


def errors(response, code: int = 400) -> dict:
    assert response.status_code == code, (response.status_code, response.content)
    return response.json()


# --- search ----------------------------------------------------------------------------------


class TestSearch:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_each_role(self, people, role):
        # given a published answer, a draft, a pending and an expired one on the subject
        article = published(people)
        draft(people, title="不动产登记草稿")
        pending(people, title="不动产登记待审")
        expire(published(people, title="不动产登记旧规定"))
        # when each role searches
        response = as_role(people, role).get(f"{BASE}/knowledge/", {"q": "办房产证要带什么材料"})
        # then those who answer callers get the published answer in force alone
        if role not in SEARCHERS:
            assert response.status_code == 403
            return
        assert response.status_code == 200
        hits = response.json()
        assert [hit["article"]["public_id"] for hit in hits] == [str(article.public_id)]
        hit = hits[0]
        assert hit["score"] > 0
        assert hit["matched"] and set(hit["matched"]) <= {"房产证", "材料", "办", "带", "房产"}
        assert hit["article"]["department"]["name"] == "佛山市自然资源局"
        assert hit["article"]["questions"] == ["买房后怎么办房产证", "办不动产证要带什么"]
        assert hit["article"]["tags"] == ["不动产", "登记"]
        assert hit["article"]["status"] == "published"
        assert "review" not in hit["article"]

    def test_best_first_limited_and_by_department(self, people):
        # given two answers of two departments
        land = published(people)
        tax_office = DepartmentFactory(name="佛山市税务局")
        tax = published(
            people,
            title="二手房交易契税怎么缴纳",
            answer="二手房交易契税在不动产登记前到税务局窗口缴纳。",
            questions="买二手房交多少税",
            department=tax_office,
            tags="契税",
        )
        client = as_role(people, "agent")
        # when the agent asks about the tax
        hits = client.get(f"{BASE}/knowledge/", {"q": "二手房契税"}).json()
        assert hits[0]["article"]["public_id"] == str(tax.public_id)
        # then limit and department narrow it
        assert len(client.get(f"{BASE}/knowledge/", {"q": "不动产登记", "limit": 1}).json()) == 1
        only = client.get(
            f"{BASE}/knowledge/", {"q": "不动产登记", "department": people.department.pk}
        ).json()
        assert [h["article"]["public_id"] for h in only] == [str(land.public_id)]

    def test_bad_input_is_named_by_field(self, people):
        client = as_role(people, "agent")
        assert "q" in errors(client.get(f"{BASE}/knowledge/"))
        assert "q" in errors(client.get(f"{BASE}/knowledge/", {"q": "   "}))
        assert "q" in errors(client.get(f"{BASE}/knowledge/", {"q": "问" * 201}))
        assert "limit" in errors(client.get(f"{BASE}/knowledge/", {"q": "房", "limit": 0}))
        assert "limit" in errors(client.get(f"{BASE}/knowledge/", {"q": "房", "limit": 21}))
        assert "department" in errors(
            client.get(f"{BASE}/knowledge/", {"q": "房", "department": "x"})
        )
        assert "department" in errors(
            client.get(f"{BASE}/knowledge/", {"q": "房", "department": 999999})
        )

    def test_nothing_matches_an_empty_list(self, people):
        published(people)
        response = as_role(people, "agent").get(f"{BASE}/knowledge/", {"q": "火星移民签证"})
        assert response.status_code == 200 and response.json() == []

    def test_queries_do_not_grow_with_hits(self, people, django_assert_max_num_queries):
        client = as_role(people, "handler")
        client.get(f"{BASE}/knowledge/", {"q": "不动产"})  # warm the session and the stats
        counts = []
        for batch in (1, 4):
            for n in range(batch):
                published(people, title=f"不动产登记问题{len(counts)}-{n}", category=None)
            search.invalidate()  # each round counts the statistics' queries too
            # the session, the user, their roles (2); the search's own (6: N and avgdl,
            # document frequencies, candidates, their lengths, their terms, the articles);
            # the hits the user may see, with their department and category (1)
            with django_assert_max_num_queries(11) as captured:
                response = client.get(f"{BASE}/knowledge/", {"q": "不动产登记", "limit": 10})
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert len(response.json()) == 5
        assert counts[0] == counts[1]


# --- an article ------------------------------------------------------------------------------


class TestArticle:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_a_published_article_to_each_role(self, people, role):
        article = published(people, category=leaf(people))
        response = as_role(people, role).get(f"{BASE}/knowledge/{article.public_id}/")
        if role not in SEARCHERS:
            assert response.status_code == 403
            return
        assert response.status_code == 200
        body = response.json()
        assert body["title"] == "不动产登记需要哪些材料"
        assert body["category"] == {
            "code": "bdc-dj",
            "name": "不动产登记",
            "level": 3,
            "path": "国土资源 › 不动产 › 不动产登记",
        }
        assert body["version"] == 1
        sees_review = role in ("agent", "reviewer")
        assert (body["review"] is not None) is sees_review

    @pytest.mark.parametrize("role", EVERYONE)
    def test_a_draft_sent_back_to_each_role(self, people, role):
        article = pending(people)
        knowledge.article_review(
            article=article, actor=people.reviewer, approve=False, note="请补充办理地址"
        )
        response = as_role(people, role).get(f"{BASE}/knowledge/{article.public_id}/")
        expected = {"agent": 200, "reviewer": 200, "handler": 404, "supervisor": 404}
        assert response.status_code == expected.get(role, 403)
        if response.status_code == 200:
            assert response.json()["status"] == "draft"
            assert response.json()["review"]["note"] == "请补充办理地址"

    def test_expired_and_retired_articles(self, people):
        old = expire(published(people))
        gone = published(people, title="已废止")
        knowledge.article_retire(article=gone, actor=people.reviewer, reason="政策废止")
        for role, codes in {
            "agent": (200, 404),
            "reviewer": (200, 200),
            "handler": (404, 404),
            "supervisor": (404, 404),
        }.items():
            client = as_role(people, role)
            got = tuple(
                client.get(f"{BASE}/knowledge/{a.public_id}/").status_code for a in (old, gone)
            )
            assert got == codes, role

    def test_an_unknown_id_is_a_404(self, people):
        response = as_role(people, "agent").get(
            f"{BASE}/knowledge/00000000-0000-0000-0000-000000000000/"
        )
        assert response.status_code == 404


# --- the taxonomy and the deadlines ----------------------------------------------------------


class TestCategories:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_the_tree_is_public(self, people, role):
        # given a branch of three levels, another leaf, and a deactivated category
        bdc = leaf(people)
        middle = bdc.parent
        services.category_create(actor=people.reviewer, name="抵押登记", code="dy", parent=middle)
        closed = services.category_create(actor=people.reviewer, name="旧分类", code="old")
        services.category_deactivate(category=closed, actor=people.reviewer)
        # when anyone asks
        response = as_role(people, role).get(f"{BASE}/categories/")
        # then the active tree comes back, nested in order
        assert response.status_code == 200
        tree = response.json()
        assert [node["code"] for node in tree] == [bdc.parent.parent.code]
        top = tree[0]
        assert (top["level"], top["is_leaf"]) == (1, False)
        assert [c["code"] for c in top["children"]] == [middle.code]
        leaves = top["children"][0]["children"]
        assert [(c["code"], c["is_leaf"]) for c in leaves] == [("bdc-dj", True), ("dy", True)]
        assert leaves[0]["default_unit"]["name"] == "佛山市自然资源局"
        assert leaves[1]["default_unit"] is None

    def test_one_query_however_large(self, people, django_assert_max_num_queries):
        counts = []
        for n in range(2):
            leaf(people, code=f"leaf-{n}", name=f"叶子{n}", top=f"大类{n}")
            with django_assert_max_num_queries(1) as captured:
                assert client_for().get(f"{BASE}/categories/").status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


class TestDeadlines:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_staff_read_every_type_and_urgency(self, people, role):
        # given one configured rule; the rest are the defaults
        services.deadline_rule_set(
            actor=people.reviewer,
            order_type=OrderType.COMPLAINT,
            urgency=Urgency.NORMAL,
            unit=DeadlineUnit.WORKDAYS,
            sign_limit=1,
            reply_limit=3,
            close_limit=10,
        )
        response = as_role(people, role).get(f"{BASE}/deadlines/")
        if role in ("citizen", "anonymous"):
            assert response.status_code == 403
            return
        assert response.status_code == 200
        rows = response.json()
        assert len(rows) == len(OrderType) * len(Urgency)
        assert {(r["order_type"], r["urgency"]) for r in rows} == {
            (t, u) for t in OrderType.values for u in Urgency.values
        }
        complaint = next(
            r for r in rows if (r["order_type"], r["urgency"]) == ("complaint", "normal")
        )
        assert complaint == {
            "order_type": "complaint",
            "order_type_label": "Complaint",
            "urgency": "normal",
            "urgency_label": "Normal",
            "unit": "workdays",
            "sign_limit": 1,
            "reply_limit": 3,
            "close_limit": 10,
            "is_default": False,
        }
        very = next(r for r in rows if (r["order_type"], r["urgency"]) == ("help", "very_urgent"))
        assert very["unit"] == "hours" and very["is_default"] is True
        assert very["sign_limit"] <= very["reply_limit"] <= very["close_limit"]

    def test_read_only(self, people):
        client = as_role(people, "reviewer")
        assert client.post(f"{BASE}/deadlines/", {}, format="json").status_code == 405
        assert client.post(f"{BASE}/categories/", {}, format="json").status_code == 405
        assert client.post(f"{BASE}/knowledge/", {}, format="json").status_code == 405


# --- the schema ------------------------------------------------------------------------------


def test_schema_lists_the_hotline_paths_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    ours = ["yimen/hotline/", "yimen.hotline."] + [
        name for name, value in vars(views).items() if name.endswith("View") and value
    ]
    troubles = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if any(mark in message for mark in ours)
    ]
    assert troubles == []
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    expected = {
        "knowledge/": {"get"},
        "knowledge/{public_id}/": {"get"},
        "categories/": {"get"},
        "deadlines/": {"get"},
    }
    for path, methods in expected.items():
        operations = paths[f"/api/v1/hotline/{path}"]
        assert set(operations) & {"get", "post", "put", "patch", "delete"} == methods
        for operation in operations.values():
            assert operation["tags"] == ["hotline"]
    search = paths["/api/v1/hotline/knowledge/"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "department", "limit"}
