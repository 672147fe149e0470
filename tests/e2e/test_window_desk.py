"""The window clerk starts and decides a case at the desk by keyboard alone."""

import re

from django.urls import reverse

from yimen.cases.choices import CaseStatus, DocumentKind
from yimen.cases.models import Case

from ..cases.factories import guide, person, staff_for
from . import press_accesskey, zh

CASE_NUMBER = re.compile(r"^\d{6}-\d{8}-\d{5}$")
# The search has answered (htmx swapped the list, no request is under way) with one item.
ONE_RESULT = (
    "document.querySelectorAll('#item-results a').length === 1"
    " && !document.querySelector('#item-q.htmx-request')"
)


FOCUS_ON_A_CHECKBOX = "document.activeElement && document.activeElement.type === 'checkbox'"


def test_the_clerk_accepts_at_the_desk_by_keyboard(page, login, tmp_path):
    version = guide()
    guide(category=version.window_category, name="食品经营许可")  # another item to search past
    clerk, _reviewer, _head = staff_for(version)
    walk_in = person(n=2)
    login(clerk)
    page.goto(reverse("desk:desk"))

    # 1. the applicant: the number typed into the focused box, then Enter
    page.keyboard.type(walk_in.id_number)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/desk/applicants/[-0-9a-f]+/$"))
    assert walk_in.name in page.locator("main").inner_text()

    # 2. the item: a few words, ↓ to the result, Enter
    page.keyboard.type("个体工商户")
    results = page.locator("#item-results a")
    page.wait_for_function(ONE_RESULT)
    assert version.name in results.inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/desk/applicants/[-0-9a-f]+/[0-9A-Z]+/$"))

    # 3. the checklist: Space ticks the focused material, Tab moves on to the next row
    ticks = page.get_by_role("checkbox")
    page.wait_for_function(FOCUS_ON_A_CHECKBOX)  # the page puts it there when it loads
    page.keyboard.press("Space")
    for _ in range(3):  # past the scan and the problem of the first material
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert [ticks.nth(i).is_checked() for i in range(2)] == [True, True]
    page.get_by_label("店名").focus()
    page.keyboard.type("示例小店")
    page.screenshot(path=tmp_path / "checklist.png", full_page=True)
    press_accesskey(page, "1")  # 受理

    page.wait_for_url(re.compile(r"/desk/cases/[-0-9]+/$"))
    case = Case.objects.get()
    shown = page.locator("#case-number").inner_text()
    assert CASE_NUMBER.match(shown) and shown == case.number
    assert case.status == CaseStatus.IN_REVIEW
    assert case.applicant == walk_in and case.accepted_by == clerk
    assert zh(CaseStatus.IN_REVIEW.label) in page.locator("main").inner_text()
    assert zh(DocumentKind.ACCEPTANCE.label) in page.get_by_role("listitem").all_inner_texts()
    page.screenshot(path=tmp_path / "accepted.png", full_page=True)


def test_an_acceptance_with_a_required_material_unticked_is_refused(page, login, tmp_path):
    version = guide()
    clerk, _reviewer, _head = staff_for(version)
    walk_in = person(n=3)
    login(clerk)
    page.goto(reverse("desk:start", args=[walk_in.public_id]))
    page.locator("#item-results a").first.wait_for()
    page.locator("#item-q").press("Enter")  # Enter in the item box opens the first result
    page.wait_for_url(re.compile(r"/desk/applicants/[-0-9a-f]+/[0-9A-Z]+/$"))

    page.get_by_role("checkbox").first.focus()
    for _ in range(3):  # 申请书 left unticked
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.get_by_label("店名").fill("示例小店")
    page.keyboard.press("Enter")  # Enter in a text box presses the first button: 受理

    alert = page.get_by_role("alert").filter(has_text=zh("Nothing was saved."))
    alert.wait_for()
    page.screenshot(path=tmp_path / "refused.png", full_page=True)
    assert zh("Missing: %(name)s.") % {"name": "申请书"} in alert.inner_text()
    assert not Case.objects.exists()
