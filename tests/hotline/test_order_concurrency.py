"""Concurrent writers on one work order: the order's row lock lets exactly one agent dispatch
it, one handler sign it and one decision settle a unit's request; a resent registration
makes one order, the day's numbers stay gap-free, and two sweeps card a deadline once.

Runs on PostgreSQL only (row locks, several connections); skipped on SQLite."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.cases.test_concurrency import TIMEOUT, run_together
from yimen.common.errors import StateConflict
from yimen.common.models import AuditEvent
from yimen.hotline import orders
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.choices import RequestStatus
from yimen.hotline.models import Assignment, Card, Notice, OrderRequest, WorkOrder
from yimen.hotline.workflow import StepRefused

from .factories import Frozen, OrderScene, agent, at, handler

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the row locks of concurrent writers are tested on PostgreSQL",
    ),
]


@pytest.fixture
def scene():
    return OrderScene()


def slowly(monkeypatch, name, delay=0.3):
    """Make a helper of yimen.hotline.orders that runs under the order's lock take a while,
    so the second writer arrives while the first still holds it."""
    original = getattr(orders, name)

    def slow(*args, **kwargs):
        threading.Event().wait(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(orders, name, slow)


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def events(order, action):
    return AuditEvent.objects.filter(
        object_type="hotline.workorder", object_id=str(order.pk), action=f"hotline.order.{action}"
    )


def test_two_agents_dispatching_one_order_at_once_dispatch_it_once(scene, monkeypatch):
    # Given a registered order on two agents' screens
    order = scene.register()
    other_agent = agent()
    slowly(monkeypatch, "_start_clocks")
    # When both dispatch it at once, to different units
    results = run_together(
        lambda: orders.order_dispatch(order=fresh(order), actor=scene.agent, lead=scene.unit),
        lambda: orders.order_dispatch(order=fresh(order), actor=other_agent, lead=scene.co_unit),
    )
    # Then one dispatch stands and the other is refused as stale
    done = [r for r in results if isinstance(r, WorkOrder)]
    refused = [r for r in results if isinstance(r, StepRefused)]
    assert (len(done), len(refused)) == (1, 1), results
    stored = fresh(order)
    assert stored.status == S.DISPATCHED
    assert stored.lead_unit_id == done[0].lead_unit_id
    assert list(Assignment.objects.filter(order=order).values_list("unit", flat=True)) == [
        stored.lead_unit_id
    ]
    assert Notice.objects.filter(order=order).count() == 1
    assert events(order, "dispatch").count() == 1


def test_two_handlers_signing_one_order_at_once_sign_it_once(scene, monkeypatch):
    order = scene.order_at(S.DISPATCHED)
    colleague = handler(scene.unit)
    slowly(monkeypatch, "_lead_assignment")

    results = run_together(
        lambda: orders.order_sign(order=fresh(order), actor=scene.handler),
        lambda: orders.order_sign(order=fresh(order), actor=colleague),
    )

    assert sum(isinstance(r, WorkOrder) for r in results) == 1, results
    assert sum(isinstance(r, StepRefused) for r in results) == 1, results
    stored = fresh(order)
    assert stored.status == S.HANDLING
    assert events(order, "sign").count() == 1
    assert events(order, "sign").get().actor_id in {scene.handler.pk, colleague.pk}


@pytest.mark.parametrize("kind", ["extension", "return"])
def test_two_decisions_of_one_request_at_once_leave_one(scene, monkeypatch, kind):
    # Given a unit's request waiting for the center
    order = scene.order_at(S.HANDLING)
    request = orders.order_request(
        order=order, actor=scene.handler, kind=kind, reason="需协调", amount=2
    )
    other_agent = agent()
    slowly(monkeypatch, "_notify")
    # When one agent approves it while another rejects it
    results = run_together(
        lambda: orders.order_decide_request(
            request=OrderRequest.objects.get(pk=request.pk), actor=scene.agent, approve=True
        ),
        lambda: orders.order_decide_request(
            request=OrderRequest.objects.get(pk=request.pk),
            actor=other_agent,
            approve=False,
            note="不予同意",
        ),
    )
    # Then one decision stands; the other is a conflict (decided already, or the order
    # returned meanwhile)
    decided = [r for r in results if isinstance(r, OrderRequest)]
    conflicts = [r for r in results if isinstance(r, StateConflict)]
    assert (len(decided), len(conflicts)) == (1, 1), results
    stored = OrderRequest.objects.get(pk=request.pk)
    assert stored.status == decided[0].status
    assert events(order, "decide_request").count() == 1
    returned = kind == "return" and stored.status == RequestStatus.APPROVED
    assert fresh(order).status == (S.REGISTERED if returned else S.HANDLING)
    extended = kind == "extension" and stored.status == RequestStatus.APPROVED
    assert fresh(order).close_clock.extensions.count() == (1 if extended else 0)


def test_a_registration_resent_at_once_makes_one_order(scene, monkeypatch):
    # Both requests pass the "is there an order with this key?" check before either writes.
    meet = threading.Barrier(2)
    original = orders.order_fields

    def after_each_other(*args, **kwargs):
        meet.wait(timeout=TIMEOUT)
        return original(*args, **kwargs)

    monkeypatch.setattr(orders, "order_fields", after_each_other)

    def register():
        return orders.order_register(
            actor=scene.agent,
            order_channel="app",
            data={"order_type": "help", "content": "小区停水", "caller_phone": "13800138000"},
            idempotency_key="double-tap",
        )

    results = run_together(register, register)

    assert all(isinstance(r, WorkOrder) for r in results), results
    assert results[0].pk == results[1].pk
    assert WorkOrder.objects.count() == 1
    assert AuditEvent.objects.filter(action="hotline.order.register").count() == 1
    monkeypatch.setattr(orders, "order_fields", original)
    assert scene.register().number.endswith("00002")  # the loser's number was not used


def test_numbers_stay_unique_and_gap_free_under_concurrent_registrations(scene):
    per_thread, threads = 3, 4

    def register_many():
        return [scene.register().number for _ in range(per_thread)]

    results = run_together(*(register_many for _ in range(threads)))

    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for batch in results for n in batch)
    prefix = numbers[0][:-5]
    assert numbers == [f"{prefix}{n:05d}" for n in range(1, per_thread * threads + 1)]


def test_two_sweeps_at_once_card_a_missed_deadline_once(scene):
    with Frozen(at(2026, 11, 2)) as time:
        order = scene.order_at(S.DISPATCHED)
        time.to(2026, 11, 4)

        results = run_together(orders.sweep, orders.sweep)

    assert sorted(r["yellow_cards"] for r in results) == [0, 1], results
    assert Card.objects.filter(order=order).count() == 1
    assert events(order, "card").count() == 1


def test_a_link_racing_the_masters_answer_never_leaves_a_duplicate_behind(scene, monkeypatch):
    # Given a duplicate being linked while another agent answers its master
    master = scene.register()
    duplicate = scene.register()
    other_agent = agent()
    original = orders._record

    def slow_link(order, *, action, **kwargs):
        if action == "link":  # the link lingers before it commits
            threading.Event().wait(0.5)
        return original(order, action=action, **kwargs)

    monkeypatch.setattr(orders, "_record", slow_link)

    results = run_together(
        lambda: orders.order_link(order=fresh(duplicate), actor=scene.agent, master=fresh(master)),
        lambda: orders.order_answer(order=fresh(master), actor=other_agent, answer="已处理"),
    )

    # Then the duplicate either closed with its master or was refused and waits on its own
    assert isinstance(results[1], WorkOrder), results
    assert fresh(master).status == S.CLOSED
    stored = fresh(duplicate)
    if isinstance(results[0], WorkOrder):
        assert stored.status == S.CLOSED
    else:
        assert set(results[0].message_dict) == {"master"}
        assert stored.status == S.REGISTERED
