"""The case services: submission with its checks, acceptance, review, decision, fees,
production, delivery, rating, archiving, ending early; the audit row of every step and the
documents it issues."""

import hashlib
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from yimen.cases import documents, services
from yimen.cases.choices import (
    CaseStatus,
    ClockPurpose,
    DeliveryMethod,
    DocumentKind,
    MaterialState,
    PauseKind,
)
from yimen.cases.models import Case, CaseDocument, CaseMaterial
from yimen.cases.workflow import TransitionRefused
from yimen.catalog.choices import LimitUnit, OnlineDepth, Target, VersionStatus
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent, Clock
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..catalog.factories import MaterialTypeFactory
from ..org.factories import DepartmentFactory
from .factories import PDF, FrozenTime, Scene, at, enterprise, guide, pdf, pdf_upload, person

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^(\d{6})-(\d{8})-(\d{5})$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scene():
    return Scene.make()


def files_under(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def events(case, action=None):
    rows = AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk))
    if action:
        rows = rows.filter(action=f"case.{action}")
    return list(rows.order_by("pk"))


def kinds(case):
    return list(case.documents.order_by("pk").values_list("kind", flat=True))


def document(case, kind):
    return case.documents.get(kind=kind)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def clock(pk):
    return Clock.objects.get(pk=pk)


def submit_raw(scene, **overrides):
    arguments = {
        "applicant": scene.applicant,
        "version": scene.version,
        "submitted_by": scene.applicant.user,
        "channel": Channel.ONLINE,
        "form_data": {"shop_name": "示例小店"},
        "uploads": [pdf_upload(scene.version, 0), pdf_upload(scene.version, 1, "证明.pdf")],
    }
    return services.case_submit(**{**arguments, **overrides})


# --- submission ---------------------------------------------------------------------------------


def test_an_online_application_of_a_fully_online_item_is_received_at_once(scene, settings):
    version, applicant = scene.version, scene.applicant

    case = scene.submit()

    case = fresh(case)
    assert case.status == CaseStatus.RECEIVED
    assert case.channel == Channel.ONLINE
    assert case.submitted_by == applicant.user
    assert case.item_version == version
    assert (case.department, case.window_category, case.region) == (
        version.item.department,
        version.window_category,
        version.item.region,
    )
    assert case.form_data == {"shop_name": "示例小店"}
    assert case.received_at == case.submitted_at
    acceptance = case.acceptance_clock
    assert (acceptance.purpose, acceptance.unit, acceptance.limit) == (
        ClockPurpose.ACCEPTANCE,
        LimitUnit.WORKDAYS,
        5,
    )
    assert acceptance.started_at == case.received_at
    assert case.decision_clock is None
    assert kinds(case) == [DocumentKind.RECEIPT]
    rows = list(case.materials.all())
    assert [r.material for r in rows] == list(version.materials.all())
    assert all(r.state == MaterialState.PROVIDED and not r.original_seen for r in rows)
    assert len(files_under(settings)) == 2


def test_the_sha256_size_and_file_of_each_upload_are_stored(scene, settings):
    other = b"%PDF-1.7\nanother file\n"
    uploads = [
        pdf_upload(scene.version, 0),
        services.Upload(
            list(scene.version.materials.all())[1], SimpleUploadedFile("证明.pdf", other)
        ),
    ]

    case = scene.submit(uploads=uploads)

    first, second = case.materials.all()
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert second.sha256 == hashlib.sha256(other).hexdigest()
    assert (first.size, second.size) == (len(PDF), len(other))
    assert (first.file_name, second.file_name) == ("材料.pdf", "证明.pdf")
    with second.file.open("rb") as stored:
        assert stored.read() == other


def test_an_item_with_online_prereview_waits_for_it_then_for_the_originals():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)

    case = scene.submit()
    assert case.status == CaseStatus.SUBMITTED
    assert case.received_at is None and case.acceptance_clock is None
    assert kinds(case) == []

    services.prereview_pass(case=case, actor=scene.clerk)
    assert fresh(case).status == CaseStatus.PREREVIEWED
    assert fresh(case).acceptance_clock is None

    services.receive(case=case, actor=scene.clerk)
    case = fresh(case)
    assert case.status == CaseStatus.RECEIVED
    assert case.received_at is not None
    assert case.acceptance_clock.limit == 5
    assert case.acceptance_clock.started_at == case.received_at
    assert kinds(case) == [DocumentKind.RECEIPT]
    assert all(row.original_seen for row in case.materials.all())


def test_receiving_may_skip_the_prereview_but_not_happen_twice():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)
    case = scene.submit()

    services.receive(case=case, actor=scene.clerk)

    assert fresh(case).status == CaseStatus.RECEIVED
    with pytest.raises(TransitionRefused):
        services.receive(case=case, actor=scene.clerk)
    with pytest.raises(TransitionRefused):
        services.prereview_pass(case=case, actor=scene.clerk)


def test_at_the_window_the_clerk_submits_and_the_materials_count_as_received():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)

    case = scene.submit(channel=Channel.WINDOW, by=scene.clerk)

    assert case.status == CaseStatus.RECEIVED
    assert case.channel == Channel.WINDOW
    assert case.submitted_by == scene.clerk
    assert case.acceptance_clock is not None
    (submitted,) = events(case, "submit")
    assert (submitted.role, submitted.channel, submitted.actor) == (
        Role.WINDOW_CLERK,
        Channel.WINDOW,
        scene.clerk,
    )


def test_an_item_handled_at_the_window_only_is_refused_online(settings):
    scene = Scene.make(online_depth=OnlineDepth.OFFLINE, online=False)

    with pytest.raises(ValidationError) as refused:
        scene.submit()

    assert set(refused.value.message_dict) == {"channel"}
    assert Case.objects.count() == 0
    assert files_under(settings) == []
    assert scene.submit(channel=Channel.WINDOW, by=scene.clerk).status == CaseStatus.RECEIVED


@pytest.mark.parametrize("channel", [Channel.KIOSK, Channel.MOBILE])
def test_other_carriers_than_the_window_are_online_too(channel):
    scene = Scene.make(online_depth=OnlineDepth.OFFLINE, online=False)

    with pytest.raises(ValidationError) as refused:
        scene.submit(channel=channel)

    assert "channel" in refused.value.message_dict


def test_the_applicant_must_be_of_the_kind_the_item_serves():
    scene = Scene.make()  # for natural persons
    company = enterprise(n=7)

    with pytest.raises(ValidationError) as refused:
        submit_raw(scene, applicant=company, submitted_by=company.user)

    assert refused.value.message_dict == {
        "applicant": ["This item is not for this kind of applicant."]
    }
    assert Case.objects.count() == 0

    both = Scene.make(n=2, target=Target.BOTH)
    assert submit_raw(both, applicant=company, submitted_by=company.user).applicant == company


@pytest.mark.parametrize("status", [VersionStatus.DRAFT, VersionStatus.ARCHIVED])
def test_a_guide_not_in_force_is_refused(status, settings):
    version = guide(status=status)
    applicant = person(n=3)
    materials = list(version.materials.all())

    with pytest.raises(ValidationError) as refused:
        services.case_submit(
            applicant=applicant,
            version=version,
            submitted_by=applicant.user,
            channel=Channel.ONLINE,
            form_data={"shop_name": "店"},
            uploads=[services.Upload(materials[0], pdf())],
        )

    assert "item" in refused.value.message_dict
    assert Case.objects.count() == 0
    assert files_under(settings) == []


@pytest.mark.parametrize(
    ("form_data", "problem"),
    [({}, "This field is required."), ({"shop_name": "店" * 101}, "at most 100 characters")],
)
def test_form_errors_are_keyed_by_the_form_field(scene, form_data, problem, settings):
    with pytest.raises(ValidationError) as refused:
        submit_raw(scene, form_data=form_data)

    assert set(refused.value.message_dict) == {"form.shop_name"}
    assert problem in refused.value.message_dict["form.shop_name"][0]
    assert Case.objects.count() == CaseMaterial.objects.count() == 0
    assert files_under(settings) == []


def test_the_application_form_is_built_from_the_guides_fields(scene):
    form = services.form_for(scene.version, {"shop_name": "  小店  "})

    assert list(form.fields) == ["shop_name"]
    assert form.is_valid()
    assert form.cleaned_data == {"shop_name": "小店"}


def _upload(name, content):
    return SimpleUploadedFile(name, content)


BAD_UPLOADS = {
    "wrong type": (lambda: _upload("材料.exe", PDF), "only these file types are taken"),
    "no extension": (lambda: _upload("材料", PDF), "only these file types are taken"),
    "fake content": (lambda: _upload("材料.pdf", PNG), "is not really a pdf file"),
    "too big": (lambda: _upload("大.pdf", b"%PDF" + b"0" * 1024 * 1024), "larger than 1 MB"),
    "empty": (lambda: _upload("空.pdf", b""), "is empty"),
}


@pytest.mark.parametrize("bad", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_by_its_index_and_nothing_is_written(scene, settings, bad):
    settings.YIMEN_UPLOAD_MAX_MB = 1
    make, problem = BAD_UPLOADS[bad]
    first, second = scene.version.materials.all()
    uploads = [services.Upload(first, pdf()), services.Upload(second, make())]

    with pytest.raises(ValidationError) as refused:
        submit_raw(scene, uploads=uploads)

    assert set(refused.value.message_dict) == {"materials.1"}
    assert problem in refused.value.message_dict["materials.1"][0]
    assert Case.objects.count() == CaseMaterial.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="cases.case").count() == 0
    assert files_under(settings) == []


def test_a_file_just_at_the_size_limit_is_taken(scene, settings):
    settings.YIMEN_UPLOAD_MAX_MB = 1
    exact = b"%PDF" + b"0" * (1024 * 1024 - 4)
    first, second = scene.version.materials.all()

    case = submit_raw(
        scene,
        uploads=[services.Upload(first, _upload("a.pdf", exact)), services.Upload(second, pdf())],
    )

    assert case.materials.get(material=first).size == 1024 * 1024


def test_an_upload_for_a_material_of_another_guide_is_refused(scene, settings):
    stranger = guide(materials=[{"material_type": MaterialTypeFactory(name="外来材料")}])
    foreign = stranger.materials.get()

    with pytest.raises(ValidationError) as refused:
        submit_raw(scene, uploads=[services.Upload(foreign, pdf())])

    assert refused.value.message_dict == {
        "materials.0": ["This material is not asked for by the guide."]
    }
    assert Case.objects.count() == 0
    assert files_under(settings) == []


def test_every_problem_of_a_submission_is_reported_at_once(scene):
    fake = services.Upload(list(scene.version.materials.all())[1], _upload("x.pdf", PNG))

    with pytest.raises(ValidationError) as refused:
        submit_raw(scene, form_data={}, uploads=[pdf_upload(scene.version), fake])

    assert set(refused.value.message_dict) == {"form.shop_name", "materials.1"}


def test_case_numbers_are_region_day_sequence(monkeypatch):
    time = FrozenTime(monkeypatch, at(2026, 11, 23, 0, 30))  # 16:30 UTC the day before
    scene = Scene.make()
    other = Scene.make(n=2)
    assert scene.version.item.region.code[:6] != other.version.item.region.code[:6]

    first, second = scene.submit(), scene.submit()
    elsewhere = other.submit()
    time.to(2026, 11, 24, 9)
    next_day = scene.submit()

    prefix = scene.version.item.region.code[:6]
    assert first.number == f"{prefix}-20261123-00001"
    assert second.number == f"{prefix}-20261123-00002"
    assert elsewhere.number == f"{other.version.item.region.code[:6]}-20261123-00001"
    assert next_day.number == f"{prefix}-20261124-00001"
    assert all(NUMBER.match(c.number) for c in (first, second, elsewhere, next_day))


def test_next_number_counts_per_region_and_day(scene):
    region = scene.version.item.region
    day = at(2026, 12, 1).date()

    numbers = [services.next_number(region, day=day) for _ in range(3)]

    prefix = region.code[:6]
    assert numbers == [f"{prefix}-20261201-{n:05d}" for n in (1, 2, 3)]
    assert services.next_number(region, day=at(2026, 12, 2).date()).endswith("-00001")


def test_a_double_submit_with_one_key_yields_one_case_and_one_audit_row(scene):
    first = scene.submit(key="form-7f3a")
    again = scene.submit(key="form-7f3a")

    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert CaseMaterial.objects.count() == 2
    assert len(events(first, "submit")) == 1
    assert fresh(first).idempotency_key == "form-7f3a"


def test_the_key_belongs_to_its_submitter_and_no_key_means_a_new_case(scene):
    first = scene.submit(key="k1")
    other_person = person(n=9)

    theirs = submit_raw(scene, applicant=other_person, submitted_by=other_person.user,
                        idempotency_key="k1")  # fmt: skip
    unkeyed = [scene.submit(), scene.submit()]

    assert len({first.pk, theirs.pk, *(c.pk for c in unkeyed)}) == 4


# --- acceptance ---------------------------------------------------------------------------------


def test_accepting_with_a_required_material_missing_is_refused_naming_it(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 1)])  # only 场所证明

    with pytest.raises(ValidationError) as refused:
        services.accept(case=case, actor=scene.clerk)

    assert refused.value.message_dict == {"materials": ["Missing: 申请书."]}
    case = fresh(case)
    assert case.status == CaseStatus.RECEIVED and case.accepted_at is None
    assert kinds(case) == [DocumentKind.RECEIPT]
    assert events(case, "accept") == []


def test_missing_required_lists_only_required_materials_without_a_file(scene):
    case = scene.submit(uploads=[])

    assert [m.display_name for m in services.missing_required(case)] == ["申请书", "场所证明"]


def test_accepting_starts_the_decision_clock_with_the_promised_limit(scene):
    case = scene.submit()

    services.accept(case=case, actor=scene.clerk)

    case = fresh(case)
    assert case.status == CaseStatus.IN_REVIEW
    assert case.accepted_by == scene.clerk
    assert case.review_step == 0
    assert not case.deemed_accepted
    assert case.acceptance_clock.status == Clock.Status.STOPPED
    decision = case.decision_clock
    assert (decision.purpose, decision.limit, decision.unit) == (
        ClockPurpose.DECISION,
        scene.version.promised_limit,
        scene.version.promised_unit,
    )
    assert decision.started_at == case.accepted_at
    assert kinds(case) == [DocumentKind.RECEIPT, DocumentKind.ACCEPTANCE]


def test_the_decision_clock_counts_in_the_promised_unit():
    scene = Scene.make(promised_limit=10, promised_unit=LimitUnit.DAYS)
    case = scene.submit()

    services.accept(case=case, actor=scene.clerk)

    assert (fresh(case).decision_clock.limit, fresh(case).decision_clock.unit) == (
        10,
        LimitUnit.DAYS,
    )


def test_a_tolerant_acceptance_records_the_commitment(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])  # 场所证明 to follow

    services.accept_tolerant(case=case, actor=scene.clerk)

    case = fresh(case)
    assert case.status == CaseStatus.IN_REVIEW
    promised = case.materials.get(state=MaterialState.TOLERATED)
    assert promised.material.display_name == "场所证明"
    assert promised.note == "补交原件"
    assert promised.supply_by is not None
    assert kinds(case) == [DocumentKind.RECEIPT, DocumentKind.TOLERANCE, DocumentKind.ACCEPTANCE]
    assert events(case, "accept_tolerant")[0].payload["tolerated"][0]["material"] == "场所证明"


def test_a_tolerant_acceptance_is_refused_when_a_core_material_is_missing(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 1)])  # 申请书 missing

    with pytest.raises(ValidationError) as refused:
        services.accept_tolerant(case=case, actor=scene.clerk)

    assert refused.value.message_dict == {"materials": ["申请书 cannot be supplied later."]}
    assert fresh(case).status == CaseStatus.RECEIVED
    assert not CaseMaterial.objects.filter(state=MaterialState.TOLERATED).exists()


def test_a_tolerant_acceptance_is_refused_when_nothing_is_missing(scene):
    case = scene.submit()

    with pytest.raises(ValidationError) as refused:
        services.accept_tolerant(case=case, actor=scene.clerk)

    assert "materials" in refused.value.message_dict
    assert fresh(case).status == CaseStatus.RECEIVED


@pytest.mark.parametrize("reason", ["", "   "])
def test_not_accepting_needs_a_reason(scene, reason):
    case = scene.submit()

    with pytest.raises(ValidationError) as refused:
        services.refuse(case=case, actor=scene.clerk, reason=reason)

    assert set(refused.value.message_dict) == {"reason"}
    assert fresh(case).status == CaseStatus.RECEIVED


def test_not_accepting_closes_the_case_with_its_notice(scene):
    case = scene.submit()

    services.refuse(case=case, actor=scene.clerk, reason=" 不属于本机关职权范围 ")

    case = fresh(case)
    assert case.status == CaseStatus.NOT_ACCEPTED
    assert case.closed_at is not None
    assert case.close_reason == "不属于本机关职权范围"
    assert case.acceptance_clock.status == Clock.Status.STOPPED
    notice = document(case, DocumentKind.NON_ACCEPTANCE)
    assert notice.content["reason"] == "不属于本机关职权范围"
    assert "行政复议" in notice.content["remedies"]


def test_a_correction_notice_lists_everything_and_pauses_the_acceptance_clock(scene):
    case = scene.submit()
    items = [
        {"material": "申请书", "problem": "未签名"},
        {"material": "场所证明", "problem": "已过期"},
    ]

    services.request_correction(case=case, actor=scene.clerk, items=items)

    case = fresh(case)
    assert case.status == CaseStatus.CORRECTION
    assert case.acceptance_clock.status == Clock.Status.PAUSED
    notice = document(case, DocumentKind.CORRECTION)
    assert notice.content["items"] == items
    (asked,) = events(case, "request_correction")
    assert asked.reason == "申请书：未签名；场所证明：已过期"


@pytest.mark.parametrize(
    "items", [[], [{"material": "申请书", "problem": ""}], [{"material": "申请书"}]]
)
def test_a_correction_notice_names_a_problem_for_every_item(scene, items):
    case = scene.submit()

    with pytest.raises(ValidationError) as refused:
        services.request_correction(case=case, actor=scene.clerk, items=items)

    assert set(refused.value.message_dict) == {"items"}
    assert fresh(case).status == CaseStatus.RECEIVED


def test_resubmitting_the_corrections_resumes_the_acceptance_clock(scene):
    case = scene.case_at(CaseStatus.CORRECTION)

    services.resubmit(case=case, actor=scene.applicant.user, uploads=[pdf_upload(scene.version)])

    case = fresh(case)
    assert case.status == CaseStatus.RECEIVED
    assert case.acceptance_clock.status == Clock.Status.RUNNING
    assert case.materials.count() == 3


def test_a_resubmission_with_a_bad_file_is_refused_and_stays_in_correction(scene, settings):
    case = scene.case_at(CaseStatus.CORRECTION)
    before = files_under(settings)
    bad = services.Upload(scene.version.materials.first(), _upload("x.pdf", PNG))

    with pytest.raises(ValidationError) as refused:
        services.resubmit(case=case, actor=scene.applicant.user, uploads=[bad])

    assert set(refused.value.message_dict) == {"materials.0"}
    assert fresh(case).status == CaseStatus.CORRECTION
    assert files_under(settings) == before


def test_a_correction_before_receipt_returns_the_case_to_prereview():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)
    case = scene.submit()
    services.request_correction(
        case=case, actor=scene.clerk, items=[{"material": "申请书", "problem": "看不清"}]
    )

    services.resubmit(case=case, actor=scene.applicant.user)

    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED
    assert case.acceptance_clock is None


# --- review and decision ------------------------------------------------------------------------


def test_the_case_moves_along_the_chain_and_only_the_last_step_decides(scene):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(ValidationError) as early:
        services.approve(case=case, actor=scene.reviewer)
    assert early.value.message_dict == {"status": ["Only the last step of the chain decides."]}
    with pytest.raises(ValidationError):
        services.deny(case=case, actor=scene.reviewer, reason="不符合")

    services.review_pass(case=case, actor=scene.reviewer, opinion="同意")
    assert fresh(case).review_step == 1
    (passed,) = events(case, "review_pass")
    assert passed.payload == {"step": "审批"}
    assert passed.reason == "同意"

    with pytest.raises(ValidationError) as last:
        services.review_pass(case=case, actor=scene.head)
    assert last.value.message_dict == {"status": ["This is the last step: grant or refuse."]}
    assert fresh(case).review_step == 1


def test_a_longer_chain_passes_every_step():
    steps = [
        {"name": "承办", "role": Role.REVIEWER},
        {"name": "审核", "role": Role.REVIEWER},
        {"name": "审批", "role": Role.DEPARTMENT_HEAD},
    ]
    scene = Scene.make(review_steps=steps)
    case = scene.case_at(CaseStatus.IN_REVIEW)

    services.review_pass(case=case, actor=scene.reviewer)
    services.review_pass(case=case, actor=scene.reviewer)
    services.approve(case=case, actor=scene.head, reason="符合条件")

    assert [e.payload["step"] for e in events(case, "review_pass")] == ["审核", "审批"]
    assert fresh(case).status == CaseStatus.APPROVED


def test_sending_back_needs_a_reason_and_a_step_before(scene):
    case = scene.case_at("in_review:last")

    with pytest.raises(ValidationError) as no_reason:
        services.send_back(case=case, actor=scene.head, reason="")
    assert set(no_reason.value.message_dict) == {"reason"}

    services.send_back(case=case, actor=scene.head, reason="材料需核实")
    assert fresh(case).review_step == 0
    assert events(case, "send_back")[0].reason == "材料需核实"

    with pytest.raises(ValidationError) as first:
        services.send_back(case=case, actor=scene.reviewer, reason="再退")
    assert first.value.message_dict == {"status": ["The first step has no step before it."]}


def test_a_special_procedure_pauses_the_decision_clock_and_tells_the_applicant(scene):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    services.suspend(case=case, actor=scene.reviewer, kind=PauseKind.HEARING, reason="申请听证")

    case = fresh(case)
    assert case.status == CaseStatus.SUSPENDED
    assert case.decision_clock.status == Clock.Status.PAUSED
    notice = document(case, DocumentKind.SPECIAL_PROCEDURE)
    assert notice.content["reason"] == "申请听证"
    assert events(case, "suspend")[0].payload == {"kind": PauseKind.HEARING}

    services.resume(case=case, actor=scene.reviewer)

    case = fresh(case)
    assert case.status == CaseStatus.IN_REVIEW
    assert case.decision_clock.status == Clock.Status.RUNNING
    assert case.review_step == 0


@pytest.mark.parametrize("kind", ["", "coffee", PauseKind.CORRECTION])
def test_a_special_procedure_needs_its_kind(scene, kind):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(ValidationError) as refused:
        services.suspend(case=case, actor=scene.reviewer, kind=kind, reason="x")

    assert set(refused.value.message_dict) == {"kind"}
    assert fresh(case).status == CaseStatus.IN_REVIEW


def test_only_the_head_extends_with_a_reason(scene):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(PermissionDenied):
        services.extend(case=case, actor=scene.reviewer, reason="情况复杂")
    with pytest.raises(ValidationError) as no_reason:
        services.extend(case=case, actor=scene.head, reason=" ")
    assert set(no_reason.value.message_dict) == {"reason"}

    services.extend(case=case, actor=scene.head, reason="情况复杂")

    case = fresh(case)
    assert case.status == CaseStatus.IN_REVIEW
    (extension,) = case.decision_clock.extensions.all()
    assert (extension.amount, extension.approved_by, extension.reason) == (
        10,
        scene.head,
        "情况复杂",
    )
    notice = document(case, DocumentKind.EXTENSION)
    assert (notice.content["days"], notice.content["reason"]) == (10, "情况复杂")


def test_extensions_are_capped_by_the_statutory_limit_plus_ten(scene):
    # Promised 3 of a statutory 15 working days: at most 3 + x <= 15 + 10.
    case = scene.case_at(CaseStatus.SUSPENDED)
    services.extend(case=case, actor=scene.head, reason="第一次", days=10)

    with pytest.raises(ValidationError) as refused:
        services.extend(case=case, actor=scene.head, reason="第二次", days=13)

    assert refused.value.message_dict == {
        "days": ["At most 12 more days: the statutory limit caps the extension."]
    }
    services.extend(case=case, actor=scene.head, reason="第二次", days=12)
    assert fresh(case).status == CaseStatus.SUSPENDED
    assert sum(e.amount for e in fresh(case).decision_clock.extensions.all()) == 22
    with pytest.raises(ValidationError):
        services.extend(case=case, actor=scene.head, reason="第三次", days=1)


@pytest.mark.parametrize("days", [0, -3])
def test_an_extension_of_no_days_is_refused_on_its_field(scene, days):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(ValidationError) as refused:
        services.extend(case=case, actor=scene.head, reason="理由", days=days)

    assert set(refused.value.message_dict) == {"days"}
    assert not fresh(case).decision_clock.extensions.exists()


def test_granting_stops_the_decision_clock_and_starts_delivery(scene):
    case = scene.case_at("in_review:last")

    services.approve(case=case, actor=scene.head, reason="符合条件")

    case = fresh(case)
    assert case.status == CaseStatus.APPROVED
    assert case.decided_at is not None
    assert case.decision_reason == "符合条件"
    assert case.review_step is None
    assert case.fee_amount is None
    assert case.decision_clock.status == Clock.Status.STOPPED
    assert (case.delivery_clock.purpose, case.delivery_clock.limit) == (ClockPurpose.DELIVERY, 10)
    assert document(case, DocumentKind.APPROVAL).content["reason"] == "符合条件"


def test_refusing_the_licence_needs_reasons_and_states_the_remedies(scene):
    case = scene.case_at("in_review:last")

    with pytest.raises(ValidationError):
        services.deny(case=case, actor=scene.head, reason="")
    services.deny(case=case, actor=scene.head, reason="经营场所不符合要求")

    case = fresh(case)
    assert case.status == CaseStatus.DENIED
    denial = document(case, DocumentKind.DENIAL)
    assert denial.content["reason"] == "经营场所不符合要求"
    assert "行政诉讼" in denial.content["remedies"]
    services.deliver(case=case, actor=scene.clerk, method=DeliveryMethod.ELECTRONIC)
    assert fresh(case).status == CaseStatus.DELIVERED


def test_a_charged_item_needs_the_fee_then_its_payment_before_production():
    scene = Scene.make(is_free=False, fee_basis="按省物价局标准收取")
    case = scene.case_at("in_review:last")

    with pytest.raises(ValidationError) as no_fee:
        services.approve(case=case, actor=scene.head)
    assert set(no_fee.value.message_dict) == {"fee"}
    with pytest.raises(ValidationError):
        services.approve(case=case, actor=scene.head, fee=Decimal("-1"))

    services.approve(case=case, actor=scene.head, fee=Decimal("80.00"))
    assert fresh(case).fee_amount == Decimal("80.00")
    assert document(case, DocumentKind.APPROVAL).content["fee"] == "80.00"

    with pytest.raises(ValidationError) as unpaid:
        services.produce(case=case, actor=scene.reviewer)
    assert unpaid.value.message_dict == {"fee": ["The fee is not paid yet."]}

    services.record_fee(case=case, actor=scene.clerk)
    assert fresh(case).fee_paid_at is not None
    with pytest.raises(ValidationError) as twice:
        services.record_fee(case=case, actor=scene.clerk)
    assert twice.value.message_dict == {"fee": ["The fee is already paid."]}

    services.produce(case=case, actor=scene.reviewer)
    assert fresh(case).status == CaseStatus.READY


def test_the_guides_fee_is_charged_when_none_is_stated():
    scene = Scene.make(is_free=False, fee_amount=Decimal("20.00"), fee_basis="按标准")
    case = scene.case_at("in_review:last")

    services.approve(case=case, actor=scene.head)

    assert fresh(case).fee_amount == Decimal("20.00")


def test_a_free_case_has_no_fee_to_record(scene):
    case = scene.case_at(CaseStatus.APPROVED)

    with pytest.raises(ValidationError) as refused:
        services.record_fee(case=case, actor=scene.clerk)

    assert refused.value.message_dict == {"fee": ["This case has no fee to pay."]}


def test_the_result_waits_for_the_tolerated_materials(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    services.accept_tolerant(case=case, actor=scene.clerk)
    services.review_pass(case=case, actor=scene.reviewer)
    services.approve(case=case, actor=scene.head)

    with pytest.raises(ValidationError) as waiting:
        services.produce(case=case, actor=scene.reviewer)
    assert set(waiting.value.message_dict) == {"materials"}
    with pytest.raises(ValidationError) as wrong:
        services.supply_tolerated(
            case=case, actor=scene.applicant.user, uploads=[pdf_upload(scene.version, 0)]
        )
    assert wrong.value.message_dict == {"materials": ["None of these materials is awaited."]}

    services.supply_tolerated(
        case=case, actor=scene.applicant.user, uploads=[pdf_upload(scene.version, 1, "证明.pdf")]
    )

    case = fresh(case)
    assert case.status == CaseStatus.APPROVED
    assert case.materials.filter(state=MaterialState.SUPPLIED).count() == 1
    assert not services.tolerated_pending(case)
    assert events(case, "supply_tolerated")[0].payload == {"supplied": ["场所证明"]}
    services.produce(case=case, actor=scene.reviewer)
    assert fresh(case).status == CaseStatus.READY


def test_an_original_seen_at_the_window_supplies_a_tolerated_material(scene):
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    services.accept_tolerant(case=case, actor=scene.clerk)
    promised = case.materials.get(state=MaterialState.TOLERATED).material

    services.supply_tolerated(case=case, actor=scene.clerk, materials=[promised])

    assert fresh(case).materials.get(material=promised).state == MaterialState.SUPPLIED
    assert fresh(case).status == CaseStatus.IN_REVIEW


def test_delivery_by_post_needs_a_tracking_number(scene):
    case = scene.case_at(CaseStatus.READY)

    with pytest.raises(ValidationError) as no_number:
        services.deliver(case=case, actor=scene.clerk, method=DeliveryMethod.POST)
    assert set(no_number.value.message_dict) == {"tracking_number"}
    with pytest.raises(ValidationError) as no_method:
        services.deliver(case=case, actor=scene.clerk, method="pigeon")
    assert set(no_number.value.message_dict) | set(no_method.value.message_dict) == {
        "tracking_number",
        "method",
    }

    services.deliver(
        case=case, actor=scene.clerk, method=DeliveryMethod.POST, tracking_number=" EA123456789CN "
    )

    case = fresh(case)
    assert case.status == CaseStatus.DELIVERED
    assert (case.delivery_method, case.tracking_number) == (DeliveryMethod.POST, "EA123456789CN")
    assert case.delivered_at is not None
    assert case.delivery_clock.status == Clock.Status.STOPPED
    receipt = document(case, DocumentKind.SERVICE_RECEIPT)
    assert receipt.content["tracking_number"] == "EA123456789CN"


@pytest.mark.parametrize("rating", [0, 6, "5", True, None, 4.0])
def test_a_rating_is_a_whole_number_from_one_to_five(scene, rating):
    case = scene.case_at(CaseStatus.DELIVERED)

    with pytest.raises(ValidationError) as refused:
        services.evaluate(case=case, actor=scene.applicant.user, rating=rating, comment="好")

    assert set(refused.value.message_dict) == {"rating"}


def test_a_low_rating_needs_a_reason_and_a_case_is_rated_once(scene):
    case = scene.case_at(CaseStatus.DELIVERED)
    user = scene.applicant.user

    with pytest.raises(ValidationError) as no_reason:
        services.evaluate(case=case, actor=user, rating=2, comment="  ")
    assert set(no_reason.value.message_dict) == {"comment"}

    services.evaluate(case=case, actor=user, rating=1, comment="等太久")

    case = fresh(case)
    assert (case.rating, case.rating_comment, case.status) == (1, "等太久", CaseStatus.DELIVERED)
    with pytest.raises(ValidationError) as twice:
        services.evaluate(case=case, actor=user, rating=5)
    assert twice.value.message_dict == {"rating": ["This case has been rated already."]}
    assert fresh(case).rating == 1


def test_only_the_applicant_rates_and_a_good_rating_needs_no_comment(scene):
    case = scene.case_at(CaseStatus.ARCHIVED)

    with pytest.raises(PermissionDenied):
        services.evaluate(case=case, actor=scene.clerk, rating=5)
    services.evaluate(case=case, actor=scene.applicant.user, rating=4)

    assert fresh(case).rating == 4
    assert fresh(case).status == CaseStatus.ARCHIVED


def test_a_case_not_accepted_may_be_rated(scene):
    case = scene.case_at(CaseStatus.NOT_ACCEPTED)

    services.evaluate(case=case, actor=scene.applicant.user, rating=3)

    assert fresh(case).rating == 3


def test_archiving_closes_a_delivered_case_only(scene):
    case = scene.case_at(CaseStatus.READY)
    with pytest.raises(TransitionRefused):
        services.archive(case=case, actor=scene.clerk)
    services.deliver(case=case, actor=scene.clerk, method=DeliveryMethod.WINDOW)

    services.archive(case=case)  # the system

    case = fresh(case)
    assert case.status == CaseStatus.ARCHIVED
    assert case.closed_at is not None


@pytest.mark.parametrize(
    "status",
    [CaseStatus.RECEIVED, CaseStatus.CORRECTION, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED],
)
def test_the_applicant_withdraws_before_the_decision_and_every_clock_stops(scene, status):
    case = scene.case_at(status)

    services.withdraw(case=case, actor=scene.applicant.user, reason="不再需要")

    case = fresh(case)
    assert case.status == CaseStatus.WITHDRAWN
    assert case.close_reason == "不再需要"
    assert case.closed_at is not None
    for running in (case.acceptance_clock, case.decision_clock):
        assert running is None or running.status == Clock.Status.STOPPED


def test_a_case_submitted_but_not_received_may_be_withdrawn():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)
    case = scene.submit()

    services.withdraw(case=case, actor=scene.applicant.user, reason="填错了")

    assert fresh(case).status == CaseStatus.WITHDRAWN


def test_only_the_applicant_withdraws_with_a_reason_and_not_after_the_decision(scene):
    case = scene.case_at(CaseStatus.IN_REVIEW)

    with pytest.raises(PermissionDenied):
        services.withdraw(case=case, actor=scene.clerk, reason="代撤")
    with pytest.raises(ValidationError) as no_reason:
        services.withdraw(case=case, actor=scene.applicant.user, reason="")
    assert set(no_reason.value.message_dict) == {"reason"}

    decided = scene.case_at(CaseStatus.APPROVED)
    with pytest.raises(TransitionRefused):
        services.withdraw(case=decided, actor=scene.applicant.user, reason="晚了")
    assert fresh(decided).status == CaseStatus.APPROVED


def test_terminating_needs_a_reason_and_issues_its_notice(scene):
    case = scene.case_at(CaseStatus.SUSPENDED)

    with pytest.raises(ValidationError):
        services.terminate(case=case, actor=scene.head, reason="")
    with pytest.raises(PermissionDenied):
        services.terminate(case=case, actor=scene.clerk, reason="无权")
    services.terminate(case=case, actor=scene.head, reason="申请人已注销")

    case = fresh(case)
    assert case.status == CaseStatus.TERMINATED
    assert case.decision_clock.status == Clock.Status.STOPPED
    notice = document(case, DocumentKind.TERMINATION)
    assert notice.content["reason"] == "申请人已注销"


def test_a_case_not_yet_received_cannot_be_terminated():
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW)
    case = scene.submit()

    with pytest.raises(TransitionRefused):
        services.terminate(case=case, actor=scene.head, reason="x")


def test_a_stale_instance_is_judged_by_the_stored_state(scene):
    case = scene.submit()
    stale = Case.objects.get(pk=case.pk)
    services.accept(case=case, actor=scene.clerk)

    with pytest.raises(TransitionRefused) as refused:
        services.refuse(case=stale, actor=scene.clerk, reason="迟到的不予受理")

    assert refused.value.message_dict == {
        "status": ["“Do not accept” is not possible while the case is “Under review”."]
    }
    assert fresh(case).status == CaseStatus.IN_REVIEW


def test_the_callers_instance_follows_the_step(scene):
    case = scene.submit()

    returned = services.accept(case=case, actor=scene.clerk)

    assert returned is case
    assert case.status == CaseStatus.IN_REVIEW
    assert case.decision_clock_id == fresh(case).decision_clock_id


# --- the audit chain ----------------------------------------------------------------------------


def test_every_step_writes_one_event_with_states_reason_role_and_channel(scene):
    user = scene.applicant.user
    case = scene.submit()
    services.request_correction(
        case=case, actor=scene.clerk, items=[{"material": "申请书", "problem": "未签名"}]
    )
    services.resubmit(case=case, actor=user, uploads=[pdf_upload(scene.version)])
    services.accept(case=case, actor=scene.clerk)
    services.suspend(case=case, actor=scene.reviewer, kind=PauseKind.SURVEY, reason="现场勘验")
    services.extend(case=case, actor=scene.head, reason="勘验延长", days=2)
    services.resume(case=case, actor=scene.reviewer)
    services.review_pass(case=case, actor=scene.head)  # a head may act on a reviewer's step
    services.send_back(case=case, actor=scene.head, reason="请补充意见")
    services.review_pass(case=case, actor=scene.reviewer, opinion="已补充")
    services.approve(case=case, actor=scene.head, reason="符合条件")
    services.produce(case=case, actor=None)
    services.deliver(case=case, actor=scene.clerk, method=DeliveryMethod.WINDOW)
    services.archive(case=case, actor=scene.clerk)
    services.evaluate(case=case, actor=user, rating=2, comment="排队久")

    S, W, ON, A = CaseStatus, Channel.WINDOW, Channel.ONLINE, Channel.ADMIN
    clerk, reviewer, head = Role.WINDOW_CLERK, Role.REVIEWER, Role.DEPARTMENT_HEAD
    expected = [
        ("submit", "", S.RECEIVED, "", ON, "", user),
        ("request_correction", S.RECEIVED, S.CORRECTION, clerk, W, "申请书：未签名", scene.clerk),
        ("resubmit", S.CORRECTION, S.RECEIVED, "", ON, "", user),
        ("accept", S.RECEIVED, S.IN_REVIEW, clerk, W, "", scene.clerk),
        ("suspend", S.IN_REVIEW, S.SUSPENDED, reviewer, A, "现场勘验", scene.reviewer),
        ("extend", S.SUSPENDED, S.SUSPENDED, head, A, "勘验延长", scene.head),
        ("resume", S.SUSPENDED, S.IN_REVIEW, reviewer, A, "", scene.reviewer),
        ("review_pass", S.IN_REVIEW, S.IN_REVIEW, head, A, "", scene.head),
        ("send_back", S.IN_REVIEW, S.IN_REVIEW, head, A, "请补充意见", scene.head),
        ("review_pass", S.IN_REVIEW, S.IN_REVIEW, reviewer, A, "已补充", scene.reviewer),
        ("approve", S.IN_REVIEW, S.APPROVED, head, A, "符合条件", scene.head),
        ("produce", S.APPROVED, S.READY, "", A, "", None),
        ("deliver", S.READY, S.DELIVERED, clerk, W, "", scene.clerk),
        ("archive", S.DELIVERED, S.ARCHIVED, clerk, Channel.SYSTEM, "", scene.clerk),
        ("evaluate", S.ARCHIVED, S.ARCHIVED, "", ON, "排队久", user),
    ]
    recorded = [
        (e.action.removeprefix("case."), e.from_state, e.to_state, e.role, e.channel, e.reason,
         e.actor)
        for e in events(case)
    ]  # fmt: skip
    assert recorded == expected


def test_the_other_paths_are_audited_step_by_step_too(monkeypatch):
    scene = Scene.make(online_depth=OnlineDepth.ONLINE_PREREVIEW, is_free=False, fee_basis="标准")
    user, clerk, reviewer, head = scene.applicant.user, scene.clerk, scene.reviewer, scene.head
    case = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    services.prereview_pass(case=case, actor=clerk)
    services.receive(case=case, actor=clerk)
    services.accept_tolerant(case=case, actor=clerk)
    services.review_pass(case=case, actor=reviewer)
    services.approve(case=case, actor=head, fee=Decimal("10"))
    services.supply_tolerated(
        case=case, actor=user, uploads=[pdf_upload(scene.version, 1)], channel=Channel.ONLINE
    )
    services.record_fee(case=case, actor=clerk)
    services.produce(case=case, actor=reviewer)
    services.deliver(case=case, actor=clerk, method=DeliveryMethod.POST, tracking_number="EA1")
    refused = scene.submit(channel=Channel.WINDOW, by=clerk)
    services.refuse(case=refused, actor=clerk, reason="不属于受理范围")
    withdrawn = scene.submit(channel=Channel.WINDOW, by=clerk)
    services.withdraw(case=withdrawn, actor=user, reason="不办了")
    terminated = scene.submit(channel=Channel.WINDOW, by=clerk)
    services.terminate(case=terminated, actor=None, reason="申请人死亡")
    deemed = scene.submit(channel=Channel.WINDOW, by=clerk)
    monkeypatch.setattr(services, "acceptance_overdue", lambda case, now=None: True)
    services.deem_accepted(case=deemed)

    S, W, ON, A, SY = CaseStatus, Channel.WINDOW, Channel.ONLINE, Channel.ADMIN, Channel.SYSTEM
    as_clerk, as_reviewer, as_head = Role.WINDOW_CLERK, Role.REVIEWER, Role.DEPARTMENT_HEAD

    def recorded(of):
        return [
            (e.action.removeprefix("case."), e.from_state, e.to_state, e.role, e.channel, e.reason)
            for e in events(of)
        ]

    assert recorded(case) == [
        ("submit", "", S.SUBMITTED, "", ON, ""),
        ("prereview_pass", S.SUBMITTED, S.PREREVIEWED, as_clerk, W, ""),
        ("receive", S.PREREVIEWED, S.RECEIVED, as_clerk, W, ""),
        ("accept_tolerant", S.RECEIVED, S.IN_REVIEW, as_clerk, W, ""),
        ("review_pass", S.IN_REVIEW, S.IN_REVIEW, as_reviewer, A, ""),
        ("approve", S.IN_REVIEW, S.APPROVED, as_head, A, ""),
        ("supply_tolerated", S.APPROVED, S.APPROVED, "", ON, ""),
        ("record_fee", S.APPROVED, S.APPROVED, as_clerk, W, ""),
        ("produce", S.APPROVED, S.READY, as_reviewer, A, ""),
        ("deliver", S.READY, S.DELIVERED, as_clerk, W, ""),
    ]
    assert recorded(refused)[1:] == [
        ("refuse", S.RECEIVED, S.NOT_ACCEPTED, as_clerk, W, "不属于受理范围")
    ]
    assert recorded(withdrawn)[1:] == [("withdraw", S.RECEIVED, S.WITHDRAWN, "", ON, "不办了")]
    assert recorded(terminated)[1:] == [
        ("terminate", S.RECEIVED, S.TERMINATED, "", A, "申请人死亡")
    ]
    assert recorded(deemed)[1:] == [("deem_accepted", S.RECEIVED, S.IN_REVIEW, "", SY, "")]


def test_a_refused_step_writes_no_event(scene):
    case = scene.submit()
    before = len(events(case))
    other_clerk = UserFactory()

    with pytest.raises(PermissionDenied):
        services.accept(case=case, actor=other_clerk)
    with pytest.raises(TransitionRefused):
        services.approve(case=case, actor=scene.head)
    with pytest.raises(ValidationError):
        services.refuse(case=case, actor=scene.clerk, reason="")

    assert len(events(case)) == before


def test_the_system_acts_with_no_actor_and_anonymous_users_do_not_act(scene):
    case = scene.case_at(CaseStatus.APPROVED)

    with pytest.raises(PermissionDenied):
        services.produce(case=case, actor=AnonymousUser())
    services.produce(case=case, actor=None)

    (produced,) = events(case, "produce")
    assert produced.actor is None and produced.role == ""


# --- documents ----------------------------------------------------------------------------------


def _every_document():
    """Cases that between them issue all eleven documents."""
    scene = Scene.make()
    tolerant = scene.submit(uploads=[pdf_upload(scene.version, 0)])
    services.accept_tolerant(case=tolerant, actor=scene.clerk)  # receipt, tolerance, acceptance
    services.suspend(case=tolerant, actor=scene.reviewer, kind=PauseKind.TESTING, reason="送检")
    services.extend(case=tolerant, actor=scene.head, reason="检测")
    services.terminate(case=tolerant, actor=scene.head, reason="逾期未补交")
    scene.case_at(CaseStatus.NOT_ACCEPTED)
    scene.case_at(CaseStatus.CORRECTION)
    scene.case_at(CaseStatus.DELIVERED)  # approval, service receipt
    scene.case_at(CaseStatus.DENIED)
    return list(CaseDocument.objects.order_by("pk"))


def test_all_eleven_documents_are_issued_and_verify():
    issued = _every_document()

    assert {d.kind for d in issued} == set(DocumentKind.values)
    assert all(documents.is_genuine(d) for d in issued)
    assert len({d.code for d in issued}) == len(issued)
    stored = CaseDocument.objects.get(pk=issued[0].pk)
    assert documents.is_genuine(stored)


def test_a_document_states_the_case_and_masks_the_applicant(scene):
    case = scene.submit()

    receipt = document(case, DocumentKind.RECEIPT)

    content = receipt.content
    assert content["case_number"] == case.number
    assert content["kind"] == DocumentKind.RECEIPT
    assert content["item"] == scene.version.name
    assert content["department"] == case.department.name
    identifier = scene.applicant.id_number
    assert content["applicant_identifier"] == identifier[:4] + "*" * 10 + identifier[-4:]
    assert identifier not in str(content)
    assert receipt.issued_by == scene.applicant.user


def test_tampering_with_any_fact_of_any_document_breaks_its_digest():
    issued = _every_document()

    for original in issued:
        for key in ("case_number", "applicant", "issued_at", "kind", "number"):
            tampered = CaseDocument.objects.get(pk=original.pk)
            tampered.content[key] = str(tampered.content[key]) + "x"
            assert not documents.is_genuine(tampered), (original.kind, key)


def test_adding_a_fact_or_changing_the_digest_breaks_a_document(scene):
    case = scene.case_at(CaseStatus.NOT_ACCEPTED)
    notice = document(case, DocumentKind.NON_ACCEPTANCE)

    notice.content["reason"] = "另一个理由"
    assert not documents.is_genuine(notice)
    notice = document(case, DocumentKind.NON_ACCEPTANCE)
    notice.content["extra"] = 1
    assert not documents.is_genuine(notice)
    notice = document(case, DocumentKind.NON_ACCEPTANCE)
    notice.digest = "0" * 64
    assert not documents.is_genuine(notice)


def test_issuing_a_document_in_another_department_uses_that_department(scene):
    elsewhere = Scene.make(n=4, department=DepartmentFactory(name="佛山市市场监督管理局"))

    case = elsewhere.submit()

    assert document(case, DocumentKind.RECEIPT).content["department"] == "佛山市市场监督管理局"


# --- who may submit, and who is told first --------------------------------------------------


def test_an_applicant_submits_for_themselves_only(scene):
    other = person(n=2)
    with pytest.raises(PermissionDenied):
        services.case_submit(
            applicant=scene.applicant,
            version=scene.version,
            submitted_by=other.user,
            channel=Channel.ONLINE,
            form_data={"shop_name": "示例小店"},
        )
    assert not Case.objects.exists()


def test_only_a_clerk_of_the_items_window_category_submits_at_the_window(scene):
    with pytest.raises(PermissionDenied):
        scene.submit(channel=Channel.WINDOW, by=scene.reviewer)
    with pytest.raises(PermissionDenied):
        scene.submit(channel=Channel.WINDOW, by=scene.applicant.user)
    case = scene.submit(channel=Channel.WINDOW, by=scene.clerk)
    assert case.channel == Channel.WINDOW


def test_someone_who_may_not_act_hears_so_before_any_complaint_about_the_input(scene):
    case = scene.case_at(CaseStatus.RECEIVED)
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        services.request_correction(case=case, actor=stranger, items=[])


def test_a_rating_without_a_comment_object_is_an_input_error(scene):
    case = scene.case_at(CaseStatus.DELIVERED)
    with pytest.raises(ValidationError) as refused:
        services.evaluate(case=case, actor=scene.applicant.user, rating=1, comment=None)
    assert "comment" in refused.value.message_dict


def test_an_approved_case_whose_promised_materials_never_came_can_be_terminated(scene):
    case = scene.case_at(CaseStatus.APPROVED)
    services.terminate(case=case, actor=scene.head, reason="容缺材料逾期未补齐")
    assert case.status == CaseStatus.TERMINATED


def test_an_item_checked_at_pickup_is_handed_over_at_the_window_after_the_originals():
    # Given a granted case of an item handled with 原件核验
    scene = Scene.make(online_depth=OnlineDepth.ORIGINAL_CHECK)
    case = scene.case_at(CaseStatus.READY)
    # Then it is not posted, nor handed over before the originals are checked
    with pytest.raises(ValidationError) as refused:
        services.deliver(case=case, actor=scene.clerk, method="post", tracking_number="EMS1")
    assert "method" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.deliver(case=case, actor=scene.clerk, method="window")
    assert "originals_checked" in refused.value.message_dict
    # When the clerk checks them at the window
    services.deliver(case=case, actor=scene.clerk, method="window", originals_checked=True)
    assert case.status == CaseStatus.DELIVERED
    assert all(m.original_seen for m in case.materials.exclude(file=""))
