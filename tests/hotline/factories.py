"""Factories of the hotline tests: categories (rows written directly, to set the scene; the
taxonomy services are what test_taxonomy tests), knowledge articles walked through
yimen.hotline.knowledge (so they are indexed and audited like real ones), and the people
who work with them."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import factory
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.org.factories import DepartmentFactory
from yimen.hotline.choices import ArticleStatus
from yimen.hotline.models import Category
from yimen.org.choices import Role


class CategoryFactory(factory.django.DjangoModelFactory):
    """A category; its level follows its parent."""

    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n:04d}")
    name = factory.Sequence(lambda n: f"分类{n}")
    parent = None
    level = factory.LazyAttribute(lambda c: 1 if c.parent is None else c.parent.level + 1)
    default_unit = None
    order = factory.Sequence(lambda n: n % 100)


def branch(*, unit=None, names=("城乡建设", "市政设施", "路灯不亮")) -> list[Category]:
    """A path of categories from a top-level one down to a leaf (the leaf has `unit`)."""
    nodes, parent = [], None
    for depth, name in enumerate(names, start=1):
        parent = CategoryFactory(
            name=name, parent=parent, default_unit=unit if depth == len(names) else None
        )
        nodes.append(parent)
    return nodes


def leaf(**options) -> Category:
    return branch(unit=options.pop("unit", None) or DepartmentFactory(), **options)[-1]


# --- people ------------------------------------------------------------------------------------


def agent(**fields):
    return grant(UserFactory(**fields), Role.HOTLINE_AGENT)


def reviewer(**fields):
    """A knowledge reviewer: a system admin."""
    return grant(UserFactory(**fields), Role.SYSTEM_ADMIN)


def handler(department=None, **fields):
    return grant(
        UserFactory(**fields), Role.UNIT_HANDLER, department=department or DepartmentFactory()
    )


def supervisor(**fields):
    return grant(UserFactory(**fields), Role.SUPERVISOR)


# --- articles ----------------------------------------------------------------------------------


def article(
    *,
    status: str = ArticleStatus.PUBLISHED,
    author=None,
    by=None,
    title: str = "住房公积金提取的条件",
    answer: str = "租房提取、偿还贷款提取可在网上业务平台办理，3 个工作日内到账。",
    questions: str = "公积金怎么取出来\n租房能提公积金吗",
    tags: str = "公积金 提取",
    valid_until: dt.date | None = None,
    at: dt.datetime | None = None,
    **fields,
):
    """An article in `status`, written by `author` (an agent by default) and, when it got
    that far, reviewed by `by` (a reviewer by default). `at`: the moment it is all done (to
    make an article that has expired since, give a past `at` and a `valid_until` after it).
    """
    from yimen.hotline import knowledge

    author = author or agent()
    with mock.patch("django.utils.timezone.now", return_value=at or timezone.now()):
        item = knowledge.article_create(
            actor=author,
            title=title,
            answer=answer,
            questions=questions,
            tags=tags,
            valid_until=valid_until,
            **fields,
        )
        if status == ArticleStatus.DRAFT:
            return item
        knowledge.article_submit(article=item, actor=author)
        if status == ArticleStatus.PENDING:
            return item
        reviewer_ = by or reviewer()
        knowledge.article_review(article=item, actor=reviewer_, approve=True)
        if status == ArticleStatus.RETIRED:
            knowledge.article_retire(article=item, actor=reviewer_, reason="政策已废止")
    return item


# --- work orders -------------------------------------------------------------------------------


def order(*, by=None, category=None, order_channel="phone", **data):
    """A registered order (through the intake service), filed under `category` (a new leaf
    with its own unit by default)."""
    from yimen.hotline import orders

    values = {
        "order_type": "complaint",
        "urgency": "normal",
        "category": category or leaf(),
        "title": "路灯不亮",
        "content": "禅城区季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。",
        "caller_name": "陈先生",
        "caller_phone": "13800138000",
        "address": "季华路与文华路交界",
    }
    values.update(data)
    return orders.order_register(actor=by or agent(), order_channel=order_channel, data=values)
