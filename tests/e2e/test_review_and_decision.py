"""Review, decision, production, delivery and the citizen's rating, each in the browser by
the person whose step it is; the documents open as PDFs."""

from django.urls import reverse

from yimen.cases import services
from yimen.cases.choices import CaseStatus, DeliveryMethod, DocumentKind
from yimen.common.choices import Rating

from ..cases.factories import guide, person, staff_for, submit
from . import action_form, open_case, take, zh


def open_from_inbox(page, case) -> None:
    page.goto(reverse("desk:inbox"))
    open_case(page, case)


def test_a_case_goes_from_review_to_delivery_and_rating(page, login, tmp_path):
    version = guide()
    clerk, reviewer, head = staff_for(version)
    citizen = person(n=4)
    case = submit(version, citizen)
    services.accept(case=case, actor=clerk)

    # 承办: the reviewer finds the case in the inbox and passes it on
    login(reviewer)
    open_from_inbox(page, case)
    page.screenshot(path=tmp_path / "review.png", full_page=True)
    form = action_form(page, "review_pass")
    form.get_by_label(zh("Opinion")).fill("材料齐全，符合条件")
    take(page, "review_pass", CaseStatus.IN_REVIEW, form)
    assert "审批" in page.locator("main header").inner_text()  # now at the head's step

    # 审批: the head grants
    login(head)
    open_from_inbox(page, case)
    form = action_form(page, "approve")
    form.get_by_label(zh("Reasons")).fill("经审查，符合法定条件")
    take(page, "approve", CaseStatus.APPROVED, form)

    # the reviewer produces the result, the clerk hands it over at the window
    login(reviewer)
    open_from_inbox(page, case)
    take(page, "produce", CaseStatus.READY)
    login(clerk)
    page.goto(case.get_absolute_url())
    form = action_form(page, "deliver")
    form.get_by_label(zh("Delivery")).select_option(DeliveryMethod.WINDOW)
    take(page, "deliver", CaseStatus.DELIVERED, form)

    # the citizen rates the service from 我的办件
    login(citizen.user)
    page.goto(reverse("cases:mine"))
    open_case(page, case)
    form = action_form(page, "evaluate")
    form.get_by_label(zh(Rating.VERY_GOOD.label)).check()
    take(page, "evaluate", CaseStatus.DELIVERED, form)
    assert "5 / 5" in page.locator("#h-dates + dl").inner_text()

    # the clerk archives it
    login(clerk)
    page.goto(case.get_absolute_url())
    take(page, "archive", CaseStatus.ARCHIVED)
    page.screenshot(path=tmp_path / "archived.png", full_page=True)

    case.refresh_from_db()
    assert case.status == CaseStatus.ARCHIVED and case.rating == 5
    assert case.delivery_method == DeliveryMethod.WINDOW
    links = page.locator("#h-documents + ul a")
    assert set(links.all_inner_texts()) >= {
        zh(kind.label)
        for kind in (DocumentKind.ACCEPTANCE, DocumentKind.APPROVAL, DocumentKind.SERVICE_RECEIPT)
    }
    assert links.count() == case.documents.count()
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        response = page.request.get(href)
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF")
