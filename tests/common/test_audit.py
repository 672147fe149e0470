"""The audit chain: writing, tamper detection, `audit_verify`, concurrency and the admin."""

import datetime
import io
import itertools
import threading
import zoneinfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test import RequestFactory
from django.utils import translation

from yimen.common import audit
from yimen.common.admin_audit import AuditedModelAdmin, AuditEventAdmin
from yimen.common.choices import Channel
from yimen.common.management.commands.audit_verify import Command as AuditVerifyCommand
from yimen.common.models import AuditEvent, AuditHead, CalendarDay
from yimen.common.models.audit import AppendOnlyError

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def record_n(n, *, start=1, **kwargs):
    return [
        audit.record(
            action="case.transition",
            object_type="cases.case",
            object_id=str(i),
            from_state="submitted",
            to_state="accepted",
            reason=f"step {i}",
            **kwargs,
        )
        for i in range(start, start + n)
    ]


def run_verify(*args, stderr=None):
    out = io.StringIO()
    with translation.override("en"):
        call_command("audit_verify", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


# --- the hash -------------------------------------------------------------------------


def test_sm3_known_vector():
    assert audit.sm3_hex(b"abc") == SM3_ABC


def test_canonical_is_the_same_in_any_time_zone():
    when = datetime.datetime(2026, 3, 2, 1, 30, 0, 123456, tzinfo=datetime.UTC)
    event = AuditEvent(
        id=7, occurred_at=when, object_type="cases.case", object_id="1", action="x", payload={}
    )
    shanghai = AuditEvent(
        id=7,
        occurred_at=when.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")),
        object_type="cases.case",
        object_id="1",
        action="x",
        payload={},
    )
    assert audit.canonical(event) == audit.canonical(shanghai)
    assert b'"occurred_at":"2026-03-02T01:30:00.123456+00:00"' in audit.canonical(event)


# --- writing --------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_links_each_event_to_the_previous_one(django_user_model):
    user = django_user_model.objects.create_user("clerk", "clerk@example.org", full_name="王五")
    first, second, third = record_n(3, actor=user, channel=Channel.WINDOW, payload={"n": 1})

    events = list(AuditEvent.objects.order_by("pk"))
    assert [e.pk for e in events] == [first.pk, second.pk, third.pk]
    assert events[0].prev_hash == audit.GENESIS_HASH
    for prev, event in itertools.pairwise(events):
        assert event.prev_hash == prev.hash
    for event in events:
        # SM3 over the previous hash and the canonical record, as read back from the table.
        assert event.hash == audit.sm3_hex(event.prev_hash.encode() + audit.canonical(event))
        assert len(event.hash) == 64
        assert event.actor_id == user.pk
        assert event.actor_label == "王五"
        assert event.channel == Channel.WINDOW
    assert [e.hash for e in (first, second, third)] == [e.hash for e in events]

    head = AuditHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash, head.count) == (third.pk, third.hash, 3)
    assert audit.verify() is None


@pytest.mark.django_db
def test_record_takes_the_label_of_an_object_and_drops_an_anonymous_actor():
    from django.contrib.auth.models import AnonymousUser

    day = CalendarDay.objects.create(date=datetime.date(2099, 10, 1), kind="holiday")
    event = audit.record(action="calendar.add", obj=day, actor=AnonymousUser())
    assert (event.object_type, event.object_id) == ("common.calendarday", str(day.pk))
    assert event.actor_id is None
    assert event.actor_label == ""
    with pytest.raises(ValueError):
        audit.record(action="", object_type="cases.case")
    with pytest.raises(ValueError):
        audit.record(action="x")


@pytest.mark.django_db
def test_recorded_events_are_append_only():
    (event,) = record_n(1)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    with pytest.raises(AppendOnlyError):
        stored.save()
    with pytest.raises(AppendOnlyError):
        stored.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "step 1"
    assert audit.verify() is None


@pytest.mark.django_db
@pytest.mark.parametrize("first_ever", [True, False], ids=["first-event", "later-event"])
def test_an_event_in_a_rolled_back_transaction_leaves_nothing(first_ever):
    before = [] if first_ever else record_n(2)

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(action="case.accept", object_type="cases.case", object_id="9")
        raise RuntimeError("the change itself failed")

    assert AuditEvent.objects.count() == len(before)
    assert not AuditEvent.objects.filter(object_id="9").exists()
    assert audit.verify() is None
    # The next event links to the last committed one.
    (after,) = record_n(1, start=10)
    assert after.prev_hash == (before[-1].hash if before else audit.GENESIS_HASH)
    assert audit.verify() is None


# --- tamper detection ----------------------------------------------------------------


@pytest.mark.django_db
def test_editing_a_reason_is_detected_at_that_row():
    events = record_n(5)
    AuditEvent.objects.filter(pk=events[2].pk).update(reason="nothing to see")

    broken = audit.verify()
    assert broken.event_id == events[2].pk
    assert "altered" in broken.problem
    steps = list(audit.iter_verify())
    assert steps[:2] == [events[0].pk, events[1].pk]
    assert steps[2] == broken and len(steps) == 3


@pytest.mark.django_db
def test_editing_the_payload_or_time_is_detected():
    events = record_n(3, payload={"amount": 10})
    AuditEvent.objects.filter(pk=events[1].pk).update(payload={"amount": 1000})
    assert audit.verify().event_id == events[1].pk

    AuditEvent.objects.filter(pk=events[1].pk).update(payload={"amount": 10})
    assert audit.verify() is None
    AuditEvent.objects.filter(pk=events[0].pk).update(
        occurred_at=events[0].occurred_at - datetime.timedelta(days=1)
    )
    assert audit.verify().event_id == events[0].pk


@pytest.mark.django_db
def test_rehashing_an_edited_row_is_detected_at_the_next_row():
    events = record_n(4)
    edited = AuditEvent.objects.get(pk=events[1].pk)
    edited.reason = "forged"
    AuditEvent.objects.filter(pk=edited.pk).update(
        reason="forged", hash=audit.chain_hash(edited.prev_hash, edited)
    )
    broken = audit.verify()
    assert broken.event_id == events[2].pk
    assert "previous hash" in broken.problem


@pytest.mark.django_db
def test_deleting_a_middle_row_is_detected_at_the_next_row():
    events = record_n(5)
    AuditEvent.objects.filter(pk=events[2].pk).delete()

    broken = audit.verify()
    assert broken.event_id == events[3].pk
    assert "deleted" in broken.problem


@pytest.mark.django_db
def test_deleting_the_first_row_is_detected_at_the_second():
    events = record_n(3)
    AuditEvent.objects.filter(pk=events[0].pk).delete()
    assert audit.verify().event_id == events[1].pk


@pytest.mark.django_db
def test_deleting_the_newest_rows_is_detected_through_the_head():
    events = record_n(4)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()

    broken = audit.verify()
    assert broken.event_id is None
    assert "newest events were deleted" in broken.problem
    assert f"#{events[-1].pk}" in broken.problem
    assert str(broken).startswith("chain head: ")

    AuditEvent.objects.all().delete()
    assert "newest events were deleted" in audit.verify().problem


@pytest.mark.django_db
def test_a_missing_or_altered_head_is_detected():
    events = record_n(3)
    AuditHead.objects.filter(pk=1).update(last_hash="f" * 64)
    assert "head was altered" in audit.verify().problem

    AuditHead.objects.filter(pk=1).update(last_hash=events[-1].hash, count=2)
    assert "head was altered" in audit.verify().problem

    AuditHead.objects.all().delete()
    broken = audit.verify()
    assert broken.event_id is None
    assert "missing" in broken.problem


@pytest.mark.django_db
def test_an_event_inserted_past_the_head_is_detected():
    (last,) = record_n(1)
    forged = AuditEvent(
        id=last.pk + 1,
        occurred_at=last.occurred_at,
        object_type="cases.case",
        object_id="1",
        action="case.transition",
        prev_hash=last.hash,
        payload={},
    )
    forged.hash = audit.chain_hash(last.hash, forged)
    AuditEvent.objects.bulk_create([forged])

    broken = audit.verify()
    assert broken.event_id is None
    assert "outside the chain" in broken.problem


@pytest.mark.django_db
def test_events_appended_while_the_walk_runs_are_not_taken_for_tampering():
    events = record_n(3)
    walk = audit.iter_verify(chunk_size=2)
    assert next(walk) == events[0].pk
    record_n(2, start=4)  # committed by another request while the walk runs
    rest = list(walk)
    assert not any(isinstance(step, audit.Break) for step in rest)
    assert audit.verify() is None


@pytest.mark.django_db
def test_an_empty_chain_verifies():
    assert audit.verify() is None
    assert list(audit.iter_verify()) == []


# --- the audit_verify command --------------------------------------------------------


@pytest.mark.django_db
def test_audit_verify_reports_an_intact_chain():
    record_n(3)
    assert run_verify("--no-progress") == "chain intact: 3 events\n"


@pytest.mark.django_db
def test_audit_verify_on_an_empty_chain():
    assert run_verify() == "chain intact: 0 events\n"


@pytest.mark.django_db
def test_audit_verify_reports_the_first_broken_link_and_fails():
    events = record_n(4)
    AuditEvent.objects.filter(pk=events[1].pk).update(reason="edited")

    with pytest.raises(CommandError) as caught:
        run_verify("--no-progress")
    assert caught.value.returncode == 1
    message = str(caught.value)
    assert message == (
        f"chain broken at event #{events[1].pk}: "
        "its content does not match its hash: it was altered"
    )


@pytest.mark.django_db
def test_audit_verify_reports_a_truncated_chain_at_the_head():
    events = record_n(3)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    with pytest.raises(CommandError) as caught:
        run_verify("--no-progress")
    assert caught.value.returncode == 1
    assert str(caught.value) == (
        f"chain broken at the head: the head expects 3 events ending at #{events[-1].pk}, "
        f"found 2 ending at #{events[-2].pk}: the newest events were deleted"
    )


@pytest.mark.django_db(transaction=True)
def test_audit_verify_exit_status(capsys):
    events = record_n(2)
    with translation.override("en"):
        AuditVerifyCommand().run_from_argv(["manage.py", "audit_verify", "--no-progress"])
        assert capsys.readouterr().out == "chain intact: 2 events\n"

        AuditEvent.objects.filter(pk=events[0].pk).delete()
        with pytest.raises(SystemExit) as exited:
            AuditVerifyCommand().run_from_argv(["manage.py", "audit_verify", "--no-progress"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert f"chain broken at event #{events[1].pk}" in err


@pytest.mark.django_db
def test_audit_verify_progress_bar_only_on_a_terminal():
    record_n(3)
    terminal = FakeTerminal()
    assert run_verify(stderr=terminal) == "chain intact: 3 events\n"
    assert "3/3" in terminal.getvalue()

    terminal = FakeTerminal()
    run_verify("--no-progress", stderr=terminal)
    assert terminal.getvalue() == ""

    piped = io.StringIO()
    run_verify(stderr=piped)
    assert piped.getvalue() == ""


@pytest.mark.django_db
def test_audit_verify_reads_in_chunks_without_per_row_queries(django_assert_max_num_queries):
    record_n(60)
    with django_assert_max_num_queries(8):
        assert run_verify("--no-progress", "--chunk-size", "7") == "chain intact: 60 events\n"


@pytest.mark.django_db
def test_audit_verify_rejects_a_bad_chunk_size():
    with pytest.raises(CommandError):
        run_verify("--chunk-size", "0")


# --- concurrency ---------------------------------------------------------------------


@pytest.fixture
def shared_database(tmp_path):
    """A database that several threads write at once, with the locking of production.

    PostgreSQL needs nothing. The SQLite test database lives in shared-cache memory, where a
    second writer fails at once with "table is locked" instead of waiting for the lock as it
    does on a database file; so the default alias points at a file holding the audit tables
    while the test runs, and each thread's connection opens that file."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    settings_dict = connections.settings[DEFAULT_DB_ALIAS]  # read by each new connection
    original_name, original_connection = settings_dict["NAME"], connections[DEFAULT_DB_ALIAS]
    settings_dict["NAME"] = str(tmp_path / "audit.sqlite3")
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with connection.schema_editor() as editor:
            editor.create_model(get_user_model())  # referenced by AuditEvent.actor
            editor.create_model(AuditHead)
            editor.create_model(AuditEvent)
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = original_name
        connections[DEFAULT_DB_ALIAS] = original_connection


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_an_intact_chain(shared_database):
    threads_n, per_thread = 6, 8
    barrier = threading.Barrier(threads_n)
    errors = []

    def writer(n):
        try:
            barrier.wait(timeout=10)
            for i in range(per_thread):
                audit.record(
                    action="case.transition",
                    object_type="cases.case",
                    object_id=f"{n}-{i}",
                    reason=f"writer {n}",
                )
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    total = threads_n * per_thread
    assert AuditEvent.objects.count() == total
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    assert AuditHead.objects.get(pk=1).count == total
    assert audit.verify() is None


# --- the admin -----------------------------------------------------------------------


def audit_events_of(model_label):
    return list(AuditEvent.objects.filter(object_type=model_label).order_by("pk"))


def test_calendar_day_admin_is_audited():
    assert isinstance(admin.site._registry[CalendarDay], AuditedModelAdmin)


@pytest.mark.django_db
def test_admin_add_change_delete_are_audited(client, django_user_model):
    boss = django_user_model.objects.create_superuser(
        "boss", "boss@example.org", "x-Long-passw0rd", full_name="赵六"
    )
    client.force_login(boss)
    base = "/admin/common/calendarday/"

    response = client.post(
        f"{base}add/", {"date": "2099-10-01", "kind": "holiday", "name": "National Day"}
    )
    assert response.status_code == 302, response.content[:2000]
    day = CalendarDay.objects.get(date=datetime.date(2099, 10, 1))

    response = client.post(
        f"{base}{day.pk}/change/", {"date": "2099-10-01", "kind": "holiday", "name": "国庆节"}
    )
    assert response.status_code == 302
    response = client.post(f"{base}{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()

    added, changed, deleted = audit_events_of("common.calendarday")
    assert [e.action for e in (added, changed, deleted)] == [
        "admin.add",
        "admin.change",
        "admin.delete",
    ]
    for event in (added, changed, deleted):
        assert event.object_id == str(day.pk)
        assert event.actor_id == boss.pk
        assert event.actor_label == "赵六"
        assert event.channel == Channel.ADMIN
    assert added.payload["fields"] == ["date", "kind", "name"]
    assert changed.payload["fields"] == ["name"]
    assert changed.payload["repr"].endswith("国庆节")
    assert deleted.payload["repr"].endswith("国庆节")
    assert audit.verify() is None


@pytest.mark.django_db
def test_admin_bulk_delete_action_is_audited_per_object(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(boss)
    days = [
        CalendarDay.objects.create(date=datetime.date(2099, 10, d), kind="holiday")
        for d in (1, 2, 3)
    ]
    response = client.post(
        "/admin/common/calendarday/",
        {
            "action": "delete_selected",
            "_selected_action": [d.pk for d in days[:2]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert list(CalendarDay.objects.filter(date__year=2099)) == [days[2]]
    deleted = audit_events_of("common.calendarday")
    assert sorted(e.object_id for e in deleted) == sorted(str(d.pk) for d in days[:2])
    assert {e.action for e in deleted} == {"admin.delete"}
    assert {e.actor_id for e in deleted} == {boss.pk}


@pytest.mark.django_db
def test_audited_model_admin_mixin_directly(django_user_model):
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.org")
    model_admin = AuditedModelAdmin(CalendarDay, admin.site)
    model_admin.fields = ["date", "kind", "name"]
    request = RequestFactory().post("/")
    request.user = clerk

    form_class = model_admin.get_form(request)
    form = form_class(data={"date": "2099-05-01", "kind": "holiday", "name": ""})
    assert form.is_valid(), form.errors
    day = form.save(commit=False)
    model_admin.save_model(request, day, form, change=False)

    form = form_class(data={"date": "2099-05-01", "kind": "workday", "name": ""}, instance=day)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    model_admin.delete_model(request, day)

    events = audit_events_of("common.calendarday")
    assert [(e.action, e.payload.get("fields")) for e in events] == [
        ("admin.add", ["date", "kind"]),
        ("admin.change", ["kind"]),
        ("admin.delete", None),
    ]
    assert {e.actor_id for e in events} == {clerk.pk}


@pytest.mark.django_db
def test_the_audit_event_admin_is_read_only(django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    (event,) = record_n(1)
    model_admin = admin.site._registry[AuditEvent]
    assert isinstance(model_admin, AuditEventAdmin)
    factory = RequestFactory()

    request = factory.get("/")
    request.user = boss
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert model_admin.has_view_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert set(model_admin.get_readonly_fields(request, event)) >= {"reason", "hash", "payload"}

    for view, args, data in [
        (model_admin.add_view, (), {"action": "x", "object_type": "y"}),
        (model_admin.change_view, (str(event.pk),), {"reason": "edited"}),
        (model_admin.delete_view, (str(event.pk),), {"post": "yes"}),
    ]:
        request = factory.post("/", data)
        request.user = boss
        request._dont_enforce_csrf_checks = True
        with pytest.raises(PermissionDenied):
            view(request, *args)
    assert AuditEvent.objects.get(pk=event.pk).reason == "step 1"
    assert audit.verify() is None


@pytest.mark.django_db
def test_the_audit_event_admin_refuses_edits_through_the_site(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(boss)
    (event,) = record_n(1)
    base = "/admin/common/auditevent/"
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "x"}).status_code == 403
    assert client.post(f"{base}{event.pk}/change/", {"reason": "edited"}).status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).reason == "step 1"
    assert audit.verify() is None
