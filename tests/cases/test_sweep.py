"""The rules that fall due with time: the 5-working-day acceptance rule (by the periodic
task, the command and on read) and the alert of overdue 容缺 commitments."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from yimen.cases import rules, selectors, services
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState
from yimen.cases.models import Case
from yimen.cases.tasks import sweep_cases
from yimen.common.models import AuditEvent

from .factories import FrozenTime, Scene, at, pdf_upload

pytestmark = pytest.mark.django_db

# 2026-03-02 is a Monday: 5 working days after it end on Monday 9 March.
RECEIVED_ON = (2026, 3, 2)
LATER = (2026, 3, 16)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(*RECEIVED_ON))


@pytest.fixture
def scene():
    return Scene.make()


def _events(case, action):
    return AuditEvent.objects.filter(object_id=str(case.pk), action=action)


def _tolerated(scene):
    """A case accepted while its tolerable 场所证明 is still to come (within 5 working days)."""
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    return services.accept_tolerant(case=case, actor=scene.clerk)


# --- the 5-working-day rule ----------------------------------------------------------------------


def test_the_task_accepts_a_case_left_undecided_for_5_working_days_from_its_receipt(scene, clock):
    # Given a case received on a Monday and left without a decision for two weeks
    case = scene.case_at(CaseStatus.RECEIVED)
    clock.to(*LATER)
    # When the periodic task runs (eagerly here, as in the embedded default)
    counts = sweep_cases.delay().get()
    # Then the case counts as accepted from the day of receipt
    case.refresh_from_db()
    assert counts == {"deemed_accepted": 1, "commitments_overdue": 0}
    assert case.status == CaseStatus.IN_REVIEW
    assert case.deemed_accepted is True
    assert case.accepted_at == case.received_at == at(*RECEIVED_ON)
    assert case.accepted_by is None
    # and its notice of acceptance says it was deemed
    notice = case.documents.get(kind=DocumentKind.ACCEPTANCE)
    assert notice.content["deemed"] is True
    assert notice.issued_by is None
    # and the decision clock runs from the receipt too
    assert case.decision_clock.started_at == at(*RECEIVED_ON)
    assert _events(case, "case.deem_accepted").count() == 1


def test_a_case_within_its_5_working_days_is_left_alone(scene, clock):
    # Given a case received on Monday, swept on the Friday of the same week
    case = scene.case_at(CaseStatus.RECEIVED)
    clock.to(2026, 3, 6, 17)
    # When the task runs
    counts = sweep_cases()
    # Then it still awaits acceptance
    case.refresh_from_db()
    assert counts["deemed_accepted"] == 0
    assert case.status == CaseStatus.RECEIVED
    assert not case.documents.filter(kind=DocumentKind.ACCEPTANCE).exists()


def test_a_case_awaiting_corrections_is_not_deemed_accepted(scene, clock):
    # Given a case whose acceptance clock stopped for corrections on the day of receipt
    case = scene.case_at(CaseStatus.CORRECTION)
    clock.to(*LATER)
    # When the task runs well past the 5 days
    counts = sweep_cases()
    # Then the case still awaits its corrections
    case.refresh_from_db()
    assert counts["deemed_accepted"] == 0
    assert case.status == CaseStatus.CORRECTION
    assert case.accepted_at is None
    assert not case.deemed_accepted


def test_the_task_is_scheduled_every_15_minutes():
    # Given the beat schedule, Then it names the sweep, every quarter of an hour
    entry = settings.CELERY_BEAT_SCHEDULE["cases-sweep"]
    assert entry["task"] == sweep_cases.name
    assert entry["schedule"] == 15 * 60


# --- on read -------------------------------------------------------------------------------------


def test_reading_an_overdue_case_accepts_it(scene, clock):
    # Given a case left undecided past its 5 working days, as a page loads it
    scene.case_at(CaseStatus.RECEIVED)
    clock.to(*LATER)
    case = selectors.case_page_queryset().get()
    # When the rules due are applied on read
    changed = rules.apply_due_rules(case)
    # Then the case is accepted from its receipt, and the caller is told to reload it
    assert changed is True
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == CaseStatus.IN_REVIEW
    assert stored.deemed_accepted
    assert stored.accepted_at == stored.received_at


@pytest.mark.parametrize(
    ("status", "moment"),
    [
        (CaseStatus.RECEIVED, (2026, 3, 9, 17)),  # the last of its 5 working days
        (CaseStatus.CORRECTION, LATER),
        (CaseStatus.IN_REVIEW, LATER),
    ],
)
def test_reading_a_case_not_due_changes_nothing(scene, clock, status, moment):
    # Given a case that is not past its acceptance time, or not awaiting acceptance
    case = scene.case_at(status)
    clock.to(*moment)
    events = AuditEvent.objects.count()
    # When the rules due are applied on read
    changed = rules.apply_due_rules(Case.objects.get(pk=case.pk))
    # Then nothing changes
    assert changed is False
    assert Case.objects.get(pk=case.pk).status == status
    assert AuditEvent.objects.count() == events


def test_reading_a_case_the_sweep_accepted_meanwhile_is_no_error(scene, clock):
    # Given a page holding a case read just before the sweep accepted it
    scene.case_at(CaseStatus.RECEIVED)
    clock.to(*LATER)
    stale = Case.objects.get()
    assert services.deem_overdue_acceptances() == 1
    # When the rules due are applied to the stale copy
    changed = rules.apply_due_rules(stale)
    # Then the caller is told to reload, and the case was accepted once
    assert changed is True
    assert _events(stale, "case.deem_accepted").count() == 1


# --- overdue commitments -------------------------------------------------------------------------


def test_an_overdue_commitment_is_alerted_once_however_many_sweeps(scene, clock):
    # Given a case accepted on a commitment to bring 场所证明 within 5 working days,
    # now past that date
    case = _tolerated(scene)
    promised = case.materials.get(state=MaterialState.TOLERATED)
    clock.to(*LATER)
    # When the sweep runs three times
    runs = [sweep_cases()["commitments_overdue"] for _ in range(3)]
    # Then one alert is in the case's history, naming the material and its date
    assert runs == [1, 0, 0]
    (event,) = _events(case, rules.COMMITMENT_OVERDUE)
    assert event.channel == "system"
    assert event.actor_id is None
    assert event.payload == {
        "material_id": promised.material_id,
        "material": "场所证明",
        "supply_by": promised.supply_by.isoformat(),
    }
    assert event.to_state == CaseStatus.IN_REVIEW
    # and the supervisor reading the case sees it
    assert rules.COMMITMENT_OVERDUE in [e.action for e in selectors.timeline(case)]
    # and the case itself is unchanged: terminating it is the department's call
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_a_commitment_within_its_date_or_kept_is_not_alerted(scene, clock):
    # Given a case whose promised material is due on Monday 9 March
    case = _tolerated(scene)
    # When the sweep runs on that day
    clock.to(2026, 3, 9, 18)
    assert sweep_cases()["commitments_overdue"] == 0
    # and, once the material arrived, after it
    services.supply_tolerated(case=case, actor=scene.clerk, uploads=[pdf_upload(scene.version, 1)])
    clock.to(*LATER)
    assert sweep_cases()["commitments_overdue"] == 0
    # Then no alert was recorded
    assert not _events(case, rules.COMMITMENT_OVERDUE).exists()


def test_a_closed_case_is_not_alerted_for_its_commitment(scene, clock):
    # Given a case accepted on a commitment and then terminated
    case = _tolerated(scene)
    services.terminate(case=case, actor=scene.head, reason="申请人已注销")
    clock.to(*LATER)
    # When the sweep runs past the promised date
    counts = sweep_cases()
    # Then there is nothing to alert: the case is over
    assert counts["commitments_overdue"] == 0
    assert not _events(case, rules.COMMITMENT_OVERDUE).exists()


# --- the command ---------------------------------------------------------------------------------


def _run(*args) -> str:
    out = StringIO()
    call_command("cases_sweep", *args, stdout=out)
    return out.getvalue()


def test_the_command_sweeps_and_prints_the_counts(clock):
    # Given an overdue acceptance and an overdue commitment
    first, second = Scene.make(n=1), Scene.make(n=2)
    waiting = first.case_at(CaseStatus.RECEIVED)
    _tolerated(second)
    clock.to(*LATER)
    # When the command runs
    output = _run()
    # Then both rules were applied and counted
    assert "1 case deemed accepted." in output
    assert "1 overdue commitment alerted." in output
    assert Case.objects.get(pk=waiting.pk).status == CaseStatus.IN_REVIEW
    # and a second run finds nothing left to do
    output = _run()
    assert "0 cases deemed accepted." in output
    assert "0 overdue commitments alerted." in output


def test_the_dry_run_lists_what_it_would_do_and_changes_nothing(clock):
    # Given an overdue acceptance and an overdue commitment
    first, second = Scene.make(n=1), Scene.make(n=2)
    waiting = first.case_at(CaseStatus.RECEIVED)
    promised = _tolerated(second)
    clock.to(*LATER)
    events = AuditEvent.objects.count()
    # When the command runs dry
    output = _run("--dry-run")
    # Then it names each case and material it would act on
    assert f"Would deem {waiting.number} accepted (received 2026-03-02 10:00" in output
    assert f"Would alert: {promised.number}, 场所证明 promised by 2026-03-09." in output
    assert "1 case would be deemed accepted." in output
    assert "1 overdue commitment would be alerted." in output
    # and nothing changed
    assert Case.objects.get(pk=waiting.pk).status == CaseStatus.RECEIVED
    assert AuditEvent.objects.count() == events
    # while a real run still finds both
    assert sweep_cases() == {"deemed_accepted": 1, "commitments_overdue": 1}
