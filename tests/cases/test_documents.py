"""The 11 documents: what each states, drawn as a PDF with a QR code to the public verify
page; the verify page itself; who may download a document."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from yimen.cases import documents, pdf, services
from yimen.cases.choices import DeliveryMethod, DocumentKind, PauseKind
from yimen.cases.models import CaseDocument, CaseMaterial
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import guide, let_acceptance_lapse, person, staff_for, submit
from .factories import pdf as pdf_file

pytestmark = pytest.mark.django_db
K = DocumentKind
PUBLIC = "https://zwfw.example.gov.cn"
REMEDIES = ("六十日内", "行政复议", "六个月内", "行政诉讼")


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.YIMEN_PUBLIC_URL = PUBLIC + "/"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The verify page counts lookups per address in the cache.
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    version: object
    applicant: object
    clerk: object
    reviewer: object
    head: object


@pytest.fixture
def world():
    version = guide()
    return World(version, person(), *staff_for(version))


def _in_review(w):
    case = submit(w.version, w.applicant)
    return services.accept(case=case, actor=w.clerk)


def _approved(w):
    case = _in_review(w)
    services.review_pass(case=case, actor=w.reviewer)
    return services.approve(case=case, actor=w.head, reason="经营场所符合要求")


def _tolerated(w):
    first = w.version.materials.all()[0]
    case = submit(w.version, w.applicant, uploads=[services.Upload(first, pdf_file())])
    return services.accept_tolerant(case=case, actor=w.clerk)


def _denied(w):
    case = _in_review(w)
    services.review_pass(case=case, actor=w.reviewer)
    return services.deny(case=case, actor=w.head, reason="经营场所位于居民住宅楼内，不符合安全要求")


def _delivered(w, method=DeliveryMethod.WINDOW, tracking=""):
    case = _approved(w)
    services.produce(case=case, actor=w.reviewer)
    return services.deliver(case=case, actor=w.clerk, method=method, tracking_number=tracking)


BUILD = {
    K.RECEIPT: lambda w: submit(w.version, w.applicant),
    K.ACCEPTANCE: _in_review,
    K.NON_ACCEPTANCE: lambda w: services.refuse(
        case=submit(w.version, w.applicant), actor=w.clerk, reason="该事项不属于本机关职权范围"
    ),
    K.CORRECTION: lambda w: services.request_correction(
        case=submit(w.version, w.applicant),
        actor=w.clerk,
        items=[
            {"material": "申请书", "problem": "缺少申请人签名"},
            {"material": "", "problem": "店名与场所证明不一致"},
        ],
    ),
    K.TOLERANCE: _tolerated,
    K.SPECIAL_PROCEDURE: lambda w: services.suspend(
        case=_in_review(w), actor=w.reviewer, kind=PauseKind.SURVEY, reason="需对经营场所现场核查"
    ),
    K.EXTENSION: lambda w: services.extend(
        case=_in_review(w), actor=w.head, reason="需征求消防部门意见", days=5
    ),
    K.APPROVAL: _approved,
    K.DENIAL: _denied,
    K.SERVICE_RECEIPT: _delivered,
    K.TERMINATION: lambda w: services.terminate(
        case=_in_review(w), actor=w.head, reason="申请人逾期未补齐容缺材料"
    ),
}


def _document(case, kind) -> CaseDocument:
    return case.documents.filter(kind=kind).latest("pk")


def _text(document) -> str:
    return "\n".join(pdf.document_lines(document))


# --- every kind -------------------------------------------------------------------------------


def test_every_kind_has_a_builder():
    assert set(BUILD) == set(K)


@pytest.mark.parametrize("kind", list(K))
def test_every_kind_renders_a_pdf_that_states_the_case(world, kind):
    # Given a case that reached the document's step
    case = BUILD[kind](world)
    document = _document(case, kind)

    # When it is drawn
    drawn = pdf.render(document)
    lines = pdf.document_lines(document)

    # Then it is a reproducible PDF titled with the kind's Chinese name, stating the case,
    # the item, the department, the masked identifier, the seal and the verify code
    assert drawn.startswith(b"%PDF")
    assert pdf.render(document) == drawn
    assert lines[0] == documents.TITLES[kind]
    text = "\n".join(lines)
    assert case.number in text
    assert f"文书编号：{document.content['number']}" in text
    assert document.content["number"].startswith(case.number)
    assert world.version.name in text
    assert world.version.item.implementation_code in text
    assert case.department.name in text
    assert "张三" in text
    assert world.applicant.masked_identifier in text
    assert "（盖章）" in text
    assert f"核验码：{document.code}" in text
    assert f"{PUBLIC}/verify/{document.code}/" in text
    # and the full ID number is stored nowhere in the document
    assert world.applicant.id_number not in json.dumps(document.content, ensure_ascii=False)
    assert documents.is_genuine(document)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (K.NON_ACCEPTANCE, "该事项不属于本机关职权范围"),
        (K.DENIAL, "经营场所位于居民住宅楼内，不符合安全要求"),
        (K.TERMINATION, "申请人逾期未补齐容缺材料"),
    ],
)
def test_refusals_state_the_reason_and_the_remedies(world, kind, reason):
    text = _text(_document(BUILD[kind](world), kind))

    assert reason in text
    assert all(word in text for word in REMEDIES)


@pytest.mark.parametrize("kind", [K.RECEIPT, K.ACCEPTANCE, K.APPROVAL, K.EXTENSION])
def test_favourable_documents_state_no_remedies(world, kind):
    text = _text(_document(BUILD[kind](world), kind))

    assert "行政复议" not in text


def test_the_remedies_are_part_of_what_the_digest_covers(world):
    document = _document(BUILD[K.DENIAL](world), K.DENIAL)

    document.content["remedies"] = "不得申请行政复议。"

    assert not documents.is_genuine(document)


def test_a_person_shows_the_masked_id_and_an_enterprise_its_credit_code(world):
    document = _document(BUILD[K.RECEIPT](world), K.RECEIPT)
    assert f"公民身份号码：{world.applicant.id_number[:4]}**********" in _text(document)

    document.content.update(applicant_kind="enterprise", applicant_identifier="91440604MA4W")
    assert "统一社会信用代码：91440604MA4W" in _text(document)
    assert "你单位于" in _text(document)


# --- what each kind says ----------------------------------------------------------------------


def test_receipt_lists_the_materials_and_is_not_an_acceptance(world):
    text = _text(_document(BUILD[K.RECEIPT](world), K.RECEIPT))

    assert "1．申请书" in text
    assert "2．场所证明" in text
    assert "不表示申请已被受理" in text


def test_acceptance_states_the_limits_and_the_due_date(world):
    case = BUILD[K.ACCEPTANCE](world)
    text = _text(_document(case, K.ACCEPTANCE))

    assert "申请材料齐全、符合法定形式" in text
    assert "决定予以受理" in text
    assert "3个工作日内作出决定（法定期限为15个工作日）" in text
    assert f"预计办结日期为{pdf.date_text(case.decision_clock.due_at)}" in text


def test_a_deemed_acceptance_says_so(world):
    case = submit(world.version, world.applicant)

    let_acceptance_lapse(case)
    services.deem_accepted(case=case)

    text = _text(_document(case, K.ACCEPTANCE))
    assert "五个工作日内未作出是否受理的决定" in text
    assert "即为受理" in text


def test_correction_lists_everything_at_once(world):
    text = _text(_document(BUILD[K.CORRECTION](world), K.CORRECTION))

    assert "一次性告知" in text
    assert "1．申请书：缺少申请人签名" in text
    assert "2．申请表：店名与场所证明不一致" in text


def test_a_second_notice_of_a_kind_is_numbered_on(world):
    case = BUILD[K.CORRECTION](world)
    upload = services.Upload(world.version.materials.all()[0], pdf_file())
    services.resubmit(case=case, actor=world.applicant.user, uploads=[upload])
    services.request_correction(
        case=case, actor=world.clerk, items=[{"material": "申请书", "problem": "仍未签名"}]
    )

    numbers = [d.content["number"] for d in case.documents.filter(kind=K.CORRECTION)]

    assert numbers == [f"{case.number}-04", f"{case.number}-04-2"]


def test_tolerance_lists_the_materials_with_their_supply_dates(world):
    case = BUILD[K.TOLERANCE](world)
    promised = case.materials.get(state="tolerated")
    due = f"{promised.supply_by.year}年{promised.supply_by.month}月{promised.supply_by.day}日"

    commitment = _text(_document(case, K.TOLERANCE))
    acceptance = _text(_document(case, K.ACCEPTANCE))

    assert f"1．场所证明：于{due}前补交（补交原件）" in commitment
    assert "承诺人（签字或盖章）" in commitment
    assert "本申请为容缺受理" in acceptance
    assert f"场所证明，于{due}前补交" in acceptance


def test_special_procedure_names_the_procedure_and_its_reason(world):
    text = _text(_document(BUILD[K.SPECIAL_PROCEDURE](world), K.SPECIAL_PROCEDURE))

    assert "需要进行现场勘验" in text
    assert "需对经营场所现场核查" in text
    assert "第四十五条" in text


def test_extension_states_the_days_added_and_the_new_deadline(world):
    case = BUILD[K.EXTENSION](world)
    text = _text(_document(case, K.EXTENSION))

    assert "需征求消防部门意见" in text
    assert (
        f"办理期限延长5个工作日，延长后的办理期限至{pdf.date_text(case.decision_clock.due_at)}"
        in text
    )


def test_approval_states_its_basis_reasons_and_that_it_is_free(world):
    text = _text(_document(BUILD[K.APPROVAL](world), K.APPROVAL))

    assert "决定准予行政许可" in text
    assert "《促进个体工商户发展条例》第八条" in text
    assert "审查意见：经营场所符合要求" in text
    assert "本事项不收取费用" in text


def test_approval_of_a_charged_item_states_the_fee():
    version = guide(is_free=False, fee_amount=Decimal("50.00"), fee_basis="《收费标准》")
    w = World(version, person(), *staff_for(version))

    text = _text(_document(_approved(w), K.APPROVAL))

    assert "依法应缴纳费用人民币50.00元" in text


def test_denial_states_its_legal_ground(world):
    text = _text(_document(BUILD[K.DENIAL](world), K.DENIAL))

    assert "第三十八条第二款" in text
    assert "决定不予行政许可" in text


def test_proof_of_service_names_the_decision_served_and_the_method(world):
    case = BUILD[K.SERVICE_RECEIPT](world)
    approval = _document(case, K.APPROVAL)

    text = _text(_document(case, K.SERVICE_RECEIPT))

    assert f"送达文书：准予行政许可决定书（文书编号：{approval.content['number']}）" in text
    assert "送达方式：窗口领取" in text
    assert "受送达人签收：" in text


def test_proof_of_service_by_post_states_the_tracking_number(world):
    case = _delivered(world, DeliveryMethod.POST, "EA123456789CN")

    text = _text(_document(case, K.SERVICE_RECEIPT))

    assert "送达方式：邮政寄递（EMS）" in text
    assert "邮件号码：EA123456789CN" in text
    assert "受送达人签收：" not in text


def test_dates_are_beijing_dates_in_chinese():
    assert pdf.date_text("2026-11-22T16:30:00Z") == "2026年11月23日"
    assert pdf.date_text("2026-11-30") == "2026年11月30日"


def test_the_qr_code_holds_the_verify_address(world, monkeypatch):
    document = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)
    drawn = []
    original = pdf.qr_drawing
    monkeypatch.setattr(pdf, "qr_drawing", lambda d: drawn.append(original(d)) or drawn[-1])

    pdf.render(document)

    assert [d.contents[0].value for d in drawn] == [f"{PUBLIC}/verify/{document.code}/"]


# --- the verify page --------------------------------------------------------------------------


def _verify(client, code, address="127.0.0.1"):
    return client.get(reverse("case_documents:verify", args=[code]), REMOTE_ADDR=address)


def test_a_genuine_document_shows_what_identifies_it_and_the_masked_name(client, world):
    case = BUILD[K.APPROVAL](world)
    document = _document(case, K.APPROVAL)

    response = _verify(client, document.code)

    assert response.status_code == 200
    assert response.context["result"] == "genuine"
    page = response.content.decode()
    for shown in ("准予行政许可决定书", case.number, world.version.name, case.department.name):
        assert shown in page
    assert "张*" in page
    assert "张三" not in page
    assert world.applicant.masked_identifier not in page
    assert "经营场所符合要求" not in page  # the reasons stay on the paper


def test_a_tampered_document_is_not_genuine(client, world):
    document = _document(BUILD[K.DENIAL](world), K.DENIAL)
    changed = {**document.content, "reason": "无"}
    CaseDocument.objects.filter(pk=document.pk).update(content=changed)

    response = _verify(client, document.code)

    assert response.status_code == 200
    assert response.context["result"] == "tampered"
    assert document.case.number not in response.content.decode()


def test_an_unknown_code_is_not_found(client, db):
    response = _verify(client, "no-such-code")

    assert response.status_code == 404
    assert response.context["result"] == "unknown"


def test_the_verify_page_is_rate_limited_per_address(client, world):
    document = _document(BUILD[K.RECEIPT](world), K.RECEIPT)
    for _ in range(30):
        assert _verify(client, document.code).status_code == 200

    limited = _verify(client, document.code)

    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert _verify(client, document.code, address="10.0.0.2").status_code == 200


def test_the_verify_form_leads_to_the_code(client, db):
    url = reverse("case_documents:verify_search")

    assert client.get(url).status_code == 200
    response = client.get(url, {"code": " abc_DEF-1 "})
    assert response.status_code == 302
    assert response["Location"] == reverse("case_documents:verify", args=["abc_DEF-1"])
    assert client.get(url, {"code": "<script>"}).status_code == 400


# --- downloading ------------------------------------------------------------------------------


def _download(client, user, document):
    if user is not None:
        client.force_login(user)
    url = reverse("case_documents:pdf", args=[document.case.number, document.code])
    return client.get(url)


def test_the_applicant_downloads_their_document(client, world):
    document = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)

    response = _download(client, world.applicant.user, document)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]


def test_another_citizen_gets_not_found(client, world):
    document = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)

    assert _download(client, person(n=2).user, document).status_code == 404


def test_a_visitor_is_sent_to_sign_in(client, world):
    document = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)

    response = _download(client, None, document)

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_staff_download_as_far_as_they_see_the_case(client, world):
    document = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)
    outsider = grant(UserFactory(), Role.REVIEWER, department=DepartmentFactory())

    assert _download(client, world.clerk, document).status_code == 200
    assert _download(client, world.reviewer, document).status_code == 200
    assert _download(client, outsider, document).status_code == 404


def test_a_document_is_found_only_under_its_own_case(client, world):
    mine = _document(BUILD[K.ACCEPTANCE](world), K.ACCEPTANCE)
    other = _document(submit(world.version, person(n=3)), K.RECEIPT)
    client.force_login(world.applicant.user)

    url = reverse("case_documents:pdf", args=[mine.case.number, other.code])

    assert client.get(url).status_code == 404


# --- uploaded materials -----------------------------------------------------------------------


def _material_url(case, pk):
    return reverse("case_documents:material", args=[case.number, pk])


def test_the_applicant_opens_their_uploaded_material(client, world):
    case = submit(world.version, world.applicant)
    material = case.materials.exclude(file="").first()
    client.force_login(world.applicant.user)

    response = client.get(_material_url(case, material.pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_file().read()
    assert "no-store" in response["Cache-Control"]


def test_a_material_is_found_only_under_its_own_case(client, world):
    mine = submit(world.version, world.applicant)
    theirs = submit(world.version, person(n=2)).materials.exclude(file="").first()
    client.force_login(world.applicant.user)

    assert client.get(_material_url(mine, theirs.pk)).status_code == 404


def test_a_material_row_without_a_file_is_not_found(client, world):
    case = submit(world.version, world.applicant)
    material = case.materials.exclude(file="").first()
    CaseMaterial.objects.filter(pk=material.pk).update(file="")
    client.force_login(world.applicant.user)

    assert client.get(_material_url(case, material.pk)).status_code == 404


def test_a_supervisor_reads_the_case_but_not_its_files(client, world):
    case = submit(world.version, world.applicant)
    material = case.materials.exclude(file="").first()
    client.force_login(grant(UserFactory(), Role.SUPERVISOR))

    assert client.get(case.get_absolute_url()).status_code == 200
    assert client.get(_material_url(case, material.pk)).status_code == 404


def test_a_visitor_is_sent_to_sign_in_for_a_material(client, world):
    case = submit(world.version, world.applicant)
    material = case.materials.exclude(file="").first()

    response = client.get(_material_url(case, material.pk))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
