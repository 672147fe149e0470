"""The applicant's pages and the case page: applying online, 我的办件, the case page with
its actions for each role, and the public progress query."""

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.cases import services, views
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState
from yimen.cases.models import Case, CaseMaterial
from yimen.cases.workflow import TransitionRefused
from yimen.catalog.choices import OnlineDepth
from yimen.common.models import Clock
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id
from ..conftest import grant
from .factories import enterprise, guide, pdf, person, staff_for, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the progress query counts requests per address
    yield
    cache.clear()


def english(client: Client) -> Client:
    """Pages in English, so assertions read like the source strings."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = english(Client())
    client.force_login(user)
    return client


@pytest.fixture
def version():
    return guide()


@pytest.fixture
def applicant():
    return person(n=1)


def apply_url(version):
    return reverse("cases:apply", args=[version.item.implementation_code])


def material_field(version, index: int) -> str:
    return f"material_{list(version.materials.all())[index].pk}"


def application(version, key="5b1d0a8e-7c55-4a4e-9d77-0d2f3c9a1b01", **overrides) -> dict:
    data = {
        "shop_name": "示例小店",
        "idempotency_key": key,
        material_field(version, 0): pdf("申请书.pdf"),
        material_field(version, 1): pdf("场所证明.pdf"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def act_url(case, action):
    return reverse("cases:act", args=[case.number, action])


def in_review(version, applicant, clerk):
    case = submit(version, applicant)
    return services.accept(case=case, actor=clerk)


def delivered(version, applicant, clerk, reviewer, head):
    case = in_review(version, applicant, clerk)
    services.review_pass(case=case, actor=reviewer)
    services.approve(case=case, actor=head)
    services.produce(case=case, actor=reviewer)
    return services.deliver(case=case, actor=clerk, method="window")


# --- applying online --------------------------------------------------------------------------


def test_the_apply_page_shows_the_form_each_material_and_a_fresh_key(version, applicant):
    client = signed_in(applicant.user)
    response = client.get(apply_url(version))
    assert response.status_code == 200
    assert 'name="shop_name"' in response.text
    for index in (0, 1):
        assert f'name="{material_field(version, index)}"' in response.text
    assert "May be supplied later (补交原件, within 5 working days)." in response.text
    first = response.context["materials_form"]["idempotency_key"].value()
    second = client.get(apply_url(version)).context["materials_form"]["idempotency_key"].value()
    assert first and second and first != second


def test_an_applicant_applies_online_and_lands_on_the_case_page(version, applicant, tmp_path):
    client = signed_in(applicant.user)
    response = client.post(apply_url(version), application(version))

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert (case.applicant, case.channel, case.status) == (applicant, "online", "received")
    assert case.form_data == {"shop_name": "示例小店"}
    stored = list(case.materials.order_by("pk"))
    assert [m.file_name for m in stored] == ["申请书.pdf", "场所证明.pdf"]
    assert all((tmp_path / m.file.name).is_file() and len(m.sha256) == 64 for m in stored)
    page = client.get(response["Location"])
    assert "Your application has been submitted" in page.text and case.number in page.text


def test_a_double_submit_with_one_key_yields_one_case(version, applicant):
    client = signed_in(applicant.user)
    first = client.post(apply_url(version), application(version))
    second = client.post(apply_url(version), application(version))
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"] == Case.objects.get().get_absolute_url()


def test_a_new_key_is_a_new_case(version, applicant):
    client = signed_in(applicant.user)
    client.post(apply_url(version), application(version))
    client.post(
        apply_url(version), application(version, key="0f6a3c2e-1111-4d3b-8c9a-2b7e5d4c3a21")
    )
    assert Case.objects.count() == 2


def test_a_bad_form_comes_back_with_the_field_error_and_nothing_is_created(version, applicant):
    client = signed_in(applicant.user)
    response = client.post(apply_url(version), application(version, shop_name=""))
    assert response.status_code == 400
    assert "shop_name" in response.context["form"].errors
    assert 'aria-invalid="true"' in response.text
    assert not Case.objects.exists() and not CaseMaterial.objects.exists()


def test_a_bad_file_comes_back_on_its_upload_and_nothing_is_created(version, applicant, tmp_path):
    client = signed_in(applicant.user)
    fake = SimpleUploadedFile("场所证明.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client.post(
        apply_url(version), application(version, **{material_field(version, 1): fake})
    )
    assert response.status_code == 400
    errors = response.context["materials_form"].errors
    assert list(errors) == [material_field(version, 1)]
    assert "is not really a pdf file" in errors[material_field(version, 1)][0]
    assert not Case.objects.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_a_required_material_must_be_uploaded_but_a_tolerable_one_may_follow(version, applicant):
    client = signed_in(applicant.user)
    without_required = application(version, **{material_field(version, 0): None})
    response = client.post(apply_url(version), without_required)
    assert response.status_code == 400
    assert material_field(version, 0) in response.context["materials_form"].errors
    without_tolerable = application(version, **{material_field(version, 1): None})
    assert client.post(apply_url(version), without_tolerable).status_code == 302
    assert Case.objects.get().materials.count() == 1


def test_a_malformed_idempotency_key_is_refused_on_the_form(version, applicant):
    client = signed_in(applicant.user)
    response = client.post(apply_url(version), application(version, key="not-a-uuid"))
    assert response.status_code == 400
    assert "idempotency_key" in response.context["materials_form"].errors
    assert not Case.objects.exists()


def test_a_double_submit_is_found_by_the_key_as_the_service_stores_it(version, applicant):
    client = signed_in(applicant.user)
    key = "5b1d0a8e-7c55-4a4e-9d77-0d2f3c9a1b01"
    first = client.post(apply_url(version), application(version, key=key))
    second = client.post(apply_url(version), application(version, key=key.upper()))
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_an_item_for_another_kind_of_applicant_is_refused(version):
    company = enterprise()
    client = signed_in(company.user)
    response = client.get(apply_url(version))
    assert response.status_code == 200 and response.context["wrong_kind"]
    assert 'name="shop_name"' not in response.text
    assert client.post(apply_url(version), application(version)).status_code == 400
    assert not Case.objects.exists()


def test_an_offline_item_says_apply_at_a_window(applicant):
    offline = guide(online_depth=OnlineDepth.OFFLINE, online=False)
    client = signed_in(applicant.user)
    response = client.get(apply_url(offline))
    assert response.status_code == 200
    assert "apply at a window" in response.text and 'name="shop_name"' not in response.text
    assert client.post(apply_url(offline), application(offline)).status_code == 400
    assert not Case.objects.exists()


def test_an_account_without_applicant_profile_is_sent_to_registration(version):
    client = signed_in(UserFactory())
    response = client.get(apply_url(version))
    assert response.status_code == 403
    assert reverse("accounts:register") in response.text and 'name="shop_name"' not in response.text
    assert client.post(apply_url(version), application(version)).status_code == 403
    assert not Case.objects.exists()


def test_applying_needs_a_sign_in(client, version):
    response = client.get(apply_url(version))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_an_item_not_in_force_is_not_found(applicant):
    client = signed_in(applicant.user)
    assert client.get(reverse("cases:apply", args=["nope"])).status_code == 404


# --- 我的办件 -----------------------------------------------------------------------------------


def test_my_cases_lists_only_my_own(version, applicant):
    mine = submit(version, applicant)
    other = submit(version, person(n=2))
    response = signed_in(applicant.user).get(reverse("cases:mine"))
    assert response.status_code == 200
    assert mine.number in response.text and other.number not in response.text
    assert 'class="light light-green"' in response.text


def test_my_cases_queries_do_not_grow_with_the_cases(version, applicant):
    client = signed_in(applicant.user)
    clerk = staff_for(version)[0]

    def add_cases():  # one waiting for acceptance, one in review (its decision clock runs)
        submit(version, applicant)
        services.accept(case=submit(version, applicant), actor=clerk)

    add_cases()
    client.get(reverse("cases:mine"))  # warm the calendar cache
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("cases:mine"))
    for _ in range(3):
        add_cases()
    with CaptureQueriesContext(connection) as eight:
        response = client.get(reverse("cases:mine"))
    assert len(response.context["rows"]) == 8
    assert len(eight) == len(two) <= 12


def test_my_cases_is_paginated(version, applicant, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        submit(version, applicant)
    client = signed_in(applicant.user)
    assert len(client.get(reverse("cases:mine")).context["rows"]) == 2
    assert len(client.get(reverse("cases:mine"), {"page": 2}).context["rows"]) == 1


def test_staff_without_applicant_profile_have_no_my_cases(version):
    clerk = staff_for(version)[0]
    response = signed_in(clerk).get(reverse("cases:mine"))
    assert response.status_code == 403 and reverse("accounts:register") in response.text


def test_the_navigation_offers_my_cases_to_applicants_and_progress_to_everyone(applicant):
    assert reverse("cases:mine") in signed_in(applicant.user).get("/").text
    anonymous = Client().get("/").text
    assert reverse("cases:progress") in anonymous and reverse("cases:mine") not in anonymous


# --- the case page: who sees it and what they may do -------------------------------------------


def test_the_applicant_sees_the_case_with_its_history_materials_form_and_documents(
    version, applicant
):
    case = submit(version, applicant)
    response = signed_in(applicant.user).get(case.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert "Application submitted" in text and "Applicant" in text
    assert "申请书" in text and case.materials.first().sha256[:12] in text
    assert "店名" in text and "示例小店" in text
    receipt = case.documents.get(kind=DocumentKind.RECEIPT)
    assert f"/cases/{case.number}/documents/{receipt.code}.pdf" in text
    assert act_url(case, "withdraw") in text and act_url(case, "accept") not in text


def test_another_citizen_gets_not_found(version, applicant):
    case = submit(version, applicant)
    other = person(n=2)
    assert signed_in(other.user).get(case.get_absolute_url()).status_code == 404
    assert signed_in(other.user).post(act_url(case, "withdraw"), {"reason": "x"}).status_code == 404


def test_a_clerk_of_the_category_sees_the_acceptance_actions(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    response = signed_in(clerk).get(case.get_absolute_url())
    assert response.status_code == 200
    for action in ("accept", "refuse", "request_correction"):
        assert act_url(case, action) in response.text
    assert act_url(case, "withdraw") not in response.text


def test_a_clerk_of_another_category_gets_not_found(version, applicant):
    case = submit(version, applicant)
    stranger = staff_for(guide())[0]
    assert signed_in(stranger).get(case.get_absolute_url()).status_code == 404


def test_the_reviewer_of_the_department_sees_the_review_actions(version, applicant):
    clerk, reviewer, _head = staff_for(version)
    case = in_review(version, applicant, clerk)
    response = signed_in(reviewer).get(case.get_absolute_url())
    assert response.status_code == 200
    assert act_url(case, "review_pass") in response.text
    # not at the last step: no decision offered
    assert act_url(case, "approve") not in response.text


def test_a_supervisor_reads_but_is_offered_nothing_and_refused_everything(version, applicant):
    case = submit(version, applicant)
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    client = signed_in(supervisor)
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200 and case.number in response.text
    assert "/act/" not in response.text
    assert client.post(act_url(case, "accept")).status_code == 403
    assert Case.objects.get().status == CaseStatus.RECEIVED


def test_the_case_page_queries_do_not_grow_with_events_pauses_and_documents(version, applicant):
    clerk, reviewer, _head = staff_for(version)
    case = in_review(version, applicant, clerk)
    client = signed_in(reviewer)
    client.get(case.get_absolute_url())  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        client.get(case.get_absolute_url())
    for _ in range(3):
        services.suspend(case=case, actor=reviewer, kind="testing", reason="送检")
        services.resume(case=case, actor=reviewer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(case.get_absolute_url())
    assert len(response.context["timeline"]) == 8
    assert len(many) == len(few) <= 30


def test_a_case_past_its_acceptance_limit_counts_as_accepted_when_read(version, applicant):
    case = submit(version, applicant)
    Clock.objects.filter(pk=case.acceptance_clock_id).update(due_at=case.submitted_at)
    response = signed_in(applicant.user).get(case.get_absolute_url())
    case.refresh_from_db()
    assert (case.status, case.deemed_accepted) == (CaseStatus.IN_REVIEW, True)
    assert case.accepted_at == case.received_at
    assert "Deemed accepted" in response.text


# --- actions ----------------------------------------------------------------------------------


def test_a_clerk_accepts(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    response = signed_in(clerk).post(act_url(case, "accept"), follow=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.accepted_by == clerk
    assert "Done: Accept." in response.text
    assert case.documents.filter(kind=DocumentKind.ACCEPTANCE).exists()


def test_an_acceptance_with_a_material_missing_comes_back_with_the_reason(version, applicant):
    case = submit(version, applicant, uploads=[])
    clerk = staff_for(version)[0]
    response = signed_in(clerk).post(act_url(case, "accept"))
    assert response.status_code == 400
    assert "Missing: 申请书." in response.text
    assert Case.objects.get().status == CaseStatus.RECEIVED


def test_a_clerk_asks_for_every_correction_at_once(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    first, second = version.materials.all()
    data = {
        "items-TOTAL_FORMS": 3,
        "items-INITIAL_FORMS": 0,
        "items-0-material": first.pk,
        "items-0-problem": "未签名",
        "items-1-material": second.pk,
        "items-1-problem": "已过期",
        "items-2-material": "",
        "items-2-problem": "",
    }
    response = signed_in(clerk).post(act_url(case, "request_correction"), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    notice = case.documents.get(kind=DocumentKind.CORRECTION)
    assert notice.content["items"] == [
        {"material": "申请书", "problem": "未签名"},
        {"material": "场所证明", "problem": "已过期"},
    ]


def test_a_correction_without_any_problem_is_refused_on_the_form(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    data = {"items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 0, "items-0-problem": ""}
    response = signed_in(clerk).post(act_url(case, "request_correction"), data)
    assert response.status_code == 400
    assert response.context["actions"][-1]["form"].formset.total_error_count()
    assert Case.objects.get().status == CaseStatus.RECEIVED


def test_the_applicant_resubmits_with_an_upload(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    services.request_correction(case=case, actor=clerk, items=[{"problem": "未签名"}])
    response = signed_in(applicant.user).post(
        act_url(case, "resubmit"), {material_field(version, 0): pdf("签名后.pdf")}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED
    assert case.materials.filter(file_name="签名后.pdf", state=MaterialState.PROVIDED).exists()


def test_a_resubmission_with_a_bad_file_names_that_upload(version, applicant):
    case = submit(version, applicant)
    services.request_correction(
        case=case, actor=staff_for(version)[0], items=[{"problem": "未签名"}]
    )
    bad = SimpleUploadedFile("签名后.txt", b"hello", content_type="text/plain")
    response = signed_in(applicant.user).post(
        act_url(case, "resubmit"), {material_field(version, 0): bad}
    )
    assert response.status_code == 400
    form = next(a["form"] for a in response.context["actions"] if a["action"] == "resubmit")
    assert list(form.errors) == [material_field(version, 0)]
    assert Case.objects.get().status == CaseStatus.CORRECTION


def test_the_applicant_withdraws_with_a_reason(version, applicant):
    case = submit(version, applicant)
    client = signed_in(applicant.user)
    refused = client.post(act_url(case, "withdraw"), {"reason": ""})
    assert refused.status_code == 400 and "reason" in refused.context["actions"][0]["form"].errors
    assert client.post(act_url(case, "withdraw"), {"reason": "不再需要"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.close_reason) == (CaseStatus.WITHDRAWN, "不再需要")


def test_ending_actions_look_it(version, applicant):
    case = submit(version, applicant)
    response = signed_in(applicant.user).get(case.get_absolute_url())
    withdraw = next(a for a in response.context["actions"] if a["action"] == "withdraw")
    assert withdraw["ending"]
    form = response.text.split(f'action="{act_url(case, "withdraw")}"', 1)[1].split("</form>")[0]
    assert "btn-outline-danger" in form and "btn-primary" not in form


def test_the_applicant_rates_a_delivered_case(version, applicant):
    case = delivered(version, applicant, *staff_for(version))
    client = signed_in(applicant.user)
    low = client.post(act_url(case, "evaluate"), {"rating": "2", "comment": ""})
    assert low.status_code == 400
    assert "comment" in next(a["form"] for a in low.context["actions"]).errors
    assert (
        client.post(act_url(case, "evaluate"), {"rating": "5", "comment": "很快"}).status_code
        == 302
    )
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (5, "很快")
    # rated once: no longer offered
    assert act_url(case, "evaluate") not in client.get(case.get_absolute_url()).text


def test_materials_promised_under_tolerated_acceptance_are_supplied_online(version, applicant):
    required, _tolerable = version.materials.all()
    case = submit(version, applicant, uploads=[services.Upload(required, pdf())])
    services.accept_tolerant(case=case, actor=staff_for(version)[0])
    client = signed_in(applicant.user)
    page = client.get(case.get_absolute_url())
    form = next(a["form"] for a in page.context["actions"] if a["action"] == "supply_tolerated")
    assert list(form.fields) == [material_field(version, 1)]  # no "originals seen" online
    response = client.post(
        act_url(case, "supply_tolerated"), {material_field(version, 1): pdf("场所证明.pdf")}
    )
    assert response.status_code == 302
    assert case.materials.filter(state=MaterialState.SUPPLIED).count() == 1


def test_delivery_by_post_needs_the_tracking_number(version, applicant):
    clerk, reviewer, head = staff_for(version)
    case = in_review(version, applicant, clerk)
    services.review_pass(case=case, actor=reviewer)
    services.approve(case=case, actor=head)
    services.produce(case=case, actor=reviewer)
    client = signed_in(clerk)
    missing = client.post(act_url(case, "deliver"), {"method": "post", "tracking_number": ""})
    assert missing.status_code == 400
    form = next(a["form"] for a in missing.context["actions"] if a["action"] == "deliver")
    assert "tracking_number" in form.errors
    sent = client.post(act_url(case, "deliver"), {"method": "post", "tracking_number": "EA1CN"})
    assert sent.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.tracking_number) == (CaseStatus.DELIVERED, "EA1CN")


def test_the_applicant_may_not_accept_their_own_case(version, applicant):
    case = submit(version, applicant)
    assert signed_in(applicant.user).post(act_url(case, "accept")).status_code == 403
    assert Case.objects.get().status == CaseStatus.RECEIVED


def test_a_stale_action_tells_the_state_the_case_is_in_now(version, applicant):
    case = submit(version, applicant)
    clerk = staff_for(version)[0]
    other_clerk = staff_for(version)[0]
    services.accept(case=Case.objects.get(pk=case.pk), actor=other_clerk)
    response = signed_in(clerk).post(act_url(case, "accept"), follow=True)
    assert response.redirect_chain[-1][0] == case.get_absolute_url()
    assert "Someone acted on this case first: it is now “Under review”." in response.text


def test_an_action_lost_in_a_race_tells_the_state_too(version, applicant, monkeypatch):
    case = submit(version, applicant)

    def refused(**kwargs):
        raise TransitionRefused("accept", CaseStatus.NOT_ACCEPTED)

    monkeypatch.setattr(services, "accept", refused)
    response = signed_in(staff_for(version)[0]).post(act_url(case, "accept"), follow=True)
    assert "it is now “Not accepted”" in response.text


def test_an_unknown_action_is_not_found(version, applicant):
    case = submit(version, applicant)
    assert signed_in(applicant.user).post(act_url(case, "fly")).status_code == 404


def test_actions_need_the_csrf_token(version, applicant):
    case = submit(version, applicant)
    client = english(Client(enforce_csrf_checks=True))
    client.force_login(applicant.user)
    assert client.post(act_url(case, "withdraw"), {"reason": "x"}).status_code == 403
    assert Case.objects.get().status == CaseStatus.RECEIVED


# --- 办件查询 -----------------------------------------------------------------------------------

PROGRESS = reverse("cases:progress")


def test_the_progress_query_shows_a_matching_case_with_a_masked_name(version, applicant):
    case = submit(version, applicant)
    response = english(Client()).post(
        PROGRESS, {"number": case.number, "identifier": applicant.id_number}
    )
    assert response.status_code == 200
    assert response.context["case"] == case
    text = response.text
    assert "张*" in text and "张三" not in text
    assert version.name in text and "Application submitted" in text
    assert "light-green" in text
    assert applicant.user.full_name not in text


@pytest.mark.parametrize("wrong", ["number", "identifier"])
def test_a_wrong_number_or_id_gets_one_and_the_same_answer(version, applicant, wrong):
    case = submit(version, applicant)
    data = {"number": case.number, "identifier": applicant.id_number}
    data[wrong] = {"number": case.number[:-1] + "9", "identifier": citizen_id(99)}[wrong]
    response = english(Client()).post(PROGRESS, data)
    assert response.status_code == 200 and response.context["case"] is None
    assert "No case matches this number and ID number." in response.text
    assert case.number not in response.text.replace(f'value="{case.number}"', "")


def test_the_progress_query_is_rate_limited(version, applicant, monkeypatch):
    monkeypatch.setattr(views, "PROGRESS_QUERIES_PER_MINUTE", 3)
    client = english(Client())
    data = {"number": "x", "identifier": "y"}
    assert [client.post(PROGRESS, data).status_code for _ in range(3)] == [200] * 3
    assert client.post(PROGRESS, data).status_code == 429
    other_address = client.post(PROGRESS, data, REMOTE_ADDR="10.0.0.2")
    assert other_address.status_code == 200


def test_the_progress_form_is_never_answered_from_the_url(version, applicant):
    case = submit(version, applicant)
    response = Client().get(PROGRESS, {"number": case.number, "identifier": applicant.id_number})
    assert response.status_code == 200 and response.context.get("case") is None


@pytest.mark.parametrize(
    "data",
    [
        {"number": "", "identifier": ""},
        {"number": "440604-20261123-00017", "identifier": ""},
        {"number": "4" * 33, "identifier": "1" * 18},
        {"number": "440604-20261123-00017", "identifier": "1" * 21},
    ],
)
def test_an_empty_or_too_long_progress_query_is_refused_on_the_form(data):
    response = english(Client()).post(PROGRESS, data)
    assert response.status_code == 400
    assert response.context["form"].errors and response.context.get("case") is None
