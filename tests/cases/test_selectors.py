"""Reads of the applicant's pages and the case page: who finds which case, the history as the
page tells it, the clock that matters now, and a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yimen.cases import selectors, services
from yimen.cases.choices import CaseStatus
from yimen.common import workdays
from yimen.common.models import Clock
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id
from ..conftest import grant
from .factories import guide, let_acceptance_lapse, person, staff_for, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def version():
    return guide()


@pytest.fixture
def applicant():
    return person(n=1)


# --- finding a case ---------------------------------------------------------------------------


def test_the_case_page_finds_a_case_only_for_those_who_may_see_it(version, applicant):
    case = submit(version, applicant)
    clerk, reviewer, _head = staff_for(version)
    for user in (applicant.user, clerk, reviewer, grant(UserFactory(), Role.SUPERVISOR)):
        assert selectors.case_for_page(user=user, number=case.number) == case
    for user in (person(n=2).user, staff_for(guide())[0]):
        assert selectors.case_for_page(user=user, number=case.number) is None
    assert selectors.case_for_page(user=applicant.user, number="nope") is None


def test_the_case_page_loads_everything_it_shows_in_one_go(version, applicant):
    clerk, reviewer, _head = staff_for(version)
    case = services.accept(case=submit(version, applicant), actor=clerk)
    services.suspend(case=case, actor=reviewer, kind="testing", reason="送检")
    workdays.get_calendar()  # the calendar is cached per process
    loaded = selectors.case_for_page(user=applicant.user, number=case.number)
    with CaptureQueriesContext(connection) as queries:
        [(m.file_name, str(m)) for m in loaded.materials.all()]
        [d.get_kind_display() for d in loaded.documents.all()]
        [m.display_name for m in loaded.item_version.materials.all()]
        [r.name for r in loaded.item_version.review_steps.all()]
        selectors.form_rows(loaded)
        selectors.clock_rows(loaded)
        services.missing_required(loaded)
        shown = (loaded.applicant.name, loaded.department.name, loaded.item_version.item.pk)
    assert len(queries) == 0 and all(shown)


def test_a_double_submit_is_found_by_its_key_for_the_same_user_only(version, applicant):
    case = submit(version, applicant, key="k-1")
    assert selectors.case_by_idempotency_key(user=applicant.user, key="k-1") == case
    assert selectors.case_by_idempotency_key(user=applicant.user, key="k-2") is None
    assert selectors.case_by_idempotency_key(user=applicant.user, key="") is None
    assert selectors.case_by_idempotency_key(user=person(n=2).user, key="k-1") is None


def test_my_cases_are_the_applicants_own_newest_first(version, applicant):
    first = submit(version, applicant)
    submit(version, person(n=2))
    second = submit(version, applicant)
    assert list(selectors.applicant_cases(applicant=applicant)) == [second, first]


# --- progress query ---------------------------------------------------------------------------


def test_the_progress_lookup_needs_the_number_and_the_exact_id(version, applicant):
    case = submit(version, applicant)
    number, id_number = case.number, applicant.id_number
    assert selectors.progress_lookup(number=number, identifier=id_number) == case
    assert selectors.progress_lookup(number=f" {number} ", identifier=id_number.lower()) == case
    assert selectors.progress_lookup(number=number, identifier=citizen_id(99)) is None
    assert selectors.progress_lookup(number=number, identifier=id_number[:-4]) is None
    assert selectors.progress_lookup(number=number[:-1] + "9", identifier=id_number) is None
    # the ID of another applicant with a case of their own does not open this one
    other = person(n=2)
    submit(version, other)
    assert selectors.progress_lookup(number=number, identifier=other.id_number) is None


# --- clocks -----------------------------------------------------------------------------------


def test_the_running_clock_follows_the_case(version, applicant):
    clerk, reviewer, head = staff_for(version)
    case = submit(version, applicant)
    assert selectors.running_clock(case) == case.acceptance_clock
    services.accept(case=case, actor=clerk)
    assert selectors.running_clock(case) == case.decision_clock
    services.review_pass(case=case, actor=reviewer)
    services.approve(case=case, actor=head)
    assert selectors.running_clock(case) == case.delivery_clock
    services.produce(case=case, actor=reviewer)
    services.deliver(case=case, actor=clerk, method="window")
    case.delivery_clock.refresh_from_db()
    assert selectors.running_clock(case) is None
    assert selectors.running_state(case) is None


def test_a_clock_paused_for_corrections_is_still_the_one_shown(version, applicant):
    clerk = staff_for(version)[0]
    case = submit(version, applicant)
    services.request_correction(case=case, actor=clerk, items=[{"problem": "未签名"}])
    case = selectors.case_for_page(user=applicant.user, number=case.number)
    assert selectors.running_clock(case).status == Clock.Status.PAUSED
    assert selectors.running_state(case).light == "paused"
    assert [str(row.label) for row in selectors.clock_rows(case)] == ["Acceptance"]


# --- what the page says -----------------------------------------------------------------------


def test_the_timeline_names_staff_calls_the_applicant_the_applicant_and_keeps_reasons(
    version, applicant
):
    clerk = staff_for(version)[0]
    case = submit(version, applicant)
    services.request_correction(
        case=case, actor=clerk, items=[{"material": "申请书", "problem": "未签名"}]
    )
    services.withdraw(case=case, actor=applicant.user, reason="不再需要")
    events = selectors.timeline(case)
    assert [str(e.label) for e in events] == [
        "Application submitted",
        "Ask for corrections",
        "Withdraw the application",
    ]
    assert [str(e.who) for e in events] == ["Applicant", str(clerk), "Applicant"]
    assert events[1].reason == "申请书：未签名" and events[2].reason == "不再需要"
    assert events[2].status == CaseStatus.WITHDRAWN


def test_the_timeline_calls_a_deemed_acceptance_the_systems(version, applicant):
    case = submit(version, applicant)
    let_acceptance_lapse(case)
    services.deem_accepted(case=case)
    last = selectors.timeline(case)[-1]
    assert (str(last.label), str(last.who)) == ("Deemed accepted", "System")


def test_the_form_is_labelled_by_the_pinned_guide(version, applicant):
    case = submit(version, applicant)
    case.form_data = {"shop_name": "示例小店", "old_key": ["a", "b"], "flag": True}
    assert [(label, str(value)) for label, value in selectors.form_rows(case)] == [
        ("店名", "示例小店"),
        ("old_key", "a、b"),
        ("flag", "Yes"),
    ]
