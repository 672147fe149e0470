"""The clocks of a case on the real calendar: acceptance (5 working days), decision (the
promised limit, with pauses and extensions), delivery (10 working days), the supply date of
a tolerated material, the 5-day rule that deems a case accepted, and overdue commitments.

Time is held still with `FrozenTime`; November 2026 has no holiday, and around National Day
2026 the days off are 10-01…10-07 with Saturday 10-10 worked (调休)."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from yimen.cases import selectors, services
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState, PauseKind
from yimen.cases.models import Case
from yimen.catalog.choices import LimitUnit
from yimen.common import workdays
from yimen.common.clock import Light, end_of_day
from yimen.common.clocks import clock_state
from yimen.common.models import AuditEvent, Clock
from yimen.common.models.calendar import CalendarYear

from .factories import FrozenTime, Scene, at, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _calendar_2026():
    """The seeded calendar (a transactional test elsewhere may have flushed it)."""
    if not CalendarYear.objects.filter(year=2026).exists():
        importlib.import_module("yimen.common.migrations.0002_seed_calendar").seed(apps, None)
        workdays.invalidate()
    assert not workdays.is_workday(dt.date(2026, 10, 1))
    assert workdays.is_workday(dt.date(2026, 10, 10))


@pytest.fixture
def time(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 2))  # a Monday


@pytest.fixture
def scene(time):
    return Scene.make()  # promised 3 working days, statutory 15


def fresh(case):
    return Case.objects.get(pk=case.pk)


def due_day(clock_row) -> dt.date:
    stored = Clock.objects.get(pk=clock_row.pk)
    assert stored.due_at is not None, "the clock is paused"
    assert stored.due_at == end_of_day(stored.due_at.astimezone(at(2026, 1, 1).tzinfo).date())
    return stored.due_at.astimezone(at(2026, 1, 1).tzinfo).date()


def light(clock_row, now):
    return clock_state(Clock.objects.get(pk=clock_row.pk), now=now).light


# --- acceptance ---------------------------------------------------------------------------------


def test_the_acceptance_clock_runs_five_working_days_from_receipt(scene):
    case = scene.submit()

    acceptance = fresh(case).acceptance_clock
    assert due_day(acceptance) == dt.date(2026, 11, 9)
    assert acceptance.calendar_confirmed
    assert clock_state(acceptance, now=at(2026, 11, 2)).remaining == 5


def test_the_acceptance_clock_skips_national_day_and_counts_the_makeup_saturday(time):
    time.to(2026, 9, 28)  # Monday before the holiday
    scene = Scene.make()

    case = scene.submit()

    # 09-29, 09-30, 10-08, 10-09 and Saturday 10-10.
    assert due_day(fresh(case).acceptance_clock) == dt.date(2026, 10, 10)


def test_the_light_turns_yellow_then_red(scene):
    case = scene.submit()
    acceptance = fresh(case).acceptance_clock

    assert light(acceptance, at(2026, 11, 3)) == Light.GREEN
    assert light(acceptance, at(2026, 11, 6)) == Light.YELLOW  # one working day left
    assert light(acceptance, at(2026, 11, 9, 23, 59)) == Light.YELLOW
    assert light(acceptance, at(2026, 11, 10, 0, 1)) == Light.RED


def test_a_correction_pauses_the_acceptance_clock_and_moves_its_deadline(scene, time):
    case = scene.submit()
    time.to(2026, 11, 4)  # Wednesday

    services.request_correction(
        case=case, actor=scene.clerk, items=[{"material": "申请书", "problem": "未签名"}]
    )

    acceptance = fresh(case).acceptance_clock
    assert acceptance.due_at is None
    assert light(acceptance, at(2026, 11, 20)) == Light.PAUSED
    assert clock_state(acceptance, now=at(2026, 11, 20)).remaining == 3  # frozen

    time.to(2026, 11, 6)  # Friday: Thursday and Friday do not count
    services.resubmit(case=case, actor=scene.applicant.user, uploads=[pdf_upload(scene.version)])

    assert due_day(fresh(case).acceptance_clock) == dt.date(2026, 11, 11)  # 11-09 + 2


def test_a_pause_over_a_weekend_moves_the_deadline_by_its_working_days_only(scene, time):
    case = scene.submit()
    time.to(2026, 11, 6)  # Friday
    services.request_correction(
        case=case, actor=scene.clerk, items=[{"material": "申请书", "problem": "未盖章"}]
    )
    time.to(2026, 11, 9)  # Monday

    services.resubmit(case=case, actor=scene.clerk, channel="window")

    assert due_day(fresh(case).acceptance_clock) == dt.date(2026, 11, 10)  # 11-09 + 1


# --- the five-day rule --------------------------------------------------------------------------


def test_no_decision_within_five_working_days_counts_as_accepted_on_receipt(scene, time):
    case = scene.submit()
    received_at = fresh(case).received_at

    assert services.deem_overdue_acceptances(now=at(2026, 11, 9, 23, 59)) == 0
    assert fresh(case).status == CaseStatus.RECEIVED
    assert not services.acceptance_overdue(fresh(case), now=at(2026, 11, 9, 23, 59))
    assert services.acceptance_overdue(fresh(case), now=at(2026, 11, 10, 0, 1))

    time.to(2026, 11, 10, 0, 1)
    assert services.deem_overdue_acceptances() == 1

    case = fresh(case)
    assert case.status == CaseStatus.IN_REVIEW
    assert case.deemed_accepted
    assert case.accepted_at == received_at
    assert case.accepted_by is None
    assert case.review_step == 0
    assert case.decision_clock.started_at == received_at
    assert due_day(case.decision_clock) == dt.date(2026, 11, 5)  # 3 days from the receipt
    assert light(case.decision_clock, time.moment) == Light.RED
    assert case.acceptance_clock.status == Clock.Status.STOPPED
    notice = case.documents.get(kind=DocumentKind.ACCEPTANCE)
    assert notice.content["deemed"] is True
    (event,) = AuditEvent.objects.filter(object_id=str(case.pk), action="case.deem_accepted")
    assert (event.actor, event.channel, event.from_state, event.to_state) == (
        None,
        "system",
        CaseStatus.RECEIVED,
        CaseStatus.IN_REVIEW,
    )
    assert services.deem_overdue_acceptances() == 0  # once


def test_the_sweep_leaves_decided_and_paused_cases_alone(scene, time):
    accepted = scene.submit()
    services.accept(case=accepted, actor=scene.clerk)
    corrected = scene.case_at(CaseStatus.CORRECTION)
    refused = scene.case_at(CaseStatus.NOT_ACCEPTED)
    waiting = scene.submit()

    time.to(2026, 12, 1)
    assert services.deem_overdue_acceptances() == 1

    assert fresh(waiting).deemed_accepted
    assert not any(fresh(c).deemed_accepted for c in (accepted, corrected, refused))
    assert fresh(corrected).status == CaseStatus.CORRECTION


def test_a_case_within_its_five_days_is_not_deemed_accepted(scene, time):
    case = scene.submit()
    time.to(2026, 11, 9, 18)

    with pytest.raises(ValidationError) as refused:
        services.deem_accepted(case=case)

    assert set(refused.value.message_dict) == {"status"}
    assert fresh(case).status == CaseStatus.RECEIVED


def test_the_sweep_judges_by_the_moment_it_is_given(scene):
    case = scene.submit()

    assert services.deem_overdue_acceptances(now=at(2026, 11, 10, 9)) == 1

    assert fresh(case).accepted_at == fresh(case).received_at


# --- decision -----------------------------------------------------------------------------------


def test_the_decision_clock_runs_the_promised_working_days(scene, time):
    case = scene.submit()
    time.to(2026, 11, 3, 15)

    services.accept(case=case, actor=scene.clerk)

    decision = fresh(case).decision_clock
    assert (decision.limit, decision.unit) == (3, LimitUnit.WORKDAYS)
    assert due_day(decision) == dt.date(2026, 11, 6)


def test_a_decision_clock_in_natural_days_lands_on_a_working_day(time):
    time.to(2026, 9, 21)  # Monday
    scene = Scene.make(promised_limit=12, promised_unit=LimitUnit.DAYS)
    case = scene.submit()

    services.accept(case=case, actor=scene.clerk)

    # 09-21 + 12 days is 10-03, inside National Day: the next working day is 10-08.
    assert due_day(fresh(case).decision_clock) == dt.date(2026, 10, 8)


def test_a_special_procedure_stops_the_count_until_it_ends(scene, time):
    case = scene.submit()
    services.accept(case=case, actor=scene.clerk)  # Monday 11-02: due Thursday 11-05
    time.to(2026, 11, 3)

    services.suspend(case=case, actor=scene.reviewer, kind=PauseKind.APPRAISAL, reason="专家评审")
    decision = fresh(case).decision_clock
    assert decision.due_at is None
    assert light(decision, at(2026, 11, 30)) == Light.PAUSED

    time.to(2026, 11, 9)
    services.resume(case=case, actor=scene.reviewer)

    # 11-04, 11-05, 11-06 and 11-09 were paused: four working days later.
    assert due_day(fresh(case).decision_clock) == dt.date(2026, 11, 11)
    (pause,) = fresh(case).decision_clock.pauses.all()
    assert (pause.kind, pause.reason) == (PauseKind.APPRAISAL, "专家评审")


def test_an_extension_adds_working_days_to_the_decision(scene, time):
    case = scene.submit()
    services.accept(case=case, actor=scene.clerk)

    services.extend(case=case, actor=scene.head, reason="情况复杂", days=10)

    assert due_day(fresh(case).decision_clock) == dt.date(2026, 11, 19)  # 3 + 10 from 11-02
    notice = fresh(case).documents.get(kind=DocumentKind.EXTENSION)
    assert notice.content["days"] == 10


def test_an_extension_while_suspended_shows_once_resumed(scene, time):
    case = scene.submit()
    services.accept(case=case, actor=scene.clerk)
    services.suspend(case=case, actor=scene.head, kind=PauseKind.SURVEY, reason="勘验")
    services.extend(case=case, actor=scene.head, reason="勘验复杂", days=5)
    assert fresh(case).decision_clock.due_at is None

    services.resume(case=case, actor=scene.head)  # the same day: nothing paused

    assert due_day(fresh(case).decision_clock) == dt.date(2026, 11, 12)  # 3 + 5 from 11-02


def test_the_decision_stops_its_clock_and_starts_ten_working_days_of_delivery(scene, time):
    case = scene.submit()
    services.accept(case=case, actor=scene.clerk)
    services.review_pass(case=case, actor=scene.reviewer)
    time.to(2026, 11, 4, 16)

    services.approve(case=case, actor=scene.head)

    case = fresh(case)
    assert case.decision_clock.status == Clock.Status.STOPPED
    assert clock_state(case.decision_clock).on_time is True
    assert (case.delivery_clock.limit, case.delivery_clock.unit) == (10, LimitUnit.WORKDAYS)
    assert due_day(case.delivery_clock) == dt.date(2026, 11, 18)


def test_a_late_decision_is_recorded_as_late(scene, time):
    case = scene.case_at("in_review:last")
    time.to(2026, 11, 6, 9)  # due 11-05

    services.deny(case=case, actor=scene.head, reason="不符合")

    decision = fresh(case).decision_clock
    assert clock_state(decision).light == Light.STOPPED
    assert clock_state(decision).on_time is False


# --- tolerated materials ------------------------------------------------------------------------


def tolerant_case(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    return services.accept_tolerant(case=case, actor=scene.clerk)


def test_a_tolerated_material_is_due_its_working_days_later_across_national_day(time):
    time.to(2026, 9, 28)
    scene = Scene.make()

    case = tolerant_case(scene)

    promised = case.materials.get(state=MaterialState.TOLERATED)
    assert promised.supply_by == dt.date(2026, 10, 10)  # five working days, not 10-05
    commitment = case.documents.get(kind=DocumentKind.TOLERANCE)
    assert commitment.content["materials"][0]["supply_by"] == "2026-10-10"


def test_overdue_commitments_list_open_cases_past_their_supply_date(time):
    time.to(2026, 9, 28)
    scene = Scene.make()
    late, supplied, ended = tolerant_case(scene), tolerant_case(scene), tolerant_case(scene)
    services.supply_tolerated(
        case=supplied, actor=scene.clerk, materials=[scene.version.materials.last()]
    )
    services.terminate(case=ended, actor=scene.head, reason="逾期未补交材料")

    assert overdue_cases(today=dt.date(2026, 10, 10)) == []
    assert overdue_cases(today=dt.date(2026, 10, 12)) == [late]

    time.to(2026, 10, 12)
    assert overdue_cases() == [late]


def overdue_cases(**kwargs) -> list:
    return [row.case for row in selectors.overdue_commitments(**kwargs)]
