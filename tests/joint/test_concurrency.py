"""Concurrent writers on one joint application: the application's row lock lets exactly one
clerk accept (one set of cases), and a department's step on a case, which locks the
application first too, cannot deadlock with a step of the whole application.

Runs on PostgreSQL, and on SQLite through a file copy of the test database (see
tests/cases/test_concurrency.py)."""

from __future__ import annotations

import threading

import pytest

from yimen.cases import services as cases
from yimen.cases.choices import CaseStatus
from yimen.cases.models import Case
from yimen.cases.workflow import TransitionRefused
from yimen.common.models import AuditEvent
from yimen.joint import services
from yimen.joint.choices import JointDocumentKind, JointStatus
from yimen.joint.models import JointCase
from yimen.joint.workflow import StepRefused

from ..cases.factories import clerk_of
from ..cases.test_concurrency import run_together, shared_database  # noqa: F401 (fixture)
from .factories import JointScene

pytestmark = pytest.mark.django_db(transaction=True)


def slowly(monkeypatch, module, name, delay=0.3):
    """Make a helper that runs under the locks take a while, so the second writer arrives
    while the first still holds them."""
    original = getattr(module, name)

    def slow(*args, **kwargs):
        threading.Event().wait(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def test_two_clerks_accepting_one_application_at_once_open_one_set_of_cases(
    shared_database,  # noqa: F811
    monkeypatch,
):
    scene = JointScene.make()
    other_clerk = clerk_of(scene.category)
    joint = scene.apply()
    slowly(monkeypatch, services, "missing_required")

    results = run_together(
        lambda: services.accept(joint=JointCase.objects.get(pk=joint.pk), actor=scene.clerk),
        lambda: services.accept(joint=JointCase.objects.get(pk=joint.pk), actor=other_clerk),
    )

    accepted = [r for r in results if isinstance(r, JointCase)]
    refused = [r for r in results if isinstance(r, StepRefused)]
    assert (len(accepted), len(refused)) == (1, 1), results
    stored = JointCase.objects.get(pk=joint.pk)
    assert stored.status == JointStatus.IN_REVIEW
    assert stored.accepted_by == accepted[0].accepted_by
    assert Case.objects.filter(joint=joint).count() == 3
    assert AuditEvent.objects.filter(action="joint.accept", object_id=str(joint.pk)).count() == 1
    assert stored.documents.filter(kind=JointDocumentKind.ACCEPTANCE).count() == 1


def test_a_grant_racing_the_applicants_withdrawal_does_not_deadlock(
    shared_database,  # noqa: F811
    monkeypatch,
):
    # Given a case at its last step while the others are still in review
    scene = JointScene.make()
    joint = scene.accepted()
    case = Case.objects.get(joint=joint, item_version=scene.versions[0])
    head = scene.department_of(case).head
    cases.review_pass(case=case, actor=scene.department_of(case).reviewer)
    # each writer lingers once it holds its first lock
    slowly(monkeypatch, cases, "_require_scope")
    slowly(monkeypatch, services, "_record")

    results = run_together(
        lambda: cases.approve(case=Case.objects.get(pk=case.pk), actor=head),
        lambda: services.withdraw(
            joint=JointCase.objects.get(pk=joint.pk),
            actor=scene.applicant.user,
            reason="不再开办",
        ),
    )

    granted, withdrawn = results
    # the withdrawal always goes through; the grant either came first or finds it gone
    assert isinstance(withdrawn, JointCase), results
    assert isinstance(granted, Case | TransitionRefused), results
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.WITHDRAWN
    final = Case.objects.get(pk=case.pk).status
    if isinstance(granted, Case):
        assert final == CaseStatus.TERMINATED
    else:
        assert final == CaseStatus.WITHDRAWN
    others = Case.objects.filter(joint=joint).exclude(pk=case.pk)
    assert {c.status for c in others} == {CaseStatus.WITHDRAWN}


def test_two_departments_asking_for_corrections_at_once_are_both_gathered(
    shared_database,  # noqa: F811
    monkeypatch,
):
    scene = JointScene.make()
    joint = scene.accepted()
    first, second = (Case.objects.get(joint=joint, item_version=scene.versions[i]) for i in (0, 1))
    slowly(monkeypatch, services, "_lock", delay=0.1)

    def ask(case, problem):
        return cases.ask_correction(
            case=Case.objects.get(pk=case.pk),
            actor=scene.department_of(case).reviewer,
            items=[{"material": "", "problem": problem}],
        )

    results = run_together(lambda: ask(first, "甲"), lambda: ask(second, "乙"))

    assert all(isinstance(r, Case) for r in results), results
    services.send_corrections(joint=JointCase.objects.get(pk=joint.pk), actor=scene.clerk)
    notice = JointCase.objects.get(pk=joint.pk).documents.get(kind=JointDocumentKind.CORRECTION)
    assert sorted(i["problem"] for i in notice.content["items"]) == ["乙", "甲"]
