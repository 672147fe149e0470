"""Deadline rules by type × urgency: a row per pair set through the service (sign ≤ reply ≤
close, clear field errors, audited with the before and after), the documented defaults
where no row exists, and filling the missing rows with them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from yimen.common.models import AuditEvent
from yimen.hotline import selectors, services
from yimen.hotline.choices import DeadlineUnit, OrderType, Urgency
from yimen.hotline.models import DeadlineRule
from yimen.org.choices import Role

from .factories import agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return grant(UserFactory(username="deadline-admin"), Role.SYSTEM_ADMIN)


def set_rule(actor, **changes):
    values = {
        "order_type": OrderType.COMPLAINT,
        "urgency": Urgency.NORMAL,
        "unit": DeadlineUnit.WORKDAYS,
        "sign_limit": 1,
        "reply_limit": 5,
        "close_limit": 15,
        **changes,
    }
    return services.deadline_rule_set(actor=actor, **values)


def limits(rule):
    return (rule.unit, rule.sign_limit, rule.reply_limit, rule.close_limit)


# --- defaults ------------------------------------------------------------------------------


def test_every_type_and_urgency_has_a_default():
    assert set(services.DEFAULT_DEADLINES) == {
        (t, u) for t in OrderType.values for u in Urgency.values
    }
    for unit, sign, reply, close in services.DEFAULT_DEADLINES.values():
        assert unit in DeadlineUnit.values and 0 < sign <= reply <= close


@pytest.mark.parametrize(
    ("order_type", "urgency", "expected"),
    [
        (OrderType.COMPLAINT, Urgency.VERY_URGENT, ("hours", 2, 12, 24)),
        (OrderType.HELP, Urgency.URGENT, ("hours", 4, 24, 48)),
        (OrderType.REPORT, Urgency.NORMAL, ("workdays", 1, 5, 15)),
        (OrderType.CONSULTATION, Urgency.NORMAL, ("workdays", 1, 3, 5)),
    ],
)
def test_without_a_row_the_default_applies(order_type, urgency, expected):
    rule = services.deadline_for(order_type, urgency)
    assert rule.pk is None and limits(rule) == expected


def test_a_row_overrides_the_default(admin_user):
    set_rule(admin_user, sign_limit=2, reply_limit=4, close_limit=10)
    rule = services.deadline_for(OrderType.COMPLAINT, Urgency.NORMAL)
    assert rule.pk is not None and limits(rule) == ("workdays", 2, 4, 10)


def test_an_unknown_pair_is_a_programming_error():
    with pytest.raises(ValueError):
        services.deadline_for("gossip", Urgency.NORMAL)


def test_filling_the_defaults_creates_the_missing_rows_once(admin_user):
    set_rule(admin_user, sign_limit=2, reply_limit=4, close_limit=10)
    created = services.ensure_default_deadlines(actor=admin_user)
    assert created == len(OrderType.values) * len(Urgency.values) - 1
    assert services.ensure_default_deadlines(actor=admin_user) == 0
    # The row set before kept its own limits
    kept = DeadlineRule.objects.get(order_type=OrderType.COMPLAINT, urgency=Urgency.NORMAL)
    assert limits(kept) == ("workdays", 2, 4, 10)


def test_the_table_lists_every_pair_in_one_query(admin_user, django_assert_num_queries):
    set_rule(admin_user)
    with django_assert_num_queries(1):
        table = selectors.deadline_rules()
    assert len(table) == len(OrderType.values) * len(Urgency.values)
    assert sum(1 for rule in table if rule.pk) == 1
    assert [r.urgency for r in table[:3]] == ["very_urgent", "urgent", "normal"]


# --- setting a rule ------------------------------------------------------------------------


def test_setting_a_rule_is_audited_with_before_and_after(admin_user):
    rule = set_rule(admin_user)
    set_rule(admin_user, reply_limit=3)
    first, second = AuditEvent.objects.filter(action="hotline.deadline.set").order_by("pk")
    assert first.object_id == second.object_id == str(rule.pk)
    assert first.from_state == "" and first.to_state == "1/5/15 workdays"
    assert second.from_state == "1/5/15 workdays" and second.to_state == "1/3/15 workdays"
    assert second.payload["before"]["reply_limit"] == 5
    assert second.actor == admin_user and second.channel == "admin"


def test_setting_the_same_limits_again_writes_nothing(admin_user):
    set_rule(admin_user)
    set_rule(admin_user)
    assert AuditEvent.objects.filter(action="hotline.deadline.set").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"sign_limit": 6}, "reply_limit", "before signing"),
        ({"close_limit": 4}, "close_limit", "before replying"),
        ({"sign_limit": 0}, "sign_limit", "At least 1"),
        ({"sign_limit": "abc"}, "sign_limit", "whole number"),
        ({"reply_limit": 2.5}, "reply_limit", "whole number"),
        ({"close_limit": None}, "close_limit", "required"),
        ({"close_limit": 5000}, "close_limit", "At most"),
        ({"unit": "weeks"}, "unit", "hours or working days"),
        ({"order_type": "gossip"}, "order_type", "type"),
        ({"urgency": "whenever"}, "urgency", "urgency"),
    ],
)
def test_bad_limits_are_clear_field_errors(admin_user, changes, field, words):
    with pytest.raises(ValidationError) as exc:
        set_rule(admin_user, **changes)
    assert words in " ".join(exc.value.message_dict[field])
    assert not DeadlineRule.objects.exists()


def test_numbers_typed_as_text_are_accepted(admin_user):
    rule = set_rule(admin_user, sign_limit="2", reply_limit=" 8 ", close_limit="20")
    assert limits(rule) == ("workdays", 2, 8, 20)


@pytest.mark.parametrize("role", [Role.HOTLINE_AGENT, Role.SUPERVISOR, Role.CATALOGUE_ADMIN])
def test_only_system_admins_set_rules(role):
    user = agent() if role == Role.HOTLINE_AGENT else grant(UserFactory(), role)
    with pytest.raises(PermissionDenied):
        set_rule(user)
    assert not DeadlineRule.objects.exists()
