"""The correction path (补正): the clerk lists every problem in one notice, the citizen sends
the corrected file, the clerk accepts."""

from django.urls import reverse

from yimen.cases.choices import CaseStatus, DocumentKind

from ..cases.factories import guide, person, staff_for, submit
from . import action_form, open_case, pdf_file, take, zh


def test_corrections_are_asked_once_resubmitted_and_accepted(page, login, tmp_path):
    version = guide()
    clerk, _reviewer, _head = staff_for(version)
    citizen = person(n=5)
    case = submit(version, citizen)

    # the clerk finds the case in the queue and asks for corrections
    login(clerk)
    page.goto(reverse("desk:queue"))
    open_case(page, case)
    form = action_form(page, "request_correction")
    first = form.get_by_role("group", name=zh("Item %(n)s") % {"n": 1})
    first.get_by_label(zh("Material"), exact=True).select_option(label="申请书")
    first.get_by_label(zh("What is wrong or missing")).fill("申请人未签名")
    page.screenshot(path=tmp_path / "correction.png", full_page=True)
    take(page, "request_correction", CaseStatus.CORRECTION, form)
    history = page.locator("#h-timeline + ol").inner_text()
    assert "申请书：申请人未签名" in history
    assert zh(DocumentKind.CORRECTION.label) in page.locator("#h-documents + ul").inner_text()
    notice = case.documents.get(kind=DocumentKind.CORRECTION)
    assert notice.content["items"] == [{"material": "申请书", "problem": "申请人未签名"}]

    # the citizen opens the case from 我的办件 and sends the signed form
    login(citizen.user)
    page.goto(reverse("cases:mine"))
    row = page.get_by_role("row").filter(has_text=case.number)
    assert zh(CaseStatus.CORRECTION.label) in row.inner_text()
    open_case(page, case)
    form = action_form(page, "resubmit")
    form.get_by_label("申请书").set_input_files(pdf_file("申请书（已签名）.pdf"))
    take(page, "resubmit", CaseStatus.RECEIVED, form)
    assert "申请书（已签名）.pdf" in page.locator("#h-materials ~ div table").inner_text()

    # the clerk accepts
    login(clerk)
    page.goto(case.get_absolute_url())
    take(page, "accept", CaseStatus.IN_REVIEW)
    page.screenshot(path=tmp_path / "accepted.png", full_page=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert case.documents.filter(kind=DocumentKind.ACCEPTANCE).exists()
