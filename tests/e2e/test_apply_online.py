"""A citizen applies online, from the guide to 我的办件."""

import re

from django.urls import reverse

from yimen.cases.choices import CaseStatus
from yimen.cases.models import Case

from ..cases.factories import guide, person
from . import pdf_file, zh


def test_a_citizen_applies_online_from_the_guide(page, login, tmp_path):
    version = guide()
    citizen = person(n=1)

    page.goto(reverse("catalog:item", args=[version.item.implementation_code]))
    page.get_by_role("link", name=zh("Apply online")).click()
    login(citizen.user)  # the apply page asks to sign in first
    page.get_by_label("店名").fill("示例小店")
    page.get_by_label("申请书").set_input_files(pdf_file("申请书.pdf"))
    page.get_by_label("场所证明").set_input_files(pdf_file("场所证明.pdf"))
    page.screenshot(path=tmp_path / "apply.png", full_page=True)
    page.get_by_role("button", name=zh("Submit the application")).click()

    page.wait_for_url(re.compile(r"/cases/\d{6}-\d{8}-\d{5}/$"))
    case = Case.objects.get()
    assert case.applicant == citizen
    assert case.status == CaseStatus.RECEIVED
    assert case.materials.count() == 2
    header = page.locator("main h1").inner_text()
    assert case.number in header
    assert zh(CaseStatus.RECEIVED.label) in header
    assert case.number in page.get_by_role("alert").first.inner_text()

    page.goto(reverse("cases:mine"))
    row = page.get_by_role("row").filter(has_text=case.number)
    assert version.name in row.inner_text()
    assert zh(CaseStatus.RECEIVED.label) in row.inner_text()
