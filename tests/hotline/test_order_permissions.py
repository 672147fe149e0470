"""Who may see a work order and take each of its steps (yimen.hotline.permissions): the
agent (the center), the lead unit's handler, the handler of the parent unit once the order
went to its sub-unit, a co-handler, an unrelated handler, supervisors (unlimited, limited
to the order's district, limited to another), the caller with an account and another
citizen. A refusal is a PermissionDenied (403) that writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from yimen.common.errors import StateConflict
from yimen.common.models import AuditEvent
from yimen.hotline import orders, permissions, selectors, workflow
from yimen.hotline.choices import Actor, RequestKind, RequestStatus
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.models import OrderRequest, Supervision, WorkOrder
from yimen.org.choices import Role

from .factories import Frozen, OrderScene, at

pytestmark = pytest.mark.django_db

PEOPLE = (
    "agent",
    "handler",
    "sub_handler",
    "co_handler",
    "stranger",
    "supervisor",
    "district_supervisor",
    "outside_supervisor",
    "citizen",
    "other_citizen",
    "sysadmin",
    "anonymous",
)


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:
        yield frozen


@pytest.fixture
def scene(time):
    scene = OrderScene()
    scene.sysadmin = grant(UserFactory(), Role.SYSTEM_ADMIN)
    scene.anonymous = AnonymousUser()
    return scene


def person(scene, name):
    return getattr(scene, name)


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


# --- who each person is for an order -------------------------------------------------------------


def test_each_person_is_what_the_workflow_calls_them(scene):
    # Given an order the citizen filed, dispatched to the unit with a co-handler
    order = scene.order_at(S.DISPATCHED, caller=scene.citizen)
    # Then each person acts as
    expected = {
        "agent": {Actor.AGENT},
        "handler": {Actor.LEAD, Actor.UNIT},
        "sub_handler": set(),
        "co_handler": {Actor.CO, Actor.UNIT},
        "stranger": set(),
        "supervisor": {Actor.SUPERVISOR},
        "district_supervisor": {Actor.SUPERVISOR},
        "outside_supervisor": set(),
        "citizen": {Actor.CALLER},
        "other_citizen": set(),
        "sysadmin": set(),
        "anonymous": set(),
    }
    assert {name: permissions.actors(person(scene, name), order) for name in PEOPLE} == expected


def test_after_a_redispatch_the_sub_unit_leads_and_the_parent_only_looks_on(scene):
    order = scene.order_at(S.HANDLING)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    order = fresh(order)
    assert permissions.actors(scene.sub_handler, order) == {Actor.LEAD, Actor.UNIT}
    assert permissions.actors(scene.handler, order) == {Actor.UNIT}
    assert permissions.actors(scene.co_handler, order) == {Actor.CO, Actor.UNIT}


def test_after_an_approved_return_no_unit_acts_any_more(scene):
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非本单位"
    )
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    order = fresh(order)
    assert permissions.actors(scene.handler, order) == {Actor.UNIT}
    assert permissions.actors(scene.co_handler, order) == {Actor.UNIT}


def test_a_supervisor_limited_to_a_district_acts_only_on_its_orders(scene):
    elsewhere = scene.order_at(S.HANDLING, district=scene.other_district)
    assert permissions.actors(scene.district_supervisor, elsewhere) == set()
    assert permissions.actors(scene.outside_supervisor, elsewhere) == {Actor.SUPERVISOR}
    assert permissions.actors(scene.supervisor, elsewhere) == {Actor.SUPERVISOR}
    with pytest.raises(PermissionDenied):
        orders.order_supervise(order=elsewhere, actor=scene.district_supervisor, instruction="速办")
    orders.order_supervise(order=elsewhere, actor=scene.outside_supervisor, instruction="速办")


def test_a_supervisor_limited_to_the_whole_city_is_not_limited(scene):
    city = grant(UserFactory(), Role.SUPERVISOR, region=scene.district.parent)
    elsewhere = scene.order_at(S.HANDLING, district=scene.other_district)
    assert permissions.actors(city, elsewhere) == {Actor.SUPERVISOR}


# --- who may take each step ----------------------------------------------------------------------

# The people who may take each step on an order the citizen filed (the agent's orders have
# no caller with an account); everyone else is refused.
MAY = {
    "answer": {"agent"},
    "dispatch": {"agent"},
    "link": {"agent"},
    "unlink": {"agent"},
    "redispatch": {"handler"},
    "sign": {"handler"},
    "co_opinion": {"co_handler"},
    "reply": {"handler"},
    "accept_reply": {"agent"},
    "send_back": {"agent"},
    "callback": {"agent", "citizen"},
    "request_return": {"handler"},
    "request_extension": {"handler"},
    "decide_request": {"agent"},
    "supervise": {"supervisor", "district_supervisor"},
    "answer_supervision": {"handler"},
    "card": {"supervisor", "district_supervisor"},
}


def attempt(scene, action, order, who):
    """The call of `action` on `order` by `who`, with what it needs made beforehand."""
    if action == "answer":
        return lambda: orders.order_answer(order=order, actor=who, answer="答复")
    if action == "dispatch":
        return lambda: orders.order_dispatch(order=order, actor=who, lead=scene.unit)
    if action == "link":
        master = scene.register()
        return lambda: orders.order_link(order=order, actor=who, master=master)
    if action == "unlink":
        return lambda: orders.order_unlink(order=order, actor=who, reason="不是同一件事")
    if action == "redispatch":
        return lambda: orders.order_redispatch(order=order, actor=who, unit=scene.sub_unit)
    if action == "sign":
        return lambda: orders.order_sign(order=order, actor=who)
    if action == "co_opinion":
        return lambda: orders.order_co_opinion(order=order, actor=who, opinion="同意")
    if action == "reply":
        return lambda: orders.order_reply(order=order, actor=who, reply="已办")
    if action == "accept_reply":
        return lambda: orders.order_accept_reply(order=order, actor=who)
    if action == "send_back":
        return lambda: orders.order_send_back(order=order, actor=who, reason="不完整")
    if action == "callback":
        return lambda: orders.order_callback(order=order, actor=who, result="satisfied")
    if action in ("request_return", "request_extension"):
        kind = "return" if action == "request_return" else "extension"
        return lambda: orders.order_request(
            order=order, actor=who, kind=kind, reason="需协调", amount=1
        )
    if action == "decide_request":
        request = OrderRequest.objects.filter(order=order, status="pending").first()
        request = request or OrderRequest.objects.create(
            order=order,
            kind=RequestKind.EXTENSION,
            unit=scene.unit,
            reason="需协调",
            amount=1,
            requested_at=timezone.now(),
        )
        return lambda: orders.order_decide_request(request=request, actor=who, approve=True)
    if action == "supervise":
        return lambda: orders.order_supervise(order=order, actor=who, instruction="速办")
    if action == "answer_supervision":
        supervision = Supervision.objects.filter(order=order, answered_at=None).first()
        supervision = supervision or Supervision.objects.create(
            order=order, unit=scene.unit, instruction="速办", issued_at=timezone.now()
        )
        return lambda: orders.order_answer_supervision(
            supervision=supervision, actor=who, answer="已落实"
        )
    if action == "card":
        return lambda: orders.order_card(order=order, actor=who, reason="超时")
    raise AssertionError(action)


def source_of(action) -> str:
    """A state the step starts from (the latest one of the usual path)."""
    order = [S.REGISTERED, S.LINKED, S.DISPATCHED, S.HANDLING, S.REPLIED, S.CALLBACK, S.CLOSED]
    sources = workflow.STEPS[action].sources
    return next(s for s in order if s in sources)


@pytest.mark.parametrize("action", list(workflow.STEPS))
def test_only_those_who_may_take_a_step_take_it(scene, time, action):
    # Given an order filed by the citizen, in a state the step starts from
    order = scene.order_at(source_of(action), caller=scene.citizen)
    if action == "card":
        time.forward(days=30)  # past its deadlines
    # When each person who may not tries it, Then they are refused and nothing is written
    for name in PEOPLE:
        if name in MAY[action]:
            continue
        call = attempt(scene, action, order, person(scene, name))
        events = AuditEvent.objects.count()
        with pytest.raises(PermissionDenied):
            call()
        assert AuditEvent.objects.count() == events, name
    assert fresh(order).status == source_of(action)
    # and the first who may takes it
    allowed = sorted(MAY[action])[0]
    attempt(scene, action, order, person(scene, allowed))()
    assert AuditEvent.objects.filter(
        action=f"hotline.order.{action}", actor=person(scene, allowed)
    ).exists()


def held_elsewhere(call) -> None:
    """`call` is refused as a stale page of a unit that held the order (409), writing
    nothing."""
    events = AuditEvent.objects.count()
    with pytest.raises(StateConflict) as error:
        call()
    assert error.value.message_dict == {"status": ["Another unit holds this order now."]}
    assert AuditEvent.objects.count() == events


def test_the_parent_unit_may_not_act_once_the_sub_unit_holds_the_order(scene):
    # Given an order passed on to the sub-unit
    order = scene.order_at(S.DISPATCHED)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    # Then the parent may not sign, pass it on again or ask to return it: another unit holds
    # it now (a conflict, as from a page opened before it passed the order on)
    for action in ("sign", "redispatch", "request_return", "request_extension"):
        held_elsewhere(attempt(scene, action, order, scene.handler))
    # while the sub-unit signs, replies and may ask to return it
    orders.order_sign(order=order, actor=scene.sub_handler)
    held_elsewhere(lambda: orders.order_reply(order=order, actor=scene.handler, reply="已办"))
    # and a co-handler, which never held it, is refused outright
    with pytest.raises(PermissionDenied):
        orders.order_reply(order=order, actor=scene.co_handler, reply="已办")
    request = orders.order_request(
        order=order, actor=scene.sub_handler, kind="return", reason="非本辖区"
    )
    assert request.unit == scene.sub_unit
    # and, once the center kept it with them, replies
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属本辖区")
    orders.order_reply(order=order, actor=scene.sub_handler, reply="已办")
    assert fresh(order).status == S.REPLIED


def test_a_supervisor_limited_to_a_district_cards_only_its_orders(scene, time):
    elsewhere = scene.order_at(S.DISPATCHED, district=scene.other_district)
    time.forward(days=30)
    with pytest.raises(PermissionDenied):
        orders.order_card(order=elsewhere, actor=scene.district_supervisor, reason="超时")
    card = orders.order_card(order=elsewhere, actor=scene.outside_supervisor, reason="超时")
    assert card.issued_by == scene.outside_supervisor


def test_a_co_handler_dropped_by_a_return_may_not_give_an_opinion_any_more(scene):
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非本单位"
    )
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    orders.order_dispatch(order=order, actor=scene.agent, lead=scene.other_unit)
    with pytest.raises(PermissionDenied):
        orders.order_co_opinion(order=order, actor=scene.co_handler, opinion="同意")
    with pytest.raises(PermissionDenied):
        orders.order_sign(order=order, actor=scene.co_handler)
    # the unit that returned it held it: its stale page is a conflict
    held_elsewhere(lambda: orders.order_sign(order=order, actor=scene.handler))
    orders.order_sign(order=order, actor=scene.stranger)


# --- the steps offered ---------------------------------------------------------------------------


def offered(scene, name, order):
    return {s.action for s in selectors.offered_steps(person(scene, name), order)}


def test_the_steps_offered_follow_the_person_and_the_state(scene, time):
    order = scene.order_at(S.DISPATCHED, caller=scene.citizen)
    assert offered(scene, "agent", order) == set()
    assert offered(scene, "handler", order) == {
        "redispatch",
        "sign",
        "request_return",
        "request_extension",
    }
    assert offered(scene, "co_handler", order) == {"co_opinion"}
    assert offered(scene, "supervisor", order) == {"supervise"}  # no card while on time
    assert offered(scene, "citizen", order) == set()
    assert offered(scene, "stranger", order) == set()
    orders.order_request(order=order, actor=scene.handler, kind="extension", reason="x", amount=1)
    assert offered(scene, "agent", order) == {"decide_request"}
    time.forward(days=3)
    assert offered(scene, "supervisor", order) == {"supervise", "card"}
    assert offered(scene, "outside_supervisor", order) == set()
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    order = fresh(order)
    assert "redispatch" not in offered(scene, "sub_handler", order)
    assert offered(scene, "handler", order) == set()


def test_the_caller_is_offered_the_callback(scene):
    order = scene.order_at(S.CALLBACK, caller=scene.citizen)
    assert offered(scene, "citizen", order) == {"callback"}
    assert offered(scene, "other_citizen", order) == set()
    assert offered(scene, "agent", order) == {"callback"}


# --- who sees which orders -----------------------------------------------------------------------


@pytest.fixture
def orders_seen(scene):
    """Four orders: the citizen's, dispatched here with a co-handler; one of another district
    at another unit; one of this district not yet dispatched; one passed to the sub-unit."""
    mine = scene.order_at(S.DISPATCHED, caller=scene.citizen)
    elsewhere = scene.register(district=scene.other_district)
    orders.order_dispatch(order=elsewhere, actor=scene.agent, lead=scene.other_unit)
    waiting = scene.order_at(S.REGISTERED)
    passed = scene.order_at(S.DISPATCHED, co_units=[])
    orders.order_redispatch(order=passed, actor=scene.handler, unit=scene.sub_unit)
    return {"mine": mine, "elsewhere": elsewhere, "waiting": waiting, "passed": passed}


SEES = {
    "agent": {"mine", "elsewhere", "waiting", "passed"},
    "sysadmin": {"mine", "elsewhere", "waiting", "passed"},
    "supervisor": {"mine", "elsewhere", "waiting", "passed"},
    "district_supervisor": {"mine", "waiting", "passed"},
    "outside_supervisor": {"elsewhere"},
    "handler": {"mine", "passed"},
    "sub_handler": {"passed"},
    "co_handler": {"mine"},
    "stranger": {"elsewhere"},
    "citizen": {"mine"},
    "other_citizen": set(),
    "anonymous": set(),
}


@pytest.mark.parametrize("name", PEOPLE)
def test_each_person_sees_their_orders(scene, orders_seen, name):
    names = {o.pk: n for n, o in orders_seen.items()}
    seen = permissions.visible_orders(person(scene, name), WorkOrder.objects.all())
    assert {names[o.pk] for o in seen} == SEES[name]
    if name != "anonymous":
        found = {names[o.pk] for o in selectors.orders(person(scene, name))}
        assert found == SEES[name]


def test_a_unit_keeps_seeing_an_order_it_returned(scene):
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非本单位"
    )
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    assert selectors.orders(scene.handler).filter(pk=order.pk).exists()
    assert selectors.order_by_number(scene.handler, order.number) == fresh(order)
    assert selectors.order_by_number(scene.stranger, order.number) is None


def test_the_order_list_takes_the_same_queries_for_more_orders(
    scene, django_assert_max_num_queries
):
    def list_them(user):
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.orders(user))
            lights = [selectors.light(o) for o in rows]
            paths = [(o.category.path if o.category else "", o.lead_unit) for o in rows]
        return len(rows), len(queries), lights, paths

    for _ in range(2):
        scene.order_at(S.HANDLING)
    user = grant(UserFactory(), Role.HOTLINE_AGENT)
    few, few_queries, _l, _p = list_them(user)
    for status in (S.REGISTERED, S.DISPATCHED, S.REPLIED, S.CLOSED):
        scene.order_at(status)
    user = grant(UserFactory(), Role.HOTLINE_AGENT)
    many, many_queries, lights, _p = list_them(user)
    assert (few, many) == (2, 6)
    assert many_queries == few_queries
    assert lights.count(None) == 1  # the registered order has no clock yet
    with django_assert_max_num_queries(few_queries):
        list(selectors.orders(scene.handler))


def test_the_center_and_unit_queues(scene):
    waiting = scene.order_at(S.REGISTERED)
    to_sign = scene.order_at(S.DISPATCHED)
    handling = scene.order_at(S.HANDLING)
    replied = scene.order_at(S.REPLIED)
    callback = scene.order_at(S.CALLBACK)
    orders.order_request(
        order=handling, actor=scene.handler, kind="extension", reason="x", amount=1
    )
    orders.order_supervise(order=handling, actor=scene.supervisor, instruction="速办")

    center = selectors.center_queues(scene.agent)
    assert [list(center[k]) for k in ("registered", "replied", "callback", "requests")] == [
        [waiting],
        [replied],
        [callback],
        [handling],
    ]
    units = selectors.unit_queues(scene.handler)
    assert list(units["to_sign"]) == [to_sign]
    assert list(units["handling"]) == [handling]
    assert list(units["supervised"]) == [handling]
    assert list(units["co_handling"]) == []
    co = selectors.unit_queues(scene.co_handler)
    assert set(co["co_handling"]) == {to_sign, handling, replied}
    assert list(selectors.unit_queues(scene.stranger)["to_sign"]) == []


def test_the_center_queue_lists_only_requests_it_can_decide_now(scene):
    # Given a unit that asked for more time and then replied before the center decided
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="x", amount=1
    )
    assert list(selectors.center_queues(scene.agent)["requests"]) == [fresh(order)]
    orders.order_reply(order=order, actor=scene.handler, reply="已办")
    # Then the request was withdrawn by the reply: it is not in the center's queue
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    assert list(selectors.center_queues(scene.agent)["requests"]) == []
    assert "decide_request" not in offered(scene, "agent", fresh(order))
    # nor once the reply is sent back and the unit holds the order again
    orders.order_send_back(order=order, actor=scene.agent, reason="不完整")
    assert list(selectors.center_queues(scene.agent)["requests"]) == []
    assert "decide_request" not in offered(scene, "agent", fresh(order))
    # until the unit asks again
    assert "request_extension" in offered(scene, "handler", fresh(order))
    orders.order_request(order=order, actor=scene.handler, kind="extension", reason="y", amount=1)
    assert list(selectors.center_queues(scene.agent)["requests"]) == [fresh(order)]
    assert "decide_request" in offered(scene, "agent", fresh(order))


def test_a_unit_is_not_offered_the_reply_while_its_return_waits(scene):
    # Given a unit handling an order that asked to return it
    order = scene.order_at(S.HANDLING)
    assert "reply" in offered(scene, "handler", order)
    request = orders.order_request(order=order, actor=scene.handler, kind="return", reason="x")
    # Then it is not offered the reply (it would be refused) until the center decides
    assert "reply" not in offered(scene, "handler", fresh(order))
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属本单位")
    assert "reply" in offered(scene, "handler", fresh(order))


def test_the_card_is_offered_once_a_supervision_deadline_passed(scene, time):
    # Given an order handled on time, with a supervision order (2 working days to answer)
    order = scene.order_at(S.HANDLING)
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    assert "card" not in offered(scene, "supervisor", order)
    # When the supervision's deadline passed unanswered, the order's own still ahead
    time.to(2026, 11, 5, 9)
    assert selectors.light(fresh(order)).light != "red"
    # Then the supervisors of the order are offered the card, for the supervision
    assert "card" in offered(scene, "supervisor", order)
    assert "card" in offered(scene, "district_supervisor", order)
    assert "card" not in offered(scene, "outside_supervisor", order)
    card = orders.order_card(order=order, actor=scene.supervisor, reason="督办逾期未复")
    assert (card.clock, card.unit) == (supervision.clock, scene.unit)
    # and no longer once it is carded
    assert "card" not in offered(scene, "supervisor", order)


def test_the_card_is_offered_for_a_deadline_of_an_earlier_round(scene, time):
    # Given an order signed late, and then passed on to the sub-unit (a new round to sign)
    order = scene.order_at(S.DISPATCHED)
    time.to(2026, 11, 4, 9)  # the sign deadline passed at the end of Tuesday
    orders.order_sign(order=order, actor=scene.handler)
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    order = fresh(order)
    # Then the order runs on time by its new sign clock, yet the card is offered for the
    # stopped one, which missed its deadline
    assert selectors.light(order).light != "red"
    assert "card" in offered(scene, "supervisor", order)
    card = orders.order_card(order=order, actor=scene.supervisor, reason="签收超时")
    assert (card.deadline, card.unit) == ("hotline.sign", scene.unit)
    assert card.clock.stopped_at == at(2026, 11, 4, 9)
    assert "card" not in offered(scene, "supervisor", order)


# --- the caller's identity and the internal record -----------------------------------------------


@pytest.mark.parametrize("caller", ["phone", "account"])
def test_only_the_center_and_the_caller_learn_who_filed_a_confidential_order(scene, caller):
    # Given a confidential report, by phone or from the citizen's account
    data = {"confidential": True, "order_type": "report"}
    if caller == "account":
        data["caller"] = scene.citizen
    order = fresh(scene.order_at(S.DISPATCHED, **data))
    # Then the center, admins and the caller see the caller; the units and the rest do not
    sees = {name for name in PEOPLE if permissions.may_see_caller(person(scene, name), order)}
    expected = {"agent", "sysadmin"} | ({"citizen"} if caller == "account" else set())
    assert sees == expected


def test_everyone_sees_the_caller_of_an_ordinary_order(scene):
    order = scene.order_at(S.DISPATCHED)
    assert permissions.may_see_caller(scene.stranger, order)


def test_only_the_center_and_the_caller_see_the_full_phone(scene):
    order = fresh(scene.order_at(S.DISPATCHED, caller=scene.citizen))
    sees = {name for name in PEOPLE if permissions.sees_full_phone(person(scene, name), order)}
    assert sees == {"agent", "citizen"}
    by_phone = scene.order_at(S.DISPATCHED)
    assert not permissions.sees_full_phone(scene.anonymous, by_phone)


def test_the_internal_record_is_for_staff_of_the_order(scene):
    order = fresh(scene.order_at(S.DISPATCHED, caller=scene.citizen))
    sees = {name for name in PEOPLE if permissions.sees_internal(person(scene, name), order)}
    assert sees == {
        "agent",
        "handler",
        "co_handler",
        "supervisor",
        "district_supervisor",
        "sysadmin",
    }


def test_a_unit_is_asked_to_answer_only_the_supervision_orders_it_can_answer(scene):
    order = scene.order_at(S.HANDLING)
    orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    assert list(selectors.unit_queues(scene.handler)["supervised"]) == [fresh(order)]
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非本单位"
    )
    orders.order_decide_request(request=request, actor=scene.agent, approve=True)
    assert list(selectors.unit_queues(scene.handler)["supervised"]) == []
