"""The workflow table: every action's sources, targets, node and performers, stated here
once more from the process (DOMAIN §5) so that a change to the table is a deliberate one;
each action refuses every state it does not start from."""

import pytest

from yimen.cases.choices import FINAL_STATES, OPEN_STATES, CaseStatus, Performer
from yimen.cases.workflow import TRANSITIONS, TransitionRefused, actions_from, transition
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


@pytest.mark.parametrize("status", CaseStatus.values)
def test_actions_from_offers_exactly_the_actions_starting_there(status):
    offered = [t.action for t in actions_from(status)]
    expected = [action for action, (sources, *_rest) in EXPECTED.items() if status in sources]
    assert sorted(offered) == sorted(expected)
    assert len(offered) == len(set(offered))


def test_actions_from_a_few_states_read_like_the_process():
    def names(status):
        return {t.action for t in actions_from(status)}

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
        for found in actions_from(status):
            for target in found.targets - reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseStatus.values)
