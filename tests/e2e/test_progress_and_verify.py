"""The public pages: the progress query (办件查询) and the verification of a document."""

import re

from django.urls import reverse

from yimen.cases import services
from yimen.cases.choices import CaseStatus, DocumentKind

from ..accounts.factories import citizen_id
from ..cases.factories import guide, person, staff_for, submit
from . import zh

NO_MATCH = "No case matches this number and ID number. Check both and try again."


def query(page, number: str, identifier: str) -> None:
    page.get_by_label(zh("Case number")).fill(number)
    page.get_by_label(zh("Applicant's ID number or unified social credit code")).fill(identifier)
    page.get_by_role("button", name=zh("Query"), exact=True).click()


def test_anyone_queries_the_progress_of_a_case(page, tmp_path):
    version = guide()
    clerk, _reviewer, _head = staff_for(version)
    citizen = person(n=6)
    case = services.accept(case=submit(version, citizen), actor=clerk)

    page.goto(reverse("cases:progress"))
    query(page, case.number, citizen_id(7))  # someone else's ID number
    page.get_by_role("alert").filter(has_text=zh(NO_MATCH)).wait_for()
    assert case.number not in page.locator("main").inner_text()

    query(page, case.number, citizen.id_number)
    result = page.locator("section").filter(has_text=case.number)
    result.wait_for()
    page.screenshot(path=tmp_path / "progress.png", full_page=True)
    text = result.inner_text()
    assert zh(CaseStatus.IN_REVIEW.label) in text
    assert version.name in text
    assert "张*" in text and "张三" not in text  # the name masked
    assert zh(NO_MATCH) not in page.locator("main").inner_text()


def test_the_verify_page_says_a_document_is_genuine(page, tmp_path):
    version = guide()
    clerk, _reviewer, _head = staff_for(version)
    case = services.accept(case=submit(version, person(n=8)), actor=clerk)
    notice = case.documents.get(kind=DocumentKind.ACCEPTANCE)

    page.goto(reverse("case_documents:verify_search"))
    page.get_by_label(zh("Verification code")).fill(notice.code)
    page.get_by_role("button", name=zh("Verify"), exact=True).click()
    page.wait_for_url(re.compile(re.escape(reverse("case_documents:verify", args=[notice.code]))))
    verdict = page.get_by_role("status").filter(has_text=zh("This document is genuine"))
    verdict.wait_for()
    page.screenshot(path=tmp_path / "verify.png", full_page=True)
    details = page.locator("main dl").inner_text()
    assert case.number in details
    assert version.name in details
    assert zh(DocumentKind.ACCEPTANCE.label) in details
