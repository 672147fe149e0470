"""The knowledge-base pages: each role on each page, the agent's search (live suggestions by
htmx, matched terms highlighted, department and valid-until), an article, writing and
submitting, the review queue (publish, send back with a note, never one's own edit),
retiring, the navigation, and the lists' query counts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.cases.factories import person
from tests.conftest import grant
from tests.org.factories import DepartmentFactory
from yimen.hotline import knowledge, search, services
from yimen.hotline.choices import ArticleStatus
from yimen.hotline.models import KnowledgeArticle
from yimen.org.choices import Role

pytestmark = pytest.mark.django_db

SEARCHERS = ("agent", "reviewer", "handler", "supervisor")


# --- the scene (test_api.py uses these too) --------------------------------------------------


def make_people() -> SimpleNamespace:
    """One user per role: a hotline agent, two knowledge reviewers (system admins), a unit
    handler, a supervisor, a citizen; `anonymous` is None."""
    department = DepartmentFactory(name="佛山市自然资源局")
    return SimpleNamespace(
        agent=grant(UserFactory(username="agent"), Role.HOTLINE_AGENT),
        other_agent=grant(UserFactory(username="agent2"), Role.HOTLINE_AGENT),
        reviewer=grant(UserFactory(username="kb-reviewer"), Role.SYSTEM_ADMIN),
        other_reviewer=grant(UserFactory(username="kb-reviewer2"), Role.SYSTEM_ADMIN),
        handler=grant(UserFactory(username="handler"), Role.UNIT_HANDLER, department=department),
        supervisor=grant(UserFactory(username="supervisor"), Role.SUPERVISOR),
        citizen=person(UserFactory(username="citizen")).user,
        anonymous=None,
        department=department,
    )


def draft(people, *, by=None, **fields) -> KnowledgeArticle:
    values = {
        "title": "不动产登记需要哪些材料",
        "answer": "办理不动产登记需要携带身份证、购房合同和完税证明，到不动产登记中心窗口办理。",
        "questions": "买房后怎么办房产证\n办不动产证要带什么",
        "department": people.department,
        "tags": "不动产 登记",
    }
    values.update(fields)
    return knowledge.article_create(actor=by or people.agent, **values)


def pending(people, **fields) -> KnowledgeArticle:
    article = draft(people, **fields)
    knowledge.article_submit(article=article, actor=people.agent)
    article.refresh_from_db()
    return article


def published(people, **fields) -> KnowledgeArticle:
    article = pending(people, **fields)
    knowledge.article_review(article=article, actor=people.reviewer, approve=True)
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    return article


def expire(article, *, days_ago: int = 1) -> KnowledgeArticle:
    """Set the scene directly: the article's validity ended `days_ago` days ago."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    KnowledgeArticle.objects.filter(pk=article.pk).update(valid_until=day)
    article.refresh_from_db()
    return article


def leaf(people, *, code="bdc-dj", name="不动产登记", top="国土资源"):
    """A category of the third level (and its two parents), `people.department` its
    default unit."""
    top = services.category_create(actor=people.reviewer, name=top, code=f"{code}-1")
    middle = services.category_create(
        actor=people.reviewer, name="不动产", code=f"{code}-2", parent=top
    )
    return services.category_create(
        actor=people.reviewer,
        name=name,
        code=code,
        parent=middle,
        default_unit=people.department,
    )


# --- helpers of this file --------------------------------------------------------------------


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


def english(client: Client) -> Client:
    """Pages in English, so assertions read like the source strings."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def client_for(user=None) -> Client:
    client = english(Client())
    if user is not None:
        client.force_login(user)
    return client


def as_role(people, role: str) -> Client:
    return client_for(getattr(people, role))


SEARCH = reverse("hotline:knowledge")
CREATE = reverse("hotline:create")
DRAFTS = reverse("hotline:drafts")
REVIEW = reverse("hotline:review")


def url(name: str, article) -> str:
    return reverse(f"hotline:{name}", args=[article.public_id])


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- search ----------------------------------------------------------------------------------


class TestSearchPage:
    @pytest.mark.parametrize("role", SEARCHERS)
    def test_those_who_answer_callers_search(self, people, role):
        response = as_role(people, role).get(SEARCH)
        assert response.status_code == 200
        assert b'hx-get="' + SEARCH.encode() in response.content

    def test_a_citizen_may_not_and_anonymous_signs_in(self, people):
        assert as_role(people, "citizen").get(SEARCH).status_code == 403
        assert_login_redirect(client_for().get(SEARCH, {"q": "房产证"}))

    @pytest.mark.parametrize("role", SEARCHERS)
    def test_results_show_marked_terms_department_and_validity(self, people, role):
        # given a published answer valid until the end of next year, a draft and an
        # expired one on the same subject
        until = timezone.localdate().replace(month=12, day=31) + dt.timedelta(days=365)
        article = published(people, valid_until=until)
        draft(people, title="不动产登记草稿")
        expire(published(people, title="不动产登记旧规定"), days_ago=3)
        # when someone searches
        response = as_role(people, role).get(SEARCH, {"q": "不动产登记要带什么材料"})
        # then only the published answer in force is shown, its matched terms marked
        assert response.status_code == 200
        page = response.content.decode()
        assert url("article", article) in page
        assert "草稿" not in page and "旧规定" not in page
        assert "<mark>不动产</mark>" in page or "<mark>登记</mark>" in page
        assert "佛山市自然资源局" in page
        assert f"valid until {until:%Y-%m-%d}" in page
        assert "Matched:" in page

    def test_the_live_box_answers_with_the_suggestions_alone(self, people):
        # given a published answer
        article = published(people)
        # when htmx asks while the agent types
        response = as_role(people, "agent").get(
            SEARCH, {"q": "房产证"}, headers={"HX-Request": "true"}
        )
        # then the partial comes back: the list, no page around it
        assert response.status_code == 200
        page = response.content.decode()
        assert "<html" not in page and "<nav" not in page
        assert url("article", article) in page
        assert 'role="option"' in page

    def test_the_department_filter_keeps_only_its_answers(self, people):
        published(people)
        other = DepartmentFactory(name="佛山市税务局")
        response = as_role(people, "agent").get(SEARCH, {"q": "不动产登记", "department": other.pk})
        assert response.status_code == 200
        assert "No published answer in force matches" in response.content.decode()

    def test_text_is_escaped_around_the_marks(self, people):
        article = published(people, title="不动产<script>登记", answer="不动产登记 <b>带证件</b>")
        page = as_role(people, "agent").get(SEARCH, {"q": "不动产登记"}).content.decode()
        assert url("article", article) in page
        assert "<script>" not in page.split("<main", 1)[1].split("</main>")[0]
        assert "&lt;b&gt;" in page

    def test_nothing_typed_nothing_found_too_long_refused(self, people):
        published(people)
        client = as_role(people, "agent")
        assert 'id="kb-hits"' not in client.get(SEARCH, {"q": "  "}).content.decode()
        page = client.get(SEARCH, {"q": "火星移民签证"}).content.decode()
        assert "No published answer in force matches" in page
        assert client.get(SEARCH, {"q": "问" * 201}).status_code == 400
        assert client.get(SEARCH, {"q": "房产", "department": "x"}).status_code == 400

    def test_queries_do_not_grow_with_hits(self, people, django_assert_max_num_queries):
        counts = []
        client = as_role(people, "agent")
        client.get(SEARCH)  # warm the session and the calendar cache
        for batch in (1, 4):
            for n in range(batch):
                published(people, title=f"不动产登记问题{len(counts)}-{n}")
            search.invalidate()  # each round counts the statistics' queries too
            with django_assert_max_num_queries(14) as captured:
                response = client.get(SEARCH, {"q": "不动产登记"})
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- an article ------------------------------------------------------------------------------


class TestArticlePage:
    @pytest.mark.parametrize("role", SEARCHERS)
    def test_a_published_article_is_read_by_every_searcher(self, people, role):
        article = published(people, category=leaf(people))
        response = as_role(people, role).get(url("article", article))
        assert response.status_code == 200
        page = response.content.decode()
        assert "办理不动产登记需要携带身份证" in page
        assert "买房后怎么办房产证" in page
        assert "国土资源 › 不动产 › 不动产登记" in page

    def test_a_draft_is_for_agents_and_reviewers(self, people):
        article = draft(people)
        assert as_role(people, "agent").get(url("article", article)).status_code == 200
        assert as_role(people, "other_agent").get(url("article", article)).status_code == 200
        assert as_role(people, "reviewer").get(url("article", article)).status_code == 200
        assert as_role(people, "handler").get(url("article", article)).status_code == 404
        assert as_role(people, "supervisor").get(url("article", article)).status_code == 404
        assert as_role(people, "citizen").get(url("article", article)).status_code == 403
        assert_login_redirect(client_for().get(url("article", article)))

    def test_an_expired_article_is_gone_for_handlers(self, people):
        article = expire(published(people))
        assert as_role(people, "handler").get(url("article", article)).status_code == 404
        page = as_role(people, "agent").get(url("article", article)).content.decode()
        assert "expired" in page

    def test_each_role_is_offered_its_actions(self, people):
        article = pending(people)
        agent = as_role(people, "agent").get(url("article", article)).content.decode()
        assert url("edit", article) in agent
        assert url("review_article", article) not in agent
        reviewer = as_role(people, "reviewer").get(url("article", article)).content.decode()
        assert url("review_article", article) in reviewer and url("retire", article) in reviewer
        handler = as_role(people, "handler")
        article = published(people, title="另一篇")
        page = handler.get(url("article", article)).content.decode()
        for name in ("edit", "submit", "review_article", "retire"):
            assert url(name, article) not in page


# --- writing ---------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "title": "新生儿医保怎么参保",
        "questions": "孩子刚出生怎么买医保\n新生儿参保",
        "answer": "新生儿出生后90日内由监护人到户籍所在地医保经办机构办理参保登记。",
        "department": "",
        "category": "",
        "tags": "医保 新生儿",
        "valid_until": "",
    }
    data.update(overrides)
    return data


class TestWriting:
    @pytest.mark.parametrize("role", ["agent", "reviewer"])
    def test_agents_and_reviewers_write_a_draft(self, people, role):
        client = as_role(people, role)
        assert client.get(CREATE).status_code == 200
        response = client.post(CREATE, form_data(department=people.department.pk))
        article = KnowledgeArticle.objects.get(title="新生儿医保怎么参保")
        assert response.status_code == 302
        assert response["Location"] == url("article", article)
        assert article.status == ArticleStatus.DRAFT
        assert article.department == people.department
        assert article.created_by == getattr(people, role)

    def test_save_and_submit_sends_it_to_review(self, people):
        response = as_role(people, "agent").post(CREATE, {**form_data(), "submit": ""})
        assert response.status_code == 302
        assert KnowledgeArticle.objects.get().status == ArticleStatus.PENDING

    @pytest.mark.parametrize("role", ["handler", "supervisor", "citizen"])
    def test_others_may_not_write(self, people, role):
        client = as_role(people, role)
        assert client.get(CREATE).status_code == 403
        assert client.post(CREATE, form_data()).status_code == 403
        assert not KnowledgeArticle.objects.exists()

    def test_anonymous_signs_in(self, people):
        assert_login_redirect(client_for().post(CREATE, form_data()))
        assert not KnowledgeArticle.objects.exists()

    def test_bad_input_is_named_by_field(self, people):
        response = as_role(people, "agent").post(CREATE, form_data(title="", answer=""))
        assert response.status_code == 400
        assert response.context["form"].errors.keys() >= {"title", "answer"}
        assert not KnowledgeArticle.objects.exists()

    def test_editing_a_published_article_makes_a_new_version_to_review(self, people):
        article = published(people)
        client = as_role(people, "agent")
        page = client.get(url("edit", article)).content.decode()
        assert "version 2" in page
        data = form_data(
            title=article.title,
            answer=article.answer + "可网上预约。",
            questions=article.questions,
            department=people.department.pk,
            tags=article.tags,
        )
        response = client.post(url("edit", article), data)
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.status == ArticleStatus.PENDING
        assert article.version == 2
        assert article.answer.endswith("可网上预约。")

    def test_an_agent_submits_a_draft(self, people):
        article = draft(people)
        response = as_role(people, "other_agent").post(url("submit", article))
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.status == ArticleStatus.PENDING

    @pytest.mark.parametrize("role", ["handler", "supervisor"])
    def test_others_neither_edit_nor_submit(self, people, role):
        article = published(people)
        client = as_role(people, role)
        assert client.get(url("edit", article)).status_code == 403
        assert client.post(url("submit", article)).status_code == 403
        assert client.post(url("edit", article), form_data()).status_code == 403
        article.refresh_from_db()
        assert (article.status, article.version) == (ArticleStatus.PUBLISHED, 1)

    def test_a_retired_article_is_not_edited(self, people):
        article = published(people)
        knowledge.article_retire(article=article, actor=people.reviewer, reason="政策废止")
        assert as_role(people, "reviewer").get(url("edit", article)).status_code == 403
        assert as_role(people, "agent").get(url("edit", article)).status_code == 404


# --- review ----------------------------------------------------------------------------------


class TestReview:
    def test_the_queue_is_for_reviewers(self, people):
        article = pending(people)
        draft(people, title="还没提交的草稿")
        response = as_role(people, "reviewer").get(REVIEW)
        assert response.status_code == 200
        page = response.content.decode()
        assert url("article", article) in page
        assert "还没提交的草稿" not in page
        for role in ("agent", "handler", "supervisor", "citizen"):
            assert as_role(people, role).get(REVIEW).status_code == 403
        assert_login_redirect(client_for().get(REVIEW))

    def test_publishing_from_the_queue(self, people):
        article = pending(people)
        response = as_role(people, "reviewer").post(
            url("review_article", article), {"decision": "approve", "note": "", "next": "review"}
        )
        assert response.status_code == 302 and response["Location"] == REVIEW
        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED
        assert article.reviewed_by == people.reviewer

    def test_sending_back_needs_a_note(self, people):
        article = pending(people)
        client = as_role(people, "reviewer")
        response = client.post(url("review_article", article), {"decision": "reject", "note": ""})
        assert response.status_code == 400
        assert "note" in response.context["review_form"].errors
        article.refresh_from_db()
        assert article.status == ArticleStatus.PENDING
        response = client.post(
            url("review_article", article), {"decision": "reject", "note": "请补充办理地址"}
        )
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT
        assert article.review_note == "请补充办理地址"
        # and the author sees the note among their drafts
        assert "请补充办理地址" in as_role(people, "agent").get(DRAFTS).content.decode()

    def test_a_reviewer_does_not_review_their_own_edit(self, people):
        article = draft(people, by=people.reviewer)
        knowledge.article_submit(article=article, actor=people.reviewer)
        response = as_role(people, "reviewer").post(
            url("review_article", article), {"decision": "approve"}
        )
        assert response.status_code == 400
        article.refresh_from_db()
        assert article.status == ArticleStatus.PENDING
        # another reviewer may
        response = as_role(people, "other_reviewer").post(
            url("review_article", article), {"decision": "approve"}
        )
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED

    @pytest.mark.parametrize("role", ["agent", "handler", "supervisor", "citizen"])
    def test_others_may_not_review_or_retire(self, people, role):
        article = pending(people)
        client = as_role(people, role)
        assert (
            client.post(url("review_article", article), {"decision": "approve"}).status_code == 403
        )
        assert client.post(url("retire", article), {"reason": "过时"}).status_code == 403
        article.refresh_from_db()
        assert article.status == ArticleStatus.PENDING

    def test_anonymous_may_not_review(self, people):
        article = pending(people)
        assert_login_redirect(
            client_for().post(url("review_article", article), {"decision": "approve"})
        )

    def test_a_reviewer_retires_with_a_reason(self, people):
        article = published(people)
        client = as_role(people, "reviewer")
        assert client.post(url("retire", article), {"reason": ""}).status_code == 400
        response = client.post(url("retire", article), {"reason": "政策已废止"})
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.status == ArticleStatus.RETIRED
        # and it is no longer found
        page = as_role(people, "agent").get(SEARCH, {"q": "不动产登记"}).content.decode()
        assert url("article", article) not in page

    def test_the_queue_queries_do_not_grow(self, people, django_assert_max_num_queries):
        client = as_role(people, "reviewer")
        client.get(REVIEW)  # warm the session and the calendar cache
        counts = []
        for batch in (1, 5):
            for n in range(batch):
                pending(people, title=f"待审{len(counts)}-{n}")
            with django_assert_max_num_queries(12) as captured:
                assert client.get(REVIEW).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


class TestDrafts:
    def test_agents_and_reviewers_see_what_is_not_published(self, people):
        mine = draft(people)
        waiting = pending(people, title="等待审核的文章")
        done = published(people, title="已经发布的文章")
        for role in ("agent", "other_agent", "reviewer"):
            page = as_role(people, role).get(DRAFTS).content.decode()
            assert url("article", mine) in page and url("article", waiting) in page
            assert url("article", done) not in page
        for role in ("handler", "supervisor", "citizen"):
            assert as_role(people, role).get(DRAFTS).status_code == 403

    def test_queries_do_not_grow(self, people, django_assert_max_num_queries):
        client = as_role(people, "agent")
        client.get(DRAFTS)  # warm the session and the calendar cache
        counts = []
        for batch in (1, 5):
            for n in range(batch):
                draft(people, title=f"草稿{len(counts)}-{n}")
            with django_assert_max_num_queries(12) as captured:
                assert client.get(DRAFTS).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- navigation ------------------------------------------------------------------------------


def test_the_navigation_shows_each_role_its_entries(people):
    def labels(role):
        response = (client_for(getattr(people, role)) if role else client_for()).get(
            reverse("home")
        )
        return [entry["label"] for entry in response.context["nav_entries"]]

    for role in SEARCHERS:
        assert "Knowledge base" in labels(role)
    assert "Knowledge review" in labels("reviewer")
    for role in ("agent", "handler", "supervisor"):
        assert "Knowledge review" not in labels(role)
    for role in ("citizen", None):
        assert "Knowledge base" not in labels(role)
