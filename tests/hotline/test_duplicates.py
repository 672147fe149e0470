"""Duplicate orders (重复件): finding them (yimen.hotline.duplicates.candidates: an open order
of the last YIMEN_HOTLINE_DUPLICATE_DAYS days from the same phone, or about the same thing in
the same category or district), linking one to its master, following the master to its end
(instant answer or callback), never being dispatched, and unlinking."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yimen.common.models import AuditEvent
from yimen.hotline import duplicates, orders
from yimen.hotline.choices import OrderStatus as S
from yimen.hotline.choices import Resolution
from yimen.hotline.models import WorkOrder
from yimen.hotline.workflow import StepRefused

from .factories import Frozen, OrderScene, at, leaf

pytestmark = pytest.mark.django_db

LAMP = "禅城区季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。"
LAMP_AGAIN = "季华路文华路交界路灯连续几晚不亮，行人很危险，请尽快修复。"
NOISE = "楼下烧烤店每晚营业到凌晨两点，噪音扰民严重。"


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:
        yield frozen


@pytest.fixture
def scene(time):
    return OrderScene()


def fresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def found(**query) -> list[WorkOrder]:
    return [c.order for c in duplicates.candidates(**query)]


# --- candidates --------------------------------------------------------------------------------


def test_an_open_order_from_the_same_phone_is_a_candidate(scene, time):
    # Given an order from a caller three days ago, about something else
    earlier = scene.register(content=NOISE)
    time.to(2026, 11, 5)
    # When the same caller calls again
    [candidate] = duplicates.candidates(content=LAMP, phone="13800138000")
    # Then that order is suggested for its phone
    assert candidate.order == earlier
    assert candidate.same_phone is True
    assert candidate.similarity < duplicates.SIMILAR
    assert candidate.score == pytest.approx(0.5 + candidate.similarity, abs=0.001)


def test_similar_content_in_the_same_category_or_district_is_a_candidate(scene):
    earlier = scene.register(content=LAMP, caller_phone="13500135000")
    by_category = duplicates.candidates(
        content=LAMP_AGAIN, phone="13800000000", category_id=scene.category.pk
    )
    assert [c.order for c in by_category] == [earlier]
    assert by_category[0].same_phone is False
    assert by_category[0].similarity >= duplicates.SIMILAR
    assert found(content=LAMP_AGAIN, district_id=scene.district.pk) == [earlier]
    # Not in another category and district, from another phone
    assert (
        found(
            content=LAMP_AGAIN,
            phone="13800000000",
            category_id=leaf().pk,
            district_id=scene.other_district.pk,
        )
        == []
    )


def test_dissimilar_content_from_another_phone_is_not_a_candidate(scene):
    scene.register(content=NOISE, caller_phone="13500135000")
    assert found(content=LAMP, phone="13800000000", category_id=scene.category.pk) == []


def test_with_nothing_to_narrow_by_every_recent_order_is_compared(scene):
    earlier = scene.register(content=LAMP, caller_phone="13500135000")
    assert found(content=LAMP_AGAIN) == [earlier]
    assert found(content=NOISE) == []


@pytest.mark.parametrize(("days", "expected"), [(3, False), (7, True)])
def test_only_orders_of_the_last_days_are_candidates(scene, time, settings, days, expected):
    settings.YIMEN_HOTLINE_DUPLICATE_DAYS = days
    earlier = scene.register()
    time.to(2026, 11, 6, 11)  # four days and an hour later
    assert (earlier in found(content=LAMP, phone="13800138000")) is expected


def test_the_default_window_is_a_week(scene, time, settings):
    assert settings.YIMEN_HOTLINE_DUPLICATE_DAYS == 7
    earlier = scene.register()
    time.to(2026, 11, 9, 9, 59)
    assert found(content=LAMP, phone="13800138000") == [earlier]
    time.to(2026, 11, 9, 10, 1)
    assert found(content=LAMP, phone="13800138000") == []


def test_an_order_received_after_the_moment_asked_about_is_not_a_candidate(scene, time):
    scene.register()
    assert found(content=LAMP, phone="13800138000", now=at(2026, 11, 2, 9)) == []


@pytest.mark.parametrize("status", [S.CLOSED, S.LINKED])
def test_closed_and_linked_orders_are_not_candidates(scene, status):
    scene.order_at(status)
    masters = [o for o in WorkOrder.objects.exclude(status=status)]
    assert found(content=LAMP, phone="13800138000") == masters  # a linked one's master only


@pytest.mark.parametrize("status", [S.DISPATCHED, S.HANDLING, S.REPLIED, S.CALLBACK])
def test_orders_being_handled_are_candidates(scene, status):
    earlier = scene.order_at(status)
    assert found(content=LAMP, phone="13800138000") == [fresh(earlier)]


def test_an_order_is_not_its_own_candidate(scene):
    order = scene.register()
    assert found(content=LAMP, phone="13800138000", exclude=order) == []


def test_candidates_come_best_first_and_are_limited(scene, time):
    # Given a similar order from the same phone, one from another phone, and one from the
    # same phone about something else
    same_phone_similar = scene.register()
    time.forward(hours=1)
    similar = scene.register(caller_phone="13500135000")
    time.forward(hours=1)
    same_phone = scene.register(content=NOISE)
    # When the candidates of a similar new order from that phone are looked up
    ranked = duplicates.candidates(
        content=LAMP_AGAIN, phone="13800138000", category_id=scene.category.pk
    )
    # Then all three come, the similar one from the same phone first, best score first
    assert ranked[0].order == same_phone_similar
    assert {c.order for c in ranked} == {same_phone_similar, similar, same_phone}
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)
    assert [
        c.order for c in duplicates.candidates(content=LAMP_AGAIN, phone="13800138000", limit=1)
    ] == [same_phone_similar]


def test_of_two_equally_good_candidates_the_newer_comes_first(scene, time):
    older = scene.register(caller_phone="13500135000")
    time.forward(hours=1)
    newer = scene.register(caller_phone="13400134000")
    assert found(content=LAMP, category_id=scene.category.pk) == [newer, older]


# --- linking ----------------------------------------------------------------------------------


def test_a_duplicate_is_linked_to_its_master(scene):
    master = scene.order_at(S.DISPATCHED)
    duplicate = scene.register()
    orders.order_link(order=duplicate, actor=scene.agent, master=master)
    duplicate = fresh(duplicate)
    assert (duplicate.status, duplicate.master) == (S.LINKED, master)
    event = AuditEvent.objects.get(action="hotline.order.link")
    assert event.payload == {"master": master.number}
    assert (event.from_state, event.to_state) == (S.REGISTERED, S.LINKED)


def test_linking_to_a_linked_order_links_to_its_master(scene):
    master = scene.register()
    first = scene.register()
    orders.order_link(order=first, actor=scene.agent, master=master)
    second = scene.register()
    orders.order_link(order=second, actor=scene.agent, master=fresh(first))
    assert fresh(second).master == master


@pytest.mark.parametrize("case", ["itself", "its own duplicate", "closed"])
def test_an_order_is_not_linked_to_itself_or_to_a_closed_order(scene, case):
    order = scene.register()
    if case == "itself":
        master = order
    elif case == "its own duplicate":
        master = scene.register()
        orders.order_link(order=master, actor=scene.agent, master=order)
        master = fresh(master)
    else:
        master = scene.order_at(S.CLOSED)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        orders.order_link(order=order, actor=scene.agent, master=master)
    assert set(error.value.message_dict) == {"master"}
    assert fresh(order).status == S.REGISTERED
    assert AuditEvent.objects.count() == events


def test_a_linked_order_is_never_dispatched(scene):
    master = scene.register()
    duplicate = scene.register()
    orders.order_link(order=duplicate, actor=scene.agent, master=master)
    with pytest.raises(StepRefused):
        orders.order_dispatch(order=duplicate, actor=scene.agent, lead=scene.unit)
    with pytest.raises(StepRefused):
        orders.order_answer(order=duplicate, actor=scene.agent, answer="答")
    # while its master goes on
    scene.walk(master, S.HANDLING)
    assert not fresh(duplicate).assignments.exists()
    assert fresh(duplicate).status == S.LINKED


def test_linked_orders_close_with_a_master_answered_at_once(scene, time):
    master = scene.register()
    duplicates_ = [scene.register(caller_phone=f"1350013500{n}") for n in range(2)]
    for duplicate in duplicates_:
        orders.order_link(order=duplicate, actor=scene.agent, master=master)
    time.forward(minutes=5)
    orders.order_answer(order=master, actor=scene.agent, answer="已转告路灯所。")
    for duplicate in duplicates_:
        duplicate = fresh(duplicate)
        assert (duplicate.status, duplicate.resolution) == (S.CLOSED, Resolution.FOLLOWED_MASTER)
        assert duplicate.reply == "已转告路灯所。"
        assert duplicate.closed_at == duplicate.replied_at == at(2026, 11, 2, 10, 5)
    events = AuditEvent.objects.filter(action="hotline.order.follow_master")
    assert events.count() == 2
    assert {(e.from_state, e.to_state, e.actor_id) for e in events} == {
        (S.LINKED, S.CLOSED, scene.agent.pk)
    }
    assert events.first().payload == {"master": master.number}


def test_linked_orders_close_with_a_master_closed_at_its_callback(scene):
    master = scene.order_at(S.DISPATCHED)
    duplicate = scene.register()
    orders.order_link(order=duplicate, actor=scene.agent, master=master)
    scene.walk(fresh(master), S.CLOSED)
    duplicate = fresh(duplicate)
    assert (duplicate.status, duplicate.resolution) == (S.CLOSED, Resolution.FOLLOWED_MASTER)
    assert duplicate.reply == fresh(master).reply
    assert duplicate.closed_at == fresh(master).closed_at


def test_linked_orders_stay_linked_while_their_master_is_reopened(scene):
    master = scene.order_at(S.CALLBACK)
    duplicate = scene.register()
    orders.order_link(order=duplicate, actor=scene.agent, master=master)
    orders.order_callback(order=master, actor=scene.agent, result="unsatisfied")
    assert fresh(duplicate).status == S.LINKED


def test_an_order_that_had_duplicates_takes_them_along_when_it_is_linked(scene):
    # Given an order B with its own duplicate C, found later to repeat an earlier order A
    first = scene.register()
    second = scene.register()
    third = scene.register()
    orders.order_link(order=third, actor=scene.agent, master=second)
    orders.order_link(order=second, actor=scene.agent, master=first)
    # When A is answered
    orders.order_answer(order=first, actor=scene.agent, answer="已处理")
    # Then B and C both close with it
    assert fresh(second).status == S.CLOSED
    assert fresh(third).status == S.CLOSED
    assert fresh(third).resolution == Resolution.FOLLOWED_MASTER


def test_an_unlinked_order_is_handled_on_its_own(scene):
    master = scene.register()
    duplicate = scene.register()
    orders.order_link(order=duplicate, actor=scene.agent, master=master)
    with pytest.raises(ValidationError) as error:
        orders.order_unlink(order=duplicate, actor=scene.agent, reason=" ")
    assert set(error.value.message_dict) == {"reason"}
    orders.order_unlink(order=duplicate, actor=scene.agent, reason="不是同一件事")
    duplicate = fresh(duplicate)
    assert (duplicate.status, duplicate.master) == (S.REGISTERED, None)
    event = AuditEvent.objects.get(action="hotline.order.unlink")
    assert (event.payload, event.reason) == ({"master": master.number}, "不是同一件事")
    # it no longer follows the master, and can be dispatched
    orders.order_answer(order=master, actor=scene.agent, answer="已处理")
    assert fresh(duplicate).status == S.REGISTERED
    orders.order_dispatch(order=duplicate, actor=scene.agent, lead=scene.unit)
    assert fresh(duplicate).status == S.DISPATCHED
