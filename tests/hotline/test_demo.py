"""The demo hotline: `load_demo`'s hotline step gives the city a 3-level taxonomy of more
than 60 leaves, each with a demo department as its default unit, a deadline rule for every
type × urgency, and more than a hundred knowledge articles written by the demo agent and
reviewed by the demo admin (most published, some awaiting review, some drafts, some
expired since); loading again adds nothing.

The city's organisation and staff are loaded first (the steps the hotline needs), then the
hotline step, once for the module, at a fixed moment."""

from __future__ import annotations

from collections import Counter
from io import BytesIO
from unittest import mock

import pytest
from django.db import transaction
from django.utils import translation

from tests.cases.factories import at
from yimen.accounts.models import User
from yimen.common import audit
from yimen.common.models import AuditEvent
from yimen.demo import city
from yimen.demo import hotline as demo_hotline
from yimen.demo.loader import (
    STEPS,
    Report,
    department_uscc,
    load_departments,
    load_halls,
    load_hotline,
    load_regions,
    load_staff,
    load_window_categories,
)
from yimen.hotline import permissions, search, selectors, services, xlsx
from yimen.hotline.choices import ArticleStatus, OrderType, Urgency
from yimen.hotline.models import Category, DeadlineRule, KnowledgeArticle
from yimen.org.models import Department

NOW = at(2026, 11, 23, 10, 30)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker):
    """The city's organisation and staff, then the hotline, loaded once at NOW, rolled back
    after."""
    with (
        django_db_blocker.unblock(),
        translation.override("en"),
        mock.patch("django.utils.timezone.now", return_value=NOW),
        transaction.atomic(),
    ):
        report = Report()
        for step in (load_regions, load_window_categories, load_departments, load_halls):
            step(report)
        load_staff(report)
        hotline = Report()
        load_hotline(hotline)
        yield hotline
        transaction.set_rollback(True)


@pytest.fixture
def demo(report, db):
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield report


def test_the_step_is_part_of_load_demo():
    assert ("12345 hotline", load_hotline) in STEPS
    assert STEPS[-1][1] is load_hotline  # after the staff it needs, last


def test_the_report_counts_what_was_created(demo):
    assert demo.created == {
        "hotline categories": len(demo_hotline.taxonomy_rows()),
        "hotline deadline rules": len(OrderType.values) * len(Urgency.values),
        "knowledge articles": len(demo_hotline.ARTICLES),
    }


def test_the_taxonomy_has_three_levels_and_over_sixty_leaves_each_with_a_demo_unit(demo):
    leaves = list(selectors.leaves())
    assert len(leaves) >= 60
    assert {c.level for c in leaves} == {3}
    demo_units = {department_uscc(key) for key, *_rest in city.DEPARTMENTS}
    assert all(c.default_unit and c.default_unit.uscc in demo_units for c in leaves)
    # Spread over many departments, and the tree has its fields
    assert len({c.default_unit_id for c in leaves}) >= 15
    roots = selectors.tree()
    assert len(roots) == 14 and all(node.children for node in roots)
    assert "城乡建设 › 市政设施 › 路灯不亮" in {c.path for c in leaves}


def test_every_type_and_urgency_has_its_rule(demo):
    assert DeadlineRule.objects.count() == len(OrderType.values) * len(Urgency.values)
    for rule in DeadlineRule.objects.all():
        expected = services.DEFAULT_DEADLINES[(rule.order_type, rule.urgency)]
        assert (rule.unit, rule.sign_limit, rule.reply_limit, rule.close_limit) == expected


def test_over_a_hundred_articles_in_every_state(demo):
    articles = KnowledgeArticle.objects.select_related("category", "created_by", "reviewed_by")
    assert articles.count() >= 100
    states = Counter(a.status for a in articles)
    assert states[ArticleStatus.PUBLISHED] >= 80
    assert states[ArticleStatus.PENDING] >= 5 and states[ArticleStatus.DRAFT] >= 2
    expired = [
        a for a in articles if a.status == ArticleStatus.PUBLISHED and a.valid_until
        and a.valid_until < TODAY
    ]  # fmt: skip
    assert len(expired) >= 5
    agent, admin = User.objects.get(username="agent"), User.objects.get(username="admin")
    for a in articles:
        assert a.created_by == agent and a.department_id and a.category.level == 3
        assert len(a.questions.splitlines()) >= 2 and a.length > 0
        assert a.created_at <= NOW
        if a.status == ArticleStatus.PUBLISHED:
            assert a.reviewed_by == admin and a.reviewed_at <= NOW
    sent_back = articles.get(title="厨余垃圾投放时间")
    assert sent_back.status == ArticleStatus.DRAFT and sent_back.review_note


def test_the_articles_are_found_by_a_paraphrase(demo):
    hits = search.search("租房可以把公积金取出来吗", today=TODAY)
    assert hits and "公积金" in hits[0].article.title
    # an expired article is not answered from
    titles = {h.article.title for h in search.search("求职创业补贴 毕业生", today=TODAY)}
    assert "高校毕业生求职创业补贴" not in titles


def test_a_unit_handler_sees_only_the_articles_in_force(demo):
    handler = User.objects.get(username="handler")
    visible = permissions.visible_articles(handler, KnowledgeArticle.objects.all(), today=TODAY)
    assert {a.status for a in visible} == {ArticleStatus.PUBLISHED}
    assert all(a.valid_until is None or a.valid_until >= TODAY for a in visible)
    assert visible.count() < KnowledgeArticle.objects.count()


def test_the_demo_taxonomy_exports_and_imports_unchanged(demo):
    buffer = BytesIO()
    count = xlsx.export_taxonomy(buffer)
    buffer.seek(0)
    result = xlsx.import_taxonomy(buffer, actor=None, dry_run=True)
    assert count == Category.objects.count() == result.unchanged


def test_the_audit_chain_holds(demo):
    assert AuditEvent.objects.filter(action="hotline.category.create").count() == len(
        demo_hotline.taxonomy_rows()
    )
    assert audit.verify() is None


def test_loading_again_adds_nothing(demo):
    again = Report()
    load_hotline(again)
    assert again.created == {}


def test_the_articles_are_reasonable_data():
    # Titles are unique (they identify a loaded article), leaves and departments exist
    titles = [a["title"] for a in demo_hotline.ARTICLES]
    assert len(titles) == len(set(titles))
    leaves = demo_hotline.leaf_codes()
    keys = {key for key, *_rest in city.DEPARTMENTS}
    for a in demo_hotline.ARTICLES:
        assert a["leaf"] in leaves and a["department"] in keys
        assert a["expired"] is None or a["expired"] > 0
    codes = [code for code, *_rest in demo_hotline.taxonomy_rows()]
    assert len(codes) == len(set(codes))


def test_expired_articles_were_in_force_when_published(demo):
    expired = KnowledgeArticle.objects.filter(valid_until__lt=TODAY)
    assert expired.exists()
    for a in expired:
        assert a.reviewed_at.date() < a.valid_until
    # the department added for the taxonomy's school places
    education = Department.objects.get(uscc=department_uscc("education"))
    assert Category.objects.filter(default_unit=education).count() == 4
