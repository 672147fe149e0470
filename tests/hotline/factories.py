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


# --- work orders through their steps ------------------------------------------------------------


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in the project's time zone (Asia/Shanghai)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=timezone.get_default_timezone())


class Frozen:
    """`django.utils.timezone.now` held at a moment (the services, the clocks, the audit and
    `localdate` all read it) and moved on with `to(...)` or `forward(...)`:

        with Frozen(at(2026, 11, 2)) as time:
            ...
            time.to(2026, 11, 20)
    """

    def __init__(self, moment: dt.datetime):
        self.moment = moment
        self._patch = mock.patch("django.utils.timezone.now", side_effect=lambda: self.moment)

    def __enter__(self) -> Frozen:
        self._patch.start()
        return self

    def __exit__(self, *exc) -> None:
        self._patch.stop()

    def to(self, *args, **kwargs) -> dt.datetime:
        self.moment = at(*args, **kwargs)
        return self.moment

    def forward(self, **delta) -> dt.datetime:
        self.moment += dt.timedelta(**delta)
        return self.moment


def citizen(**fields):
    """A citizen with an account and no staff role."""
    fields.setdefault("phone", "13900139000")
    return UserFactory(**fields)


class OrderScene:
    """The people and units around the orders of one district: the center's agent, the lead
    unit (the category's default unit) with a sub-unit, a co-handling unit and an unrelated
    one (a handler each), supervisors (unlimited, limited to this district, limited to
    another) and two citizens, one of whom files orders from their account."""

    def __init__(self):
        from tests.org.factories import DistrictFactory

        self.district = DistrictFactory()
        self.other_district = DistrictFactory(parent=self.district.parent)
        self.unit = DepartmentFactory(region=self.district, name="禅城区城管执法局")
        self.sub_unit = DepartmentFactory(
            region=self.district, parent=self.unit, name="祖庙街道城管中队"
        )
        self.co_unit = DepartmentFactory(region=self.district, name="禅城区住建局")
        self.other_unit = DepartmentFactory(region=self.other_district, name="南海区水务局")
        self.category = leaf(unit=self.unit)
        self.agent = agent()
        self.handler = handler(self.unit)
        self.sub_handler = handler(self.sub_unit)
        self.co_handler = handler(self.co_unit)
        self.stranger = handler(self.other_unit)
        self.supervisor = supervisor()
        self.district_supervisor = grant(UserFactory(), Role.SUPERVISOR, region=self.district)
        self.outside_supervisor = grant(UserFactory(), Role.SUPERVISOR, region=self.other_district)
        self.citizen = citizen(phone="13700137000")
        self.other_citizen = citizen(phone="13600136000")

    def register(self, *, by=None, caller=None, order_channel=None, **data):
        """A registered order of the district: by the agent on the phone, or (`caller`) by a
        citizen on the web from their account."""
        from yimen.hotline import orders

        values = {
            "order_type": "complaint",
            "urgency": "normal",
            "category": self.category,
            "district": self.district,
            "title": "路灯不亮",
            "content": "禅城区季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。",
            "caller_name": "陈先生",
            "caller_phone": "13800138000",
            "address": "季华路与文华路交界",
            **data,
        }
        if caller is not None:
            values.pop("caller_phone")
            return orders.order_register(
                actor=caller,
                order_channel=order_channel or "web",
                data=values,
                caller_user=caller,
            )
        return orders.order_register(
            actor=by or self.agent, order_channel=order_channel or "phone", data=values
        )

    def walk(self, order, status: str, *, co_units=None):
        """Take an order on through the usual steps from its state up to `status` (a
        registered order to be linked is linked to a new master)."""
        from yimen.hotline import orders
        from yimen.hotline.choices import OrderStatus as S

        if status == S.LINKED:
            return orders.order_link(order=order, actor=self.agent, master=self.register())
        path = [S.REGISTERED, S.DISPATCHED, S.HANDLING, S.REPLIED, S.CALLBACK, S.CLOSED]
        for step in path[path.index(order.status) + 1 : path.index(status) + 1]:
            if step == S.DISPATCHED:
                orders.order_dispatch(
                    order=order,
                    actor=self.agent,
                    lead=self.unit,
                    co_units=[self.co_unit] if co_units is None else co_units,
                )
            elif step == S.HANDLING:
                orders.order_sign(order=order, actor=self.handler)
            elif step == S.REPLIED:
                orders.order_reply(order=order, actor=self.handler, reply="已更换灯具，恢复照明。")
            elif step == S.CALLBACK:
                orders.order_accept_reply(order=order, actor=self.agent)
            else:
                orders.order_callback(order=order, actor=self.agent, result="satisfied")
        return order

    def order_at(self, status: str, **data):
        """A new order of the district in `status`."""
        caller = data.pop("caller", None)
        co_units = data.pop("co_units", None)
        return self.walk(self.register(caller=caller, **data), status, co_units=co_units)
