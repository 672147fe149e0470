"""The writes of a work order (yimen.hotline.orders): intake with its field errors, the
idempotency key and the gap-free daily numbers; every step of yimen.hotline.workflow from
each state it starts from (the audit event it writes) and refused from every other state
(nothing written); the side effects of the steps (dispatches, notices, requests,
supervision orders); and `manage.py hotline_sweep`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.org.factories import DepartmentFactory, TownFactory
from yimen.common.errors import StateConflict
from yimen.common.models import AuditEvent, Clock
from yimen.hotline import orders, tasks, workflow
from yimen.hotline.choices import (
    AssignmentRole,
    CardColour,
    NoticeKind,
    OrderClock,
    RequestKind,
    RequestStatus,
    Resolution,
)
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.models import (
    Assignment,
    Card,
    DeadlineRule,
    Notice,
    OrderCounter,
    OrderRequest,
    Supervision,
    WorkOrder,
)
from yimen.hotline.workflow import StepRefused

from .factories import CategoryFactory, Frozen, OrderScene, article, at, branch

pytestmark = pytest.mark.django_db


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:  # a Monday; November 2026 has no holiday
        yield frozen


@pytest.fixture
def scene(time):
    return OrderScene()


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def events(order, action=None):
    qs = AuditEvent.objects.filter(object_type="hotline.workorder", object_id=str(order.pk))
    return qs.filter(action=action) if action else qs


def written() -> dict[str, object]:
    """What a refused step must leave as it was."""
    return {
        "events": AuditEvent.objects.count(),
        "notices": Notice.objects.count(),
        "assignments": list(Assignment.objects.values_list("pk", "is_active", "signed_at")),
        "requests": list(OrderRequest.objects.values_list("pk", "status")),
        "supervisions": list(Supervision.objects.values_list("pk", "answered_at")),
        "cards": Card.objects.count(),
        "clocks": list(Clock.objects.values_list("pk", "status", "due_at")),
        "orders": [model_to_dict(o) for o in WorkOrder.objects.order_by("pk")],
    }


# --- intake -------------------------------------------------------------------------------------


def test_an_agent_registers_a_phone_order(scene):
    # When the agent registers a caller's complaint
    order = scene.register()
    # Then it awaits dispatch with the first number of the day, registered by the agent
    order = fresh(order)
    assert order.status == S.REGISTERED
    assert order.number == "GD2026110200001"
    assert order.received_at == at(2026, 11, 2)
    assert order.registered_by == scene.agent
    assert order.caller_user is None
    assert (order.category, order.district) == (scene.category, scene.district)
    assert (order.caller_phone, order.caller_name) == ("13800138000", "陈先生")
    assert order.lead_unit is None and order.sign_clock is None
    # and one audit event says so
    event = events(order).get()
    assert (event.action, event.from_state, event.to_state) == (
        "hotline.order.register",
        "",
        S.REGISTERED,
    )
    assert event.actor == scene.agent
    assert event.payload == {"channel": "phone"}


def test_a_citizen_files_an_order_from_their_account_with_its_phone(scene):
    # When a citizen files an order on the web without typing a phone number
    order = fresh(scene.register(caller=scene.citizen))
    # Then the order is theirs, with their account's phone, and no agent registered it
    assert order.caller_user == scene.citizen
    assert order.caller_phone == scene.citizen.phone
    assert order.channel == "web"
    assert order.registered_by is None
    assert events(order).get().actor == scene.citizen


def test_a_title_defaults_to_the_start_of_the_content(scene):
    order = scene.register(title="", content="这是一段很长的诉求内容" * 5)
    assert order.title == ("这是一段很长的诉求内容" * 5)[:30]


def test_the_urgency_defaults_to_normal_and_coordinates_are_rounded(scene):
    order = fresh(scene.register(urgency="", latitude="23.0123456789", longitude=113.1))
    assert order.urgency == "normal"
    assert str(order.latitude) == "23.012346"
    assert str(order.longitude) == "113.100000"


def test_a_region_and_a_category_may_be_given_by_their_codes(scene):
    order = fresh(scene.register(category=scene.category.code, district=scene.district.code))
    assert (order.category, order.district) == (scene.category, scene.district)


def _bad_fields(scene):
    top, middle, _leaf = branch(names=("城乡建设", "市政设施", "井盖缺失"))
    inactive = CategoryFactory(parent=middle, is_active=False)
    return {
        "no type": ({"order_type": ""}, "order_type", "This field is required."),
        "unknown type": ({"order_type": "gossip"}, "order_type", "is not one of the choices"),
        "unknown urgency": ({"urgency": "asap"}, "urgency", "is not one of the choices"),
        "unknown category": ({"category": "nope"}, "category", "No active category"),
        "not a leaf": ({"category": middle.code}, "category", "of the lowest level"),
        "top level": ({"category": top}, "category", "of the lowest level"),
        "inactive category": ({"category": inactive}, "category", "No active category"),
        "no content": ({"content": "   "}, "content", "Say what the caller"),
        "long content": ({"content": "长" * 4001}, "content", "At most 4000 characters."),
        "long title": ({"title": "题" * 101}, "title", "At most 100 characters."),
        "unknown district": ({"district": "999999999999"}, "district", "No district"),
        "a city": ({"district": scene.district.parent}, "district", "No district"),
        "a city's code": ({"district": scene.district.parent.code}, "district", "No district"),
        "a town": ({"district": TownFactory(parent=scene.district)}, "district", "No district"),
        "media not a URL": ({"media_url": "photo.jpg"}, "media_url", "http or https URL"),
        "media by ftp": ({"media_url": "ftp://x.cn/a.jpg"}, "media_url", "http or https URL"),
        "media too long": (
            {"media_url": "https://img.example.cn/" + "a" * 480},
            "media_url",
            "At most 500 characters.",
        ),
        "latitude text": ({"latitude": "north", "longitude": "113"}, "latitude", "a number"),
        "latitude NaN": ({"latitude": "NaN", "longitude": "113"}, "latitude", "a number"),
        "latitude infinite": ({"latitude": "Infinity", "longitude": "1"}, "latitude", "number"),
        "latitude range": ({"latitude": "91", "longitude": "113"}, "latitude", "Between -90"),
        "longitude range": ({"latitude": "23", "longitude": "-181"}, "longitude", "Between -180"),
        "latitude alone": ({"latitude": "23"}, "longitude", "Give both"),
        "longitude alone": ({"longitude": "113"}, "latitude", "Give both"),
        "phone letters": ({"caller_phone": "138-ABCD-0000"}, "caller_phone", "digits"),
        "phone too long": ({"caller_phone": "+" + "1" * 20}, "caller_phone", "digits"),
        "phone order, no phone": ({"caller_phone": ""}, "caller_phone", "needs the caller"),
    }


BAD = [
    "no type",
    "unknown type",
    "unknown urgency",
    "unknown category",
    "not a leaf",
    "top level",
    "inactive category",
    "no content",
    "long content",
    "long title",
    "unknown district",
    "a city",
    "a city's code",
    "a town",
    "media not a URL",
    "media by ftp",
    "media too long",
    "latitude text",
    "latitude NaN",
    "latitude infinite",
    "latitude range",
    "longitude range",
    "latitude alone",
    "longitude alone",
    "phone letters",
    "phone too long",
    "phone order, no phone",
]


@pytest.mark.parametrize("case", BAD)
def test_each_bad_field_is_named_and_nothing_is_written(scene, case):
    # Given a registration with one bad field
    data, field, message = _bad_fields(scene)[case]
    before = written()
    # When the agent registers it
    with pytest.raises(ValidationError) as error:
        scene.register(**data)
    # Then the error names that field alone, and no order, event or number was made
    assert set(error.value.message_dict) == {field}
    assert message in error.value.message_dict[field][0]
    assert written() == before
    assert not OrderCounter.objects.exists()


def test_a_district_message_names_what_was_given(scene):
    city = scene.district.parent
    with pytest.raises(ValidationError) as error:
        scene.register(district=city.code)
    assert error.value.message_dict == {"district": [f"No district “{city.code}”."]}


@pytest.mark.parametrize(
    ("given", "confidential"),
    [
        ("", False),
        ("0", False),
        ("false", False),
        ("False", False),
        ("NO", False),
        (" off ", False),
        ("no", False),
        ("1", True),
        ("true", True),
        ("on", True),
        ("yes", True),
        (True, True),
        (False, False),
        (None, False),
    ],
)
def test_confidential_is_read_from_a_form_or_json(scene, given, confidential):
    order = fresh(scene.register(confidential=given))
    assert order.confidential is confidential


def test_a_media_url_is_kept(scene):
    url = "https://img.example.cn/orders/" + "a" * 440 + ".jpg"  # 474 characters
    order = fresh(scene.register(media_url=f"  {url} "))
    assert order.media_url == url
    assert fresh(scene.register(media_url="")).media_url == ""
    values = orders.order_fields(
        {"order_type": "help", "content": "x", "media_url": "http://a.cn/p.png"},
        order_channel="web",
    )
    assert values["media_url"] == "http://a.cn/p.png"


def test_the_source_of_an_order_is_in_its_register_event(scene):
    # When an order comes in through an Open311 client
    order = orders.order_register(
        actor=scene.agent,
        order_channel="app",
        data={"order_type": "help", "content": "小区停水", "caller_phone": "13800138000"},
        source="open311:城市通",
    )
    # Then the register event names it; an order without a source says nothing of one
    assert events(order).get().payload == {"channel": "app", "source": "open311:城市通"}
    assert events(scene.register()).get().payload == {"channel": "phone"}


def test_an_idempotency_key_is_at_most_64_characters(scene):
    data = {"order_type": "help", "content": "小区停水", "caller_phone": "13800138000"}
    before = written()
    with pytest.raises(ValidationError) as error:
        orders.order_register(
            actor=scene.agent, order_channel="app", data=data, idempotency_key="k" * 65
        )
    assert set(error.value.message_dict) == {"idempotency_key"}
    assert "At most 64 characters." in error.value.message_dict["idempotency_key"][0]
    assert written() == before
    order = orders.order_register(
        actor=scene.agent, order_channel="app", data=data, idempotency_key="k" * 64
    )
    assert fresh(order).idempotency_key == "k" * 64


def test_an_unknown_channel_is_named(scene):
    with pytest.raises(ValidationError) as error:
        scene.register(order_channel="pigeon")
    assert set(error.value.message_dict) == {"channel"}


def test_every_bad_field_is_reported_at_once(scene):
    with pytest.raises(ValidationError) as error:
        scene.register(order_type="", content="", caller_phone="x", district="0")
    assert set(error.value.message_dict) == {"order_type", "content", "caller_phone", "district"}


def test_a_web_order_may_come_without_a_phone(scene):
    order = scene.register(order_channel="web", caller_phone="")
    assert order.caller_phone == ""


def test_a_resent_registration_with_its_key_returns_the_first_order(scene):
    # Given an order registered with an idempotency key
    first = orders.order_register(
        actor=scene.agent,
        order_channel="app",
        data={"order_type": "help", "content": "小区停水", "caller_phone": "13800138000"},
        idempotency_key="app-req-1",
    )
    # When the same request is sent again (even with other data)
    again = orders.order_register(
        actor=scene.agent,
        order_channel="app",
        data={"order_type": "help", "content": "改了内容"},
        idempotency_key="app-req-1",
    )
    # Then it is the same order; one order, one event, one number used
    assert again.pk == first.pk and again.content == "小区停水"
    assert WorkOrder.objects.count() == 1
    assert AuditEvent.objects.filter(action="hotline.order.register").count() == 1
    assert scene.register().number == "GD2026110200002"


def test_numbers_are_gap_free_per_day_and_restart_each_day(scene, time):
    # Given three orders on one day, with a refused registration among them
    numbers = [scene.register().number for _ in range(2)]
    with pytest.raises(ValidationError):
        scene.register(content="")
    numbers.append(scene.register().number)
    # and one the next day
    time.to(2026, 11, 3, 0, 5)
    numbers.append(scene.register().number)
    # Then the numbers follow each other without a gap and start again on the new day
    assert numbers == [
        "GD2026110200001",
        "GD2026110200002",
        "GD2026110200003",
        "GD2026110300001",
    ]


def test_the_day_of_a_number_is_the_local_day(scene, time):
    # 16:30 UTC on 2 November is already 3 November in Shanghai.
    time.moment = at(2026, 11, 3, 0, 30)
    assert scene.register().number.startswith("GD20261103")


# --- every step from each of its states ---------------------------------------------------------


# What each step does to the state (None: the state stays).
TARGET = {
    "answer": S.CLOSED,
    "dispatch": S.DISPATCHED,
    "link": S.LINKED,
    "unlink": S.REGISTERED,
    "redispatch": S.DISPATCHED,
    "sign": S.HANDLING,
    "reply": S.REPLIED,
    "accept_reply": S.CALLBACK,
    "send_back": S.HANDLING,
    "callback": S.CLOSED,
}
# The role the event records for the one who takes each step.
ROLE = {
    "answer": "agent",
    "dispatch": "agent",
    "link": "agent",
    "unlink": "agent",
    "redispatch": "lead",
    "sign": "lead",
    "co_opinion": "co",
    "reply": "lead",
    "accept_reply": "agent",
    "send_back": "agent",
    "callback": "agent",
    "request_return": "lead",
    "request_extension": "lead",
    "decide_request": "agent",
    "supervise": "supervisor",
    "answer_supervision": "unit",
    "card": "supervisor",
}


def prepared(scene, action, order):
    """The call that takes `action` on `order` as the one who may (with what it needs made
    beforehand, so that a refusal can be checked to write nothing)."""
    a = scene
    if action == "answer":
        return lambda: orders.order_answer(order=order, actor=a.agent, answer="路灯已报修。")
    if action == "dispatch":
        return lambda: orders.order_dispatch(
            order=order, actor=a.agent, lead=a.unit, co_units=[a.co_unit], note="请尽快处理"
        )
    if action == "link":
        master = a.register()
        return lambda: orders.order_link(order=order, actor=a.agent, master=master)
    if action == "unlink":
        return lambda: orders.order_unlink(order=order, actor=a.agent, reason="不是同一件事")
    if action == "redispatch":
        return lambda: orders.order_redispatch(order=order, actor=a.handler, unit=a.sub_unit)
    if action == "sign":
        return lambda: orders.order_sign(order=order, actor=a.handler)
    if action == "co_opinion":
        return lambda: orders.order_co_opinion(order=order, actor=a.co_handler, opinion="同意")
    if action == "reply":
        return lambda: orders.order_reply(order=order, actor=a.handler, reply="已修复")
    if action == "accept_reply":
        return lambda: orders.order_accept_reply(order=order, actor=a.agent)
    if action == "send_back":
        return lambda: orders.order_send_back(order=order, actor=a.agent, reason="答复不完整")
    if action == "callback":
        return lambda: orders.order_callback(order=order, actor=a.agent, result="satisfied")
    if action in ("request_return", "request_extension"):
        kind = RequestKind.RETURN if action == "request_return" else RequestKind.EXTENSION
        return lambda: orders.order_request(
            order=order, actor=a.handler, kind=kind, reason="需要协调", amount=2
        )
    if action == "decide_request":
        request = pending_request(scene, order)
        return lambda: orders.order_decide_request(request=request, actor=a.agent, approve=True)
    if action == "supervise":
        return lambda: orders.order_supervise(order=order, actor=a.supervisor, instruction="速办")
    if action == "answer_supervision":
        supervision = Supervision.objects.create(
            order=order, unit=a.unit, instruction="速办", issued_at=timezone.now()
        )
        return lambda: orders.order_answer_supervision(
            supervision=supervision, actor=a.handler, answer="已落实"
        )
    if action == "card":
        return lambda: orders.order_card(order=order, actor=a.supervisor, reason="超时未办")
    raise AssertionError(action)


def pending_request(scene, order) -> OrderRequest:
    """A unit's extension request waiting for the center (a row, to set the scene)."""
    return OrderRequest.objects.create(
        order=order,
        kind=RequestKind.EXTENSION,
        unit=scene.unit,
        reason="需要协调",
        amount=2,
        requested_at=timezone.now(),
        requested_by=scene.handler,
    )


ALLOWED = [(action, status) for action, s in workflow.STEPS.items() for status in s.sources]


def test_the_workflow_names_every_state():
    assert {status for _a, status in ALLOWED} == set(S.values)
    assert all(s.actors for s in workflow.STEPS.values())


@pytest.mark.parametrize(("action", "status"), sorted(ALLOWED))
def test_each_step_from_each_of_its_states_writes_its_event(scene, time, action, status):
    # Given an order in a state the step starts from (for a card: signed 60 days late)
    if action == "card":
        order = scene.order_at(S.DISPATCHED)
        time.forward(days=60)
        scene.walk(order, status)
    else:
        order = scene.order_at(status)
    call = prepared(scene, action, order)
    actor = {
        "agent": scene.agent,
        "lead": scene.handler,
        "co": scene.co_handler,
        "unit": scene.handler,
        "supervisor": scene.supervisor,
    }[ROLE[action]]
    # When the one who may takes the step
    call()
    # Then the order is in the step's target state
    stored = fresh(order)
    assert stored.status == (TARGET.get(action) or status)
    # and one event records it: who, as what, from which state to which
    event = events(order, f"hotline.order.{action}").get()
    assert (event.from_state, event.to_state) == (status, stored.status)
    assert event.actor == actor
    assert event.role == ROLE[action]


@pytest.mark.parametrize("status", S.values)
def test_every_other_step_is_refused_and_writes_nothing(scene, time, status):
    # Given an order in one state
    order = scene.order_at(status)
    refused = [a for a, s in workflow.STEPS.items() if status not in s.sources]
    assert refused
    for action in refused:
        call = prepared(scene, action, order)
        before = written()
        # When a step that does not start from it is tried
        with pytest.raises(StepRefused) as error:
            call()
        # Then it is a state conflict (409) naming the status, and nothing changed
        assert isinstance(error.value, StateConflict)
        assert set(error.value.message_dict) == {"status"}
        assert written() == before, action
        assert fresh(order).status == status


def test_a_refusal_message_names_the_step_and_the_state():
    error = StepRefused("sign", S.CLOSED)
    assert error.message_dict == {
        "status": ["“Sign for the order” is not possible while the order is “Closed”."]
    }


def test_a_stale_copy_of_an_order_is_refused(scene):
    # Given two pages holding the same registered order
    order = scene.register()
    stale = WorkOrder.objects.get(pk=order.pk)
    orders.order_dispatch(order=order, actor=scene.agent, lead=scene.unit)
    # When the second dispatches it again
    with pytest.raises(StepRefused):
        orders.order_dispatch(order=stale, actor=scene.agent, lead=scene.co_unit)
    # Then there is one dispatch
    assert Assignment.objects.filter(order=order).count() == 1


# --- the center: answer and dispatch ------------------------------------------------------------


def test_an_instant_answer_closes_the_order_with_its_article(scene):
    # Given a published article and a registered order
    item = article()
    order = scene.register()
    # When the agent answers from it
    orders.order_answer(order=order, actor=scene.agent, answer=" 可在网上办理。 ", article=item)
    # Then the order is closed as answered at once, with the article cited
    order = fresh(order)
    assert (order.status, order.resolution) == (S.CLOSED, Resolution.INSTANT)
    assert order.reply == "可在网上办理。"
    assert order.article == item
    assert order.replied_at == order.closed_at == at(2026, 11, 2)
    event = events(order, "hotline.order.answer").get()
    assert event.payload == {"article": str(item.public_id)}


@pytest.mark.parametrize("status", ["draft", "pending", "retired"])
def test_an_answer_cites_only_an_article_in_force(scene, status):
    order = scene.register()
    with pytest.raises(ValidationError) as error:
        orders.order_answer(
            order=order, actor=scene.agent, answer="答", article=article(status=status)
        )
    assert set(error.value.message_dict) == {"article"}
    assert fresh(order).status == S.REGISTERED


def test_an_answer_needs_its_text_and_a_category(scene):
    order = scene.register(category="")
    with pytest.raises(ValidationError) as error:
        orders.order_answer(order=order, actor=scene.agent, answer=" ")
    assert set(error.value.message_dict) == {"answer", "category"}
    # The category may be given with the answer.
    orders.order_answer(order=order, actor=scene.agent, answer="答", category=scene.category.code)
    assert fresh(order).category == scene.category


def test_a_dispatch_makes_the_assignments_notices_and_clocks(scene):
    # When the agent dispatches an order to a lead unit and a co-handler
    order = scene.register()
    orders.order_dispatch(
        order=order, actor=scene.agent, lead=scene.unit, co_units=[scene.co_unit, scene.co_unit]
    )
    # Then the units each have one dispatch (a co-handler named twice counts once)
    order = fresh(order)
    assert order.lead_unit == scene.unit
    assert order.dispatched_at == at(2026, 11, 2)
    rows = order.assignments.order_by("role")
    assert [(a.unit, a.role, a.level, a.dispatched_by) for a in rows] == [
        (scene.co_unit, AssignmentRole.CO, 1, scene.agent),
        (scene.unit, AssignmentRole.LEAD, 1, scene.agent),
    ]
    # and a notice in each inbox, and the three clocks running
    assert set(
        Notice.objects.filter(kind=NoticeKind.DISPATCHED).values_list("unit", flat=True)
    ) == {
        scene.unit.pk,
        scene.co_unit.pk,
    }
    clocks = [order.sign_clock, order.reply_clock, order.close_clock]
    assert [c.purpose for c in clocks] == [OrderClock.SIGN, OrderClock.REPLY, OrderClock.CLOSE]
    assert all(c.status == Clock.Status.RUNNING for c in clocks)
    assert events(order, "hotline.order.dispatch").get().payload == {
        "lead": scene.unit.pk,
        "co_units": [scene.co_unit.pk],
    }


def test_a_dispatch_checks_its_units_and_category(scene):
    order = scene.register(category="")
    scene.other_unit.is_active = False
    scene.other_unit.save()
    with pytest.raises(ValidationError) as error:
        orders.order_dispatch(order=order, actor=scene.agent, lead=scene.other_unit)
    assert set(error.value.message_dict) == {"lead", "category"}
    with pytest.raises(ValidationError) as error:
        orders.order_dispatch(
            order=order,
            actor=scene.agent,
            lead=scene.unit,
            co_units=[scene.unit],
            category=scene.category,
        )
    assert set(error.value.message_dict) == {"co_units"}
    with pytest.raises(ValidationError) as error:
        orders.order_dispatch(
            order=order,
            actor=scene.agent,
            lead=scene.unit,
            co_units=[scene.other_unit],
            category=scene.category,
        )
    assert set(error.value.message_dict) == {"co_units"}
    assert not Assignment.objects.exists()
    assert fresh(order).status == S.REGISTERED


# --- the units ----------------------------------------------------------------------------------


def test_a_unit_passes_the_order_to_its_sub_unit_once(scene):
    # Given a dispatched order
    order = scene.order_at(S.DISPATCHED)
    # When the lead unit passes it to its sub-unit
    orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit, note="属地处理")
    # Then the sub-unit leads, one level down, and is told
    order = fresh(order)
    assert (order.status, order.lead_unit) == (S.DISPATCHED, scene.sub_unit)
    lead = order.assignments.get(unit=scene.sub_unit)
    assert (lead.role, lead.level, lead.parent.unit) == (AssignmentRole.LEAD, 2, scene.unit)
    assert Notice.objects.filter(unit=scene.sub_unit, kind=NoticeKind.DISPATCHED).exists()
    # and the parent's dispatch stays on record
    assert order.assignments.get(unit=scene.unit).is_active
    # When the sub-unit would pass it further down
    grandchild = DepartmentFactory(region=scene.district, parent=scene.sub_unit)
    with pytest.raises(ValidationError) as error:
        orders.order_redispatch(order=order, actor=scene.sub_handler, unit=grandchild)
    assert set(error.value.message_dict) == {"unit"}


def test_a_unit_redispatches_only_to_an_active_sub_unit_of_its_own(scene):
    order = scene.order_at(S.HANDLING)
    for unit in (scene.co_unit, scene.unit, None):
        with pytest.raises(ValidationError) as error:
            orders.order_redispatch(order=order, actor=scene.handler, unit=unit)
        assert set(error.value.message_dict) == {"unit"}
    scene.sub_unit.is_active = False
    scene.sub_unit.save()
    with pytest.raises(ValidationError):
        orders.order_redispatch(order=order, actor=scene.handler, unit=scene.sub_unit)
    assert fresh(order).lead_unit == scene.unit


def test_signing_records_when_the_lead_dispatch_was_signed(scene, time):
    order = scene.order_at(S.DISPATCHED)
    time.forward(hours=3)
    orders.order_sign(order=order, actor=scene.handler)
    order = fresh(order)
    assert order.signed_at == at(2026, 11, 2, 13)
    assert order.assignments.get(role=AssignmentRole.LEAD).signed_at == order.signed_at
    assert order.sign_clock.status == Clock.Status.STOPPED
    assert order.sign_clock.stopped_at == order.signed_at


def test_a_co_handler_gives_its_opinion(scene):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(ValidationError):
        orders.order_co_opinion(order=order, actor=scene.co_handler, opinion=" ")
    orders.order_co_opinion(order=order, actor=scene.co_handler, opinion="管线已排查")
    co = fresh(order).assignments.get(role=AssignmentRole.CO)
    assert co.opinion == "管线已排查" and co.signed_at is not None


def test_a_reply_needs_its_text_and_stops_the_reply_clock(scene):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(ValidationError) as error:
        orders.order_reply(order=order, actor=scene.handler, reply="")
    assert set(error.value.message_dict) == {"reply"}
    orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    order = fresh(order)
    assert order.reply_clock.status == Clock.Status.STOPPED
    # the close clock waits while the center reviews the reply
    assert order.close_clock.status == Clock.Status.PAUSED
    assert order.close_clock.pauses.get().kind == "hotline.review"


def test_a_reply_sent_back_goes_to_the_unit_with_the_reason(scene):
    order = scene.order_at(S.REPLIED)
    with pytest.raises(ValidationError) as error:
        orders.order_send_back(order=order, actor=scene.agent, reason=" ")
    assert set(error.value.message_dict) == {"reason"}
    orders.order_send_back(order=order, actor=scene.agent, reason="未说明维修时间")
    assert fresh(order).status == S.HANDLING
    notice = Notice.objects.get(kind=NoticeKind.SENT_BACK)
    assert (notice.unit, notice.detail) == (scene.unit, "未说明维修时间")
    assert events(order, "hotline.order.send_back").get().reason == "未说明维修时间"


@pytest.mark.parametrize("result", ["satisfied", "basic", "unreachable"])
def test_a_callback_closes_the_order(scene, result):
    order = scene.order_at(S.CALLBACK)
    orders.order_callback(order=order, actor=scene.agent, result=result, note="已回访")
    order = fresh(order)
    assert (order.status, order.satisfaction, order.resolution) == (
        S.CLOSED,
        result,
        Resolution.HANDLED,
    )
    assert order.close_clock.status == Clock.Status.STOPPED
    assert events(order, "hotline.order.callback").get().payload == {"result": result}


def test_a_callback_needs_a_verdict_and_a_caller_cannot_be_unreachable(scene):
    order = scene.order_at(S.CALLBACK, caller=scene.citizen)
    with pytest.raises(ValidationError) as error:
        orders.order_callback(order=order, actor=scene.agent, result="meh")
    assert set(error.value.message_dict) == {"result"}
    before = written()
    with pytest.raises(ValidationError) as error:
        orders.order_callback(order=order, actor=scene.citizen, result="unreachable")
    assert set(error.value.message_dict) == {"result"}
    assert written() == before
    orders.order_callback(order=order, actor=scene.citizen, result="basic")
    assert fresh(order).satisfaction == "basic"


# --- returns and extensions ---------------------------------------------------------------------


def test_one_request_of_each_kind_waits_at_a_time(scene):
    order = scene.order_at(S.HANDLING)
    first = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="需协调", amount=3
    )
    assert (first.status, first.unit, first.amount) == (RequestStatus.PENDING, scene.unit, 3)
    with pytest.raises(StateConflict) as error:
        orders.order_request(
            order=order, actor=scene.handler, kind="extension", reason="再申请", amount=1
        )
    assert set(error.value.message_dict) == {"kind"}
    # A return may wait beside it, and asks for no amount.
    ret = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非我单位职责", amount=9
    )
    assert ret.amount is None
    assert OrderRequest.objects.count() == 2
    assert events(order, "hotline.order.request_extension").count() == 1


@pytest.mark.parametrize("amount", [0, 16, "3", True, None])
def test_an_extension_asks_for_a_whole_number_within_the_close_limit(scene, amount):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(ValidationError) as error:
        orders.order_request(
            order=order, actor=scene.handler, kind="extension", reason="需协调", amount=amount
        )
    assert set(error.value.message_dict) == {"amount"}
    assert "Between 1 and 15" in error.value.message_dict["amount"][0]


def test_an_extension_amount_message_names_the_limit_and_unit(scene):
    order = scene.order_at(S.HANDLING)
    urgent = scene.order_at(S.HANDLING, urgency="very_urgent")
    for target, message in (
        (order, "Between 1 and 15 (Working days)."),
        (urgent, "Between 1 and 24 (Hours)."),
    ):
        with pytest.raises(ValidationError) as error:
            orders.order_request(
                order=target, actor=scene.handler, kind="extension", reason="x", amount=99
            )
        assert error.value.message_dict == {"amount": [message]}


def test_an_extension_is_bounded_by_the_close_clock_the_order_has(scene):
    # Given an order dispatched under the default rule (close within 15 working days)
    order = scene.order_at(S.HANDLING)
    # When the rule is changed afterwards to 20
    DeadlineRule.objects.create(
        order_type="complaint",
        urgency="normal",
        unit="workdays",
        sign_limit=1,
        reply_limit=5,
        close_limit=20,
    )
    # Then the order's own close clock bounds its extension, not the new rule
    with pytest.raises(ValidationError) as error:
        orders.order_request(
            order=order, actor=scene.handler, kind="extension", reason="x", amount=16
        )
    assert "Between 1 and 15" in error.value.message_dict["amount"][0]
    request = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="x", amount=15
    )
    assert request.amount == 15


@pytest.mark.parametrize("status", [S.REGISTERED, S.REPLIED, S.CALLBACK, S.CLOSED, S.LINKED])
@pytest.mark.parametrize("amount", [0, 99, None])
def test_an_extension_on_an_order_no_unit_holds_is_a_state_conflict(scene, status, amount):
    # Given an order no unit holds (some with no clock at all)
    order = scene.order_at(status)
    before = written()
    # When its unit asks for more time, with a bad amount too
    with pytest.raises(StepRefused) as error:
        orders.order_request(
            order=order, actor=scene.handler, kind="extension", reason="需协调", amount=amount
        )
    # Then the state is what is refused (409), not the amount, and nothing is written
    assert set(error.value.message_dict) == {"status"}
    assert written() == before


def test_a_bad_amount_from_someone_who_may_not_ask_is_a_refusal(scene):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(PermissionDenied):
        orders.order_request(
            order=order, actor=scene.co_handler, kind="extension", reason="x", amount=99
        )
    assert not OrderRequest.objects.exists()


def test_a_reply_is_refused_while_the_units_return_waits(scene):
    # Given a unit that asked to return the order it handles
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非我单位职责"
    )
    before = written()
    # When it replies before the center decided
    with pytest.raises(StateConflict) as error:
        orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    # Then the reply is a conflict on the reply (409), and nothing is written
    assert not isinstance(error.value, StepRefused)
    assert error.value.message_dict == {
        "reply": ["The return you asked for awaits the center's decision."]
    }
    assert written() == before
    assert fresh(order).status == S.HANDLING
    # Once the center keeps the order with the unit, it replies
    orders.order_decide_request(request=request, actor=scene.agent, approve=False, note="属贵单位")
    orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    assert fresh(order).status == S.REPLIED


def test_a_reply_withdraws_the_units_waiting_extension(scene, time):
    # Given an extension rejected earlier, and another waiting
    order = scene.order_at(S.HANDLING)
    rejected = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="x", amount=2
    )
    orders.order_decide_request(request=rejected, actor=scene.agent, approve=False, note="不予")
    waiting = orders.order_request(
        order=order, actor=scene.handler, kind="extension", reason="y", amount=3
    )
    # When the unit replies on Wednesday
    time.to(2026, 11, 4, 9)
    orders.order_reply(order=order, actor=scene.handler, reply="已修复")
    # Then the waiting one is withdrawn then (nobody decided it), the decided one kept
    waiting.refresh_from_db()
    rejected.refresh_from_db()
    assert (waiting.status, waiting.decided_by, waiting.decided_at) == (
        RequestStatus.WITHDRAWN,
        None,
        at(2026, 11, 4, 9),
    )
    assert (rejected.status, rejected.decided_at) == (RequestStatus.REJECTED, at(2026, 11, 2))
    assert events(order, "hotline.order.reply").get().payload == {
        "withdrawn_requests": [waiting.pk]
    }
    # and the center may no longer decide it
    order = fresh(order)
    orders.order_send_back(order=order, actor=scene.agent, reason="不完整")
    with pytest.raises(StateConflict) as error:
        orders.order_decide_request(request=waiting, actor=scene.agent, approve=True)
    assert set(error.value.message_dict) == {"request"}
    assert not fresh(order).reply_clock.extensions.exists()


def test_a_request_needs_a_kind_and_a_reason(scene):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(ValidationError) as error:
        orders.order_request(order=order, actor=scene.handler, kind="holiday", reason="x")
    assert set(error.value.message_dict) == {"kind"}
    with pytest.raises(ValidationError) as error:
        orders.order_request(order=order, actor=scene.handler, kind="return", reason=" ")
    assert set(error.value.message_dict) == {"reason"}
    assert not OrderRequest.objects.exists()


def test_a_rejection_needs_its_reason_and_a_request_is_decided_once(scene):
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind="return", reason="非我单位职责"
    )
    with pytest.raises(ValidationError) as error:
        orders.order_decide_request(request=request, actor=scene.agent, approve=False)
    assert set(error.value.message_dict) == {"note"}
    stale = OrderRequest.objects.get(pk=request.pk)
    orders.order_decide_request(
        request=request, actor=scene.agent, approve=False, note="属于贵单位职责"
    )
    assert (request.status, request.decided_by) == (RequestStatus.REJECTED, scene.agent)
    assert fresh(order).status == S.HANDLING
    notice = Notice.objects.get(kind=NoticeKind.DECISION)
    assert notice.unit == scene.unit and "属于贵单位职责" in notice.detail
    before = written()
    with pytest.raises(StateConflict) as error:
        orders.order_decide_request(request=stale, actor=scene.agent, approve=True)
    assert set(error.value.message_dict) == {"request"}
    assert written() == before


# --- supervision orders -------------------------------------------------------------------------


def test_a_supervision_order_goes_to_the_unit_holding_the_order(scene):
    order = scene.order_at(S.HANDLING)
    with pytest.raises(ValidationError) as error:
        orders.order_supervise(order=order, actor=scene.supervisor, instruction=" ")
    assert set(error.value.message_dict) == {"reason"}
    supervision = orders.order_supervise(
        order=order, actor=scene.supervisor, instruction="三日内办结"
    )
    assert (supervision.unit, supervision.instruction) == (scene.unit, "三日内办结")
    assert supervision.clock.purpose == OrderClock.SUPERVISION
    assert (supervision.clock.unit, supervision.clock.limit) == ("workdays", 2)
    assert Notice.objects.filter(unit=scene.unit, kind=NoticeKind.SUPERVISION).exists()
    # The co-handler may not answer it; the unit answers once.
    with pytest.raises(PermissionDenied):
        orders.order_answer_supervision(supervision=supervision, actor=scene.co_handler, answer="x")
    with pytest.raises(ValidationError) as error:
        orders.order_answer_supervision(supervision=supervision, actor=scene.handler, answer="")
    assert set(error.value.message_dict) == {"answer"}
    stale = Supervision.objects.get(pk=supervision.pk)
    orders.order_answer_supervision(supervision=supervision, actor=scene.handler, answer="已办结")
    stored = Supervision.objects.get(pk=supervision.pk)
    assert (stored.answer, stored.answered_by) == ("已办结", scene.handler)
    assert stored.clock.status == Clock.Status.STOPPED
    with pytest.raises(StateConflict):
        orders.order_answer_supervision(supervision=stale, actor=scene.handler, answer="again")


def test_an_urgent_orders_supervision_runs_in_hours(scene):
    order = scene.order_at(S.DISPATCHED, urgency="urgent")
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    assert (supervision.clock.unit, supervision.clock.limit) == ("hours", 12)
    assert supervision.clock.due_at == at(2026, 11, 2, 22)


def test_notices_are_read_per_order_or_all(scene):
    first = scene.order_at(S.DISPATCHED)
    scene.order_at(S.DISPATCHED)
    assert orders.notices_read(unit_ids=[scene.unit.pk], order=first) == 1
    assert orders.notices_read(unit_ids=[scene.unit.pk]) == 1
    assert not Notice.objects.filter(unit=scene.unit, read_at__isnull=True).exists()
    assert Notice.objects.filter(unit=scene.co_unit, read_at__isnull=True).count() == 2


# --- manage.py hotline_sweep --------------------------------------------------------------------


def test_the_command_issues_the_cards_and_prints_them_per_colour(scene, time):
    # Given an order whose unit has not signed, swept after its sign deadline
    order = scene.order_at(S.DISPATCHED)
    time.to(2026, 11, 5)
    out = StringIO()
    # When the command runs (as the task would)
    call_command("hotline_sweep", stdout=out)
    # Then the sign deadline got its yellow card, and the next call issues nothing more
    assert out.getvalue().splitlines() == ["1 yellow card issued.", "0 red cards issued."]
    card = Card.objects.get()
    assert (card.order, card.unit, card.colour) == (fresh(order), scene.unit, CardColour.YELLOW)
    time.to(2026, 11, 10)
    out = StringIO()
    call_command("hotline_sweep", stdout=out)
    assert out.getvalue().splitlines() == ["0 yellow cards issued.", "1 red card issued."]


def test_the_command_dry_run_lists_the_missed_deadlines_and_changes_nothing(
    scene, time, django_assert_num_queries
):
    order = scene.order_at(S.DISPATCHED)
    supervision = orders.order_supervise(order=order, actor=scene.supervisor, instruction="速办")
    time.to(2026, 11, 10)
    before = written()
    out = StringIO()
    with django_assert_num_queries(3):  # the missed clocks, their orders, the supervisions'
        call_command("hotline_sweep", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Would card {order.number}: Sign for it, due 2026-11-03 23:59.",
        f"Would card {order.number}: Answer the supervision, due 2026-11-04 23:59.",
        f"Would card {order.number}: Reply, due 2026-11-09 23:59.",
        "3 missed deadlines would be carded.",
        "Dry run: nothing was changed.",
    ]
    assert written() == before
    assert supervision.clock_id in orders.overdue_clocks(timezone.now()).values_list(
        "pk", flat=True
    )


def test_the_task_is_the_sweep_and_runs_every_15_minutes(scene, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["hotline-sweep"]
    assert entry["task"] == tasks.sweep_hotline.name
    assert entry["schedule"] == 15 * 60
    assert tasks.sweep_hotline.delay().get() == {"yellow_cards": 0, "red_cards": 0}
