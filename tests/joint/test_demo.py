"""The demo joint applications: `load_demo` walks 开办企业 from application to rating (and
leaves one in review and one waiting at the window) and a construction project to its
third stage, through the joint and case services; loading again adds nothing."""

from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from yimen.accounts.models import User
from yimen.cases import pdf
from yimen.cases.choices import CaseStatus
from yimen.catalog.models import Theme
from yimen.common import audit
from yimen.common.models import AuditEvent
from yimen.demo import catalogue, city
from yimen.demo import joint as demo_joint
from yimen.demo.loader import STEPS, Report, demo_accounts
from yimen.joint import selectors, services
from yimen.joint.choices import JointDocumentKind, JointStatus
from yimen.joint.models import CorrectionRequest, JointCase, Project
from yimen.licences.models import Licence
from yimen.org.choices import Role
from yimen.org.models import Membership

S = JointStatus
C = CaseStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city with its joint applications, loaded once for this module and rolled
    back after."""
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
def joints(demo, db):
    return {
        j.idempotency_key.removeprefix(demo_joint.KEY_PREFIX): j
        for j in JointCase.objects.filter(idempotency_key__startswith=demo_joint.KEY_PREFIX)
    }


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _produced_at(case) -> set:
    return set(
        AuditEvent.objects.filter(
            object_type="cases.case", object_id=str(case.pk), action="case.produce"
        ).values_list("occurred_at", flat=True)
    )


def test_every_demo_theme_has_its_window_category(demo, db):
    # Given the loaded demo / then each theme is accepted at the windows the catalogue says
    windows = dict(Theme.objects.values_list("code", "window_category__code"))
    assert windows == {spec["code"]: spec["window"] for spec in catalogue.THEMES}
    assert windows["start-business"] == "enterprise"
    assert windows["construction-project"] == "construction"
    assert None not in windows.values()
    # and some demo clerk serves each of them
    served = set(
        Membership.objects.filter(role=Role.WINDOW_CLERK).values_list(
            "window__categories__code", flat=True
        )
    )
    assert set(windows.values()) <= served


def test_every_story_was_loaded_once(joints):
    assert set(joints) == {s.key for s in demo_joint.STORIES}
    assert Project.objects.count() == 1


def test_start_business_went_from_application_to_rating(joints):
    # Given the application of 佛山市示例新材料有限公司
    joint = joints["start-business-delivered"]
    children = list(joint.cases.select_related("department"))
    # Then it was delivered at the window by the demo clerk who accepted it, and rated
    assert joint.status == S.DELIVERED and joint.rating == 5
    assert joint.applicant.user == _user("newco")
    assert joint.accepted_by == _user("clerk_biz") and joint.delivery_method == "window"
    # its answers chose invoices and employees: six items of six departments
    assert len(children) == 6
    assert len({c.department_id for c in children}) >= 5
    assert {c.department.short_name for c in children} >= {
        "市市场监管局", "市公安局", "市税务局", "市人社局", "市住房公积金中心",
    }  # fmt: skip
    # every case was granted along its chain and delivered with the others
    assert all(c.granted is True and c.status == C.DELIVERED for c in children)
    assert {c.delivered_at for c in children} == {joint.delivered_at}
    # one form and one material set served them all
    assert joint.form_data["enterprise_name"] == demo_joint.NEWCO
    types = [m.material_type_id for m in joint.materials.filter(superseded_at=None)]
    assert len(types) == len(set(types))


def test_start_business_issued_every_result_at_one_moment(joints):
    # Given the delivered application
    joint = joints["start-business-delivered"]
    children = list(joint.cases.all())
    # Then every case's result was made at the moment the last department decided
    assert joint.issued_at == max(c.decided_at for c in children)
    assert all(_produced_at(c) == {joint.issued_at} for c in children)
    # though the departments decided at different moments
    assert len({c.decided_at for c in children}) == len(children)
    # and the business licence was issued to the new company at that moment
    [licence] = Licence.objects.filter(case__joint=joint)
    assert licence.holder == joint.applicant
    issued = AuditEvent.objects.get(
        action="licence.issue", object_type="licences.licence", object_id=str(licence.pk)
    )
    assert issued.occurred_at == joint.issued_at


def test_two_departments_corrections_went_out_in_one_notice(joints):
    # Given the delivered application
    joint = joints["start-business-delivered"]
    # Then two departments asked, and the applicant got ONE notice naming both
    [notice] = joint.documents.filter(kind=JointDocumentKind.CORRECTION)
    requests = list(CorrectionRequest.objects.filter(joint=joint).select_related("case"))
    assert {r.notice_id for r in requests} == {notice.pk}
    assert len({r.case.department_id for r in requests}) >= 2
    named = {item["department"] for item in notice.content["items"]}
    assert len(named) >= 2 and "" not in named
    # answered once, by one resubmission
    assert {r.answered_at for r in requests} != {None}
    assert len({r.answered_at for r in requests}) == 1
    resubmissions = AuditEvent.objects.filter(
        object_type="joint.jointcase", object_id=str(joint.pk), action="joint.resubmit"
    )
    assert resubmissions.count() == 1
    assert pdf.render(notice).startswith(b"%PDF")


def test_the_second_start_business_shows_parallel_progress(joints):
    # Given the application in review
    joint = joints["start-business-in-review"]
    assert joint.status == S.IN_REVIEW
    rows = selectors.progress(joint)
    # Then some departments have granted while the others are still at work
    statuses = {row.case.status for row in rows}
    assert C.APPROVED in statuses and C.IN_REVIEW in statuses
    granted = [row.case for row in rows if row.case.granted]
    assert 0 < len(granted) < len(rows)
    # and nothing was issued yet
    assert joint.issued_at is None and not Licence.objects.filter(case__joint=joint)


def test_the_third_start_business_waits_for_the_clerk(joints):
    joint = joints["start-business-received"]
    assert joint.status == S.RECEIVED and not joint.cases.exists()
    queue = selectors.window_queue(_user("clerk_biz"))["to_accept"]
    assert joint in queue


def test_the_construction_project_is_at_its_third_stage(joints):
    # Given the developer's project
    project = Project.objects.get(applicant__user=_user("developer"))
    rows = selectors.project_stages(project, user=project.applicant.user)
    assert [r.stage.order for r in rows] == [1, 2, 3, 4]
    first, second, third, fourth = rows
    # Then stages 1 and 2 were granted and delivered
    for row in (first, second):
        assert row.application.status == S.DELIVERED
        assert all(c.granted for c in row.application.cases.all())
    # stage 3 is open: a department asked for corrections and the notice went out
    application = third.application
    assert application.status == S.CORRECTION
    assert application.documents.filter(kind=JointDocumentKind.CORRECTION).count() == 1
    assert not application.corrections.filter(notice=None).exists()
    statuses = {c.status for c in application.cases.all()}
    assert C.CORRECTION in statuses and statuses - {C.CORRECTION}
    # stage 4 is not open: the project page says why
    assert fourth.application is None and not fourth.may_apply
    assert fourth.refusal == services.stage_refusal(
        theme=project.theme, stage=fourth.stage, project=project, applicant=project.applicant
    )
    assert "stage" in fourth.refusal


def test_every_application_trail_chains_its_states(joints):
    for key, joint in joints.items():
        events = list(
            AuditEvent.objects.filter(
                object_type="joint.jointcase", object_id=str(joint.pk)
            ).order_by("pk")
        )
        assert events[0].action == "joint.submit" and events[0].from_state == "", key
        for before, after in pairwise(events):
            assert after.from_state == before.to_state, (key, after.action)
            assert after.occurred_at >= before.occurred_at, (key, after.action)
        assert events[-1].to_state == joint.status, key
    assert audit.verify() is None


def test_the_new_companies_logins_are_printed(demo, db):
    rows = {username: (password, what) for username, password, what in demo_accounts()}
    for username, name in (("newco", demo_joint.NEWCO), ("developer", demo_joint.DEVELOPER)):
        password, what = rows[username]
        assert password == city.DEMO_PASSWORD and name in what
        assert JointCase.objects.filter(applicant__user=_user(username), applicant__name=name)


def test_a_second_load_creates_nothing(joints):
    # Given the loaded demo
    counts = (JointCase.objects.count(), Project.objects.count(), AuditEvent.objects.count())
    # when every step runs again / then nothing is added
    report = Report()
    for _label, step in STEPS:
        step(report)
    assert report.created == {}
    assert counts == (
        JointCase.objects.count(),
        Project.objects.count(),
        AuditEvent.objects.count(),
    )
