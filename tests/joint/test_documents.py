"""The documents of a joint application: what each states (the receipt of the one material
set with its 电子证照, the one acceptance listing every case and its due date, the combined
correction notice grouped by department, the extension, the refusal, the one proof of
service listing the decisions and the licences), drawn by the cases' PDF module with a QR
code to the public verify page, which confirms them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from yimen.accounts.choices import ApplicantKind
from yimen.cases import pdf
from yimen.cases import services as cases
from yimen.cases.choices import DeliveryMethod
from yimen.cases.documents import REMEDIES, TITLES, is_genuine
from yimen.cases.models import Case
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.joint.choices import JointDocumentKind
from yimen.joint.models import JointDocument
from yimen.licences.models import Licence

from ..cases.factories import FrozenTime, at
from ..licences.factories import LicenceTypeFactory, issue
from .factories import JointScene

pytestmark = pytest.mark.django_db
K = JointDocumentKind
PUBLIC = "https://zwfw.example.gov.cn"
A, B, C = 0, 1, 2


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


@pytest.fixture
def scene(monkeypatch):
    FrozenTime(monkeypatch, at(2026, 11, 23))
    return JointScene.make()


def child(scene, joint, index) -> Case:
    return Case.objects.get(joint=joint, item_version=scene.versions[index])


def latest(joint, kind) -> JointDocument:
    return JointDocument.objects.filter(joint=joint, kind=kind).latest("pk")


def text_of(document) -> str:
    return "\n".join(pdf.document_lines(document))


def ask(scene, joint, index, type_name, problem):
    case = child(scene, joint, index)
    material = scene.versions[index].materials.get(material_type=scene.types[type_name])
    cases.ask_correction(
        case=case,
        actor=scene.department_of(case).reviewer,
        items=[{"material": material.pk, "problem": problem}],
    )


def _receipt(scene):
    return scene.apply()


def _acceptance(scene):
    return scene.accepted()


def _non_acceptance(scene):
    joint = scene.apply()
    return services.refuse(joint=joint, actor=scene.clerk, reason="不属于本中心受理范围")


def _correction(scene):
    joint = scene.accepted()
    ask(scene, joint, A, "身份证明", "复印件不清晰")
    ask(scene, joint, B, "场所证明", "缺少产权证明")
    return services.send_corrections(joint=joint, actor=scene.clerk)


def _extension(scene):
    joint = scene.accepted()
    return services.extend(
        joint=joint, actor=scene.departments[A].head, reason="需要现场核查", days=10
    )


def _service_receipt(scene):
    for version in scene.versions:
        LicenceTypeFactory(
            holder_kind=ApplicantKind.ENTERPRISE,
            issuing_items=[version.item],
            fields=["company_name"],
        )
    joint = scene.accepted()
    scene.deny(child(scene, joint, A), reason="名称不符合规定")
    scene.grant(child(scene, joint, B))
    scene.grant(child(scene, joint, C))
    return services.deliver(
        joint=joint, actor=scene.clerk, method=DeliveryMethod.POST, tracking_number="EMS123"
    )


BUILD = {
    K.RECEIPT: _receipt,
    K.ACCEPTANCE: _acceptance,
    K.NON_ACCEPTANCE: _non_acceptance,
    K.CORRECTION: _correction,
    K.EXTENSION: _extension,
    K.SERVICE_RECEIPT: _service_receipt,
}


def test_every_kind_has_a_builder():
    assert set(BUILD) == set(K)


@pytest.mark.parametrize("kind", list(K))
def test_every_kind_renders_a_pdf_that_states_the_application(scene, kind):
    joint = BUILD[kind](scene)
    document = latest(joint, kind)

    drawn = pdf.render(document)
    lines = pdf.document_lines(document)

    assert drawn.startswith(b"%PDF")
    assert pdf.render(document) == drawn
    assert lines[0] == TITLES[kind]
    text = "\n".join(lines)
    assert joint.number in text
    assert document.content["number"].startswith(joint.number)
    assert f"文书编号：{document.content['number']}" in text
    assert "开办测试" in text
    assert "示例有限公司" in text
    assert scene.applicant.masked_identifier in text
    assert f"{joint.region.name}政务服务中心" in text
    assert f"核验码：{document.code}" in text
    assert f"{PUBLIC}/verify/{document.code}/" in text
    assert document.content["joint"] is True
    assert is_genuine(document)


def test_each_kind_has_its_own_number(scene):
    joint = scene.accepted()

    numbers = {d.kind: d.content["number"] for d in joint.documents.all()}

    assert numbers == {K.RECEIPT: f"{joint.number}-21", K.ACCEPTANCE: f"{joint.number}-22"}


def test_the_receipt_lists_the_one_set_with_the_licences_standing_for_a_material(scene):
    licence_type = LicenceTypeFactory(
        holder_kind=ApplicantKind.ENTERPRISE, replaces=[scene.types["身份证明"]]
    )
    licence = issue(licence_type, scene.applicant, data={})

    joint = scene.apply(
        channel=Channel.WINDOW,
        by=scene.clerk,
        uploads=scene.uploads("申请书", "场所证明"),
        originals=[scene.types["申请书"]],
    )

    receipt = latest(joint, K.RECEIPT)
    materials = {m["material"]: m for m in receipt.content["materials"]}
    assert set(materials) == {"申请书", "场所证明", f"身份证明（电子证照 {licence.identifier}）"}
    assert materials["申请书"]["file"] == "申请书.pdf"
    assert materials["申请书"]["original"] is True
    assert materials["场所证明"]["original"] is False
    text = text_of(receipt)
    assert "申请书（原件已核验）" in text
    assert f"身份证明（电子证照 {licence.identifier}）" in text
    assert "不表示申请已被受理" in text


def test_the_acceptance_lists_every_case_with_its_department_and_due_date(scene):
    joint = scene.accepted()

    notice = latest(joint, K.ACCEPTANCE)
    rows = {row["number"]: row for row in notice.content["cases"]}
    opened = list(Case.objects.filter(joint=joint).select_related("decision_clock"))
    assert set(rows) == {c.number for c in opened}
    text = text_of(notice)
    assert "本申请为主题式联审联办" in text
    for case in opened:
        row = rows[case.number]
        assert row["item"] == case.item_version.name
        assert row["department"] == case.department.name
        # (stored to the millisecond)
        assert parse_datetime(row["due_at"]).replace(microsecond=0) == (
            case.decision_clock.due_at.replace(microsecond=0)
        )
        assert case.number in text
        assert case.department.name in text
    assert notice.content["promised"] == {"limit": 10, "unit": "workdays"}
    assert notice.content["due_at"] is not None


def test_the_correction_notice_groups_the_items_by_department(scene):
    joint = BUILD[K.CORRECTION](scene)

    notice = latest(joint, K.CORRECTION)
    items = notice.content["items"]
    first, second = (scene.departments[i].department.name for i in (A, B))
    assert {(i["department"], i["material"], i["problem"]) for i in items} == {
        (first, f"【{first}】身份证明", "复印件不清晰"),
        (second, f"【{second}】场所证明", "缺少产权证明"),
    }
    text = text_of(notice)
    assert f"【{first}】身份证明：复印件不清晰" in text
    assert f"【{second}】场所证明：缺少产权证明" in text
    assert "一次性告知" in text


def test_the_window_correction_before_acceptance_names_no_department(scene):
    joint = scene.apply(uploads=scene.uploads("申请书", "身份证明"))

    services.request_correction(
        joint=joint,
        actor=scene.clerk,
        items=[
            {"material_type": scene.types["场所证明"].pk, "problem": "未提供"},
            {"material_type": "", "problem": "企业名称与核名不一致"},
        ],
    )

    items = latest(joint, K.CORRECTION).content["items"]
    assert [(i["department"], i["material"], i["problem"]) for i in items] == [
        ("", "场所证明", "未提供"),
        ("", "", "企业名称与核名不一致"),
    ]
    assert "申请表：企业名称与核名不一致" in text_of(latest(joint, K.CORRECTION))


def test_a_second_correction_notice_takes_the_next_number(scene):
    joint = BUILD[K.CORRECTION](scene)
    services.resubmit(
        joint=joint,
        actor=scene.applicant.user,
        uploads=scene.uploads("身份证明", "场所证明"),
    )
    ask(scene, joint, C, "申请书", "未签名")
    services.send_corrections(joint=joint, actor=scene.clerk)

    numbers = sorted(
        d.content["number"] for d in JointDocument.objects.filter(joint=joint, kind=K.CORRECTION)
    )
    assert numbers == [f"{joint.number}-24", f"{joint.number}-24-2"]


def test_the_refusal_states_the_reason_and_the_remedies(scene):
    joint = BUILD[K.NON_ACCEPTANCE](scene)

    notice = latest(joint, K.NON_ACCEPTANCE)

    assert notice.content["reason"] == "不属于本中心受理范围"
    assert notice.content["remedies"] == REMEDIES
    text = text_of(notice)
    assert "不属于本中心受理范围" in text
    for phrase in ("六十日内", "行政复议", "六个月内", "行政诉讼"):
        assert phrase in text


def test_the_extension_states_the_days_and_the_reason(scene):
    joint = BUILD[K.EXTENSION](scene)

    notice = latest(joint, K.EXTENSION)

    assert (notice.content["days"], notice.content["reason"]) == (10, "需要现场核查")
    assert notice.content["due_at"] is not None
    assert "需要现场核查" in text_of(notice)


def test_the_proof_of_service_lists_every_decision_and_licence(scene):
    joint = BUILD[K.SERVICE_RECEIPT](scene)

    receipt = latest(joint, K.SERVICE_RECEIPT)
    served = receipt.content["served"]
    licences = list(Licence.objects.select_related("licence_type"))
    assert len(licences) == 2
    titles = [s["title"] for s in served]
    assert "不予行政许可决定书（设立登记）" in titles
    assert "准予行政许可决定书（印章备案）" in titles
    assert "准予行政许可决定书（社保登记）" in titles
    for licence in licences:
        assert {"title": licence.licence_type.name, "number": licence.identifier} in served
    assert (receipt.content["method_kind"], receipt.content["tracking_number"]) == (
        DeliveryMethod.POST,
        "EMS123",
    )
    text = text_of(receipt)
    for licence in licences:
        assert f"送达文书：{licence.licence_type.name}（文书编号：{licence.identifier}）" in text
    assert "邮件号码：EMS123" in text


# --- the verify page --------------------------------------------------------------------------


def _verify(client, code):
    return client.get(reverse("case_documents:verify", args=[code]), REMOTE_ADDR="127.0.0.1")


@pytest.mark.parametrize("kind", [K.ACCEPTANCE, K.CORRECTION, K.SERVICE_RECEIPT])
def test_the_verify_page_confirms_a_joint_document(client, scene, kind):
    joint = BUILD[kind](scene)
    document = latest(joint, kind)

    response = _verify(client, document.code)

    assert response.status_code == 200
    assert response.context["result"] == "genuine"
    page = response.content.decode()
    assert TITLES[kind] in page
    assert joint.number in page
    assert "开办测试" in page
    assert "示例有限公司" not in page  # the name is masked


def test_a_tampered_joint_document_is_not_genuine(client, scene):
    joint = BUILD[K.ACCEPTANCE](scene)
    document = latest(joint, K.ACCEPTANCE)
    JointDocument.objects.filter(pk=document.pk).update(content={**document.content, "cases": []})

    response = _verify(client, document.code)

    assert response.status_code == 200
    assert response.context["result"] == "tampered"
    assert joint.number not in response.content.decode()
