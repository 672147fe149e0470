"""A theme handled jointly (主题式联审联办), in the browser: the enterprise answers the
scenario question and sends one form and one set of materials; the window accepts once and
a case opens in each department; two departments ask for corrections and the window sends
them in one notice; the enterprise corrects once; every department grants; the window
delivers every result at once."""

import re

from django.urls import reverse

from yimen.cases.choices import CaseStatus
from yimen.joint import workflow
from yimen.joint.choices import JointDocumentKind, JointStatus
from yimen.joint.models import JointCase
from yimen.licences.models import Licence

from ..joint.factories import JointScene
from . import action_form, open_case, pdf_file, zh


def joint_form(page, action: str):
    """The form of a step on the application page, its folded card opened."""
    form = page.locator(f"form[action$='/{action}/']")
    folded = page.locator("details").filter(has=form)
    if folded.count():
        folded.locator("summary").first.click()
    return form


def joint_take(page, action: str, becomes: JointStatus, form=None) -> None:
    label = zh(workflow.STEPS[action].label)
    (form or joint_form(page, action)).get_by_role("button", name=label).click()
    done = zh("Done: %(action)s. The application is now “%(status)s”.")
    page.get_by_role("alert").filter(
        has_text=done % {"action": label, "status": zh(becomes.label)}
    ).wait_for()


def test_one_application_many_departments_one_delivery(page, login, tmp_path):
    scene = JointScene.make()

    # the enterprise answers the question and sends one form and one set of materials
    login(scene.applicant.user)
    page.goto(reverse("joint:apply", args=[scene.theme.code]))
    page.locator("select[name=answer]").select_option(label="需要")
    page.locator("#scenario").get_by_role("button").click()
    page.locator("#items").wait_for()
    assert page.locator("#items li").count() == 3
    page.get_by_label("企业名称").fill("示例科技有限公司")
    page.get_by_label("注册资本").fill("100")
    for name in ("申请书", "身份证明", "场所证明"):
        upload = page.locator(f"input[name=material_{scene.types[name].pk}]")
        upload.set_input_files(pdf_file(f"{name}.pdf"))
    page.screenshot(path=tmp_path / "apply.png", full_page=True)
    page.get_by_role("button", name=zh("Submit the application")).click()
    page.wait_for_url(re.compile(r"/themes/LB"))
    joint = JointCase.objects.get()
    assert joint.status == JointStatus.RECEIVED and joint.materials.count() == 3

    # the window accepts once: three departments' cases open
    login(scene.clerk)
    page.goto(reverse("joint_desk:queue"))
    page.get_by_role("link", name=joint.number).first.click()
    page.wait_for_url(re.compile(re.escape(joint.get_absolute_url()) + "$"))
    joint_take(page, "accept", JointStatus.IN_REVIEW)
    assert page.locator("#progress tbody tr").count() == 3
    first, second, third = joint.cases.order_by("pk")

    # two departments ask for corrections on their own cases
    for case, material in ((first, "身份证明"), (second, "身份证明")):
        login(scene.department_of(case).reviewer)
        page.goto(case.get_absolute_url())
        assert joint.number in page.locator("main").inner_text()
        form = action_form(page, "ask_correction")
        form.get_by_label(zh("Material"), exact=True).first.select_option(label=material)
        form.get_by_label(zh("What is wrong or missing")).first.fill("复印件模糊")
        form.get_by_role("button").click()
        page.get_by_role("alert").first.wait_for()
        case.refresh_from_db()
        assert case.status == CaseStatus.CORRECTION

    # the window sends them in one notice
    login(scene.clerk)
    page.goto(joint.get_absolute_url())
    joint_take(page, "send_corrections", JointStatus.CORRECTION)
    notices = joint.documents.filter(kind=JointDocumentKind.CORRECTION)
    assert notices.count() == 1 and len(notices.get().content["items"]) == 2

    # the enterprise corrects once
    login(scene.applicant.user)
    page.goto(reverse("joint:mine"))
    page.get_by_role("link", name=joint.number).first.click()
    form = joint_form(page, "resubmit")
    form.locator("input[type=file]").first.set_input_files(pdf_file("身份证明（清晰）.pdf"))
    joint_take(page, "resubmit", JointStatus.IN_REVIEW, form)
    assert set(joint.cases.values_list("status", flat=True)) == {CaseStatus.IN_REVIEW}

    # every department grants; nothing is issued before the last
    for case in (first, second):
        case.refresh_from_db()
        scene.grant(case)
    assert not Licence.objects.exists()
    third.refresh_from_db()
    scene.grant(third)
    joint.refresh_from_db()
    assert joint.status == JointStatus.READY

    # the window delivers every result at once
    login(scene.clerk)
    page.goto(joint.get_absolute_url())
    form = joint_form(page, "deliver")
    form.get_by_label(zh("Delivery")).select_option("window")
    joint_take(page, "deliver", JointStatus.DELIVERED, form)
    page.screenshot(path=tmp_path / "delivered.png", full_page=True)
    assert set(joint.cases.values_list("status", flat=True)) == {CaseStatus.DELIVERED}
    assert zh(JointDocumentKind.SERVICE_RECEIPT.label) in page.locator("main").inner_text()
    open_case(page, first)
