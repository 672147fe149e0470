"""The work-order API (/api/v1/hotline/orders/…): each role (agent, lead-unit handler,
other-unit handler, co-handler, supervisor, the caller, another citizen, anonymous) on each
endpoint; registering (agents any channel, citizens on the web, one order per
Idempotency-Key); the list's filters, masking and query count; the detail's staff-only
parts and offered steps; every step through its route with its 400/403/404/409 answers;
duplicates, dispatch suggestions, the units' notices; and the published schema."""

from __future__ import annotations

import datetime as dt

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.org.factories import DepartmentFactory
from yimen.common.models import Clock
from yimen.hotline import orders, workflow
from yimen.hotline.api import orders as api
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.choices import RequestKind
from yimen.hotline.models import Notice, OrderRequest, WorkOrder

from .factories import Frozen, OrderScene, article, at

pytestmark = pytest.mark.django_db

BASE = "/api/v1/hotline"
ORDERS = f"{BASE}/orders"
# The role → the scene's user.
ROLES = {
    "agent": "agent",
    "lead": "handler",
    "stranger": "stranger",
    "co": "co_handler",
    "supervisor": "supervisor",
    "caller": "citizen",
    "citizen": "other_citizen",
    "anonymous": None,
}


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:  # a Monday; November 2026 has no holiday
        yield frozen


@pytest.fixture
def scene(time):
    return OrderScene()


def user_of(scene, role: str):
    name = ROLES[role]
    return getattr(scene, name) if name else None


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def as_role(scene, role: str) -> APIClient:
    return client_for(user_of(scene, role))


def act(user, order, action: str, data: dict | None = None):
    return client_for(user).post(f"{ORDERS}/{order.number}/{action}/", data or {}, format="json")


def ok(response, code: int = 200) -> dict:
    assert response.status_code == code, (response.status_code, response.content)
    return response.json()


def errors(response, code: int = 400) -> dict:
    assert response.status_code == code, (response.status_code, response.content)
    return response.json()


def numbers(response) -> set[str]:
    return {row["number"] for row in ok(response)["results"]}


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def filed(scene, **data) -> WorkOrder:
    """An order the caller filed on the web, dispatched to the lead unit with the co-unit."""
    return scene.order_at(S.DISPATCHED, caller=scene.citizen, **data)


def registration(**data) -> dict:
    values = {
        "order_type": "complaint",
        "content": "祖庙路 8 号门前井盖缺失，晚上很危险。",
        "address": "祖庙路 8 号",
        "caller_phone": "13911112222",
    }
    values.update(data)
    return values


# --- the list --------------------------------------------------------------------------------


class TestList:
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role_sees_its_orders(self, scene, role):
        # given an order the caller filed, dispatched; one registered by the agent; one
        # dispatched to an unrelated unit
        mine = filed(scene)
        waiting = scene.register()
        elsewhere = scene.register(caller_phone="13500135000")
        orders.order_dispatch(order=elsewhere, actor=scene.agent, lead=scene.other_unit)
        # when each role lists the orders
        response = as_role(scene, role).get(f"{ORDERS}/")
        # then each sees what permissions.visible_orders gives them
        if role == "anonymous":
            assert response.status_code == 403
            return
        everyone = {mine.number, waiting.number, elsewhere.number}
        expected = {
            "agent": everyone,
            "lead": {mine.number},
            "stranger": {elsewhere.number},
            "co": {mine.number},
            "supervisor": everyone,
            "caller": {mine.number},
            "citizen": set(),
        }[role]
        assert numbers(response) == expected

    def test_a_supervisor_limited_to_a_district_sees_its_orders(self, scene):
        mine = filed(scene)
        ours = client_for(scene.district_supervisor)
        assert numbers(ours.get(f"{ORDERS}/")) == {mine.number}
        assert ok(ours.get(f"{ORDERS}/{mine.number}/"))["steps"][0]["action"] == "supervise"
        theirs = client_for(scene.outside_supervisor)
        assert numbers(theirs.get(f"{ORDERS}/")) == set()
        assert theirs.get(f"{ORDERS}/{mine.number}/").status_code == 404

    def test_a_row_has_its_light_due_date_and_labels(self, scene):
        mine = filed(scene)
        waiting = scene.register()
        rows = {r["number"]: r for r in ok(as_role(scene, "agent").get(f"{ORDERS}/"))["results"]}
        row = rows[mine.number]
        # a normal complaint has 1 working day to be signed for: yellow from the start
        assert row["light"] == "yellow"
        assert row["due_at"].startswith("2026-11-03T23:59")
        assert (row["status"], row["status_label"]) == ("dispatched", "Awaiting signature")
        assert (row["channel"], row["channel_label"]) == ("web", "Website")
        assert row["lead_unit"] == {"id": scene.unit.pk, "name": "禅城区城管执法局"}
        assert row["category"]["code"] == scene.category.code
        assert row["district"]["code"] == scene.district.code
        assert rows[waiting.number]["light"] is None and rows[waiting.number]["due_at"] is None

    def test_the_phone_is_masked_and_a_confidential_caller_hidden(self, scene):
        # given an order the caller filed, and a confidential report taken on the phone
        mine = filed(scene)
        secret = scene.order_at(
            S.DISPATCHED, confidential=True, caller_name="王五", caller_phone="13512345678"
        )

        def caller(role, order):
            client = as_role(scene, role)
            row = next(
                r for r in ok(client.get(f"{ORDERS}/"))["results"] if r["number"] == order.number
            )
            return row["caller_name"], row["caller_phone"]

        # then the center and the caller see the number; the others see it masked
        assert caller("agent", mine) == ("陈先生", "13700137000")
        assert caller("caller", mine) == ("陈先生", "13700137000")
        assert caller("lead", mine) == ("陈先生", "137****7000")
        assert caller("co", mine) == ("陈先生", "137****7000")
        assert caller("supervisor", mine) == ("陈先生", "137****7000")
        # and the units (and supervisors) learn nothing of a confidential order's caller
        assert caller("agent", secret) == ("王五", "13512345678")
        assert caller("lead", secret) == ("", "")
        assert caller("supervisor", secret) == ("", "")

    def test_filters(self, scene, time):
        agent = as_role(scene, "agent")
        yellow = filed(scene)
        green = scene.order_at(S.DISPATCHED, urgency="urgent", order_type="help")
        closed = scene.order_at(S.CLOSED, content="垃圾桶满了没人清理，臭气熏天。")
        waiting = scene.register(caller_phone="13311112222", title="噪音扰民")
        time.forward(hours=1)
        red = scene.order_at(S.DISPATCHED, order_type="report")
        Clock.objects.filter(pk=red.sign_clock_id).update(
            started_at=at(2026, 10, 1), due_at=at(2026, 10, 2)
        )

        def listed(**query) -> set[str]:
            return numbers(agent.get(f"{ORDERS}/", query))

        every = {yellow.number, green.number, closed.number, waiting.number, red.number}
        assert listed() == every
        assert listed(light="green") == {green.number}
        assert listed(light="yellow") == {yellow.number}
        assert listed(light="red") == {red.number}
        assert listed(light="stopped") == {closed.number}
        assert listed(status="registered") == {waiting.number}
        assert listed(order_type="report") == {red.number}
        assert listed(urgency="urgent") == {green.number}
        assert listed(channel="web") == {yellow.number}
        assert listed(lead_unit=scene.unit.pk) == every - {waiting.number}
        top = scene.category.parent.parent
        assert listed(category=scene.category.code) == every
        assert listed(category=top.code) == every
        assert listed(category="nothing") == set()
        assert listed(received_after="2026-11-02T10:30:00+08:00") == {red.number}
        assert listed(received_before="2026-11-02T10:30:00+08:00") == every - {red.number}
        assert listed(q=waiting.number) == {waiting.number}
        assert listed(q=waiting.number.lower()) == {waiting.number}
        assert listed(q="噪音") == {waiting.number}
        assert listed(q="臭气") == {closed.number}
        assert listed(q="13311112222") == {waiting.number}  # the center looks up a phone
        # a unit cannot find an order by the caller's phone
        lead = as_role(scene, "lead")
        assert numbers(lead.get(f"{ORDERS}/", {"q": "13700137000"})) == set()

    @pytest.mark.parametrize(
        "query",
        [
            {"status": "lost"},
            {"light": "purple"},
            {"order_type": "rumour"},
            {"channel": "pigeon"},
            {"urgency": "now"},
            {"lead_unit": "x"},
            {"lead_unit": 999999},
            {"received_after": "yesterday"},
        ],
    )
    def test_a_bad_filter_is_named(self, scene, query):
        body = errors(as_role(scene, "agent").get(f"{ORDERS}/", query))
        assert set(body) == set(query)

    # The session, the user and their memberships; the count; the page, its categories,
    # units and districts joined; each kind of clock's pauses and extensions (6).
    MAX_LIST_QUERIES = 12

    @pytest.mark.parametrize("role", ["agent", "lead"])
    def test_queries_do_not_grow_with_rows(self, scene, role, django_assert_max_num_queries):
        client = as_role(scene, role)
        counts = []
        for rows in (1, 4):
            for _ in range(rows):
                scene.order_at(S.HANDLING)
                scene.order_at(S.CLOSED)
                filed(scene, confidential=True)
            client.get(f"{ORDERS}/")  # warm the calendar cache
            for query in ({}, {"light": "yellow"}):
                with django_assert_max_num_queries(self.MAX_LIST_QUERIES + 7) as captured:
                    response = client.get(f"{ORDERS}/", query)
                assert response.json()["count"] >= rows
                counts.append(len(captured.captured_queries))
        # the plain list and the light-filtered one each stay the same
        assert counts[0] == counts[2] <= self.MAX_LIST_QUERIES
        assert counts[1] == counts[3]


# --- registering -----------------------------------------------------------------------------


class TestRegister:
    @pytest.mark.parametrize("role", ROLES)
    def test_who_registers(self, scene, role):
        response = as_role(scene, role).post(f"{ORDERS}/", registration(), format="json")
        if role not in ("agent", "caller", "citizen"):
            assert response.status_code == 403
            assert WorkOrder.objects.count() == 0
            return
        body = ok(response, 201)
        order = WorkOrder.objects.get(number=body["number"])
        assert body["status"] == "registered"
        assert body["steps"] == (
            [{"action": a, "label": str(workflow.STEPS[a].label), "needs_reason": False}
             for a in ("answer", "dispatch", "link")]
            if role == "agent" else []
        )  # fmt: skip
        if role == "agent":
            assert (order.channel, order.registered_by, order.caller_user) == (
                "phone",
                scene.agent,
                None,
            )
        else:
            assert (order.channel, order.registered_by) == ("web", None)
            assert order.caller_user == user_of(scene, role)

    def test_an_agent_registers_any_channel(self, scene):
        body = ok(
            as_role(scene, "agent").post(
                f"{ORDERS}/",
                registration(
                    channel="wechat",
                    urgency="urgent",
                    category=scene.category.code,
                    district=scene.district.code,
                    latitude="23.0217",
                    longitude="113.1214",
                    caller_name="李女士",
                    confidential=True,
                ),
                format="json",
            ),
            201,
        )
        assert (body["channel"], body["urgency"], body["confidential"]) == (
            "wechat",
            "urgent",
            True,
        )
        assert body["category"]["code"] == scene.category.code
        assert (body["latitude"], body["longitude"]) == ("23.021700", "113.121400")
        assert body["title"] == "祖庙路 8 号门前井盖缺失，晚上很危险。"[:30]

    def test_a_citizen_files_on_the_web_as_themselves(self, scene):
        client = as_role(scene, "caller")
        body = ok(client.post(f"{ORDERS}/", registration(caller_phone=""), format="json"), 201)
        order = WorkOrder.objects.get(number=body["number"])
        # their name and phone fill what they left empty
        assert (order.caller_name, order.caller_phone) == (
            scene.citizen.full_name,
            "13700137000",
        )
        assert body["caller_phone"] == "13700137000"  # their own number, in full
        response = client.post(f"{ORDERS}/", registration(channel="phone"), format="json")
        assert set(errors(response)) == {"channel"}

    def test_bad_input_is_named_by_field_and_nothing_is_written(self, scene):
        client = as_role(scene, "agent")
        cases = [
            ({}, {"order_type", "content"}),
            (registration(order_type="rumour"), {"order_type"}),
            (registration(category="nothing"), {"category"}),
            (registration(category=scene.category.parent.code), {"category"}),
            (registration(district="000000000000"), {"district"}),
            (registration(latitude="23.1"), {"longitude"}),
            (registration(latitude="123.1", longitude="113.1"), {"latitude"}),
            (registration(caller_phone="call me"), {"caller_phone"}),
            (registration(caller_phone=""), {"caller_phone"}),  # a phone order needs one
            (registration(content="x" * 4001), {"content"}),
            (registration(content="   "), {"content"}),
        ]
        for data, fields in cases:
            response = client.post(f"{ORDERS}/", data, format="json")
            assert set(errors(response)) == fields, data
        assert WorkOrder.objects.count() == 0

    def test_citizens_file_a_few_a_minute(self, scene):
        client = as_role(scene, "caller")
        codes = [
            client.post(f"{ORDERS}/", registration(), format="json").status_code
            for _ in range(api.FILINGS_PER_MINUTE + 1)
        ]
        assert codes == [201] * api.FILINGS_PER_MINUTE + [429]
        assert WorkOrder.objects.count() == api.FILINGS_PER_MINUTE
        # an agent on the phone is not limited
        agent = as_role(scene, "agent")
        assert agent.post(f"{ORDERS}/", registration(), format="json").status_code == 201

    def test_one_order_per_idempotency_key(self, scene):
        client = as_role(scene, "agent")
        data = registration()
        headers = {"Idempotency-Key": "b1c2-once"}
        first = client.post(f"{ORDERS}/", data, format="json", headers=headers)
        again = client.post(f"{ORDERS}/", data, format="json", headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["number"] == again.json()["number"]
        assert WorkOrder.objects.count() == 1
        # another key is another order; the same key from someone else is theirs alone
        other = client.post(f"{ORDERS}/", data, format="json", headers={"Idempotency-Key": "b2"})
        assert other.status_code == 201 and WorkOrder.objects.count() == 2
        theirs = as_role(scene, "caller").post(
            f"{ORDERS}/", registration(), format="json", headers=headers
        )
        assert theirs.status_code == 201
        assert theirs.json()["number"] not in {first.json()["number"], other.json()["number"]}
        assert WorkOrder.objects.count() == 3


# --- the detail ------------------------------------------------------------------------------


class TestDetail:
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role(self, scene, role):
        # given an order the caller filed, dispatched, with an extension asked and a
        # supervision order
        order = filed(scene)
        orders.order_sign(order=order, actor=scene.handler)
        orders.order_request(
            order=order, actor=scene.handler, kind=RequestKind.EXTENSION, reason="需协调", amount=2
        )
        orders.order_supervise(order=order, actor=scene.supervisor, instruction="请加快办理")
        # when each role opens it
        response = as_role(scene, role).get(f"{ORDERS}/{order.number}/")
        # then those who may see it get it; the internal parts are for staff only
        expected = {"stranger": 404, "citizen": 404, "anonymous": 403}.get(role, 200)
        assert response.status_code == expected
        if expected != 200:
            return
        body = response.json()
        staff = role != "caller"
        assert bool(body["dispatches"]) is staff
        assert bool(body["requests"]) is staff
        assert bool(body["supervisions"]) is staff
        assert bool(body["history"]) is staff
        assert [c["purpose"] for c in body["clocks"]] == [
            "hotline.sign",
            "hotline.reply",
            "hotline.close",
        ]
        assert [c["current"] for c in body["clocks"]] == [False, True, False]
        # (whether a second extension is offered while one waits is the selector's call)
        steps = {s["action"] for s in body["steps"]} - {"request_extension"}
        assert (
            steps
            == {
                "agent": {"decide_request"},
                "lead": {"redispatch", "reply", "request_return", "answer_supervision"},
                "co": {"co_opinion"},
                "supervisor": {"supervise"},
                "caller": set(),
            }[role]
        )
        if staff:
            lead, co = body["dispatches"]
            assert (lead["unit"]["id"], lead["role"], lead["signed_at"] is not None) == (
                scene.unit.pk,
                "lead",
                True,
            )
            assert (co["unit"]["id"], co["role"]) == (scene.co_unit.pk, "co")
            assert body["requests"][0]["kind"] == "extension"
            assert body["supervisions"][0]["light"] in ("green", "yellow")
            assert [e["action"] for e in body["history"]] == [
                "register",
                "dispatch",
                "sign",
                "request_extension",
                "supervise",
            ]

    def test_the_units_read_the_content_with_numbers_masked(self, scene):
        order = filed(scene, content="家门口路灯坏了，联系电话 13912345678，请尽快。")
        assert (
            "13912345678" in ok(as_role(scene, "agent").get(f"{ORDERS}/{order.number}/"))["content"]
        )
        assert (
            "13912345678"
            in ok(as_role(scene, "caller").get(f"{ORDERS}/{order.number}/"))["content"]
        )
        content = ok(as_role(scene, "lead").get(f"{ORDERS}/{order.number}/"))["content"]
        assert "139****5678" in content and "13912345678" not in content

    def test_an_unknown_number_is_a_404(self, scene):
        assert as_role(scene, "agent").get(f"{ORDERS}/GD2026110299999/").status_code == 404


# --- the steps -------------------------------------------------------------------------------


def test_every_step_has_a_route_and_an_input():
    assert set(api.STEP_INPUTS) == set(api.ACTIONS) == set(workflow.STEPS)
    assert set(api.ACTION_VIEWS) == set(workflow.STEPS)


class TestSteps:
    def test_the_whole_path(self, scene, settings):
        settings.YIMEN_HOTLINE_REOPEN_LIMIT = 1
        a = scene
        # the caller files an order on the web
        number = ok(as_role(a, "caller").post(f"{ORDERS}/", registration(), format="json"), 201)[
            "number"
        ]
        order = WorkOrder.objects.get(number=number)

        def step(user, action, data=None, status=None):
            body = ok(act(user, order, action, data))
            if status:
                assert body["status"] == status, action
            return body

        step(a.agent, "dispatch", {"lead": a.unit.pk, "co_units": [a.co_unit.pk],
                                   "category": a.category.code, "note": "请核实"},
             "dispatched")  # fmt: skip
        step(a.co_handler, "co_opinion", {"opinion": "配合提供管网图纸"}, "dispatched")
        body = step(a.handler, "redispatch", {"unit": a.sub_unit.pk, "note": "辖区内"})
        assert body["lead_unit"]["id"] == a.sub_unit.pk
        step(a.sub_handler, "sign", None, "handling")
        body = step(a.sub_handler, "request_extension", {"reason": "需采购井盖", "amount": 2})
        request_id = body["requests"][0]["id"]
        body = step(a.agent, "decide_request", {"request": request_id, "approve": True})
        assert body["requests"][0]["status"] == "approved"
        body = step(a.supervisor, "supervise", {"instruction": "请三日内办结"})
        supervision_id = body["supervisions"][0]["id"]
        body = step(
            a.sub_handler, "answer_supervision", {"supervision": supervision_id, "answer": "已安排"}
        )
        assert body["supervisions"][0]["answered_at"] is not None
        step(a.sub_handler, "reply", {"reply": "已补装井盖。"}, "replied")
        step(a.agent, "send_back", {"reason": "请附现场照片说明"}, "handling")
        step(a.sub_handler, "reply", {"reply": "已补装井盖，并加装警示牌。"}, "replied")
        step(a.agent, "accept_reply", None, "callback")
        # the caller is dissatisfied: the order goes back to the unit, once
        body = step(
            a.citizen, "callback", {"result": "unsatisfied", "note": "仍有积水"}, "handling"
        )
        assert body["reopen_count"] == 1
        step(a.sub_handler, "reply", {"reply": "已清理积水。"}, "replied")
        step(a.agent, "accept_reply", None, "callback")
        body = step(a.citizen, "callback", {"result": "basic"}, "closed")
        assert (body["satisfaction"], body["resolution"]) == ("basic", "handled")
        assert body["light"] == "stopped"
        history = ok(as_role(a, "agent").get(f"{ORDERS}/{number}/"))["history"]
        assert [e["action"] for e in history][-3:] == ["reply", "accept_reply", "callback"]
        assert history[-1]["channel"] == "online" and history[-1]["role"] == "caller"

    def test_an_instant_answer_closes_the_order(self, scene):
        order = scene.register()
        answer = article()
        body = ok(
            act(scene.agent, order, "answer", {"answer": "已告知办理地点。",
                                               "article": str(answer.public_id)})
        )  # fmt: skip
        assert (body["status"], body["resolution"]) == ("closed", "instant")
        assert body["article"]["public_id"] == str(answer.public_id)
        unknown = scene.register()
        response = act(
            scene.agent, unknown, "answer",
            {"answer": "x", "article": "00000000-0000-0000-0000-000000000000"},
        )  # fmt: skip
        assert set(errors(response)) == {"article"}

    def test_link_and_unlink(self, scene):
        master = scene.order_at(S.DISPATCHED)
        duplicate = scene.register()
        body = ok(act(scene.agent, duplicate, "link", {"master": master.number}))
        assert (body["status"], body["master"]) == ("linked", master.number)
        assert ok(as_role(scene, "agent").get(f"{ORDERS}/{master.number}/"))["linked"] == [
            duplicate.number
        ]
        assert set(errors(act(scene.agent, duplicate, "unlink", {}))) == {"reason"}
        body = ok(act(scene.agent, duplicate, "unlink", {"reason": "不是同一件事"}))
        assert (body["status"], body["master"]) == ("registered", None)
        assert set(errors(act(scene.agent, duplicate, "link", {"master": "GD1"}))) == {"master"}
        assert set(errors(act(scene.agent, duplicate, "link", {"master": duplicate.number}))) == {
            "master"
        }

    def test_a_return_rejected_then_approved(self, scene):
        order = scene.order_at(S.HANDLING)
        ok(act(scene.handler, order, "request_return", {"reason": "属供水公司管辖"}))
        request = OrderRequest.objects.get()
        response = act(scene.agent, order, "decide_request", {"request": request.pk,
                                                              "approve": False})  # fmt: skip
        assert set(errors(response)) == {"note"}
        body = ok(act(scene.agent, order, "decide_request",
                      {"request": request.pk, "approve": False, "note": "属城管职责"}))  # fmt: skip
        assert body["requests"][0]["status"] == "rejected"
        ok(act(scene.handler, order, "request_return", {"reason": "确属供水公司"}))
        again = OrderRequest.objects.filter(status="pending").get()
        body = ok(act(scene.agent, order, "decide_request", {"request": again.pk, "approve": True}))
        assert (body["status"], body["lead_unit"]) == ("registered", None)

    def test_a_card_for_an_overdue_order(self, scene, time):
        order = scene.order_at(S.DISPATCHED)
        steps = ok(as_role(scene, "supervisor").get(f"{ORDERS}/{order.number}/"))["steps"]
        assert "card" not in {s["action"] for s in steps}
        response = act(scene.supervisor, order, "card", {"reason": "超时未签收"})
        assert set(errors(response)) == {"reason"}  # nothing is overdue yet
        time.to(2026, 11, 5)
        body = ok(as_role(scene, "supervisor").get(f"{ORDERS}/{order.number}/"))
        assert body["light"] == "red" and "card" in {s["action"] for s in body["steps"]}
        body = ok(act(scene.supervisor, order, "card", {"reason": "超时未签收"}))
        card = body["cards"][0]
        assert (card["colour"], card["deadline"], card["by_sweep"]) == (
            "yellow",
            "hotline.sign",
            False,
        )

    @pytest.mark.parametrize("role", ROLES)
    def test_who_may_sign(self, scene, role):
        order = filed(scene)
        response = act(user_of(scene, role), order, "sign")
        expected = {"lead": 200, "stranger": 404, "citizen": 404}.get(role, 403)
        assert response.status_code == expected
        assert fresh(order).status == (S.HANDLING if expected == 200 else S.DISPATCHED)

    @pytest.mark.parametrize("role", ROLES)
    def test_who_may_dispatch(self, scene, role):
        order = scene.register(caller=scene.citizen)
        response = act(user_of(scene, role), order, "dispatch", {"lead": scene.unit.pk})
        # a registered order is the center's and the caller's alone to see
        expected = {"agent": 200, "caller": 403, "supervisor": 403, "anonymous": 403}.get(role, 404)
        assert response.status_code == expected
        assert fresh(order).status == (S.DISPATCHED if expected == 200 else S.REGISTERED)

    def test_a_refusal_of_the_service_is_a_403_with_its_reason(self, scene):
        order = scene.order_at(S.HANDLING)
        supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="快")
        # the co-handler held the order but the supervision order is the lead unit's
        response = act(
            scene.co_handler, order, "answer_supervision",
            {"supervision": supervision.pk, "answer": "已办"},
        )  # fmt: skip
        body = errors(response, 403)
        assert body["detail"] == "The supervision order is addressed to another unit."

    def test_a_reply_while_the_return_waits_is_a_conflict(self, scene):
        # given a unit that asked to return the order it handles
        order = scene.order_at(S.HANDLING)
        ok(act(scene.handler, order, "request_return", {"reason": "非本单位"}))
        steps = ok(as_role(scene, "lead").get(f"{ORDERS}/{order.number}/"))["steps"]
        assert "reply" not in {s["action"] for s in steps}
        # when it replies all the same, then it is a 409 on the reply, and nothing changed
        body = errors(act(scene.handler, order, "reply", {"reply": "已办"}), 409)
        assert body == {"reply": ["The return you asked for awaits the center's decision."]}
        assert fresh(order).status == S.HANDLING
        # an extension asked of an order no unit holds is refused by its state, not its amount
        replied = scene.order_at(S.REPLIED)
        response = act(scene.handler, replied, "request_extension", {"reason": "x", "amount": 99})
        assert set(errors(response, 409)) == {"status"}
        assert not replied.requests.exists()

    def test_a_stale_step_is_a_conflict(self, scene):
        order = filed(scene)
        ok(act(scene.handler, order, "sign"))
        body = errors(act(scene.handler, order, "sign"), 409)
        assert "Being handled" in body["status"][0]
        # a request decided already
        ok(act(scene.handler, order, "request_extension", {"reason": "需协调", "amount": 1}))
        request = OrderRequest.objects.get()
        ok(act(scene.agent, order, "decide_request", {"request": request.pk, "approve": True}))
        again = act(scene.agent, order, "decide_request", {"request": request.pk, "approve": True})
        assert set(errors(again, 409)) == {"request"}
        # a second request of a kind while one waits
        ok(act(scene.handler, order, "request_return", {"reason": "非本单位"}))
        twice = act(scene.handler, order, "request_return", {"reason": "非本单位"})
        assert set(errors(twice, 409)) == {"kind"}
        # a supervision order answered already
        supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="快")
        data = {"supervision": supervision.pk, "answer": "已办"}
        ok(act(scene.handler, order, "answer_supervision", data))
        assert set(errors(act(scene.handler, order, "answer_supervision", data), 409)) == {"answer"}

    def test_bad_input_is_named_by_field(self, scene):
        registered = scene.register()
        handling = scene.order_at(S.HANDLING)
        callback = scene.order_at(S.CALLBACK, caller=scene.citizen)
        other = scene.order_at(S.HANDLING)
        foreign = orders.order_request(
            order=other, actor=scene.handler, kind=RequestKind.RETURN, reason="非本单位"
        )
        a = scene
        cases = [
            (a.agent, registered, "dispatch", {}, {"lead"}),
            (a.agent, registered, "dispatch", {"lead": 999999}, {"lead"}),
            (a.agent, registered, "dispatch", {"lead": "x"}, {"lead"}),
            (a.agent, registered, "dispatch", {"lead": a.unit.pk, "co_units": [a.unit.pk]},
             {"co_units"}),
            (a.agent, registered, "dispatch", {"lead": a.unit.pk, "category": "nothing"},
             {"category"}),
            (a.agent, registered, "answer", {"answer": " "}, {"answer"}),
            (a.handler, handling, "reply", {"reply": ""}, {"reply"}),
            (a.handler, handling, "request_extension", {"reason": "需协调"}, {"amount"}),
            (a.handler, handling, "request_extension", {"reason": "需协调", "amount": 0},
             {"amount"}),
            (a.handler, handling, "request_extension", {"reason": "需协调", "amount": 99},
             {"amount"}),
            (a.handler, handling, "request_return", {"reason": ""}, {"reason"}),
            (a.handler, handling, "redispatch", {"unit": a.co_unit.pk}, {"unit"}),
            (a.agent, handling, "decide_request", {"request": foreign.pk, "approve": True},
             {"request"}),
            (a.agent, handling, "decide_request", {"request": foreign.pk}, {"approve", "request"}),
            (a.supervisor, handling, "supervise", {"instruction": "  "}, {"instruction"}),
            (a.handler, handling, "answer_supervision", {"supervision": 999999, "answer": "好"},
             {"supervision"}),
            (a.supervisor, handling, "card", {}, {"reason"}),
            (a.agent, callback, "callback", {"result": "happy"}, {"result"}),
            (a.citizen, callback, "callback", {"result": "unreachable"}, {"result"}),
        ]  # fmt: skip
        for user, order, action, data, fields in cases:
            before = fresh(order).status
            assert set(errors(act(user, order, action, data))) == fields, (action, data)
            assert fresh(order).status == before
        assert OrderRequest.objects.count() == 1

    def test_another_units_handler_and_another_citizen_get_404(self, scene):
        order = filed(scene)
        for user in (scene.stranger, scene.other_citizen):
            assert act(user, order, "sign").status_code == 404
            assert act(user, order, "co_opinion", {"opinion": "x"}).status_code == 404
        assert act(scene.agent, order, "nonsense").status_code == 404


# --- the agent's helpers ---------------------------------------------------------------------


class TestDuplicates:
    @pytest.mark.parametrize("role", ROLES)
    def test_agents_alone(self, scene, role):
        earlier = scene.register(caller_phone="13811112222")
        response = as_role(scene, role).get(
            f"{ORDERS}/duplicates/", {"content": "路灯不亮", "phone": "138 1111 2222"}
        )
        if role != "agent":
            assert response.status_code == 403
            return
        rows = ok(response)
        assert [r["order"]["number"] for r in rows] == [earlier.number]
        assert rows[0]["same_phone"] is True and rows[0]["score"] >= 0.5
        assert rows[0]["order"]["caller_phone"] == "13811112222"

    def test_similar_content_in_the_category_and_the_one_looked_at_left_out(self, scene):
        first = scene.register(caller_phone="13811112222")
        second = scene.register(caller_phone="13833334444")
        client = as_role(scene, "agent")
        query = {"content": first.content, "category": scene.category.code}
        found = [r["order"]["number"] for r in ok(client.get(f"{ORDERS}/duplicates/", query))]
        assert set(found) == {first.number, second.number}
        query["exclude"] = second.number
        found = [r["order"]["number"] for r in ok(client.get(f"{ORDERS}/duplicates/", query))]
        assert found == [first.number]

    def test_bad_input(self, scene):
        client = as_role(scene, "agent")
        assert set(errors(client.get(f"{ORDERS}/duplicates/"))) == {"content"}
        for name in ("category", "district", "exclude"):
            response = client.get(f"{ORDERS}/duplicates/", {"content": "路灯", name: "nothing"})
            assert set(errors(response)) == {name}


class TestSuggest:
    @pytest.mark.parametrize("role", ROLES)
    def test_agents_alone(self, scene, role):
        local = DepartmentFactory(region=scene.other_district, name="南海区人民政府")
        response = as_role(scene, role).get(
            f"{BASE}/dispatch/suggest/",
            {
                "text": "路灯不亮",
                "category": scene.category.code,
                "district": scene.other_district.code,
            },
        )
        if role != "agent":
            assert response.status_code == 403
            return
        rows = ok(response)
        assert rows[0] == {
            "unit": {"id": scene.unit.pk, "name": "禅城区城管执法局"},
            "score": 1.0,
            "source": "category",
        }
        assert {r["unit"]["id"] for r in rows} <= {scene.unit.pk, local.pk, scene.other_unit.pk}
        assert len(rows) <= 3

    def test_bad_input(self, scene):
        client = as_role(scene, "agent")
        for name in ("category", "district"):
            response = client.get(f"{BASE}/dispatch/suggest/", {"text": "路灯", name: "nothing"})
            assert set(errors(response)) == {name}


# --- the units' notices ----------------------------------------------------------------------


class TestNotices:
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role(self, scene, role):
        order = filed(scene)
        response = as_role(scene, role).get(f"{BASE}/notices/")
        if role not in ("lead", "stranger", "co"):
            assert response.status_code == 403
            return
        rows = ok(response)["results"]
        if role == "stranger":
            assert rows == []
            return
        unit = scene.unit if role == "lead" else scene.co_unit
        assert [(r["order"], r["kind"], r["unit"]["id"], r["read_at"]) for r in rows] == [
            (order.number, "dispatched", unit.pk, None)
        ]

    def test_marking_read(self, scene, django_assert_max_num_queries):
        first, second = filed(scene), filed(scene)
        client = as_role(scene, "lead")
        with django_assert_max_num_queries(6):
            assert ok(client.get(f"{BASE}/notices/", {"unread": "true"}))["count"] == 2
        body = ok(client.post(f"{BASE}/notices/read/", {"order": first.number}, format="json"))
        assert body == {"read": 1}
        rows = ok(client.get(f"{BASE}/notices/", {"unread": "true"}))["results"]
        assert [r["order"] for r in rows] == [second.number]
        assert ok(client.post(f"{BASE}/notices/read/", {}, format="json")) == {"read": 1}
        assert ok(client.get(f"{BASE}/notices/", {"unread": "false"}))["count"] == 2
        # the co-unit's notices are its own
        assert Notice.objects.filter(unit=scene.co_unit, read_at__isnull=True).count() == 2
        response = client.post(f"{BASE}/notices/read/", {"order": "GD1"}, format="json")
        assert set(errors(response)) == {"order"}
        assert set(errors(client.get(f"{BASE}/notices/", {"unread": "maybe"}))) == {"unread"}
        for role in ("agent", "supervisor", "caller", "anonymous"):
            assert as_role(scene, role).post(f"{BASE}/notices/read/", {}).status_code == 403


# --- the schema ------------------------------------------------------------------------------


def test_schema_documents_the_order_paths_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    ours = ["yimen/hotline/api/orders", "yimen.hotline.api.orders"] + [
        name for name, value in vars(api).items() if name.endswith("View") and value
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
        "orders/": {"get", "post"},
        "orders/{number}/": {"get"},
        "orders/duplicates/": {"get"},
        "dispatch/suggest/": {"get"},
        "notices/": {"get"},
        "notices/read/": {"post"},
        **{f"orders/{{number}}/{action}/": {"post"} for action in workflow.STEPS},
    }
    for path, methods in expected.items():
        operations = paths[f"{BASE}/{path}"]
        assert set(operations) & {"get", "post", "put", "patch", "delete"} == methods, path
        for operation in operations.values():
            assert operation["tags"] == ["hotline"], path
    for action in workflow.STEPS:
        operation = paths[f"{ORDERS}/{{number}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"]), action
    register = paths[f"{ORDERS}/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in register["parameters"])
    listing = {p["name"] for p in paths[f"{ORDERS}/"]["get"]["parameters"]}
    assert listing >= {"status", "order_type", "channel", "urgency", "lead_unit", "category",
                       "received_after", "received_before", "light", "q", "page"}  # fmt: skip


def test_time_zone_of_due_dates_is_the_projects(scene):
    # a due date is given with its offset, so clients need not guess the zone
    order = filed(scene)
    due = ok(as_role(scene, "agent").get(f"{ORDERS}/{order.number}/"))["due_at"]
    assert dt.datetime.fromisoformat(due).utcoffset() == dt.timedelta(hours=8)


# --- what each viewer reads ------------------------------------------------------------------

TITLE = "回电13912345678路灯不亮"
MASKED_TITLE = "回电139****5678路灯不亮"


class TestDisclosure:
    def test_the_title_is_masked_like_the_content(self, scene):
        # given an order whose title carries a mobile number
        order = filed(scene, title=TITLE)
        # then the center and the caller read it as written, in the list and the detail
        for role in ("agent", "caller"):
            client = as_role(scene, role)
            assert ok(client.get(f"{ORDERS}/{order.number}/"))["title"] == TITLE, role
            rows = ok(client.get(f"{ORDERS}/"))["results"]
            assert [r["title"] for r in rows] == [TITLE], role
        # and the units and the supervisor masked
        for role in ("lead", "co", "supervisor"):
            client = as_role(scene, role)
            assert ok(client.get(f"{ORDERS}/{order.number}/"))["title"] == MASKED_TITLE, role
            rows = ok(client.get(f"{ORDERS}/"))["results"]
            assert [r["title"] for r in rows] == [MASKED_TITLE], role

    def test_the_notices_mask_the_order_title(self, scene):
        filed(scene, title=TITLE)
        for role in ("lead", "co"):
            rows = ok(as_role(scene, role).get(f"{BASE}/notices/"))["results"]
            assert [r["order_title"] for r in rows] == [MASKED_TITLE], role

    def test_the_history_names_a_confidential_caller_to_the_center_only(self, scene):
        # given a confidential order the citizen filed from their account
        order = filed(scene, confidential=True)
        name = scene.citizen.full_name

        def actors(role):
            body = ok(as_role(scene, role).get(f"{ORDERS}/{order.number}/"))
            return {e["action"]: e["actor"] for e in body["history"]}

        # then the units and the supervisor read “Caller” where the page does too
        for role in ("lead", "co", "supervisor"):
            history = actors(role)
            assert history["register"] == "Caller", role
            assert history["dispatch"] == str(scene.agent), role
        # while the center knows who filed it
        assert actors("agent")["register"] == name
        # and a caller who is not confidential is named to the units
        plain = filed(scene)
        body = ok(as_role(scene, "lead").get(f"{ORDERS}/{plain.number}/"))
        assert body["history"][0]["actor"] == name

    def test_the_caller_reads_the_reply_once_the_center_accepted_it(self, scene):
        # given an order the unit replied to
        order = filed(scene)
        scene.walk(order, S.REPLIED)

        def reply(role):
            return ok(as_role(scene, role).get(f"{ORDERS}/{order.number}/"))["reply"]

        # then the caller does not read it yet; staff do
        assert reply("caller") is None
        assert reply("agent") == reply("lead") == "已更换灯具，恢复照明。"
        # once the center accepted it, the caller reads it too
        orders.order_accept_reply(order=order, actor=scene.agent)
        assert reply("caller") == "已更换灯具，恢复照明。"


class TestSearchingDigits:
    @pytest.mark.parametrize("query", ["13912345678", "1391234", "440602199001011234"])
    def test_a_unit_cannot_confirm_masked_digits(self, scene, query):
        order = filed(scene, title=TITLE, content="身份证 440602199001011234，电话 13912345678")
        for role in ("lead", "co", "supervisor"):
            assert numbers(as_role(scene, role).get(f"{ORDERS}/", {"q": query})) == set(), role
        assert numbers(as_role(scene, "agent").get(f"{ORDERS}/", {"q": query})) == {order.number}

    def test_a_unit_still_finds_words_and_order_numbers(self, scene):
        order = filed(scene, title=TITLE)
        client = as_role(scene, "lead")
        for query in ("路灯", order.number, "季华路"):
            assert numbers(client.get(f"{ORDERS}/", {"q": query})) == {order.number}, query


class TestBounds:
    @pytest.mark.parametrize(
        "name, value",
        [
            ("received_after", "0001-01-01"),
            ("received_after", "0001-01-01T00:00:00+08:00"),
            ("received_before", "9999-12-31"),
            ("received_before", "2100-01-01T00:00:00Z"),
        ],
    )
    def test_a_moment_out_of_range_is_a_400_on_its_field(self, scene, name, value):
        response = as_role(scene, "agent").get(f"{ORDERS}/", {name: value})
        assert set(errors(response)) == {name}

    def test_the_years_in_range_are_fine(self, scene):
        order = filed(scene)
        response = as_role(scene, "agent").get(
            f"{ORDERS}/", {"received_after": "2000-01-01", "received_before": "2099-12-31"}
        )
        assert numbers(response) == {order.number}


class TestUrgency:
    def test_a_citizen_may_not_set_it(self, scene):
        client = as_role(scene, "caller")
        for urgency in ("very_urgent", "urgent"):
            response = client.post(f"{ORDERS}/", registration(urgency=urgency), format="json")
            assert set(errors(response)) == {"urgency"}, urgency
        assert WorkOrder.objects.count() == 0
        # normal (or nothing) is what a citizen's order is
        body = ok(client.post(f"{ORDERS}/", registration(urgency="normal"), format="json"), 201)
        assert body["urgency"] == "normal"
        body = ok(client.post(f"{ORDERS}/", registration(), format="json"), 201)
        assert body["urgency"] == "normal"

    def test_an_agent_sets_it(self, scene):
        client = as_role(scene, "agent")
        body = ok(
            client.post(f"{ORDERS}/", registration(urgency="very_urgent"), format="json"), 201
        )
        assert body["urgency"] == "very_urgent"
