"""The demo month of 12345 work orders (yimen.demo.hotline_orders): `manage.py
hotline_demo_month` (and load_demo's last step) walks a month of orders through the order
services, with the sweep, so that every status, turn of events and figure has something to
show, the moment of the load finds live queues, the same seed makes the same month and
loading again adds nothing.

The city's organisation, staff and hotline are loaded once for the module (as in
test_demo.py), then a small month (150 orders in the full month) is walked at a fixed
moment; a second walk of the same seed, rolled back, checks that it is the same month."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from tests.cases.factories import at
from yimen.accounts.models import User
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.models import AuditEvent
from yimen.demo import city
from yimen.demo import hotline_orders as month
from yimen.demo.loader import (
    Report,
    load_applicants,
    load_departments,
    load_halls,
    load_hotline,
    load_regions,
    load_staff,
    load_window_categories,
)
from yimen.demo.management.commands import load_demo
from yimen.hotline import orders as services
from yimen.hotline import permissions, selectors, stats
from yimen.hotline.choices import OrderStatus, Resolution
from yimen.hotline.models import Assignment, Card, OrderRequest, Supervision, WorkOrder

NOW = at(2026, 11, 23, 10, 30)  # a Monday: the month is October, then 1–23 November
SMALL = 150
SEED = 7
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# What a template or a slot gets wrong: a digit before a Chinese numeral (6十名), a slot left
# unfilled, punctuation twice, a habit where a moment is meant (从每天傍晚开始停电).
SLIPS = re.compile(
    r"\d[十百千万]|[{}]|[，。；：、][，。；：、？！]|[？！][，。；]|每天每天|从(每天|每晚|周末)"
)


def _fingerprint() -> list[tuple]:
    """What a month is, without the ids a database hands out."""
    orders = WorkOrder.objects.filter(idempotency_key__startswith=month.KEY_PREFIX)
    rows = orders.order_by("number").values_list(
        "number", "status", "channel", "order_type", "category__code", "lead_unit__uscc",
        "satisfaction", "reopen_count", "resolution", "received_at", "closed_at",
        "caller_user__username", "content",
    )  # fmt: skip
    cards = Card.objects.order_by("order__number", "deadline", "colour").values_list(
        "order__number", "deadline", "colour", "issued_at"
    )
    supervisions = Supervision.objects.order_by("order__number", "issued_at").values_list(
        "order__number", "issued_at", "answered_at"
    )
    return [*rows, *cards, *supervisions]


@pytest.fixture(scope="module")
def walked(django_db_setup, django_db_blocker):
    """The city, then the month by the command (without training) at NOW; a second walk of
    the same seed in a savepoint (rolled back) for its fingerprint; all rolled back after."""
    with (
        django_db_blocker.unblock(),
        translation.override("en"),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        mock.patch("django.utils.timezone.now", return_value=NOW),
        transaction.atomic(),
    ):
        report = Report()
        for step in (load_regions, load_window_categories, load_departments, load_halls):
            step(report)
        load_staff(report)
        load_applicants(report)
        load_hotline(report)
        events = AuditEvent.objects.count()
        again = transaction.savepoint()
        month.load(orders=SMALL, seed=SEED, end=NOW)
        second = _fingerprint()
        transaction.savepoint_rollback(again)
        out = StringIO()
        call_command(
            "hotline_demo_month", "--orders", str(SMALL), "--seed", str(SEED), "--no-train",
            "--no-progress", stdout=out,
        )  # fmt: skip
        yield {"out": out.getvalue(), "second": second, "events_before": events}
        transaction.set_rollback(True)


@pytest.fixture
def demo(walked, db):
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield walked


def _orders():
    return WorkOrder.objects.filter(idempotency_key__startswith=month.KEY_PREFIX)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def test_the_month_has_its_size_and_every_status(demo):
    # Given the walked month / then the full month (October) has the orders asked for, plus
    # the repeat calls, and November up to NOW comes at the same rate
    orders = _orders()
    october = orders.filter(received_at__month=10, master=None).count()
    assert october == SMALL
    november = orders.filter(received_at__month=11, master=None).count()
    assert 0.55 * SMALL < november < 0.95 * SMALL  # 23 of 30 days at the same rate
    assert orders.filter(received_at__gt=NOW).count() == 0
    # every status, and an order of every channel, type and district
    statuses = Counter(orders.values_list("status", flat=True))
    assert set(statuses) == set(OrderStatus.values)
    assert statuses[OrderStatus.CLOSED] > len(orders) / 2
    assert {o.channel for o in orders} >= {"phone", "wechat", "web", "app"}
    assert len({o.order_type for o in orders}) == 6
    assert orders.values("district").distinct().count() == 5


def test_the_shares_have_the_shape_of_the_seeds(demo):
    # Given the month's figures / then the shares are those of a real hotline, loosely
    figures = month.figures()
    total = figures["orders"]
    assert 0.55 < figures["channel"]["phone"] / total < 0.85
    assert 0.40 < figures["type"]["consultation"] / total < 0.70
    assert 40 <= figures["instant_rate"] <= 68
    instant = _orders().filter(resolution=Resolution.INSTANT).count()
    assert figures["answered_from_articles"] >= 0.3 * instant
    assert figures["sign_on_time"] >= 88 and figures["reply_on_time"] >= 88
    assert figures["sign_on_time"] < 100 or figures["reply_on_time"] < 100  # some were late
    assert 75 <= figures["satisfaction"] < 100
    assert 1 <= figures["average_days"] <= 12
    assert figures["urgency"]["normal"] / total > 0.85


def test_every_turn_of_events_happens(demo):
    orders = _orders()
    requests = OrderRequest.objects.filter(order__in=orders)
    # returns: approved and dispatched again to another unit, or rejected
    approved = requests.filter(kind="return", status="approved")
    assert approved.exists() and requests.filter(kind="return", status="rejected").exists()
    for request in approved:
        assert request.order.assignments.exclude(unit=request.unit_id).filter(role="lead")
    assert requests.filter(kind="extension").exists()
    assert Supervision.objects.filter(order__in=orders, answered_at__isnull=False).exists()
    assert orders.filter(reopen_count__gt=0).exists()
    repeats = orders.filter(master__isnull=False)
    assert repeats.exists()
    for repeat in repeats:  # same caller, same category, later than its master
        master = repeat.master
        assert repeat.caller_phone == master.caller_phone
        assert repeat.category_id == master.category_id
        assert repeat.received_at > master.received_at
    assert Assignment.objects.filter(order__in=orders, level=2).exists()  # 转派
    events = AuditEvent.objects.filter(action="hotline.order.send_back")
    assert events.exists()


def test_late_units_get_yellow_and_red_cards_from_the_sweep(demo):
    cards = Card.objects.filter(order__in=_orders())
    colours = Counter(cards.values_list("colour", flat=True))
    assert colours["yellow"] >= 3 and colours["red"] >= 1
    assert colours["red"] < colours["yellow"]
    for card in cards.select_related("clock"):
        # issued by the sweep (the system), on the hour after the deadline passed
        assert card.issued_by is None and card.issued_at > card.clock.due_at
        assert card.issued_at.minute == 0 or card.issued_at == NOW


def test_instant_answers_cite_an_article_of_their_category_in_force(demo):
    answered = _orders().filter(resolution=Resolution.INSTANT).select_related("article")
    cited = [o for o in answered if o.article is not None]
    assert len(cited) > len(answered) / 3
    for order in cited:
        assert order.article.category_id == order.category_id
        assert order.article.reviewed_at <= order.replied_at
        assert order.article.valid_until is None or order.article.valid_until >= (
            timezone.localdate(order.replied_at)
        )


def test_the_orders_read_like_real_ones(demo):
    phone = re.compile(r"^1[3-9]\d0000\d{4}$")  # obviously fictitious: 0000 in the middle
    names = {name for _key, name, *_rest in city.DEPARTMENTS}
    for order in _orders().select_related("category", "lead_unit", "district"):
        assert order.category.level == 3
        assert order.content and order.title
        assert not order.caller_phone or phone.match(order.caller_phone)
        if order.address:
            assert order.address.startswith(order.district.name)
        assert order.lead_unit is None or order.lead_unit.name in names
    # the same leaf reads alike, so the dispatch assistant can learn it (agents file a few
    # orders under a neighbouring leaf)
    lights = _orders().filter(category__name="路灯不亮")
    assert sum("路灯" in o.content for o in lights) >= 0.8 * len(lights) > 0


def test_the_demo_users_have_live_queues_with_overdue_orders(demo):
    # Given the demo agent and the demo handler (禅城区城管执法局) at NOW
    agent, handler = _user("agent"), _user("handler")
    center = selectors.center_queues(agent)
    assert center["registered"].exists() and center["callback"].exists()
    assert center["replied"].exists() and center["requests"].exists()
    units = selectors.unit_queues(handler)
    theirs = [*units["to_sign"], *units["handling"]]
    assert theirs
    # some of them overdue (a red light), with a card for it
    red = [o for o in theirs if selectors.light(o, now=NOW).light == Light.RED]
    assert red
    assert Card.objects.filter(order__in=red).exists()


def test_the_audit_chain_holds_and_tells_each_order_in_time_order(demo):
    assert audit.verify() is None
    events = AuditEvent.objects.filter(object_type="hotline.workorder")
    assert events.count() > 3 * _orders().count()
    # the events follow the month's clock: ids and moments in the same order
    moments = list(events.order_by("pk").values_list("occurred_at", flat=True))
    assert moments == sorted(moments)
    assert moments[-1] <= NOW


def test_the_same_seed_makes_the_same_month(demo):
    assert _fingerprint() == demo["second"]
    # and another seed another one
    plans = month.plan_month(orders=SMALL, seed=SEED + 1, end=NOW)
    assert [p.content for p in plans] != [
        p.content for p in month.plan_month(orders=SMALL, seed=SEED, end=NOW)
    ]


def test_loading_again_adds_nothing(demo):
    # Given the loaded month
    count, events = _orders().count(), AuditEvent.objects.count()
    # when the command runs again / then nothing is added
    out = StringIO()
    call_command("hotline_demo_month", "--orders", "50", "--no-progress", stdout=out)
    assert "loaded already" in out.getvalue()
    assert (_orders().count(), AuditEvent.objects.count()) == (count, events)


def test_the_command_prints_the_month_and_its_time(demo):
    out = demo["out"]
    for label in ("By status", "By channel", "By type", "Answered at once", "Cards"):
        assert label in out
    assert re.search(r"\d+ work orders and \d+ cards made in \d+\.\d s\.", out)
    assert "Dispatch assistant" not in out  # --no-train


def test_the_command_needs_the_demo_city(demo, monkeypatch):
    # Given the demo city / then the month finds all it needs
    assert month.missing() == []
    # Given a database without it (the agent, say) / when the month is asked for / then the
    # command says what to load, and makes nothing
    monkeypatch.setattr(month, "loaded", lambda: False)
    monkeypatch.setattr(month, "missing", lambda: ["agent"])
    count = _orders().count()
    with pytest.raises(CommandError, match=r"load_demo.*agent"):
        call_command("hotline_demo_month", "--no-progress", stdout=StringIO())
    assert _orders().count() == count


def test_the_command_refuses_a_month_of_no_orders(db):
    with pytest.raises(CommandError):
        call_command("hotline_demo_month", "--orders", "0", stdout=StringIO())


def test_load_demo_walks_the_month_of_the_configured_size_after_the_city(monkeypatch, db):
    # Given a demo city whose month is set to 321 orders
    asked = {}

    def fake_call(name, **options):
        asked[name] = options

    monkeypatch.setattr(load_demo, "call_command", fake_call)
    monkeypatch.setattr(load_demo, "STEPS", [])
    # when load_demo runs / then the month command is asked for that size, after the city
    with override_settings(YIMEN_DEMO_HOTLINE_ORDERS=321):
        call_command("load_demo", "--no-progress", stdout=StringIO())
    assert asked["hotline_demo_month"]["orders"] == 321
    # and with no month configured, none is walked
    asked.clear()
    with override_settings(YIMEN_DEMO_HOTLINE_ORDERS=0):
        call_command("load_demo", "--no-progress", stdout=StringIO())
    assert asked == {}


def test_no_template_reads_wrong_whatever_fills_its_slots():
    # Given every template of the month with the slots of every district (several draws)
    texts = month._Texts(random.Random(SEED))
    templates = [
        part.split(":", 1)[1]
        for spec in month.LEAVES.values()
        for part in spec[3].split("｜")
        if part.strip()
    ]
    templates += [*month.SUGGESTIONS, *(row[5] for row in month.ACCOUNT_ORDERS)]
    for district in month.PLACES:
        for _draw in range(5):
            _town, slots, _centre = texts.place(district)
            slots |= {"leaf": "路灯不亮", "unit": "市城管局"}
            for template in templates:
                # then each reads without a slip
                text = template.format(**slots)
                assert not SLIPS.search(text), text


def test_the_walked_orders_read_without_slips(demo):
    # Given the texts of every order of the month: what was said, the title, the replies
    rows = _orders().values_list("title", "content", "reply", "address")
    texts = [text for row in rows for text in row if text]
    # then not one has a numeral, a slot or punctuation gone wrong
    assert texts and [t for t in texts if SLIPS.search(t)] == []
    # and no summary of a call starts where the caller's words were cut off (的…, 在…)
    assert not _orders().filter(title__regex=r"^(的|在|对|从|给)").exists()


def test_the_demo_citizen_has_web_orders_to_follow_and_one_to_rate(demo, client):
    # Given the demo applicant `citizen` at NOW
    citizen = _user("citizen")
    own = _orders().filter(caller_user=citizen)
    # then they filed orders on the web from their account, in every state of a caller
    assert own.count() >= 3 and {o.channel for o in own} == {"web"}
    statuses = Counter(own.values_list("status", flat=True))
    assert statuses[OrderStatus.CLOSED] >= 1
    assert statuses[OrderStatus.CALLBACK] == 1 and statuses[OrderStatus.HANDLING] == 1
    # one closed with their own verdict, given online
    rated = AuditEvent.objects.filter(
        action="hotline.order.callback", actor=citizen, channel=Channel.ONLINE
    )
    assert rated.count() == 1
    closed = own.get(pk=rated.get().object_id)
    assert closed.status == OrderStatus.CLOSED and closed.satisfaction == "satisfied"
    # the demo company has one too
    assert _orders().filter(caller_user=_user("company"), channel="web").exists()
    # and their page lists them
    client.force_login(citizen)
    page = client.get(reverse("hotline:mine"))
    assert page.status_code == 200
    for order in own:
        assert order.number in page.content.decode()
    # when the citizen rates the one waiting for the callback / then it closes
    waiting = own.get(status=OrderStatus.CALLBACK)
    assert "callback" in {s.action for s in selectors.offered_steps(citizen, waiting)}
    services.order_callback(
        order=waiting, actor=citizen, result="satisfied", channel=Channel.ONLINE
    )
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.CLOSED


def test_the_demo_handler_has_a_running_supervision_order_to_answer(demo):
    # Given the demo handler (禅城区城管执法局) at NOW
    handler = _user("handler")
    supervised = selectors.unit_queues(handler)["supervised"]
    assert supervised.count() == 1
    supervision = Supervision.objects.select_related("clock").get(
        order=supervised.get(), answered_at=None
    )
    # then it was issued on the last working day, and its clock still runs
    assert supervision.unit_id in permissions.handler_units(handler)
    assert timezone.localdate(supervision.issued_at) == dt.date(2026, 11, 20)  # the Friday
    assert supervision.clock.status == "running" and supervision.clock.due_at > NOW
    # when the handler answers it / then it is answered
    services.order_answer_supervision(supervision=supervision, actor=handler, answer="已处理。")
    supervision.refresh_from_db()
    assert supervision.answered_at == NOW


def test_the_summary_states_the_statistics_instant_answer_rate(demo):
    # Given the statistics of the month's days (what the statistics page shows for them)
    days = month.period()
    assert (days.first, days.last) == (dt.date(2026, 10, 1), timezone.localdate(NOW))
    figures = stats.figures(days)
    received = WorkOrder.objects.filter(
        received_at__gte=days.start, received_at__lt=days.end
    ).count()
    # then they count every order received, linked repeat calls too
    assert figures.instant_rate.whole == received == _orders().count()
    # and the summary states that rate, of that many
    rate = figures.instant_rate
    line = next(line for line in demo["out"].splitlines() if "Answered at once" in line)
    assert line.split("Answered at once", 1)[1].strip() == (
        f"{rate.percent}% ({rate.part} of {rate.whole} received)"
    )
    assert month.figures()["instant_rate"] == rate.percent
