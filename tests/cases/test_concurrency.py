"""Concurrent writers on one case or one region: the row lock (PostgreSQL) or the IMMEDIATE
transaction (SQLite) lets exactly one clerk accept, one idempotency key make one case, and
every case number be given once, without gaps."""

import sqlite3
import threading

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import translation

from yimen.cases import services
from yimen.cases.choices import CaseStatus
from yimen.cases.models import Case
from yimen.cases.workflow import TransitionRefused
from yimen.common.models import AuditEvent

from .factories import Scene, clerk_of, person

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 30


@pytest.fixture
def shared_database(tmp_path, settings):
    """A database several threads write at once, with the locking of production.

    PostgreSQL needs nothing. The SQLite test database lives in shared-cache memory, where a
    second writer fails at once ("table is locked") instead of waiting for the lock as it
    does on a file; so the default alias points at a file copy of it while the test runs,
    and each thread's connection opens that file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if connection.vendor not in ("sqlite", "postgresql"):
        pytest.skip(f"no concurrency test for {connection.vendor}")
    if connection.vendor == "postgresql" or not connection.is_in_memory_db():
        yield
        return
    settings_dict = connections.settings[DEFAULT_DB_ALIAS]  # read by each new connection
    original_name, original_connection = settings_dict["NAME"], connections[DEFAULT_DB_ALIAS]
    path = tmp_path / "cases.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)  # the schema (and the seeded calendar)
    copy.close()
    settings_dict["NAME"] = str(path)
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = original_name
        connections[DEFAULT_DB_ALIAS] = original_connection


def run_together(*jobs):
    """Run each job in its own thread (and connection), started at once; their results or
    exceptions in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=TIMEOUT)
            with translation.override("en"):  # a thread does not inherit the test's language
                results[index] = job()
        except Exception as exc:  # reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


def slowly(monkeypatch, name, delay=0.2):
    """Make a services helper that runs under the case lock take a while, so the second
    writer arrives while the first still holds the lock."""
    original = getattr(services, name)

    def slow(*args, **kwargs):
        threading.Event().wait(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, name, slow)


def test_two_clerks_accepting_one_case_at_once_one_succeeds(shared_database, monkeypatch):
    scene = Scene.make()
    other_clerk = clerk_of(scene.version.window_category)
    case = scene.submit()
    slowly(monkeypatch, "missing_required")

    results = run_together(
        lambda: services.accept(case=Case.objects.get(pk=case.pk), actor=scene.clerk),
        lambda: services.accept(case=Case.objects.get(pk=case.pk), actor=other_clerk),
    )

    accepted = [r for r in results if isinstance(r, Case)]
    refused = [r for r in results if isinstance(r, TransitionRefused)]
    assert (len(accepted), len(refused)) == (1, 1), results
    assert refused[0].message_dict == {
        "status": ["“Accept” is not possible while the case is “Under review”."]
    }
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == CaseStatus.IN_REVIEW
    assert stored.accepted_by == accepted[0].accepted_by
    assert AuditEvent.objects.filter(action="case.accept", object_id=str(case.pk)).count() == 1
    assert stored.documents.filter(kind="acceptance").count() == 1


def test_accepting_and_refusing_at_once_leave_one_decision(shared_database, monkeypatch):
    scene = Scene.make()
    case = scene.submit()
    slowly(monkeypatch, "missing_required")

    results = run_together(
        lambda: services.accept(case=Case.objects.get(pk=case.pk), actor=scene.clerk),
        lambda: services.refuse(
            case=Case.objects.get(pk=case.pk), actor=scene.clerk, reason="材料不全"
        ),
    )

    assert sum(isinstance(r, Case) for r in results) == 1, results
    assert sum(isinstance(r, TransitionRefused) for r in results) == 1, results
    events = AuditEvent.objects.filter(object_id=str(case.pk), from_state=CaseStatus.RECEIVED)
    assert events.count() == 1
    assert Case.objects.get(pk=case.pk).status == events.get().to_state


def test_two_submissions_with_one_key_at_once_make_one_case(shared_database, monkeypatch):
    scene = Scene.make()
    # Both submissions pass the "is there a case with this key?" check before either writes.
    meet = threading.Barrier(2)
    original = services._clean_form

    def after_each_other(*args, **kwargs):
        meet.wait(timeout=TIMEOUT)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_clean_form", after_each_other)

    results = run_together(
        lambda: scene.submit(key="double-click"), lambda: scene.submit(key="double-click")
    )

    assert all(isinstance(r, Case) for r in results), results
    assert results[0].pk == results[1].pk
    assert Case.objects.count() == 1
    assert AuditEvent.objects.filter(action="case.submit").count() == 1
    assert Case.objects.get().number.endswith("-00001")


def test_numbers_stay_unique_and_gap_free_under_concurrent_submissions(shared_database):
    scene = Scene.make()
    applicants = [scene.applicant, *(person(n=n) for n in range(2, 7))]
    per_thread = 3

    def submit_many(applicant):
        return [
            services.case_submit(
                applicant=applicant,
                version=scene.version,
                submitted_by=applicant.user,
                channel="online",
                form_data={"shop_name": "并发小店"},
            ).number
            for _ in range(per_thread)
        ]

    results = run_together(*(lambda a=a: submit_many(a) for a in applicants))

    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = [number for batch in results for number in batch]
    total = len(applicants) * per_thread
    assert len(set(numbers)) == total
    prefix = numbers[0].rsplit("-", 1)[0]
    assert sorted(numbers) == [f"{prefix}-{n:05d}" for n in range(1, total + 1)]
    assert Case.objects.count() == total
