"""Writes of the knowledge base: an article's life (draft → pending → published / back to
draft → retired), who may do each step, the review of one's own edit, the audit events and
the search index kept in step with every write."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.org.factories import DepartmentFactory
from yimen.common import audit
from yimen.common.models import AuditEvent
from yimen.hotline import knowledge, search
from yimen.hotline.choices import ArticleStatus
from yimen.hotline.models import KnowledgeArticle, KnowledgeTerm

from .factories import CategoryFactory, agent, article, handler, reviewer, supervisor

pytestmark = pytest.mark.django_db

FIELDS = {
    "title": "路灯不亮如何报修",
    "answer": "市政道路路灯由城市管理部门负责维护，可拨打12345热线报修。",
    "questions": "  家门口的路灯坏了找谁 \n\n晚上路灯一直不亮\n",
    "tags": "路灯，市政设施, 报修",
}


def events(item, action=None):
    found = AuditEvent.objects.filter(
        object_type="hotline.knowledgearticle", object_id=str(item.pk)
    ).order_by("pk")
    if action:
        found = found.filter(action=f"hotline.article.{action}")
    return list(found)


def index_of(item) -> dict[str, int]:
    return dict(KnowledgeTerm.objects.filter(article=item).values_list("term", "weight"))


def found(query, **options):
    return [h.article.pk for h in search.search(query, **options)]


# --- create ----------------------------------------------------------------------------------


def test_an_agent_writes_a_draft_that_is_indexed_and_audited():
    # given an agent
    author = agent()
    category, department = CategoryFactory(), DepartmentFactory()
    # when they write an article
    item = knowledge.article_create(
        actor=author, category=category, department=department, **FIELDS
    )
    # then it is a draft of theirs, its texts tidied
    item.refresh_from_db()
    assert item.status == ArticleStatus.DRAFT and item.version == 1
    assert item.created_by == author and item.created_at and item.updated_at
    assert item.questions == "家门口的路灯坏了找谁\n晚上路灯一直不亮"
    assert item.tags == "路灯 市政设施 报修"
    # and indexed: title words weigh 3, question words 2, answer words 1
    terms = index_of(item)
    assert terms["路灯"] == 3 + 2 * 2 + 2 + 1  # title, two questions, tags, answer
    assert terms["维护"] == 1
    assert item.length == sum(terms.values())
    # and one audit event says so
    (event,) = events(item)
    assert event.action == "hotline.article.create"
    assert event.actor == author and event.to_state == ArticleStatus.DRAFT
    assert event.payload["version"] == 1
    assert audit.verify() is None


def test_a_reviewer_may_write_too():
    item = knowledge.article_create(actor=reviewer(), **FIELDS)
    assert item.status == ArticleStatus.DRAFT


@pytest.mark.parametrize("who", [handler, supervisor, UserFactory])
def test_others_may_not_write(who):
    with pytest.raises(PermissionDenied):
        knowledge.article_create(actor=who(), **FIELDS)
    assert not KnowledgeArticle.objects.exists()


def test_errors_by_field_and_nothing_written():
    # given a title and an answer left empty, an expiry in the past, a retired category
    old = CategoryFactory(is_active=False)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    # when an article is written with them
    with pytest.raises(ValidationError) as raised:
        knowledge.article_create(
            actor=agent(), title="  ", answer="", valid_until=yesterday, category=old
        )
    # then each is reported on its field, and nothing is written
    assert set(raised.value.message_dict) == {"title", "answer", "valid_until", "category"}
    assert not KnowledgeArticle.objects.exists() and not KnowledgeTerm.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="hotline.").exists()


def test_a_title_too_long():
    with pytest.raises(ValidationError) as raised:
        knowledge.article_create(actor=agent(), title="长" * 201, answer="答")
    assert "title" in raised.value.message_dict


# --- update -----------------------------------------------------------------------------------


def test_editing_a_draft_re_indexes_it():
    # given a draft about streetlights
    author = agent()
    item = knowledge.article_create(actor=author, **FIELDS)
    # when its author rewrites it about water
    knowledge.article_update(
        article=item, actor=author, title="停水通知查询", answer="计划停水提前公告。", tags=""
    )
    # then it stays a draft, and the index follows
    item.refresh_from_db()
    assert item.status == ArticleStatus.DRAFT and item.version == 1
    assert "停水" in index_of(item) and "维护" not in index_of(item)
    assert item.length == sum(index_of(item).values())
    drafts = (ArticleStatus.DRAFT,)
    assert found("停水", statuses=drafts) == [item.pk]
    assert found("维护", statuses=drafts) == []
    # and the audit event lists the changes
    (event,) = events(item, "update")
    assert event.payload["changes"]["title"] == [FIELDS["title"], "停水通知查询"]
    assert set(event.payload["changes"]) == {"title", "answer", "tags"}


def test_an_edit_that_changes_nothing_writes_nothing():
    author = agent()
    item = knowledge.article_create(actor=author, **FIELDS)
    knowledge.article_update(article=item, actor=author, title=FIELDS["title"])
    assert events(item, "update") == []


def test_editing_a_published_article_sends_it_back_to_review_as_a_new_version():
    # given a published article
    item = article(title="路灯报修", answer="拨打12345。")
    assert found("路灯") == [item.pk]
    # when an agent edits it
    knowledge.article_update(article=item, actor=agent(), answer="拨打12345或网上报修。")
    # then it awaits review as version 2, and is no longer answered from
    assert item.status == ArticleStatus.PENDING and item.version == 2
    item.refresh_from_db()
    assert item.status == ArticleStatus.PENDING and item.version == 2
    assert found("路灯") == []
    (event,) = events(item, "update")
    assert (event.from_state, event.to_state) == (ArticleStatus.PUBLISHED, ArticleStatus.PENDING)
    assert event.payload["version"] == 2


def test_unknown_fields_are_refused():
    author = agent()
    item = knowledge.article_create(actor=author, **FIELDS)
    with pytest.raises(TypeError):
        knowledge.article_update(article=item, actor=author, status=ArticleStatus.PUBLISHED)


@pytest.mark.parametrize("who", [handler, supervisor, UserFactory])
def test_others_may_not_edit(who):
    item = article(status=ArticleStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        knowledge.article_update(article=item, actor=who(), title="改")


def test_a_retired_article_is_not_edited():
    item = article(status=ArticleStatus.RETIRED)
    with pytest.raises(PermissionDenied):
        knowledge.article_update(article=item, actor=reviewer(), title="改")


# --- submit and review ------------------------------------------------------------------------


def test_submit_then_publish():
    # given a draft of an agent
    author, checker = agent(), reviewer()
    item = knowledge.article_create(actor=author, **FIELDS)
    # when it is submitted and approved
    knowledge.article_submit(article=item, actor=author)
    assert item.status == ArticleStatus.PENDING
    assert found("路灯") == []
    knowledge.article_review(article=item, actor=checker, approve=True, note="  ")
    # then it is published, reviewed by the reviewer, and found
    item.refresh_from_db()
    assert item.status == ArticleStatus.PUBLISHED
    assert item.reviewed_by == checker and item.reviewed_at is not None
    assert found("路灯") == [item.pk]
    actions = [e.action for e in events(item)]
    assert actions == [
        "hotline.article.create",
        "hotline.article.submit",
        "hotline.article.publish",
    ]
    assert audit.verify() is None


def test_only_a_draft_is_submitted():
    item = article(status=ArticleStatus.PENDING)
    with pytest.raises(ValidationError) as raised:
        knowledge.article_submit(article=item, actor=agent())
    assert "status" in raised.value.message_dict


def test_sending_back_needs_a_note_and_makes_a_draft():
    item = article(status=ArticleStatus.PENDING)
    checker = reviewer()
    with pytest.raises(ValidationError) as raised:
        knowledge.article_review(article=item, actor=checker, approve=False, note=" ")
    assert "note" in raised.value.message_dict
    knowledge.article_review(article=item, actor=checker, approve=False, note="请写明到账时间")
    item.refresh_from_db()
    assert item.status == ArticleStatus.DRAFT and item.review_note == "请写明到账时间"
    (event,) = events(item, "send_back")
    assert event.reason == "请写明到账时间"


def test_only_an_article_awaiting_review_is_reviewed():
    item = article(status=ArticleStatus.DRAFT)
    with pytest.raises(ValidationError) as raised:
        knowledge.article_review(article=item, actor=reviewer(), approve=True)
    assert "status" in raised.value.message_dict


@pytest.mark.parametrize("who", [agent, handler, supervisor])
def test_only_reviewers_review(who):
    item = article(status=ArticleStatus.PENDING)
    with pytest.raises(PermissionDenied):
        knowledge.article_review(article=item, actor=who(), approve=True)


def test_a_reviewer_does_not_review_their_own_article():
    # given a reviewer who wrote an article
    checker = reviewer()
    item = knowledge.article_create(actor=checker, **FIELDS)
    knowledge.article_submit(article=item, actor=checker)
    # when they approve it, they are refused
    with pytest.raises(ValidationError) as raised:
        knowledge.article_review(article=item, actor=checker, approve=True)
    assert "approve" in raised.value.message_dict
    # and another reviewer may
    knowledge.article_review(article=item, actor=reviewer(), approve=True)
    assert item.status == ArticleStatus.PUBLISHED


def test_a_reviewer_does_not_review_a_version_they_edited_but_may_review_the_next():
    # given a published article that a reviewer edits (version 2)
    first, second = reviewer(), reviewer()
    item = article(by=second)
    knowledge.article_update(article=item, actor=first, answer="新的答复内容。")
    # then they may not review version 2
    with pytest.raises(ValidationError):
        knowledge.article_review(article=item, actor=first, approve=True)
    # but the reviewer who did not edit it may
    knowledge.article_review(article=item, actor=second, approve=True)
    assert item.status == ArticleStatus.PUBLISHED and item.version == 2


def test_an_expired_article_is_not_published():
    long_ago = timezone.now() - dt.timedelta(days=60)
    item = article(
        status=ArticleStatus.PENDING,
        at=long_ago,
        valid_until=timezone.localdate() - dt.timedelta(days=30),
    )
    with pytest.raises(ValidationError) as raised:
        knowledge.article_review(article=item, actor=reviewer(), approve=True)
    assert "valid_until" in raised.value.message_dict


# --- retire -----------------------------------------------------------------------------------


def test_a_reviewer_retires_an_article_with_a_reason():
    item = article()
    checker = reviewer()
    with pytest.raises(ValidationError) as raised:
        knowledge.article_retire(article=item, actor=checker, reason="  ")
    assert "reason" in raised.value.message_dict
    knowledge.article_retire(article=item, actor=checker, reason="政策已废止")
    item.refresh_from_db()
    assert item.status == ArticleStatus.RETIRED
    assert found("公积金") == []
    (event,) = events(item, "retire")
    assert (event.from_state, event.reason) == (ArticleStatus.PUBLISHED, "政策已废止")
    with pytest.raises(ValidationError):
        knowledge.article_retire(article=item, actor=checker, reason="再次")


def test_agents_do_not_retire():
    with pytest.raises(PermissionDenied):
        knowledge.article_retire(article=article(), actor=agent(), reason="过时")


# --- the whole index ----------------------------------------------------------------------------


def test_reindex_all_rebuilds_every_article():
    # given articles whose index was lost and lengths are wrong
    items = [article(title=f"路灯报修{n}") for n in range(3)]
    expected = {item.pk: index_of(item) for item in items}
    KnowledgeTerm.objects.all().delete()
    KnowledgeArticle.objects.update(length=0)
    steps = []
    # when the index is rebuilt in small chunks
    done = knowledge.reindex_all(progress=steps.append, chunk=2)
    # then every article is back, as its writes had indexed it
    assert done == 3 and steps == [2, 1]
    for item in items:
        item.refresh_from_db()
        assert index_of(item) == expected[item.pk]
        assert item.length == sum(expected[item.pk].values())
    assert len(found("路灯")) == 3


def test_the_command_rebuilds_the_index():
    article(title="路灯报修")
    KnowledgeTerm.objects.all().delete()
    out = io.StringIO()
    call_command("hotline_reindex", "--no-progress", stdout=out, stderr=io.StringIO())
    assert "1 article re-indexed" in out.getvalue()
    assert KnowledgeTerm.objects.exists()
