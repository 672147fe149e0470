"""The workflow table: every action's sources, targets, node and performers, stated here
once more from the process (DOMAIN §5) so that a change to the table is a deliberate one;
each action refuses every state it does not start from; and which actions a child case of a
joint application (主题联办) offers, against a case of its own."""

from dataclasses import dataclass

import pytest

from yimen.cases.choices import FINAL_STATES, OPEN_STATES, CaseStatus, Performer
from yimen.cases.workflow import (
    BY_THEME,
    NOT_ON_CHILD,
    ON_CHILD,
    TRANSITIONS,
    TransitionRefused,
    actions_from,
    transition,
)
from yimen.catalog.choices import Node

S = CaseStatus
P = Performer
REVIEW = {S.IN_REVIEW}
BEFORE_DECISION = set(OPEN_STATES)

# action: (sources, targets, node, performers, needs a reason)
EXPECTED = {
    "prereview_pass": ({S.SUBMITTED}, {S.PREREVIEWED}, Node.PREREVIEW, {P.CLERK}, False),
    "receive": ({S.SUBMITTED, S.PREREVIEWED}, {S.RECEIVED}, Node.RECEIPT, {P.CLERK}, False),
    "accept": ({S.RECEIVED}, REVIEW, Node.ACCEPTANCE, {P.CLERK}, False),
    "accept_tolerant": ({S.RECEIVED}, REVIEW, Node.ACCEPTANCE, {P.CLERK}, False),
    "deem_accepted": ({S.RECEIVED}, REVIEW, Node.ACCEPTANCE, {P.SYSTEM}, False),
    "refuse": ({S.RECEIVED}, {S.NOT_ACCEPTED}, Node.ACCEPTANCE, {P.CLERK}, True),
    "request_correction": (
        {S.SUBMITTED, S.RECEIVED}, {S.CORRECTION}, Node.ACCEPTANCE, {P.CLERK}, True,
    ),
    "resubmit": (
        {S.CORRECTION}, {S.SUBMITTED, S.RECEIVED}, Node.RECEIPT, {P.APPLICANT, P.CLERK}, False,
    ),
    "ask_correction": (REVIEW, {S.CORRECTION}, Node.REVIEW, {P.REVIEWER}, True),
    "correction_answered": (
        {S.CORRECTION}, REVIEW, Node.RECEIPT, {P.APPLICANT, P.CLERK, P.SYSTEM}, False,
    ),
    "review_pass": (REVIEW, REVIEW, Node.REVIEW, {P.REVIEWER}, False),
    "send_back": (REVIEW, REVIEW, Node.REVIEW, {P.REVIEWER}, True),
    "suspend": (REVIEW, {S.SUSPENDED}, Node.SPECIAL_PROCEDURE, {P.REVIEWER, P.HEAD}, True),
    "resume": ({S.SUSPENDED}, REVIEW, Node.SPECIAL_PROCEDURE, {P.REVIEWER, P.HEAD}, False),
    "extend": (
        {S.IN_REVIEW, S.SUSPENDED}, {S.IN_REVIEW, S.SUSPENDED}, Node.DECISION, {P.HEAD}, True,
    ),
    "approve": (REVIEW, {S.APPROVED}, Node.DECISION, {P.REVIEWER}, False),
    "deny": (REVIEW, {S.DENIED}, Node.DECISION, {P.REVIEWER}, True),
    "record_fee": ({S.APPROVED}, {S.APPROVED}, Node.FEES, {P.CLERK, P.REVIEWER}, False),
    "supply_tolerated": (
        {S.IN_REVIEW, S.SUSPENDED, S.APPROVED}, {S.IN_REVIEW, S.SUSPENDED, S.APPROVED},
        Node.RECEIPT, {P.CLERK, P.APPLICANT}, False,
    ),
    "produce": ({S.APPROVED}, {S.READY}, Node.CERTIFICATE, {P.REVIEWER, P.SYSTEM}, False),
    "deliver": ({S.READY, S.DENIED}, {S.DELIVERED}, Node.DELIVERY, {P.CLERK, P.SYSTEM}, False),
    "evaluate": (
        {S.DELIVERED, S.ARCHIVED, S.NOT_ACCEPTED}, {S.DELIVERED, S.ARCHIVED, S.NOT_ACCEPTED},
        Node.EVALUATION, {P.APPLICANT}, False,
    ),
    "archive": ({S.DELIVERED}, {S.ARCHIVED}, Node.EVALUATION, {P.CLERK, P.SYSTEM}, False),
    "withdraw": (BEFORE_DECISION, {S.WITHDRAWN}, Node.DECISION, {P.APPLICANT}, True),
    "terminate": (
        (BEFORE_DECISION - {S.SUBMITTED, S.PREREVIEWED}) | {S.APPROVED}, {S.TERMINATED},
        Node.DECISION,
        {P.REVIEWER, P.HEAD, P.SYSTEM}, True,
    ),
}  # fmt: skip

# How each action applies to a child case of a joint application: taken on the child by
# its department (ON_CHILD), by the application for all its cases (BY_THEME), or never
# there (NOT_ON_CHILD); and whether a case of its own takes it (single).
SCOPE = {action: (ON_CHILD, True) for action in EXPECTED}
SCOPE.update(
    {
        "request_correction": (NOT_ON_CHILD, True),
        "resubmit": (NOT_ON_CHILD, True),
        "ask_correction": (ON_CHILD, False),
        "correction_answered": (BY_THEME, False),
        "produce": (BY_THEME, True),
        "deliver": (BY_THEME, True),
        "withdraw": (BY_THEME, True),
        "evaluate": (NOT_ON_CHILD, True),
    }
)


@dataclass(frozen=True)
class StandIn:
    """What actions_from reads of a case: its status and whether it is a child."""

    status: str
    joint_id: int | None = None


def single(status):
    return StandIn(status)


def child(status):
    return StandIn(status, joint_id=7)


REFUSED = [
    (action, status)
    for action, (sources, *_rest) in EXPECTED.items()
    for status in CaseStatus.values
    if status not in sources
]
ALLOWED = [
    (action, status)
    for action, (sources, *_rest) in EXPECTED.items()
    for status in sorted(sources)  # one order in every xdist worker
]


def test_the_table_names_exactly_the_expected_actions():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_action_has_its_sources_targets_node_performers_and_reason_rule(action):
    sources, targets, node, performers, needs_reason = EXPECTED[action]
    found = TRANSITIONS[action]
    assert found.action == action
    assert found.sources == frozenset(sources)
    assert found.targets == frozenset(targets)
    assert found.node == node
    assert found.performers == frozenset(performers)
    assert found.needs_reason is needs_reason
    assert str(found.label)


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_an_action_refuses_every_state_it_does_not_start_from(action, status):
    with pytest.raises(TransitionRefused) as refused:
        transition(action, status)
    assert refused.value.action == action
    assert refused.value.status == status
    message = refused.value.message_dict["status"][0]
    assert str(TRANSITIONS[action].label) in message
    assert str(CaseStatus(status).label) in message


@pytest.mark.parametrize(("action", "status"), ALLOWED)
def test_an_action_is_found_from_each_of_its_sources(action, status):
    assert transition(action, status) is TRANSITIONS[action]


def test_an_unknown_action_or_state_is_refused_not_raised_as_key_error():
    with pytest.raises(TransitionRefused) as unknown_action:
        transition("approve_everything", CaseStatus.IN_REVIEW)
    assert "approve_everything" in unknown_action.value.message_dict["status"][0]
    with pytest.raises(TransitionRefused) as unknown_state:
        transition("accept", "limbo")
    assert "limbo" in unknown_state.value.message_dict["status"][0]


def test_the_refusal_is_a_validation_error_on_the_status_field():
    with pytest.raises(TransitionRefused) as refused:
        transition("accept", CaseStatus.IN_REVIEW)
    assert refused.value.message_dict == {
        "status": ["“Accept” is not possible while the case is “Under review”."]
    }


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_action_says_how_it_applies_to_a_child_case(action):
    found = TRANSITIONS[action]
    assert (found.child, found.single) == SCOPE[action]


@pytest.mark.parametrize("status", CaseStatus.values)
def test_actions_from_offers_a_case_of_its_own_exactly_its_actions_starting_there(status):
    offered = [t.action for t in actions_from(single(status))]
    expected = [
        action
        for action, (sources, *_rest) in EXPECTED.items()
        if status in sources and SCOPE[action][1]
    ]
    assert sorted(offered) == sorted(expected)
    assert len(offered) == len(set(offered))


@pytest.mark.parametrize("status", CaseStatus.values)
def test_actions_from_offers_a_child_only_what_its_department_does_on_it(status):
    offered = [t.action for t in actions_from(child(status))]
    expected = [
        action
        for action, (sources, *_rest) in EXPECTED.items()
        if status in sources and SCOPE[action][0] == ON_CHILD
    ]
    assert sorted(offered) == sorted(expected)


def test_a_child_and_a_case_of_its_own_differ_where_the_application_steps_in():
    def names(case):
        return {t.action for t in actions_from(case)}

    # in review: a department asks the application for corrections; the applicant withdraws
    # the whole application, not one of its cases
    assert names(child(S.IN_REVIEW)) - names(single(S.IN_REVIEW)) == {"ask_correction"}
    assert names(single(S.IN_REVIEW)) - names(child(S.IN_REVIEW)) == {"withdraw"}
    # waiting for corrections: the corrected materials come through the application
    assert names(single(S.CORRECTION)) == {"resubmit", "withdraw", "terminate"}
    assert names(child(S.CORRECTION)) == {"terminate"}
    # granted: the result is made for every case at once (多证同发)
    assert "produce" in names(single(S.APPROVED))
    assert names(child(S.APPROVED)) == {"record_fee", "supply_tolerated", "terminate"}
    # decided: one delivery of the application
    assert names(single(S.DENIED)) == {"deliver"}
    assert names(child(S.DENIED)) == set()
    assert names(child(S.READY)) == set()
    # correction_answered is never a button
    for status in CaseStatus.values:
        assert "correction_answered" not in names(child(status)) | names(single(status))


def test_actions_from_a_few_states_read_like_the_process():
    def names(status):
        return {t.action for t in actions_from(single(status))}

    assert names(S.RECEIVED) == {
        "accept", "accept_tolerant", "deem_accepted", "refuse", "request_correction",
        "withdraw", "terminate",
    }  # fmt: skip
    assert names(S.APPROVED) == {"record_fee", "supply_tolerated", "produce", "terminate"}
    assert names(S.DENIED) == {"deliver"}
    assert names(S.ARCHIVED) == {"evaluate"}
    assert names(S.WITHDRAWN) == names(S.TERMINATED) == set()


def test_targets_are_states_and_a_closed_case_stays_closed():
    for found in TRANSITIONS.values():
        assert found.targets <= set(CaseStatus.values), found.action
        for status in FINAL_STATES & found.sources:
            # Only rating touches a closed case, and it leaves the state as it is.
            assert found.action == "evaluate"
            assert status in found.targets


def test_every_state_is_reachable_from_submission():
    reached, frontier = {S.SUBMITTED, S.RECEIVED}, [S.SUBMITTED, S.RECEIVED]
    while frontier:
        status = frontier.pop()
        for found in actions_from(single(status)):
            for target in found.targets - reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseStatus.values)
