"""The hotline's statistics and its monthly operation bulletin (运行情况通报): every figure of a
small known month (rows written directly, clocks started and stopped at set times, so each
number is known), the page for each role, the xlsx workbook, the PDF, the command, bad
parameters, and the query count of the figures whatever the number of orders."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib
from decimal import Decimal
from itertools import count
from types import SimpleNamespace
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests.accounts.factories import UserFactory
from tests.cases.factories import person
from tests.conftest import grant
from tests.hotline.factories import CategoryFactory, agent, branch, handler, leaf
from tests.hotline.factories import order as register
from tests.org.factories import DepartmentFactory
from yimen.common.clocks import clock_start, clock_stop
from yimen.hotline import orders, report, stats
from yimen.hotline.choices import (
    AssignmentRole,
    CardColour,
    OrderClock,
    OrderStatus,
    RequestKind,
    RequestStatus,
    Resolution,
    Satisfaction,
)
from yimen.hotline.models import Assignment, Card, OrderRequest, Supervision, WorkOrder
from yimen.org.choices import Role

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = stats.Period.month(2026, 11)
# The deadlines still running are judged at this moment.
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=TZ)
_numbers = count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


# --- the scene --------------------------------------------------------------------------------


def make_order(*, received, channel, order_type, category=None, **fields) -> WorkOrder:
    values = {
        "status": OrderStatus.REGISTERED,
        "title": "诉求",
        "content": "诉求内容",
    }
    values.update(fields)
    return WorkOrder.objects.create(
        number=f"GD2026{next(_numbers):09d}",
        received_at=received,
        channel=channel,
        order_type=order_type,
        category=category,
        **values,
    )


def dispatch(order, unit, when, *, level=1, parent=None) -> Assignment:
    return Assignment.objects.create(
        order=order,
        unit=unit,
        role=AssignmentRole.LEAD,
        level=level,
        parent=parent,
        dispatched_at=when,
    )


def deadline(order, purpose, started, *, limit, stopped=None):
    """A clock of `limit` working days from `started`, stopped at `stopped` if given."""
    clock = clock_start(
        purpose=purpose, subject=order, unit="workdays", limit=limit, started_at=started
    )
    if stopped is not None:
        clock_stop(clock=clock, at=stopped)
    return clock


def closed(order, *, when, resolution=Resolution.HANDLED, satisfaction=""):
    order.status, order.closed_at = OrderStatus.CLOSED, when
    order.resolution, order.satisfaction = resolution, satisfaction
    order.save()
    return order


def make_month() -> SimpleNamespace:
    """November 2026 (no holiday in it): ten orders received, six closed, seven dispatches by
    the center, sign and reply deadlines met and missed, requests, supervision orders and
    cards; and around it an order of October closed in November and one of December.

    Units: u1 (佛山市城市管理和综合执法局), u2 (禅城区住房城乡建设和水利局), u3 (a sub-unit of u2).
    """
    u1 = DepartmentFactory(name="佛山市城市管理和综合执法局")
    u2 = DepartmentFactory(name="禅城区住房城乡建设和水利局")
    u3 = DepartmentFactory(name="祖庙街道办事处", parent=u2, region=u2.region)
    lamps = branch(names=("城乡建设", "市政设施", "路灯不亮"))[-1]
    buses = branch(names=("交通运输", "公共交通", "公交线路"))[-1]
    schools = CategoryFactory(
        name="招生入学", parent=CategoryFactory(name="教育"), level=2
    )  # a leaf of level 2

    # Instant answers (即时答复); o1 at the first moment of the month.
    o1 = make_order(
        received=at(11, 1, 0), channel="phone", order_type="consultation", category=lamps
    )
    closed(o1, when=at(11, 1, 0, 5), resolution=Resolution.INSTANT)
    o2 = make_order(received=at(11, 3), channel="web", order_type="consultation", category=schools)
    closed(o2, when=at(11, 3, 9, 10), resolution=Resolution.INSTANT)

    # o3: u1, everything on time, satisfied; 6 working days (Nov 2 → Nov 10).
    o3 = make_order(received=at(11, 2, 10), channel="phone", order_type="complaint", category=lamps)
    dispatch(o3, u1, at(11, 2, 11))
    deadline(o3, OrderClock.SIGN, at(11, 2, 11), limit=1, stopped=at(11, 2, 15))
    deadline(o3, OrderClock.REPLY, at(11, 2, 11), limit=5, stopped=at(11, 6, 16))
    o3.dispatched_at, o3.lead_unit = at(11, 2, 11), u1
    closed(o3, when=at(11, 10, 10), satisfaction=Satisfaction.SATISFIED)

    # o4: u2, signed and replied late (two cards), an extension approved, a supervision order
    # answered; basically satisfied; 15 working days (Nov 3 → Nov 24).
    o4 = make_order(received=at(11, 3, 8), channel="wechat", order_type="help", category=buses)
    dispatch(o4, u2, at(11, 3, 10))
    sign4 = deadline(o4, OrderClock.SIGN, at(11, 3, 10), limit=1, stopped=at(11, 6, 9))
    reply4 = deadline(o4, OrderClock.REPLY, at(11, 3, 10), limit=5, stopped=at(11, 20, 9))
    o4.dispatched_at, o4.lead_unit = at(11, 3, 10), u2
    closed(o4, when=at(11, 24, 15), satisfaction=Satisfaction.BASIC)
    Card.objects.create(
        order=o4, unit=u2, colour=CardColour.YELLOW, deadline=OrderClock.SIGN, clock=sign4,
        issued_at=at(11, 5),
    )  # fmt: skip
    Card.objects.create(
        order=o4, unit=u2, colour=CardColour.RED, deadline=OrderClock.REPLY, clock=reply4,
        issued_at=at(11, 11),
    )  # fmt: skip
    OrderRequest.objects.create(
        order=o4, kind=RequestKind.EXTENSION, unit=u2, reason="需要现场勘查", amount=3,
        status=RequestStatus.APPROVED, requested_at=at(11, 5), decided_at=at(11, 5, 15),
    )  # fmt: skip
    Supervision.objects.create(
        order=o4, unit=u2, instruction="请加快办理", issued_at=at(11, 12),
        answer="已安排", answered_at=at(11, 13),
    )  # fmt: skip

    # o5: u1 signed on time, its reply is running past due (a yellow card, an extension
    # refused, a supervision order not answered yet); a duplicate (o7) is linked to it.
    o5 = make_order(received=at(11, 5, 8), channel="app", order_type="complaint", category=lamps)
    dispatch(o5, u1, at(11, 5, 9))
    deadline(o5, OrderClock.SIGN, at(11, 5, 9), limit=1, stopped=at(11, 5, 11))
    reply5 = deadline(o5, OrderClock.REPLY, at(11, 5, 9), limit=5)
    o5.status, o5.dispatched_at, o5.lead_unit = OrderStatus.HANDLING, at(11, 5, 9), u1
    o5.save()
    Card.objects.create(
        order=o5, unit=u1, colour=CardColour.YELLOW, deadline=OrderClock.REPLY, clock=reply5,
        issued_at=at(11, 13),
    )  # fmt: skip
    OrderRequest.objects.create(
        order=o5, kind=RequestKind.EXTENSION, unit=u1, reason="需要协调", amount=2,
        status=RequestStatus.REJECTED, requested_at=at(11, 12), decided_at=at(11, 12, 15),
    )  # fmt: skip
    Supervision.objects.create(order=o5, unit=u1, instruction="请尽快回复", issued_at=at(11, 16))

    # o6: u2 returned it in time (退单, approved: its clocks stopped), the center dispatched it
    # to u1, which met both deadlines; dissatisfied (reopen limit reached); 3 working days
    # (from the second dispatch, Nov 11 → Nov 16).
    o6 = make_order(received=at(11, 10, 8), channel="sms", order_type="report", category=buses)
    dispatch(o6, u2, at(11, 10, 9))
    deadline(o6, OrderClock.SIGN, at(11, 10, 9), limit=1, stopped=at(11, 11, 10))
    deadline(o6, OrderClock.REPLY, at(11, 10, 9), limit=5, stopped=at(11, 11, 10))
    OrderRequest.objects.create(
        order=o6, kind=RequestKind.RETURN, unit=u2, reason="不属于本单位职责",
        status=RequestStatus.APPROVED, requested_at=at(11, 10, 16), decided_at=at(11, 11, 10),
    )  # fmt: skip
    dispatch(o6, u1, at(11, 11, 14))
    deadline(o6, OrderClock.SIGN, at(11, 11, 14), limit=1, stopped=at(11, 12, 9))
    deadline(o6, OrderClock.REPLY, at(11, 11, 14), limit=5, stopped=at(11, 13, 9))
    o6.dispatched_at, o6.lead_unit, o6.reopen_count = at(11, 11, 14), u1, 2
    closed(o6, when=at(11, 16, 11), satisfaction=Satisfaction.UNSATISFIED)

    # o7: a duplicate linked to o5; o8: registered, nothing done yet.
    make_order(
        received=at(11, 12), channel="letter", order_type="suggestion",
        status=OrderStatus.LINKED, master=o5,
    )  # fmt: skip
    make_order(received=at(11, 20), channel="kiosk", order_type="praise", category=schools)

    # o9: dispatched to u1 on the last day: its deadlines are not due at NOW (not judged).
    o9 = make_order(received=at(11, 30, 9), channel="phone", order_type="complaint",
                    category=lamps)  # fmt: skip
    dispatch(o9, u1, at(11, 30, 10))
    deadline(o9, OrderClock.SIGN, at(11, 30, 10), limit=1)
    deadline(o9, OrderClock.REPLY, at(11, 30, 10), limit=5)
    o9.status, o9.dispatched_at, o9.lead_unit = OrderStatus.DISPATCHED, at(11, 30, 10), u1
    o9.save()

    # o11: u2 passed it to its sub-unit u3 (转派), which signed in time: u3's deadline.
    o11 = make_order(received=at(11, 26, 8), channel="web", order_type="help", category=buses)
    first = dispatch(o11, u2, at(11, 26, 10))
    dispatch(o11, u3, at(11, 26, 15), level=2, parent=first)
    deadline(o11, OrderClock.SIGN, at(11, 26, 10), limit=1, stopped=at(11, 27, 9))
    deadline(o11, OrderClock.REPLY, at(11, 26, 10), limit=5)
    o11.status, o11.dispatched_at, o11.lead_unit = OrderStatus.HANDLING, at(11, 26, 10), u3
    o11.save()

    # o10: received and dispatched in October, closed in November (caller not reached);
    # 5 working days (Oct 28 → Nov 4). Its deadlines and its card are October's.
    o10 = make_order(received=at(10, 28, 8), channel="phone", order_type="help", category=buses)
    dispatch(o10, u2, at(10, 28, 9))
    sign10 = deadline(o10, OrderClock.SIGN, at(10, 28, 9), limit=1, stopped=at(10, 30, 9))
    o10.dispatched_at, o10.lead_unit = at(10, 28, 9), u2
    closed(o10, when=at(11, 4, 9), satisfaction=Satisfaction.UNREACHABLE)
    Card.objects.create(
        order=o10, unit=u2, colour=CardColour.YELLOW, deadline=OrderClock.SIGN, clock=sign10,
        issued_at=at(10, 30),
    )  # fmt: skip

    # o12: the first moment of December is not November's.
    make_order(received=at(12, 1, 0), channel="phone", order_type="complaint", category=lamps)
    return SimpleNamespace(u1=u1, u2=u2, u3=u3, o5=o5)


@pytest.fixture
def month():
    return make_month()


@pytest.fixture
def november(month):
    return stats.figures(NOVEMBER, now=NOW)


# --- the figures ------------------------------------------------------------------------------


class TestPeriod:
    def test_a_month_is_its_local_days(self):
        period = stats.parse_month("2026-11")
        assert (period.first, period.last, period.is_month) == (
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 30),
            True,
        )
        assert period.start == at(11, 1, 0)
        assert period.end == at(12, 1, 0)
        assert period.label_zh == "2026年11月"
        assert period.query == {"month": "2026-11"}

    def test_december_ends_in_the_next_year(self):
        assert stats.parse_month("2026-12").last == dt.date(2026, 12, 31)

    def test_a_span_of_days(self):
        period = stats.period_from({"from": "2026-11-03", "to": "2026-11-20"})
        assert (period.first, period.last, period.is_month) == (
            dt.date(2026, 11, 3),
            dt.date(2026, 11, 20),
            False,
        )
        assert period.label_zh == "2026年11月3日至2026年11月20日"
        assert period.query == {"from": "2026-11-03", "to": "2026-11-20"}

    def test_a_span_that_is_a_month_is_the_month(self):
        period = stats.period_from({"from": "2026-02-01", "to": "2026-02-28"})
        assert period.is_month and period.month_param == "2026-02"

    def test_the_current_month_by_default(self):
        assert stats.period_from({}, today=dt.date(2026, 12, 7)) == stats.Period.month(2026, 12)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"month": "2026-13"}, "month"),
            ({"month": "2026-00"}, "month"),
            ({"month": "November"}, "month"),
            ({"month": "1999-12"}, "month"),
            ({"from": "2026-11-01"}, "to"),
            ({"to": "2026-11-01"}, "from"),
            ({"from": "2026-11-31", "to": "2026-12-01"}, "from"),
            ({"from": "2026-12-01", "to": "2026-11-01"}, "to"),
            ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
        ],
    )
    def test_bad_parameters_name_the_field(self, params, field):
        with pytest.raises(stats.ValidationError) as refused:
            stats.period_from(params)
        assert field in refused.value.message_dict


class TestFigures:
    def test_received_and_its_breakdowns(self, november):
        assert november.received == 10
        assert november.by_channel == [
            ("phone", 3),
            ("web", 2),
            ("wechat", 1),
            ("app", 1),
            ("sms", 1),
            ("letter", 1),
            ("kiosk", 1),
        ]
        assert november.by_type == [
            ("consultation", 2),
            ("help", 2),
            ("complaint", 3),
            ("report", 1),
            ("suggestion", 1),
            ("praise", 1),
        ]
        assert november.by_category == [("城乡建设", 4), ("交通运输", 3), ("教育", 2), ("", 1)]

    def test_instant_answers_and_duplicates(self, november):
        assert (november.instant, november.instant_rate.whole) == (2, 10)
        assert str(november.instant_rate) == "20.00%"
        assert november.duplicates == 1

    def test_dispatches_and_closed(self, november):
        # o3, o4, o5, o6 twice, o9, o11 by the center; o11 to u3 is u2's re-dispatch.
        assert november.dispatched == 7
        assert november.closed == 6

    def test_on_time_signing(self, november):
        # Met: o3, o5, o6 (u2, returned in time), o6 (u1), o11 (u3); missed: o4; o9 not due.
        assert (november.sign.on_time, november.sign.stopped_late) == (5, 1)
        assert november.sign.running_late == 0
        assert str(november.sign_rate) == "83.33%"

    def test_on_time_replies(self, november):
        # Met: o3, o6 twice; missed: o4 (late), o5 (running past due); o9, o11 not due.
        assert (november.reply.on_time, november.reply.stopped_late) == (3, 1)
        assert november.reply.running_late == 1
        assert str(november.reply_rate) == "60.00%"

    def test_satisfaction_leaves_out_callers_not_reached(self, november):
        assert november.verdicts.items() == [
            ("satisfied", 1),
            ("basic", 1),
            ("unsatisfied", 1),
            ("unreachable", 1),
        ]
        assert november.satisfaction == stats.Rate(2, 3)
        assert str(november.satisfaction) == "66.67%"

    def test_average_handling_in_working_days(self, november):
        # o3 6, o4 15, o6 3, o10 5 working days.
        assert (november.handling.orders, november.handling.workdays) == (4, 29)
        assert november.average_days == Decimal("7.25")
        assert november.handling.confirmed

    def test_requests_supervision_and_cards(self, november):
        assert (november.returns.asked, november.returns.approved) == (1, 1)
        assert (november.extensions.asked, november.extensions.approved) == (2, 1)
        assert (november.supervisions, november.supervisions_answered) == (2, 1)
        # o10's October card is not November's.
        assert (november.yellow_cards, november.red_cards) == (2, 1)

    def test_the_unit_ranking(self, november, month):
        rows = {row.unit_id: row for row in november.units}
        u1, u2, u3 = rows[month.u1.pk], rows[month.u2.pk], rows[month.u3.pk]
        assert [row.unit_id for row in november.units] == [month.u2.pk, month.u1.pk, month.u3.pk]
        assert [row.rank for row in november.units] == [1, 2, 3]
        assert u1.name == "佛山市城市管理和综合执法局"
        # u1: o3, o5, o6, o9 dispatched to it; o3, o6 closed (satisfied, dissatisfied).
        assert (u1.received, u1.closed) == (4, 2)
        assert (str(u1.sign_rate), str(u1.reply_rate)) == ("100.00%", "66.67%")
        assert str(u1.satisfaction) == "50.00%"
        assert u1.average_days == Decimal("4.50")
        assert (u1.returns.asked, u1.extensions.asked, u1.extensions.approved) == (0, 1, 0)
        assert (u1.yellow_cards, u1.red_cards, u1.supervisions) == (1, 0, 1)
        # u2: o4, o6, o11; o4 (basic) and o10 (not reached) closed.
        assert (u2.received, u2.closed) == (3, 2)
        assert (str(u2.sign_rate), str(u2.reply_rate)) == ("50.00%", "50.00%")
        assert str(u2.satisfaction) == "100.00%"
        assert u2.average_days == Decimal("10.00")
        assert (u2.returns.asked, u2.returns.approved) == (1, 1)
        assert (u2.yellow_cards, u2.red_cards, u2.supervisions) == (1, 1, 1)
        # u3: o11 re-dispatched to it; signed in time; nothing closed yet.
        assert (u3.received, u3.closed, str(u3.sign_rate)) == (1, 0, "100.00%")
        assert str(u3.reply_rate) == "–" and u3.average_days is None

    def test_the_trend_of_six_months(self, november):
        assert [point.label for point in november.trend] == [
            "2026-06",
            "2026-07",
            "2026-08",
            "2026-09",
            "2026-10",
            "2026-11",
        ]
        assert [point.received for point in november.trend] == [0, 0, 0, 0, 1, 10]
        assert [str(point.satisfaction) for point in november.trend][-2:] == ["–", "66.67%"]

    def test_a_span_of_days_counts_only_its_days(self, month):
        figures = stats.figures(stats.period_from({"from": "2026-11-01", "to": "2026-11-05"}))
        # o1, o2, o3, o4, o5 received; o1, o2, o10 closed.
        assert (figures.received, figures.closed) == (5, 3)

    def test_a_deadline_running_past_due_is_late_only_once_due(self, month):
        before = stats.figures(NOVEMBER, now=at(11, 12, 23))
        # o5's reply is due at the end of Nov 12: not judged yet.
        assert before.reply.running_late == 0

    def test_ranking_ties_fall_to_the_deadlines_then_cards(self):
        a = stats.UnitRow(unit_id=1, name="甲", verdicts=stats.Verdicts(satisfied=1))
        b = stats.UnitRow(unit_id=2, name="乙", verdicts=stats.Verdicts(satisfied=1))
        b.reply.on_time = 1
        c = stats.UnitRow(unit_id=3, name="丙", verdicts=stats.Verdicts(satisfied=1), red_cards=1)
        d = stats.UnitRow(unit_id=4, name="丁")
        assert [row.name for row in stats.ranked([d, c, a, b])] == ["乙", "甲", "丙", "丁"]

    def test_an_empty_period(self, db):
        figures = stats.figures(stats.Period.month(2020, 1))
        assert figures.received == 0 and figures.units == []
        assert str(figures.satisfaction) == "–" and figures.average_days is None


def test_orders_walked_through_the_services_count_the_same(db):
    unit = DepartmentFactory(name="禅城区城管执法局")
    center, clerk = agent(), handler(unit)
    category = leaf(unit=unit)

    def step(when, do, **kwargs):
        with mock.patch("django.utils.timezone.now", return_value=when):
            return do(**kwargs)

    answered = step(at(11, 2, 9), register, by=center, category=category)
    step(at(11, 2, 9, 5), orders.order_answer, order=answered, actor=center, answer="已答复")
    handled = step(at(11, 2, 9, 30), register, by=center, category=category)
    step(at(11, 2, 10), orders.order_dispatch, order=handled, actor=center, lead=unit)
    step(at(11, 3, 9), orders.order_sign, order=handled, actor=clerk)
    step(at(11, 4, 9), orders.order_reply, order=handled, actor=clerk, reply="已修复")
    step(at(11, 4, 10), orders.order_accept_reply, order=handled, actor=center)
    step(at(11, 5, 10), orders.order_callback, order=handled, actor=center, result="satisfied")

    figures = stats.figures(NOVEMBER, now=NOW)
    assert (figures.received, figures.instant, figures.dispatched, figures.closed) == (2, 1, 1, 2)
    assert (figures.sign_rate, figures.reply_rate) == (stats.Rate(1, 1), stats.Rate(1, 1))
    assert figures.satisfaction == stats.Rate(1, 1)
    assert figures.average_days == Decimal("3.00")  # Nov 2 → Nov 5
    [row] = figures.units
    assert (row.unit_id, row.received, row.closed, str(row.satisfaction)) == (
        unit.pk,
        1,
        1,
        "100.00%",
    )


def test_the_figures_take_a_fixed_number_of_queries(month):
    stats.figures(NOVEMBER, now=NOW)  # the calendar's cache is warm from here on
    with CaptureQueriesContext(connection) as few:
        stats.figures(NOVEMBER, now=NOW)
    more = make_month()  # as many orders again, on other units
    del more
    with CaptureQueriesContext(connection) as many:
        again = stats.figures(NOVEMBER, now=NOW)
    assert again.received == 20
    assert len(few) == len(many) == 12


# --- the page, the downloads and the command --------------------------------------------------

PAGE = reverse("hotline:stats")
XLSX = reverse("hotline:stats_xlsx")
PDF = reverse("hotline:stats_pdf")


@pytest.fixture
def frozen():
    # The page and the downloads judge running deadlines at the current time: NOW here.
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def make_people() -> SimpleNamespace:
    return SimpleNamespace(
        agent=grant(UserFactory(username="agent"), Role.HOTLINE_AGENT),
        supervisor=grant(UserFactory(username="supervisor"), Role.SUPERVISOR),
        admin=grant(UserFactory(username="admin"), Role.SYSTEM_ADMIN),
        handler=grant(
            UserFactory(username="handler"), Role.UNIT_HANDLER, department=DepartmentFactory()
        ),
        citizen=person(UserFactory(username="citizen")).user,
        anonymous=None,
    )


@pytest.fixture
def people(db):
    return make_people()


def client_for(user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # assertions read like the source
    if user is not None:
        client.force_login(user)
    return client


def figure(page: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}">([^<]*)', page)
    assert found, key
    return found.group(1).strip()


def pdf_text(data: bytes) -> str:
    """The text a reportlab PDF shows, in drawing order: each content stream inflated
    (ASCII85 + Flate, reportlab's default), each string shown by Tj decoded (the CJK font
    takes UTF-16BE), joined without separators (so a wrapped sentence reads whole)."""
    shown = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = raw.strip()
        try:
            content = zlib.decompress(base64.a85decode(raw, adobe=True))
        except (ValueError, zlib.error):
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
            text = _unescape(literal)
            try:
                shown.append(text.decode("utf-16-be"))
            except UnicodeDecodeError:
                shown.append(text.decode("latin-1"))
    return "".join(shown)


def _unescape(literal: bytes) -> bytes:
    out, i = bytearray(), 0
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(literal):
        byte = literal[i]
        if byte != ord("\\"):
            out.append(byte)
            i += 1
            continue
        following = literal[i + 1 : i + 4]
        octal = re.match(rb"[0-7]{1,3}", following)
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out.append(simple.get(following[0], following[0]))
            i += 2
    return bytes(out)


class TestAccess:
    @pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
    @pytest.mark.parametrize("url", [PAGE, XLSX, PDF])
    def test_the_center_supervisors_and_admins_see_the_figures(self, people, role, url):
        response = client_for(getattr(people, role)).get(url, {"month": "2026-11"})
        assert response.status_code == 200

    @pytest.mark.parametrize("role", ["handler", "citizen"])
    @pytest.mark.parametrize("url", [PAGE, XLSX, PDF])
    def test_units_and_citizens_may_not(self, people, role, url):
        response = client_for(getattr(people, role)).get(url, {"month": "2026-11"})
        assert response.status_code == 403

    @pytest.mark.parametrize("url", [PAGE, XLSX, PDF])
    def test_anonymous_people_are_sent_to_sign_in(self, db, url):
        response = client_for().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


class TestPage:
    def test_the_headline_figures(self, month, people, frozen):
        page = client_for(people.agent).get(PAGE, {"month": "2026-11"}).content.decode()
        assert figure(page, "received") == "10"
        assert figure(page, "instant_rate") == "20.00%"
        assert figure(page, "sign_rate") == "83.33%"
        assert figure(page, "reply_rate") == "60.00%"
        assert figure(page, "satisfaction") == "66.67%"
        assert figure(page, "average_days") == "7.25"
        assert figure(page, "returns_asked") == "1"
        assert figure(page, "extensions_approved") == "1"
        assert figure(page, "duplicates") == "1"
        assert figure(page, "supervisions") == "2"
        assert (figure(page, "yellow_cards"), figure(page, "red_cards")) == ("2", "1")

    def test_charts_are_inline_svg_with_a_title_a_description_and_a_table(
        self, month, people, frozen
    ):
        page = client_for(people.supervisor).get(PAGE, {"month": "2026-11"}).content.decode()
        for chart in ("chart-channel", "chart-type", "chart-verdict", "chart-trend-received"):
            assert f'<svg id="{chart}"' in page
            assert f'aria-labelledby="{chart}-title {chart}-desc"' in page
            assert f'id="{chart}-table"' in page
        assert '<title id="chart-channel-title">Orders received by channel</title>' in page
        assert 'data-label="Phone" data-value="3"' in page
        assert 'data-label="2026-11" data-value="66.67%"' in page
        content = page.split('id="h-headline"')[1].split("</main>")[0]
        assert "<script" not in content  # drawn on the server, no charting library

    def test_the_unit_ranking(self, month, people, frozen):
        page = client_for(people.admin).get(PAGE, {"month": "2026-11"}).content.decode()
        table = page.split('id="unit-ranking"')[1].split("</table>")[0]
        assert table.index("禅城区住房城乡建设和水利局") < table.index("佛山市城市管理和综合执法局")
        assert table.index("佛山市城市管理和综合执法局") < table.index("祖庙街道办事处")

    def test_the_download_links_name_the_period(self, month, people, frozen):
        page = client_for(people.agent).get(PAGE, {"from": "2026-11-03", "to": "2026-11-20"})
        html = page.content.decode()
        assert f"{XLSX}?from=2026-11-03&amp;to=2026-11-20" in html
        assert f"{PDF}?from=2026-11-03&amp;to=2026-11-20" in html

    def test_the_current_month_by_default(self, month, people, frozen):
        page = client_for(people.agent).get(PAGE).content.decode()
        assert '<h2 class="h4 mb-0" id="period">2026-12</h2>' in page
        assert f"{XLSX}?month=2026-12" in page

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"month": "2026-13"}, "month"),
            ({"month": "last month"}, "month"),
            ({"from": "2026-11-01"}, "to"),
            ({"from": "2026-11-40", "to": "2026-11-30"}, "from"),
            ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ],
    )
    def test_a_bad_month_or_day_is_a_400_on_the_field(self, people, params, field):
        response = client_for(people.agent).get(PAGE, params)
        assert response.status_code == 400
        page = response.content.decode()
        assert f'id="id_{field}"' in page
        field_html = page.split(f'id="id_{field}"')[1].split("</div></div>")[0]
        assert 'class="invalid-feedback d-block" role="alert"' in field_html
        assert "data-figure" not in page

    @pytest.mark.parametrize("url", [XLSX, PDF])
    def test_a_bad_month_is_a_400_with_the_reason_for_downloads(self, people, url):
        response = client_for(people.agent).get(url, {"month": "2026-13"})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode().startswith("Month: ")


def test_the_page_takes_a_fixed_number_of_queries(month, people, frozen):
    client = client_for(people.agent)
    client.get(PAGE, {"month": "2026-11"})  # sessions, memberships and the calendar are warm
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE, {"month": "2026-11"})
    make_month()
    with CaptureQueriesContext(connection) as many:
        page = client.get(PAGE, {"month": "2026-11"})
    assert figure(page.content.decode(), "received") == "20"
    assert len(few) == len(many)


class TestWorkbook:
    @pytest.fixture
    def book(self, month, people, frozen):
        response = client_for(people.agent).get(XLSX, {"month": "2026-11"})
        assert response["Content-Disposition"] == 'attachment; filename="12345-2026-11.xlsx"'
        return load_workbook(io.BytesIO(response.content))

    def test_its_sheets(self, book):
        assert book.sheetnames == [
            "总体情况",
            "受理渠道",
            "诉求类型",
            "一级分类",
            "回访结果",
            "承办单位排名",
            "月度趋势",
        ]

    def test_the_headline_figures(self, book):
        sheet = book["总体情况"]
        assert sheet["A1"].value == "佛山市12345热线运行情况通报（2026年11月）"
        assert [c.value for c in sheet[4]] == ["指标", "数值", "分子", "分母"]
        assert sheet["A4"].font.bold and sheet.freeze_panes == "A5"
        rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)}
        assert rows["受理诉求（件）"] == (10, None, None)
        assert rows["即时答复率"] == (0.2, 2, 10)
        assert rows["按时签收率"] == (0.8333, 5, 6)
        assert rows["按时回复率"] == (0.6, 3, 5)
        assert rows["满意率"] == (0.6667, 2, 3)
        assert rows["平均办理时长（工作日）"] == (7.25, None, None)
        assert (rows["黄牌（张）"][0], rows["红牌（张）"][0]) == (2, 1)
        cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=5)}
        assert cells["满意率"].number_format == "0.00%"
        assert cells["平均办理时长（工作日）"].number_format == "0.00"

    def test_the_breakdowns(self, book):
        channels = list(book["受理渠道"].iter_rows(values_only=True))
        assert channels[0] == ("渠道", "件数", "占比")
        assert channels[1] == ("电话", 3, 0.3)
        assert book["受理渠道"]["C2"].number_format == "0.00%"
        assert book["受理渠道"].freeze_panes == "A2"
        assert list(book["一级分类"].iter_rows(min_row=2, values_only=True))[-1] == (
            "未分类",
            1,
            0.1,
        )
        verdicts = list(book["回访结果"].iter_rows(min_row=2, values_only=True))
        assert verdicts == [
            ("满意", 1, 0.3333),
            ("基本满意", 1, 0.3333),
            ("不满意", 1, 0.3333),
            ("未联系上", 1, None),
        ]

    def test_the_unit_ranking(self, book, month):
        sheet = book["承办单位排名"]
        assert sheet["A1"].value == "排名" and sheet["A1"].font.bold
        first = next(sheet.iter_rows(min_row=2, values_only=True))
        assert first[:8] == (1, "禅城区住房城乡建设和水利局", 3, 2, 0.5, 0.5, 1.0, 10.0)
        assert first[8:] == (1, 1, 1, 1, 1, 1)
        assert sheet["E2"].number_format == "0.00%"
        assert sheet.freeze_panes == "A2"

    def test_the_trend(self, book):
        rows = list(book["月度趋势"].iter_rows(min_row=2, values_only=True))
        assert rows[-2:] == [("2026-10", 1, None), ("2026-11", 10, 0.6667)]


class TestBulletin:
    @pytest.fixture
    def pdf(self, month, people, frozen):
        response = client_for(people.agent).get(PDF, {"month": "2026-11"})
        assert response["Content-Type"] == "application/pdf"
        return response.content

    def test_it_is_a_pdf(self, pdf):
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")

    def test_it_states_the_figures_in_chinese(self, pdf):
        text = pdf_text(pdf)
        assert "佛山市12345热线运行情况通报（2026年11月）" in text
        for heading in ("一、总体情况", "二、渠道与类型", "三、承办单位排名", "四、黄牌红牌与督办"):
            assert heading in text
        assert "五、满意度" in text
        assert "共受理群众诉求10件，其中即时答复2件，即时答复率20.00%" in text
        assert "按时签收率83.33%（应签收6件，按时签收5件）" in text
        assert "按时回复率60.00%" in text
        assert "回访满意率66.67%" in text
        assert "平均办理时长7.25个工作日" in text
        assert "申请退单1件，同意1件；申请延期2件，同意1件；合并重复件1件" in text
        assert "黄牌2张、红牌1张；下发督办单2件，已答复1件" in text
        assert "电话3件（30.00%）" in text
        # the ranking table, row by row
        assert "1禅城区住房城乡建设和水利局3250.00%50.00%100.00%10.00111" in text

    def test_the_page_the_workbook_and_the_bulletin_agree(self, month, people, frozen):
        figures = stats.figures(NOVEMBER)
        lines = report.bulletin_lines(figures)
        client = client_for(people.agent)
        page = client.get(PAGE, {"month": "2026-11"}).content.decode()
        book = load_workbook(io.BytesIO(client.get(XLSX, {"month": "2026-11"}).content))
        text = pdf_text(client.get(PDF, {"month": "2026-11"}).content)
        values = {row[0]: row[1] for row in book["总体情况"].iter_rows(min_row=5, values_only=True)}
        for headline in stats.headlines(figures):
            shown = figure(page, headline.key)
            assert shown.startswith(str(headline))
            cell = values[report.HEADLINES[headline.key]]
            if headline.kind == "rate":
                assert f"{Decimal(str(cell)) * 100:.2f}%" == str(headline)
            elif headline.kind == "days":
                assert f"{cell:.2f}" == str(headline)
            else:
                assert cell == headline.value
        shown = text.replace(" ", "")
        for line in lines:
            assert line.replace(" ", "") in shown

    def test_an_empty_month_says_so(self, people, frozen):
        text = pdf_text(client_for(people.agent).get(PDF, {"month": "2026-01"}).content)
        assert "共受理群众诉求0件" in text
        assert "本期无承办单位数据。" in text
        assert "本期无单位被亮牌。" in text


class TestCommand:
    def test_it_prints_the_figures_and_writes_the_files(self, month, tmp_path, frozen):
        out = io.StringIO()
        xlsx, pdf = tmp_path / "r.xlsx", tmp_path / "r.pdf"
        call_command("hotline_report", month="2026-11", xlsx=str(xlsx), pdf=str(pdf), stdout=out)
        printed = out.getvalue()
        assert "佛山市12345热线运行情况通报（2026年11月）" in printed
        assert "Orders received: 10" in printed
        assert "On-time sign rate: 83.33% (5/6)" in printed
        assert "Satisfaction: 66.67% (2/3)" in printed
        assert "Average handling (working days): 7.25" in printed
        assert "Red cards: 1" in printed
        assert load_workbook(xlsx)["总体情况"]["B5"].value == 10
        assert "回访满意率66.67%" in pdf_text(pdf.read_bytes())

    def test_the_previous_month_by_default(self, month, frozen):
        out = io.StringIO()
        call_command("hotline_report", stdout=out)  # NOW is in December
        assert "（2026年11月）" in out.getvalue()

    def test_a_span_of_days(self, month, frozen):
        out = io.StringIO()
        call_command("hotline_report", "--from", "2026-11-01", "--to", "2026-11-05", stdout=out)
        assert "（2026年11月1日至2026年11月5日）" in out.getvalue()
        assert "Orders received: 5" in out.getvalue()

    @pytest.mark.parametrize(
        "args", [["--month", "2026-13"], ["--from", "2026-11-01"], ["--month", "11/2026"]]
    )
    def test_bad_arguments_are_refused(self, db, args):
        with pytest.raises(CommandError):
            call_command("hotline_report", *args, stdout=io.StringIO())


# --- who sees the city's figures, caching, the tables, text cells -------------------------


class TestCityFiguresOnly:
    @pytest.mark.parametrize("url", [PAGE, XLSX, PDF])
    def test_a_supervisor_limited_to_a_district_may_not(self, db, url):
        from tests.org.factories import CityFactory, DistrictFactory

        # given a supervisor limited to a district, and one whose region is the whole city
        limited = grant(UserFactory(), Role.SUPERVISOR, region=DistrictFactory())
        citywide = grant(UserFactory(), Role.SUPERVISOR, region=CityFactory())
        # then the city's figures are for the second only
        assert client_for(limited).get(url, {"month": "2026-11"}).status_code == 403
        assert client_for(citywide).get(url, {"month": "2026-11"}).status_code == 200
        # and an agent limited as a supervisor still sees them as the center
        grant(limited, Role.HOTLINE_AGENT)
        assert client_for(limited).get(url, {"month": "2026-11"}).status_code == 200


class TestNotCached:
    @pytest.mark.parametrize("url", [PAGE, XLSX, PDF])
    def test_nothing_is_kept_by_a_cache(self, people, url):
        response = client_for(people.agent).get(url, {"month": "2026-11"})
        assert response.status_code == 200
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives


def test_every_chart_table_names_its_columns(month, people, frozen):
    page = client_for(people.agent).get(PAGE, {"month": "2026-11"}).content.decode()
    heads = re.findall(r'id="(chart-[\w-]+)-table">.*?<thead><tr>(.*?)</tr></thead>', page, re.S)
    assert len(heads) == 6
    for chart, head in heads:
        cells = re.findall(r"<th[^>]*>(.*?)</th>", head)
        assert len(cells) == 2 and all(cell.strip() for cell in cells), chart
    assert re.search(r'id="chart-channel-table">.*?<th scope="col">Channel</th>', page, re.S)


def test_names_that_look_like_formulas_stay_text(db, people, frozen):
    import zipfile

    # given a top-level category and a unit whose names start like formulas
    category = CategoryFactory(name='=HYPERLINK("http://evil.example","x")')
    unit = DepartmentFactory(name="@SUM(A1)")
    order = make_order(
        received=at(11, 3), channel="phone", order_type="complaint", category=category
    )
    dispatch(order, unit, at(11, 3, 10))
    # when the workbook is downloaded
    data = client_for(people.agent).get(XLSX, {"month": "2026-11"}).content
    # then no cell is a formula, and the names read back as text
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(name) for name in sheets)
    book = load_workbook(io.BytesIO(data))
    cell = book["一级分类"]["A2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://evil.example","x")', "s")
    names = [row[1].value for row in book["承办单位排名"].iter_rows(min_row=2)]
    assert "@SUM(A1)" in names
