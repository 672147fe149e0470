"""The demo cases: `load_demo` walks a few dozen cases through the case services to every
state, with documents of every kind, audit trails that chain, lights of every colour in the
inboxes, and pages that show them; loading again adds nothing."""

import datetime as dt
from collections import Counter
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from yimen.accounts.models import User
from yimen.cases import documents, pdf, queues
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState
from yimen.cases.models import Case, CaseDocument, CaseMaterial
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.models import AuditEvent
from yimen.demo import cases as demo_cases
from yimen.demo.loader import STEPS, Report

S = CaseStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city with its cases, loaded once for this module and rolled back after."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(MEDIA_ROOT=media),
        django_db_blocker.unblock(),
        translation.override("en"),
        transaction.atomic(),
    ):
        call_command("load_demo", "--no-progress", stdout=StringIO())
        yield media
        transaction.set_rollback(True)


@pytest.fixture
def cases(demo, db):
    """The demo cases of their own (the cases of the demo joint applications: tests/joint)."""
    return {c.idempotency_key.removeprefix("demo-"): c for c in Case.objects.filter(joint=None)}


def _user(username: str) -> User:
    return User.objects.get(username=username)


def test_the_demo_has_cases_in_every_state(cases):
    # Given the loaded demo / then every state of the workflow but the transient one occurs
    assert 25 <= len(cases) == len(demo_cases.STORIES) <= 40
    statuses = Counter(c.status for c in cases.values())
    assert set(statuses) == set(S.values) - {S.PREREVIEWED}
    # across several departments and items, online and at the windows
    assert len({c.department_id for c in cases.values()}) >= 5
    assert len({c.item_version_id for c in cases.values()}) >= 10
    assert {c.channel for c in cases.values()} == {Channel.ONLINE, Channel.WINDOW}


def test_the_named_situations_occur(cases):
    # In review at the first step and at the last step of a chain
    in_review = [c for c in cases.values() if c.status == S.IN_REVIEW]
    assert any(c.review_step == 0 for c in in_review)
    assert any(c.review_step == len(c.item_version.review_steps.all()) - 1 > 0 for c in in_review)
    # approved with the fee still to pay; delivered and rated; deemed accepted
    fee_due = cases["passport-fee-due"]
    assert fee_due.status == S.APPROVED and fee_due.fee_amount and fee_due.fee_paid_at is None
    rated = cases["company-setup-delivered"]
    assert rated.status == S.DELIVERED and rated.rating == 5
    deemed = cases["company-change-deemed"]
    assert deemed.deemed_accepted and deemed.accepted_at == deemed.received_at
    # 容缺: an open case whose promised material is still awaited, not yet overdue
    tolerated = cases["food-business-tolerated"]
    pending = CaseMaterial.objects.get(case=tolerated, state=MaterialState.TOLERATED)
    assert tolerated.status == S.IN_REVIEW and pending.supply_by > timezone.localdate()
    supplied = cases["food-business-supplied"]
    assert supplied.materials.filter(state=MaterialState.SUPPLIED).exists()
    # a correction that came back and went on to the archive
    archived = cases["company-setup-archived"]
    assert archived.status == S.ARCHIVED and archived.documents.filter(kind="correction")


def test_the_submissions_spread_over_past_weeks(cases):
    # Given the cases / then they were submitted on many days, all in the past
    now = timezone.now()
    submitted = [c.submitted_at for c in cases.values()]
    assert max(submitted) < now
    assert now - min(submitted) > dt.timedelta(weeks=3)
    assert len({timezone.localdate(moment) for moment in submitted}) >= 15


def test_every_audit_trail_chains_its_states(cases):
    # Given each case's events in the chain
    for key, case in cases.items():
        events = list(
            AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk)).order_by(
                "pk"
            )
        )
        # then the first submits, each starts where the one before ended, the last is now
        assert events[0].action == "case.submit" and events[0].from_state == "", key
        for before, after in pairwise(events):
            assert after.from_state == before.to_state, (key, after.action)
            assert after.occurred_at >= before.occurred_at, (key, after.action)
        assert events[-1].to_state == case.status, key
        assert case.submitted_at == events[0].occurred_at, key
    # and the whole chain holds, the cases' events in time order
    assert audit.verify() is None
    moments = list(
        AuditEvent.objects.filter(
            object_type="cases.case", object_id__in=[str(c.pk) for c in cases.values()]
        )
        .order_by("pk")
        .values_list("occurred_at", flat=True)
    )
    assert moments == sorted(moments)


def test_every_kind_of_document_is_issued_genuine_and_renders(cases):
    # Given the documents of the demo cases / then all eleven kinds occur
    kinds = {d.kind: d for d in CaseDocument.objects.select_related("case")}
    assert set(kinds) == set(DocumentKind.values)
    # and each is genuine and draws as a PDF
    for document in kinds.values():
        assert documents.is_genuine(document), document.kind
        assert pdf.render(document).startswith(b"%PDF"), document.kind


def test_uploaded_materials_are_stored_pdfs(demo, cases):
    files = CaseMaterial.objects.exclude(file="")
    assert files.count() >= 100
    for material in files[:20]:
        assert (demo / material.file.name).read_bytes().startswith(b"%PDF")
        assert material.sha256 and material.size


def test_the_inboxes_show_green_yellow_and_red(cases):
    # Given the market reviewer's inbox / then it holds lights of every colour
    rows = queues.rows(queues.inbox(_user("reviewer")))
    assert {Light.GREEN, Light.YELLOW, Light.RED} <= {r.timing.light for r in rows}
    # and the supervisor's list has every case, paused and stopped ones among them
    everything = queues.rows(queues.all_cases(_user("supervisor")))
    assert len(everything) == Case.objects.count() > len(cases)
    lights = {r.timing.light for r in everything if r.timing}
    assert set(Light.values) <= lights


def test_each_clerk_has_a_queue(cases):
    for username in ("clerk", "clerk_biz", "clerk_build", "clerk_cc"):
        assert queues.clerk_queue(_user(username)).exists(), username


def test_a_second_load_creates_nothing(cases):
    # Given the loaded demo
    count, events = Case.objects.count(), AuditEvent.objects.count()
    # when every step runs again / then nothing is added
    report = Report()
    for _label, step in STEPS:
        step(report)
    assert report.created == {}
    assert (Case.objects.count(), AuditEvent.objects.count()) == (count, events)


def test_the_citizen_sees_my_cases_and_opens_a_document(cases, client):
    # Given 张三 signed in
    client.force_login(_user("citizen"))
    # when he opens 我的办件 / then his cases are listed, nobody else's
    page = client.get(reverse("cases:mine")).content.decode()
    own = [c for c in cases.values() if c.applicant.user and c.applicant.user.username == "citizen"]
    assert len(own) >= 5
    assert all(c.number in page for c in own)
    assert cases["company-setup-ready"].number not in page
    # and a case page and its documents open
    case = cases["passport-fee-due"]
    assert client.get(case.get_absolute_url()).status_code == 200
    document = case.documents.get(kind=DocumentKind.APPROVAL)
    response = client.get(
        reverse("case_documents:pdf", args=[case.number, document.code]),
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("username", "url", "query", "case"),
    [
        ("reviewer", "desk:inbox", {}, "drug-retail-first-step"),
        ("head", "desk:inbox", {}, "company-setup-last-step"),
        ("clerk_biz", "desk:queue", {}, "company-setup-received"),
        ("supervisor", "desk:all", {"status": "in_review"}, "social-card-overdue"),
    ],
)
def test_the_consoles_list_the_demo_cases(cases, client, username, url, query, case):
    client.force_login(_user(username))
    response = client.get(reverse(url), query)
    assert response.status_code == 200
    assert cases[case].number in response.content.decode()
    assert "light-green" in response.content.decode()
