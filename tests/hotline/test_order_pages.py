"""The work-order pages: each role on the order page, the order list, the center's queues
and a unit's inbox; every step through the web (its happy path, and its errors: 400 on the
field, 403, 409 on a stale page or a double click); masking and the confidential caller;
notices read when the unit opens the order; the filters; and the lists' query counts."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.cases.factories import person
from tests.hotline.factories import agent, article, branch, handler, supervisor
from tests.org.factories import DepartmentFactory
from yimen.common.models import Clock
from yimen.hotline import orders
from yimen.hotline.choices import (
    OrderStatus,
    RequestKind,
    RequestStatus,
    Satisfaction,
)
from yimen.hotline.models import Card, Notice, OrderRequest, Supervision, WorkOrder

pytestmark = pytest.mark.django_db

S = OrderStatus
PHONE = "13800138000"
MASKED = "138****8000"
ROLES = ("agent", "lead", "other", "co", "supervisor", "caller", "citizen", "anonymous")


# --- the scene --------------------------------------------------------------------------------


@pytest.fixture
def scene():
    """A lead unit with a sub-unit, a co-handling unit and an unrelated unit, each with a
    handler; an agent, a supervisor, the citizen who called and another citizen; a leaf
    category whose default unit is the lead unit."""
    lead_unit = DepartmentFactory(name="禅城区城管执法局")
    sub_unit = DepartmentFactory(name="祖庙街道城管中队", parent=lead_unit, region=lead_unit.region)
    co_unit = DepartmentFactory(name="禅城区住房城乡建设和水利局")
    other_unit = DepartmentFactory(name="佛山市自然资源局")
    top, middle, category = branch(unit=lead_unit)
    caller = person(UserFactory(username="caller")).user
    return SimpleNamespace(
        lead_unit=lead_unit,
        sub_unit=sub_unit,
        co_unit=co_unit,
        other_unit=other_unit,
        top=top,
        middle=middle,
        category=category,
        agent=agent(username="agent"),
        lead=handler(lead_unit, username="lead"),
        sub=handler(sub_unit, username="sub"),
        co=handler(co_unit, username="co"),
        other=handler(other_unit, username="other"),
        supervisor=supervisor(username="supervisor"),
        caller=caller,
        citizen=person(UserFactory(username="citizen"), n=2).user,
        anonymous=None,
    )


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def client_for(user=None) -> Client:
    client = english(Client())
    if user is not None:
        client.force_login(user)
    return client


def as_role(scene, role: str) -> Client:
    return client_for(getattr(scene, role))


def register(scene, **data) -> WorkOrder:
    """An order the citizen filed on the web (so they are its caller)."""
    values = {
        "order_type": "complaint",
        "urgency": "normal",
        "category": scene.category,
        "title": "路灯不亮",
        "content": "季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。",
        "caller_name": "陈先生",
        "caller_phone": PHONE,
        "address": "季华路与文华路交界",
    }
    values.update(data)
    return orders.order_register(
        actor=scene.caller, order_channel="web", data=values, caller_user=scene.caller
    )


def dispatched(scene, **data) -> WorkOrder:
    order = register(scene, **data)
    orders.order_dispatch(
        order=order, actor=scene.agent, lead=scene.lead_unit, co_units=[scene.co_unit],
        note="请尽快修复",
    )  # fmt: skip
    return order


def handling(scene, **data) -> WorkOrder:
    order = dispatched(scene, **data)
    orders.order_sign(order=order, actor=scene.lead)
    return order


def replied(scene, **data) -> WorkOrder:
    order = handling(scene, **data)
    orders.order_reply(order=order, actor=scene.lead, reply="已更换灯具，恢复照明。")
    return order


def at_callback(scene, **data) -> WorkOrder:
    order = replied(scene, **data)
    orders.order_accept_reply(order=order, actor=scene.agent)
    return order


def page_url(order) -> str:
    return reverse("hotline:order", args=[order.number])


def act_url(order, action: str) -> str:
    return reverse("hotline:act", args=[order.number, action])


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def overdue(order) -> None:
    """Set the scene directly: the order's sign clock started long ago and is overdue."""
    long_ago = timezone.now() - dt.timedelta(days=60)
    Clock.objects.filter(pk=order.sign_clock_id).update(
        started_at=long_ago, due_at=long_ago + dt.timedelta(days=2)
    )


def post(scene, role, order, action, data=None):
    return as_role(scene, role).post(act_url(order, action), data or {})


def field_error(response, message: str) -> bool:
    return message in response.content.decode()


LOGIN = reverse("accounts:login")


# --- the order page ---------------------------------------------------------------------------


class TestOrderPage:
    def test_who_may_open_a_dispatched_order(self, scene):
        order = dispatched(scene)
        expected = {
            "agent": 200, "lead": 200, "other": 404, "co": 200, "supervisor": 200,
            "caller": 200, "citizen": 404,
        }  # fmt: skip
        for role, status in expected.items():
            assert as_role(scene, role).get(page_url(order)).status_code == status, role
        response = client_for().get(page_url(order))
        assert response.status_code == 302 and response.url.startswith(LOGIN)

    def test_an_unknown_number_is_not_found(self, scene):
        assert as_role(scene, "agent").get("/hotline/orders/GD20990101000001/").status_code == 404

    def test_staff_see_the_whole_order(self, scene):
        order = handling(scene)
        orders.order_supervise(order=order, actor=scene.supervisor, instruction="请加快处理")
        page = as_role(scene, "agent").get(page_url(order)).content.decode()
        for part in (order.number, "Being handled", "Complaint", "Website", scene.top.name,
                     scene.category.name, "季华路与文华路交界", "路灯连续三晚不亮",
                     'id="deadlines"', "To sign", "To reply", "To close", "governs now",
                     'id="dispatches"', "禅城区城管执法局", "Co-handler", "请尽快修复",
                     'id="supervisions"', "请加快处理", 'id="history"', "Order registered",
                     "Dispatch to a unit", "Sign for the order"):  # fmt: skip
            assert part in page, part

    def test_the_caller_sees_their_order_without_the_internal_parts(self, scene):
        order = handling(scene)
        page = as_role(scene, "caller").get(page_url(order)).content.decode()
        assert order.number in page and "Being handled" in page and "禅城区城管执法局" in page
        assert PHONE in page  # their own number
        for internal in ('id="history"', 'id="dispatches"', "请尽快修复", 'id="requests"'):
            assert internal not in page, internal

    def test_the_caller_reads_the_reply_once_the_center_accepted_it(self, scene):
        order = replied(scene)
        assert "已更换灯具" not in as_role(scene, "caller").get(page_url(order)).content.decode()
        assert "已更换灯具" in as_role(scene, "agent").get(page_url(order)).content.decode()
        orders.order_accept_reply(order=order, actor=scene.agent)
        assert "已更换灯具" in as_role(scene, "caller").get(page_url(order)).content.decode()

    def test_the_phone_is_masked_for_all_but_the_center_and_the_caller(self, scene):
        order = dispatched(scene, content=f"路灯不亮，回电 {PHONE} 陈先生")
        for role in ("agent", "caller"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert PHONE in page and "陈先生" in page, role
        for role in ("lead", "co", "supervisor"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert PHONE not in page, role  # neither the caller's field nor the text
            assert MASKED in page and "陈先生" in page, role

    def test_the_units_are_not_told_who_called_a_confidential_order(self, scene):
        order = dispatched(scene, confidential="1", caller_name="王女士")
        for role in ("lead", "co", "supervisor"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert "王女士" not in page and MASKED not in page and PHONE not in page, role
            assert "Confidential: the caller is known to the center only." in page
            # the history names the caller's account as “Caller”, not by name
            assert scene.caller.full_name not in page
            assert re.search(r"Order registered</strong> · Caller ·", page), role
        for role in ("agent", "caller"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert "王女士" in page and PHONE in page, role

    def test_opening_the_order_marks_the_units_notices_of_it_read(self, scene):
        order = dispatched(scene)
        other_order = dispatched(scene, title="另一单")
        assert Notice.objects.filter(read_at__isnull=True).count() == 4  # lead + co, twice
        as_role(scene, "agent").get(page_url(order))
        assert Notice.objects.filter(read_at__isnull=True).count() == 4  # not the center's
        as_role(scene, "lead").get(page_url(order))
        unread = Notice.objects.filter(read_at__isnull=True)
        assert not unread.filter(unit=scene.lead_unit, order=order).exists()
        assert unread.filter(unit=scene.co_unit, order=order).exists()
        assert unread.filter(unit=scene.lead_unit, order=other_order).exists()

    def test_each_role_is_offered_its_steps(self, scene):
        order = dispatched(scene)

        def offered(role):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            return set(re.findall(r'id="action-([a-z_]+)"', page))

        assert offered("lead") == {"sign", "redispatch", "request_return", "request_extension"}
        assert offered("co") == {"co_opinion"}
        assert offered("supervisor") == {"supervise"}
        assert offered("agent") == set()
        assert offered("caller") == set()
        fresh_order = register(scene, title="新单")
        page = as_role(scene, "agent").get(page_url(fresh_order)).content.decode()
        assert set(re.findall(r'id="action-([a-z_]+)"', page)) == {"answer", "dispatch", "link"}

    def test_the_dispatch_form_is_prefilled_with_the_suggested_unit(self, scene):
        order = register(scene)
        page = as_role(scene, "agent").get(page_url(order)).content.decode()
        selected = re.search(
            r'<select name="lead"[^>]*>.*?<option value="(\d+)" selected', page, re.S
        )
        assert selected and int(selected.group(1)) == scene.lead_unit.pk
        assert "Suggested: 禅城区城管执法局" in page

    def test_the_link_form_lists_likely_masters(self, scene):
        first = register(scene)
        second = register(scene, title="又一次")
        page = as_role(scene, "agent").get(page_url(second)).content.decode()
        assert 'id="link-candidates"' in page and first.number in page


# --- the steps through the web ----------------------------------------------------------------


class TestCenterSteps:
    def test_dispatch(self, scene):
        order = register(scene)
        client = as_role(scene, "agent")
        response = client.post(act_url(order, "dispatch"), {
            "lead": scene.lead_unit.pk, "co_units": [scene.co_unit.pk], "note": "请处理",
        })  # fmt: skip
        assert response.status_code == 302 and response.url == page_url(order)
        order = fresh(order)
        assert order.status == S.DISPATCHED and order.lead_unit == scene.lead_unit
        assert order.assignments.count() == 2
        followed = client.get(response.url).content.decode()
        assert "Done: Dispatch to a unit. The order is now “Awaiting signature”." in followed

    def test_dispatch_errors_land_on_their_fields(self, scene):
        order = register(scene)
        response = post(scene, "agent", order, "dispatch", {
            "lead": scene.lead_unit.pk, "co_units": [scene.lead_unit.pk],
        })  # fmt: skip
        assert response.status_code == 400
        assert field_error(response, "The lead unit cannot also be a co-handler.")
        assert 'aria-invalid="true"' in response.content.decode()
        response = post(scene, "agent", order, "dispatch", {})
        assert response.status_code == 400 and field_error(response, "This field is required.")
        assert fresh(order).status == S.REGISTERED and not order.assignments.exists()

    def test_dispatch_is_the_centers(self, scene):
        order = register(scene)
        response = post(scene, "supervisor", order, "dispatch", {"lead": scene.lead_unit.pk})
        assert response.status_code == 403
        assert fresh(order).status == S.REGISTERED

    def test_a_second_dispatch_is_a_conflict(self, scene):
        order = dispatched(scene)
        response = post(scene, "agent", order, "dispatch", {"lead": scene.other_unit.pk})
        assert response.status_code == 409
        page = response.content.decode()
        assert "is not possible while the order is" in page and page_url(order) in page
        assert fresh(order).lead_unit == scene.lead_unit

    def test_answer_from_the_knowledge_base(self, scene):
        order = register(scene, order_type="consultation")
        source = article()
        response = post(scene, "agent", order, "answer", {
            "answer": "可在网上业务平台办理。", "article": str(source.public_id),
        })  # fmt: skip
        assert response.status_code == 302
        order = fresh(order)
        assert order.status == S.CLOSED and order.article == source
        assert (
            "可在网上业务平台办理" in as_role(scene, "caller").get(page_url(order)).content.decode()
        )

    def test_answer_errors(self, scene):
        order = register(scene)
        response = post(scene, "agent", order, "answer", {"answer": ""})
        assert response.status_code == 400 and field_error(response, "This field is required.")
        response = post(scene, "agent", order, "answer", {
            "answer": "答复", "article": "6f1c2c1e-0000-4000-8000-000000000000",
        })  # fmt: skip
        assert response.status_code == 400
        assert field_error(response, "No article you may read has this id.")
        assert fresh(order).status == S.REGISTERED

    def test_link_and_unlink(self, scene):
        master = register(scene)
        duplicate = register(scene, title="重复")
        response = post(scene, "agent", duplicate, "link", {"master": master.number})
        assert response.status_code == 302
        assert fresh(duplicate).status == S.LINKED and fresh(duplicate).master == master
        page = as_role(scene, "agent").get(page_url(master)).content.decode()
        assert 'id="duplicates"' in page and duplicate.number in page
        page = as_role(scene, "agent").get(page_url(duplicate)).content.decode()
        assert 'id="master"' in page and master.get_absolute_url() in page
        # unlinking needs a reason
        response = post(scene, "agent", duplicate, "unlink", {"reason": ""})
        assert response.status_code == 400 and fresh(duplicate).status == S.LINKED
        response = post(scene, "agent", duplicate, "unlink", {"reason": "不是同一件事"})
        assert response.status_code == 302 and fresh(duplicate).status == S.REGISTERED

    def test_link_errors(self, scene):
        order = register(scene)
        response = post(scene, "agent", order, "link", {"master": "GD20990101099999"})
        assert response.status_code == 400 and field_error(response, "No order has this number.")
        response = post(scene, "agent", order, "link", {"master": order.number})
        assert response.status_code == 400
        assert field_error(response, "An order cannot be linked to itself.")
        assert fresh(order).status == S.REGISTERED

    def test_accept_and_send_back_a_reply(self, scene):
        order = replied(scene)
        response = post(scene, "agent", order, "send_back", {"reason": ""})
        assert response.status_code == 400 and fresh(order).status == S.REPLIED
        response = post(scene, "agent", order, "send_back", {"reason": "答复不完整"})
        assert response.status_code == 302 and fresh(order).status == S.HANDLING
        orders.order_reply(order=fresh(order), actor=scene.lead, reply="补充答复")
        response = post(scene, "agent", order, "accept_reply")
        assert response.status_code == 302 and fresh(order).status == S.CALLBACK
        # a unit cannot accept its own reply
        assert post(scene, "lead", order, "accept_reply").status_code == 409

    def test_the_agent_records_an_unreachable_caller(self, scene):
        order = at_callback(scene)
        page = as_role(scene, "agent").get(page_url(order)).content.decode()
        assert 'value="unreachable"' in page
        response = post(scene, "agent", order, "callback", {"result": "unreachable"})
        assert response.status_code == 302
        order = fresh(order)
        assert order.status == S.CLOSED and order.satisfaction == Satisfaction.UNREACHABLE

    def test_the_caller_gives_their_verdict_online(self, scene):
        order = at_callback(scene)
        page = as_role(scene, "caller").get(page_url(order)).content.decode()
        assert 'value="satisfied"' in page and 'value="unreachable"' not in page
        response = post(scene, "caller", order, "callback", {"result": "unreachable"})
        assert response.status_code == 400 and fresh(order).status == S.CALLBACK
        response = post(scene, "caller", order, "callback", {"result": ""})
        assert response.status_code == 400
        response = post(scene, "caller", order, "callback", {"result": "unsatisfied"})
        assert response.status_code == 302
        order = fresh(order)
        assert order.status == S.HANDLING and order.reopen_count == 1
        # another citizen cannot even see it
        assert post(scene, "citizen", order, "callback", {"result": "satisfied"}).status_code == 404

    def test_decide_an_extension_request(self, scene):
        order = handling(scene)
        request = orders.order_request(
            order=order, actor=scene.lead, kind=RequestKind.EXTENSION, amount=3, reason="需勘查"
        )
        due = fresh(order).reply_clock.due_at
        response = post(scene, "agent", order, "decide_request", {
            "request": request.pk, "decision": "reject", "note": "",
        })  # fmt: skip
        assert response.status_code == 400
        assert field_error(response, "Say why the request is rejected.")
        response = post(scene, "agent", order, "decide_request", {
            "request": request.pk, "decision": "approve",
        })  # fmt: skip
        assert response.status_code == 302
        assert OrderRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED
        assert fresh(order).reply_clock.due_at > due
        # the same decision again, from a stale page
        response = post(scene, "agent", order, "decide_request", {
            "request": request.pk, "decision": "approve",
        })  # fmt: skip
        assert response.status_code == 409
        assert "This request has been decided already." in response.content.decode()

    def test_an_approved_return_takes_the_order_back(self, scene):
        order = dispatched(scene)
        request = orders.order_request(
            order=order, actor=scene.lead, kind=RequestKind.RETURN, reason="不属于本单位"
        )
        response = post(scene, "agent", order, "decide_request", {
            "request": request.pk, "decision": "approve",
        })  # fmt: skip
        assert response.status_code == 302
        order = fresh(order)
        assert order.status == S.REGISTERED and order.lead_unit is None


class TestUnitSteps:
    def test_sign_and_a_double_sign(self, scene):
        order = dispatched(scene)
        response = post(scene, "lead", order, "sign")
        assert response.status_code == 302 and fresh(order).status == S.HANDLING
        response = post(scene, "lead", order, "sign")
        assert response.status_code == 409
        page = response.content.decode()
        assert "The order has changed" in page and "Being handled" in page
        assert page_url(order) in page

    def test_only_the_lead_unit_signs(self, scene):
        order = dispatched(scene)
        assert post(scene, "co", order, "sign").status_code == 403
        assert post(scene, "other", order, "sign").status_code == 404
        assert post(scene, "caller", order, "sign").status_code == 403
        response = client_for().post(act_url(order, "sign"))
        assert response.status_code == 302 and response.url.startswith(LOGIN)
        assert fresh(order).status == S.DISPATCHED

    def test_a_step_is_posted_never_got(self, scene):
        order = dispatched(scene)
        assert as_role(scene, "lead").get(act_url(order, "sign")).status_code == 405

    def test_an_unknown_step_is_not_found(self, scene):
        order = dispatched(scene)
        assert post(scene, "lead", order, "explode").status_code == 404

    def test_redispatch_to_a_sub_unit(self, scene):
        order = dispatched(scene)
        response = post(scene, "lead", order, "redispatch", {"unit": scene.other_unit.pk})
        assert response.status_code == 400 and fresh(order).lead_unit == scene.lead_unit
        response = post(scene, "lead", order, "redispatch", {
            "unit": scene.sub_unit.pk, "note": "请中队处理",
        })  # fmt: skip
        assert response.status_code == 302
        assert fresh(order).lead_unit == scene.sub_unit
        # the sub-unit now signs for it
        assert post(scene, "sub", order, "sign").status_code == 302

    def test_the_co_handlers_opinion(self, scene):
        order = dispatched(scene)
        response = post(scene, "co", order, "co_opinion", {"opinion": ""})
        assert response.status_code == 400
        response = post(scene, "co", order, "co_opinion", {"opinion": "建议联系供电部门"})
        assert response.status_code == 302
        assert order.assignments.get(unit=scene.co_unit).opinion == "建议联系供电部门"
        page = as_role(scene, "lead").get(page_url(order)).content.decode()
        assert "建议联系供电部门" in page

    def test_reply(self, scene):
        order = handling(scene)
        response = post(scene, "lead", order, "reply", {"reply": "  "})
        assert response.status_code == 400 and fresh(order).status == S.HANDLING
        response = post(scene, "lead", order, "reply", {"reply": "已修复"})
        assert response.status_code == 302
        order = fresh(order)
        assert order.status == S.REPLIED and order.reply == "已修复"

    def test_request_a_return_once(self, scene):
        order = dispatched(scene)
        response = post(scene, "lead", order, "request_return", {"reason": ""})
        assert response.status_code == 400 and not order.requests.exists()
        response = post(scene, "lead", order, "request_return", {"reason": "不属于本单位职责"})
        assert response.status_code == 302
        assert order.requests.get().kind == RequestKind.RETURN
        response = post(scene, "lead", order, "request_return", {"reason": "再次申请"})
        assert response.status_code == 409
        assert "A request of this kind is already waiting." in response.content.decode()
        assert order.requests.count() == 1

    def test_request_an_extension(self, scene):
        order = handling(scene)
        response = post(scene, "lead", order, "request_extension", {
            "amount": "0", "reason": "需要勘查",
        })  # fmt: skip
        assert response.status_code == 400
        response = post(scene, "lead", order, "request_extension", {
            "amount": "99", "reason": "需要勘查",
        })  # fmt: skip
        assert response.status_code == 400 and field_error(response, "Between 1 and 15")
        response = post(scene, "lead", order, "request_extension", {
            "amount": "3", "reason": "需要勘查",
        })  # fmt: skip
        assert response.status_code == 302
        request = order.requests.get()
        assert request.kind == RequestKind.EXTENSION and request.amount == 3


class TestSupervisorSteps:
    def test_supervise_and_answer(self, scene):
        order = handling(scene)
        response = post(scene, "supervisor", order, "supervise", {"instruction": ""})
        assert response.status_code == 400
        response = post(scene, "supervisor", order, "supervise", {"instruction": "请加快"})
        assert response.status_code == 302
        supervision = Supervision.objects.get(order=order)
        assert supervision.unit == scene.lead_unit
        assert post(scene, "agent", order, "supervise", {"instruction": "x"}).status_code == 403
        # the unit answers it
        response = post(scene, "lead", order, "answer_supervision", {
            "supervision": supervision.pk, "answer": "",
        })  # fmt: skip
        assert response.status_code == 400
        response = post(scene, "lead", order, "answer_supervision", {
            "supervision": supervision.pk, "answer": "今日内完成",
        })  # fmt: skip
        assert response.status_code == 302
        assert Supervision.objects.get(pk=supervision.pk).answered_at is not None
        response = post(scene, "lead", order, "answer_supervision", {
            "supervision": supervision.pk, "answer": "再答一次",
        })  # fmt: skip
        assert response.status_code == 409

    def test_a_card_for_an_overdue_order(self, scene):
        order = dispatched(scene)
        response = post(scene, "supervisor", order, "card", {"reason": "超时未签收"})
        assert response.status_code == 400
        assert field_error(response, "No deadline of this order is overdue.")
        overdue(order)
        page = as_role(scene, "supervisor").get(page_url(order)).content.decode()
        assert 'id="action-card"' in page
        response = post(scene, "supervisor", order, "card", {"reason": "超时未签收"})
        assert response.status_code == 302
        card = Card.objects.get(order=order)
        assert card.unit == scene.lead_unit
        page = as_role(scene, "lead").get(page_url(order)).content.decode()
        assert 'id="cards"' in page and "Yellow card" in page


# --- the order list ---------------------------------------------------------------------------


def numbers(response) -> set[str]:
    return set(re.findall(r">(GD\d+)</a></th>", response.content.decode()))


class TestOrderList:
    URL = reverse("hotline:orders")

    def test_each_role_sees_the_orders_it_may(self, scene):
        mine = dispatched(scene)
        waiting = register(scene, title="待派")
        elsewhere = orders.order_register(
            actor=scene.agent,
            order_channel="phone",
            data={"order_type": "help", "content": "别的事", "caller_phone": "13900139000"},
        )
        expected = {
            "agent": {mine, waiting, elsewhere},
            "supervisor": {mine, waiting, elsewhere},
            "lead": {mine},
            "co": {mine},
            "other": set(),
        }
        for role, visible in expected.items():
            response = as_role(scene, role).get(self.URL)
            assert response.status_code == 200, role
            assert numbers(response) == {o.number for o in visible}, role
        # a citizen (the caller too) is sent to their own orders
        for role in ("caller", "citizen"):
            response = as_role(scene, role).get(self.URL, {"status": "registered"})
            assert response.status_code == 302, role
            assert response.url == reverse("hotline:mine"), role
        response = client_for().get(self.URL)
        assert response.status_code == 302 and response.url.startswith(LOGIN)

    def test_every_row_shows_its_light(self, scene):
        order = dispatched(scene)
        overdue(order)
        page = as_role(scene, "agent").get(self.URL).content.decode()
        assert "light-red" in page and "Overdue" in page

    def test_filters(self, scene):
        d = dispatched(scene)
        r = register(scene, title="咨询公积金", order_type="consultation", urgency="urgent")
        other_top = branch(unit=scene.other_unit, names=("社会保障", "医疗", "医保报销"))
        c = orders.order_register(
            actor=scene.agent,
            order_channel="phone",
            data={
                "order_type": "help", "content": "医保报销问题", "caller_phone": "13900139000",
                "category": other_top[-1],
            },
        )  # fmt: skip
        red = dispatched(scene, title="超时")
        overdue(red)
        h = handling(scene, title="办理中")  # five working days to reply: green
        client = as_role(scene, "agent")

        def found(**query):
            response = client.get(self.URL, query)
            assert response.status_code == 200, response.content.decode()[:2000]
            return numbers(response)

        assert found(status="dispatched") == {d.number, red.number}
        assert found(order_type="consultation") == {r.number}
        assert found(channel="phone") == {c.number}
        assert found(urgency="urgent") == {r.number}
        assert found(lead_unit=scene.lead_unit.pk) == {d.number, red.number, h.number}
        assert found(category=scene.top.pk) == {d.number, r.number, red.number, h.number}
        assert found(category=other_top[0].pk) == {c.number}
        assert found(light="red") == {red.number}
        assert found(light="green") == {h.number}
        assert found(light="yellow") == {d.number}  # one working day to sign
        assert found(light="red", status="handling") == set()
        assert found(q=c.number) == {c.number}
        assert found(q="公积金") == {r.number}
        assert found(q="13900139000") == {c.number}  # the center finds by phone
        today = timezone.localdate()
        assert len(found(received_from=today.isoformat(), received_to=today.isoformat())) == 5
        assert found(received_to=(today - dt.timedelta(days=1)).isoformat()) == set()
        # a unit cannot look callers up by phone
        response = as_role(scene, "supervisor").get(self.URL, {"q": "13900139000"})
        assert numbers(response) == set()

    def test_bad_filters_are_a_400_on_the_field(self, scene):
        client = as_role(scene, "agent")
        response = client.get(self.URL, {"status": "nonsense"})
        assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
        response = client.get(
            self.URL, {"received_from": "2026-02-10", "received_to": "2026-02-01"}
        )
        assert response.status_code == 400
        assert "The end comes before the start." in response.content.decode()
        assert client.get(self.URL, {"received_from": "not a date"}).status_code == 400

    def test_pages(self, scene, monkeypatch):
        from yimen.hotline import views_orders

        for n in range(3):
            register(scene, title=f"第{n}单")
        monkeypatch.setattr(views_orders, "PAGE_SIZE", 2)
        client = as_role(scene, "agent")
        assert len(numbers(client.get(self.URL))) == 2
        assert len(numbers(client.get(self.URL, {"page": 2, "status": "registered"}))) == 1

    def test_queries_do_not_grow_with_rows(self, scene, django_assert_max_num_queries):
        client = as_role(scene, "agent")
        client.get(self.URL)  # warm the session and the calendar cache
        counts = []
        for batch in (1, 6):
            for n in range(batch):
                order = dispatched(scene, title=f"单{len(counts)}-{n}")
                orders.order_sign(order=order, actor=scene.lead)
            with django_assert_max_num_queries(20) as captured:
                assert client.get(self.URL).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]

    def test_queries_do_not_grow_with_a_light_filter(self, scene, django_assert_max_num_queries):
        client = as_role(scene, "agent")
        client.get(self.URL, {"light": "green"})
        counts = []
        for batch in (1, 6):
            for n in range(batch):
                dispatched(scene, title=f"单{len(counts)}-{n}")
            with django_assert_max_num_queries(22) as captured:
                assert client.get(self.URL, {"light": "green"}).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


def test_the_lists_judge_each_order_by_the_clock_the_order_page_shows(scene):
    """The SQL that filters and sorts by the light picks the clock selectors.governing_clock
    picks, in every state (re-dispatched after signing and sent back too)."""
    from yimen.hotline import selectors
    from yimen.hotline.forms_orders import governing_clock_ref

    register(scene)
    dispatched(scene)
    handling_one = handling(scene)
    passed_down = handling(scene)
    orders.order_redispatch(order=passed_down, actor=scene.lead, unit=scene.sub_unit)
    replied(scene)
    sent_back = replied(scene)
    orders.order_send_back(order=sent_back, actor=scene.agent, reason="不完整")
    closed = at_callback(scene)
    orders.order_callback(order=closed, actor=scene.agent, result="satisfied")
    rows = selectors.orders(scene.agent).annotate(clock_ref=governing_clock_ref())
    assert {o.status for o in rows} >= {S.REGISTERED, S.DISPATCHED, S.HANDLING, S.CLOSED}
    for order in rows:
        clock = selectors.governing_clock(order)
        assert order.clock_ref == (clock.pk if clock else None), order.status
    # the order passed down after signing is dispatched again and judged by the sub-unit's
    # fresh sign clock (one working day: due soon), not by the reply clock (five: on time)
    passed_down = fresh(passed_down)
    assert passed_down.status == S.DISPATCHED
    assert selectors.governing_clock(passed_down) == passed_down.sign_clock
    assert passed_down.sign_clock.status == Clock.Status.RUNNING
    assert selectors.light(passed_down).light == "yellow"
    assert selectors.light(fresh(handling_one)).light == "green"
    client = as_role(scene, "agent")
    assert passed_down.number in numbers(client.get(TestOrderList.URL, {"light": "yellow"}))
    assert passed_down.number not in numbers(client.get(TestOrderList.URL, {"light": "green"}))


# --- the center's queues ----------------------------------------------------------------------


class TestCenter:
    URL = reverse("hotline:center")

    def test_only_agents(self, scene):
        assert as_role(scene, "agent").get(self.URL).status_code == 200
        for role in ("lead", "co", "other", "supervisor", "caller", "citizen"):
            assert as_role(scene, role).get(self.URL).status_code == 403, role
        response = client_for().get(self.URL)
        assert response.status_code == 302 and response.url.startswith(LOGIN)

    def test_the_queues(self, scene):
        new = register(scene)
        review = replied(scene, title="待审")
        call = at_callback(scene, title="待回访")
        asked = dispatched(scene, title="待批")
        orders.order_request(
            order=asked, actor=scene.lead, kind=RequestKind.EXTENSION, amount=2, reason="需时间"
        )
        page = as_role(scene, "agent").get(self.URL).content.decode()

        def queue(key):
            start = page.index(f'id="queue-{key}"')
            end = page.find("</section>", start)
            return set(re.findall(r">(GD\d+)</a></th>", page[start:end]))

        assert queue("registered") == {new.number}
        assert queue("replied") == {review.number}
        assert queue("callback") == {call.number}
        assert queue("requests") == {asked.number}
        assert "light-" in page and "Extension +2" in page

    def test_queries_do_not_grow(self, scene, django_assert_max_num_queries):
        client = as_role(scene, "agent")
        client.get(self.URL)
        counts = []
        for batch in (1, 4):
            for n in range(batch):
                register(scene, title=f"新{n}")
                replied(scene, title=f"审{n}")
                at_callback(scene, title=f"访{n}")
                asked = dispatched(scene, title=f"批{n}")
                orders.order_request(
                    order=asked, actor=scene.lead, kind=RequestKind.RETURN, reason="非本单位"
                )
            with django_assert_max_num_queries(50) as captured:
                assert client.get(self.URL).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- a unit's inbox ---------------------------------------------------------------------------


class TestUnitInbox:
    URL = reverse("hotline:unit")

    def test_only_handlers(self, scene):
        for role in ("lead", "co", "other"):
            assert as_role(scene, role).get(self.URL).status_code == 200, role
        for role in ("agent", "supervisor", "caller", "citizen"):
            assert as_role(scene, role).get(self.URL).status_code == 403, role
        response = client_for().get(self.URL)
        assert response.status_code == 302 and response.url.startswith(LOGIN)

    def test_the_queues_and_the_notices(self, scene):
        to_sign = dispatched(scene)
        being_handled = handling(scene, title="办理中")
        orders.order_supervise(order=being_handled, actor=scene.supervisor, instruction="加快")
        lead_page = as_role(scene, "lead").get(self.URL).content.decode()

        def queue(page, key):
            start = page.index(f'id="queue-{key}"')
            end = page.find("</section>", start)
            return set(re.findall(r">(GD\d+)</a></th>", page[start:end]))

        assert queue(lead_page, "to_sign") == {to_sign.number}
        assert queue(lead_page, "handling") == {being_handled.number}
        assert queue(lead_page, "supervised") == {being_handled.number}
        assert queue(lead_page, "co_handling") == set()
        assert lead_page.count("notice-unread") == 3  # two dispatches and the supervision
        assert "Supervision order" in lead_page
        co_page = as_role(scene, "co").get(self.URL).content.decode()
        assert queue(co_page, "co_handling") == {to_sign.number, being_handled.number}
        assert queue(co_page, "to_sign") == set()
        other_page = as_role(scene, "other").get(self.URL).content.decode()
        assert not re.search(r"GD\d{13}", other_page)  # no order (a random token may hold "GD")
        # opening an order reads its notices; the inbox shows them read
        as_role(scene, "lead").get(page_url(to_sign))
        assert as_role(scene, "lead").get(self.URL).content.decode().count("notice-unread") == 2

    def test_mark_all_notices_read(self, scene):
        dispatched(scene)
        response = as_role(scene, "lead").post(reverse("hotline:notices_read"))
        assert response.status_code == 302 and response.url == self.URL
        assert not Notice.objects.filter(unit=scene.lead_unit, read_at__isnull=True).exists()
        assert Notice.objects.filter(unit=scene.co_unit, read_at__isnull=True).exists()
        assert as_role(scene, "agent").post(reverse("hotline:notices_read")).status_code == 403

    def test_queries_do_not_grow(self, scene, django_assert_max_num_queries):
        client = as_role(scene, "lead")
        client.get(self.URL)
        counts = []
        for batch in (1, 4):
            for n in range(batch):
                dispatched(scene, title=f"签{n}")
                order = handling(scene, title=f"办{n}")
                orders.order_supervise(order=order, actor=scene.supervisor, instruction="加快")
                co_order = register(scene, title=f"协{n}")
                orders.order_dispatch(
                    order=co_order, actor=scene.agent, lead=scene.co_unit,
                    co_units=[scene.lead_unit],
                )  # fmt: skip
            with django_assert_max_num_queries(50) as captured:
                assert client.get(self.URL).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


def test_a_system_admin_reads_every_order_but_takes_no_step(scene, sysadmin):
    order = dispatched(scene)
    page = client_for(sysadmin).get(page_url(order)).content.decode()
    assert 'id="history"' in page and MASKED in page
    assert "Nothing for you to do on this order now." in page
    assert numbers(client_for(sysadmin).get(reverse("hotline:orders"))) == {order.number}
    assert client_for(sysadmin).get(reverse("hotline:center")).status_code == 403
    assert post_as(sysadmin, order, "sign").status_code == 403


def post_as(user, order, action, data=None):
    return client_for(user).post(act_url(order, action), data or {})


def test_the_pages_render_in_chinese_by_default(scene):
    order = handling(scene)
    for user, url in (
        (scene.agent, page_url(order)),
        (scene.lead, page_url(order)),
        (scene.caller, page_url(order)),
        (scene.agent, reverse("hotline:orders")),
        (scene.agent, reverse("hotline:center")),
        (scene.lead, reverse("hotline:unit")),
    ):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in response.content.decode(), url


# --- the title, the search, the bounds ----------------------------------------------------------

NUMBERED_TITLE = f"回电{PHONE}路灯不亮"


class TestTheTitleIsMaskedLikeTheContent:
    def test_on_the_order_page(self, scene):
        # given an order whose title carries the caller's number (the content's beginning)
        order = dispatched(scene, title=NUMBERED_TITLE)
        # then the center and the caller read it as written, everyone else masked
        for role in ("agent", "caller"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert f'id="title">{NUMBERED_TITLE}<' in page, role
        for role in ("lead", "co", "supervisor"):
            page = as_role(scene, role).get(page_url(order)).content.decode()
            assert PHONE not in page, role
            assert f'id="title">回电{MASKED}路灯不亮<' in page, role

    def test_in_every_list_row(self, scene):
        order = dispatched(scene, title=NUMBERED_TITLE)
        to_sign = reverse("hotline:unit")
        for role, url in (("lead", to_sign), ("lead", TestOrderList.URL),
                          ("supervisor", TestOrderList.URL)):  # fmt: skip
            page = as_role(scene, role).get(url).content.decode()
            assert order.number in page and PHONE not in page, (role, url)
            assert f"回电{MASKED}路灯不亮" in page, (role, url)
        page = as_role(scene, "agent").get(TestOrderList.URL).content.decode()
        assert NUMBERED_TITLE in page

    def test_in_the_linked_duplicates(self, scene):
        master = dispatched(scene)
        duplicate = register(scene, title=NUMBERED_TITLE)
        orders.order_link(order=duplicate, actor=scene.agent, master=master)
        page = as_role(scene, "lead").get(page_url(master)).content.decode()
        assert duplicate.number in page and PHONE not in page
        assert f"回电{MASKED}路灯不亮" in page


class TestSearchingDigits:
    URL = reverse("hotline:orders")

    @pytest.mark.parametrize("query", [PHONE, "1380013", "138-0013-8000", "440602199001011234"])
    def test_a_unit_cannot_confirm_masked_digits(self, scene, query):
        # given an order whose title and content carry a phone and an ID number, which the
        # units read masked
        order = dispatched(scene, title=NUMBERED_TITLE,
                           content=f"回电 {PHONE}，身份证 440602199001011234")  # fmt: skip
        # when a unit or a supervisor searches those digits, nothing is found
        for role in ("lead", "supervisor"):
            response = as_role(scene, role).get(self.URL, {"q": query})
            assert response.status_code == 200
            assert numbers(response) == set(), (role, query)
        # while the center, which reads them, finds the order
        response = as_role(scene, "agent").get(self.URL, {"q": query.replace("-", "")})
        assert numbers(response) == {order.number}

    def test_a_unit_still_finds_words_short_numbers_and_order_numbers(self, scene):
        order = dispatched(scene, title=NUMBERED_TITLE, content="3号路灯不亮，已坏 12 天")
        client = as_role(scene, "lead")
        for query in ("路灯", "12 天", order.number, order.number[-6:]):
            assert numbers(client.get(self.URL, {"q": query})) == {order.number}, query


class TestListBounds:
    URL = reverse("hotline:orders")

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"received_to": "9999-12-31"}, "received_to"),
            ({"received_from": "0001-01-01"}, "received_from"),
            ({"received_from": "1999-12-31"}, "received_from"),
            ({"received_to": "2100-01-01"}, "received_to"),
        ],
    )
    def test_a_date_out_of_range_is_a_400_on_its_field(self, scene, params, field):
        response = as_role(scene, "agent").get(self.URL, params)
        assert response.status_code == 400
        page = response.content.decode()
        assert "Choose a year from 2000 to 2099." in page
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page), page

    def test_the_years_in_range_are_fine(self, scene):
        order = register(scene)
        response = as_role(scene, "agent").get(
            self.URL, {"received_from": "2000-01-01", "received_to": "2099-12-31"}
        )
        assert response.status_code == 200 and numbers(response) == {order.number}

    def test_the_light_filter_judges_a_bounded_number_of_clocks(self, scene, monkeypatch):
        from yimen.hotline import forms_orders

        # given three orders being handled, whose reply clocks run green
        found = {handling(scene, title=f"单{n}").number for n in range(3)}
        client = as_role(scene, "agent")
        assert numbers(client.get(self.URL, {"light": "green"})) == found
        # when the filter may judge two clocks only, it lists two orders (and no more)
        monkeypatch.setattr(forms_orders, "LIGHT_SCAN_LIMIT", 2)
        assert len(numbers(client.get(self.URL, {"light": "green"}))) == 2


class TestLongTexts:
    def test_a_reply_and_an_answer_take_as_much_as_the_api(self, scene):
        # given a reply of 3000 characters (the API's and the console's limit is 4000)
        order = handling(scene)
        long_text = "已更换灯具，恢复照明。" * 300
        assert 2000 < len(long_text) <= orders.MAX_CONTENT
        response = post(scene, "lead", order, "reply", {"reply": long_text})
        assert response.status_code == 302, response.content.decode()[:500]
        assert fresh(order).reply == long_text
        # and an instant answer as long
        other = register(scene)
        response = post(scene, "agent", other, "answer", {"answer": long_text})
        assert response.status_code == 302
        too_long = "字" * (orders.MAX_CONTENT + 1)
        response = post(scene, "agent", register(scene), "answer", {"answer": too_long})
        assert response.status_code == 400


class TestQueueLinks:
    def test_a_unit_queue_links_to_all_its_orders(self, scene, monkeypatch):
        from yimen.hotline import views_orders

        # given three orders for the lead unit to sign, and a queue showing two
        waiting = {dispatched(scene, title=f"签{n}").number for n in range(3)}
        handling(scene, title="办理中")
        monkeypatch.setattr(views_orders, "QUEUE_ROWS", 2)
        page = as_role(scene, "lead").get(reverse("hotline:unit")).content.decode()
        start = page.index('id="queue-to_sign"')
        section = page[start : page.find("</section>", start)]
        assert "Showing 2 of 3." in section
        link = re.search(r'href="([^"]+)">See them all in the order list', section)
        assert link, section
        # when the unit follows the link, the list shows exactly that queue
        url = link.group(1).replace("&amp;", "&")
        response = as_role(scene, "lead").get(url)
        assert response.status_code == 200 and numbers(response) == waiting

    def test_the_center_queue_of_requests_links_too(self, scene, monkeypatch):
        from yimen.hotline import views_orders

        asked = set()
        for n in range(2):
            order = dispatched(scene, title=f"退{n}")
            orders.order_request(order=order, actor=scene.lead, kind="return", reason="非本单位")
            asked.add(order.number)
        monkeypatch.setattr(views_orders, "QUEUE_ROWS", 1)
        page = as_role(scene, "agent").get(reverse("hotline:center")).content.decode()
        start = page.index('id="queue-requests"')
        section = page[start : page.find("</section>", start)]
        url = re.search(r'href="([^"]+)">See them all', section).group(1)
        assert numbers(as_role(scene, "agent").get(url.replace("&amp;", "&"))) == asked

    def test_a_queue_someone_does_not_have_is_a_400(self, scene):
        response = as_role(scene, "lead").get(TestOrderList.URL, {"queue": "registered"})
        assert response.status_code == 400
        response = as_role(scene, "supervisor").get(TestOrderList.URL, {"queue": "to_sign"})
        assert response.status_code == 200  # no such filter for a supervisor: ignored
