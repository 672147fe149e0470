"""The staff consoles: the window desk (find, choose, check and decide in one submit), the
clerk's queue, the reviewer's inbox and the supervisors' list."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.cases import permissions, services
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState, Performer
from yimen.cases.models import Case, CaseCounter
from yimen.common.choices import Channel
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id
from ..conftest import grant
from .factories import FrozenTime, Scene, at, clerk_of, guide, pdf, person

pytestmark = pytest.mark.django_db

S = CaseStatus
DESK, QUEUE, INBOX, ALL = (reverse(f"desk:{n}") for n in ("desk", "queue", "inbox", "all"))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def signed_in(user) -> Client:
    """A client of `user` that reads the pages in English, like the source strings."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def scene():
    return Scene.make()


def checklist_url(applicant, version):
    return reverse("desk:checklist", args=[applicant.public_id, version.item.implementation_code])


def checklist(version, decision, *, seen=(), scans=None, problems=None, key="k-1", **extra):
    """The POST of the checklist: `seen` and the keys of `scans`/`problems` are material
    indexes of the guide."""
    materials = list(version.materials.all())
    data = {
        "version": version.pk,
        "idempotency_key": key,
        "decision": decision,
        "f-shop_name": "示例小店",
        **extra,
    }
    for index in seen:
        data[f"seen_{materials[index].pk}"] = "on"
    for index, file in (scans or {}).items():
        data[f"scan_{materials[index].pk}"] = file
    for index, problem in (problems or {}).items():
        data[f"problem_{materials[index].pk}"] = problem
    return data


def kinds(case):
    return sorted(case.documents.values_list("kind", flat=True))


# --- who reaches what -------------------------------------------------------------------------


def test_each_role_reaches_only_its_consoles(scene, client):
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    citizen = person(n=7).user
    expected = {
        scene.clerk: {DESK: 200, QUEUE: 200, INBOX: 403, ALL: 403},
        scene.reviewer: {DESK: 403, QUEUE: 403, INBOX: 200, ALL: 403},
        scene.head: {DESK: 403, QUEUE: 403, INBOX: 200, ALL: 403},
        supervisor: {DESK: 403, QUEUE: 403, INBOX: 403, ALL: 200},
        citizen: {DESK: 403, QUEUE: 403, INBOX: 403, ALL: 403},
    }
    for user, pages in expected.items():
        browser = signed_in(user)
        assert {url: browser.get(url).status_code for url in pages} == pages, user
    for url in (DESK, QUEUE, INBOX, ALL):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_navigation_offers_each_role_its_console(scene):
    clerk_page = signed_in(scene.clerk).get(reverse("accounts:home")).text
    reviewer_page = signed_in(scene.reviewer).get(reverse("accounts:home")).text
    assert f'href="{DESK}"' in clerk_page and f'href="{INBOX}"' not in clerk_page
    assert f'href="{INBOX}"' in reviewer_page and f'href="{DESK}"' not in reviewer_page


def test_the_desk_is_chinese_by_default(scene):
    client = Client()
    client.force_login(scene.clerk)
    assert '<html lang="zh-hans">' in client.get(DESK).text


# --- step 1: the applicant --------------------------------------------------------------------


def test_the_number_is_posted_and_the_applicant_opens_without_it_in_the_url(scene):
    response = signed_in(scene.clerk).post(DESK, {"q": scene.applicant.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:start", args=[scene.applicant.public_id])
    assert scene.applicant.id_number not in response["Location"]


def test_an_unknown_number_offers_the_walk_in_registration(scene):
    response = signed_in(scene.clerk).post(DESK, {"q": citizen_id(99)})
    assert response.status_code == 200
    assert reverse("accounts:applicant_walk_in") in response.text
    assert citizen_id(99) in response.text  # prefilled


def test_a_partial_number_is_a_400(scene):
    response = signed_in(scene.clerk).post(DESK, {"q": scene.applicant.id_number[:10]})
    assert response.status_code == 400
    assert "Enter a complete 18-character" in response.text


# --- step 2: the item -------------------------------------------------------------------------


def test_the_item_search_offers_only_guides_of_the_clerks_categories(scene):
    shop = scene.version  # 个体工商户设立登记, the clerk's category
    other_category = guide(name="食品经营许可")  # another category: never offered
    food_here = guide(name="食品经营许可证注销", category=shop.window_category)
    client = signed_in(scene.clerk)
    start = reverse("desk:start", args=[scene.applicant.public_id])

    listed = client.get(start).text
    assert shop.name in listed and food_here.name in listed
    assert other_category.item.implementation_code not in listed

    found = client.get(start, {"q": "食品经营"}, headers={"HX-Request": "true"})
    assert found.status_code == 200 and "<html" not in found.text  # the list alone
    assert checklist_url(scene.applicant, food_here) in found.text
    assert checklist_url(scene.applicant, other_category) not in found.text
    assert checklist_url(scene.applicant, shop) not in found.text

    assert client.get(checklist_url(scene.applicant, other_category)).status_code == 404


def test_the_checklist_shows_each_material_with_its_requirement(scene):
    page = signed_in(scene.clerk).get(checklist_url(scene.applicant, scene.version)).text
    for material in scene.version.materials.all():
        assert f'name="seen_{material.pk}"' in page and f'name="scan_{material.pk}"' in page
    assert "May be supplied later" in page and 'name="f-shop_name"' in page
    assert 'name="idempotency_key"' in page and "autofocus" in page


# --- step 3: one submit, one decision ---------------------------------------------------------


def test_accepting_with_the_originals_seen_starts_the_review(scene):
    client = signed_in(scene.clerk)
    response = client.post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "accept", seen=[0, 1]),
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "desk:done", args=[case.number]
    )
    assert case.status == S.IN_REVIEW and case.channel == Channel.WINDOW
    assert case.submitted_by == scene.clerk and case.accepted_by == scene.clerk
    assert case.form_data == {"shop_name": "示例小店"}
    materials = list(case.materials.all())
    assert [(m.state, m.original_seen, bool(m.file)) for m in materials] == [
        (MaterialState.PROVIDED, True, False)
    ] * 2
    assert kinds(case) == sorted([DocumentKind.RECEIPT, DocumentKind.ACCEPTANCE])

    done = client.get(response["Location"]).text
    assert case.number in done
    for document in case.documents.all():
        assert f"documents/{document.code}.pdf" in done


def test_a_scan_is_stored_with_its_digest_and_marked_as_seen(scene):
    signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "accept", seen=[0, 1], scans={0: pdf()}),
    )
    scanned, seen = Case.objects.get().materials.order_by("material__order", "pk")
    assert scanned.file and len(scanned.sha256) == 64 and scanned.original_seen
    assert not seen.file and seen.original_seen


def test_accepting_with_a_tolerable_material_to_follow(scene):
    signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "accept_tolerant", seen=[0]),
    )
    case = Case.objects.get()
    assert case.status == S.IN_REVIEW
    assert case.materials.get(state=MaterialState.TOLERATED).supply_by is not None
    assert kinds(case) == sorted(
        [DocumentKind.RECEIPT, DocumentKind.TOLERANCE, DocumentKind.ACCEPTANCE]
    )


def test_corrections_list_the_unticked_and_the_defective_materials_at_once(scene):
    signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "correction", seen=[0], problems={0: "未签名"}),
    )
    case = Case.objects.get()
    assert case.status == S.CORRECTION
    notice = case.documents.get(kind=DocumentKind.CORRECTION)
    assert notice.content["items"] == [
        {"material": "申请书", "problem": "未签名"},
        {"material": "场所证明", "problem": "Not provided."},
    ]


def test_not_accepting_with_a_reason(scene):
    signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "refuse", reason="不属于本机关职权范围"),
    )
    case = Case.objects.get()
    assert case.status == S.NOT_ACCEPTED and case.close_reason == "不属于本机关职权范围"
    assert kinds(case) == sorted([DocumentKind.RECEIPT, DocumentKind.NON_ACCEPTANCE])


@pytest.mark.parametrize(
    ("decision", "seen", "extra", "message"),
    [
        ("accept", [1], {}, "Missing: 申请书."),
        ("accept_tolerant", [1], {}, "申请书 cannot be supplied later."),
        ("accept_tolerant", [0, 1], {}, "Nothing is missing"),
        ("refuse", [0, 1], {"reason": " "}, "Give the reason"),
        ("accept", [0, 1], {"f-shop_name": ""}, "This field is required."),
    ],
)
def test_a_refused_decision_shows_why_and_keeps_no_case(scene, decision, seen, extra, message):
    response = signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, decision, seen=seen, scans={1: pdf()}, **extra),
    )
    assert response.status_code == 400
    assert message in response.text and "Nothing was saved" in response.text
    assert not Case.objects.exists()
    assert not CaseCounter.objects.filter(last__gt=0).exists()  # no number used up


def test_a_bad_scan_is_reported_on_its_material(scene):
    fake = SimpleUploadedFile("假.pdf", b"GIF89a", content_type="application/pdf")
    response = signed_in(scene.clerk).post(
        checklist_url(scene.applicant, scene.version),
        checklist(scene.version, "accept", seen=[0, 1], scans={0: fake}),
    )
    assert response.status_code == 400 and "is not really a pdf file" in response.text
    assert not Case.objects.exists()


def test_a_changed_guide_is_not_accepted_against_the_old_checklist(scene):
    data = checklist(scene.version, "accept", seen=[0, 1])
    data["version"] = scene.version.pk + 1000
    response = signed_in(scene.clerk).post(checklist_url(scene.applicant, scene.version), data)
    assert response.status_code == 400 and "The guide has changed" in response.text
    assert not Case.objects.exists()


def test_a_double_submit_with_one_key_makes_one_case(scene):
    client = signed_in(scene.clerk)
    url = checklist_url(scene.applicant, scene.version)
    first = client.post(url, checklist(scene.version, "accept", seen=[0, 1], key="same"))
    second = client.post(url, checklist(scene.version, "accept", seen=[0, 1], key="same"))
    assert first["Location"] == second["Location"]
    case = Case.objects.get()
    assert case.status == S.IN_REVIEW and kinds(case).count(DocumentKind.ACCEPTANCE) == 1


def test_another_clerks_case_page_is_not_found_at_the_desk(scene):
    case = scene.submit()
    stranger = clerk_of(guide().window_category)
    assert signed_in(stranger).get(reverse("desk:done", args=[case.number])).status_code == 404


# --- the clerk's queue ------------------------------------------------------------------------


def numbers(response):
    return [c.number for c in response.context["page"].object_list]


def test_the_queue_lists_what_waits_at_the_clerks_window_by_due_date(scene, monkeypatch):
    time = FrozenTime(monkeypatch, at(2025, 3, 5))
    later = scene.submit()  # received Wed: due Wed 12 March
    time.to(2025, 3, 3)
    sooner = scene.submit()  # received Mon: due Mon 10 March
    correcting = scene.case_at(S.CORRECTION)  # paused: no due date, last
    scene.case_at(S.IN_REVIEW)  # the department's now
    Scene.make(n=2).submit()  # another category
    time.to(2025, 3, 7)

    response = signed_in(scene.clerk).get(QUEUE)
    assert numbers(response) == [sooner.number, later.number, correcting.number]
    lights = [c.timing.light for c in response.context["page"].object_list]
    assert lights == ["yellow", "green", "paused"]
    assert "1 working day left" in response.text

    yellow = signed_in(scene.clerk).get(QUEUE, {"light": "yellow"})
    assert numbers(yellow) == [sooner.number]
    correction = signed_in(scene.clerk).get(QUEUE, {"status": S.CORRECTION})
    assert numbers(correction) == [correcting.number]
    assert signed_in(scene.clerk).get(QUEUE, {"status": S.IN_REVIEW}).status_code == 400


def test_the_queue_costs_the_same_queries_for_one_case_or_many(scene):
    client = signed_in(scene.clerk)
    scene.submit()
    client.get(QUEUE)  # warm the calendar and the session
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE)
    for _ in range(6):
        scene.submit()
    scene.case_at(S.CORRECTION)
    with CaptureQueriesContext(connection) as many:
        response = client.get(QUEUE)
    assert len(numbers(response)) == 8
    assert len(many) == len(one)


# --- the reviewer's inbox ---------------------------------------------------------------------


@pytest.fixture
def department_cases(scene, monkeypatch):
    """Cases of the scene's department in each state, accepted on different days."""
    time = FrozenTime(monkeypatch, at(2025, 3, 3))
    cases = {}
    days = [3, 4, 5, 6, 7, 10]
    statuses = [S.IN_REVIEW, "in_review:last", S.SUSPENDED, S.APPROVED, S.RECEIVED, S.READY]
    for day, status in zip(days, statuses, strict=True):
        time.to(2025, 3, day)
        cases[status] = scene.case_at(status)
    time.to(2025, 3, 10)
    cases["elsewhere"] = Scene.make(n=3).case_at(S.IN_REVIEW)
    return cases


def test_the_inbox_holds_the_steps_of_the_reviewer_and_the_departments_pending_cases(
    scene, department_cases
):
    response = signed_in(scene.reviewer).get(INBOX)
    listed = numbers(response)
    assert sorted(listed) == sorted(
        department_cases[s].number for s in (S.IN_REVIEW, S.SUSPENDED, S.APPROVED)
    )
    # the first step's case shows its step and its light
    first = next(c for c in response.context["page"].object_list if c.status == S.IN_REVIEW)
    assert first.step == "承办" and first.timing.light in ("green", "yellow", "red")


def test_the_head_also_sees_the_steps_only_heads_perform(scene, department_cases):
    listed = numbers(signed_in(scene.head).get(INBOX))
    assert department_cases["in_review:last"].number in listed
    assert department_cases["elsewhere"].number not in listed
    assert department_cases[S.RECEIVED].number not in listed


def test_the_inbox_agrees_with_who_may_act(scene, department_cases):
    """Every in-review case listed has an action the user performs; none left out does."""
    for user in (scene.reviewer, scene.head):
        listed = set(numbers(signed_in(user).get(INBOX)))
        for case in Case.objects.filter(status=S.IN_REVIEW):
            acts = bool(permissions.performers(user, case) & {Performer.REVIEWER, Performer.HEAD})
            assert (case.number in listed) == acts, (user, case.number)


def test_the_inbox_is_sorted_by_due_date_with_paused_cases_last(scene, department_cases):
    rows = signed_in(scene.head).get(INBOX).context["page"].object_list
    due = [c.due for c in rows]
    dated = [d for d in due if d is not None]
    assert dated == sorted(dated) and due[: len(dated)] == dated
    assert rows[-1].status == S.SUSPENDED


def test_the_inbox_filters_by_status_and_light(scene, department_cases):
    client = signed_in(scene.head)
    assert numbers(client.get(INBOX, {"status": S.SUSPENDED})) == [
        department_cases[S.SUSPENDED].number
    ]
    assert numbers(client.get(INBOX, {"light": "paused"})) == [department_cases[S.SUSPENDED].number]
    assert client.get(INBOX, {"light": "purple"}).status_code == 400


def test_the_inbox_pages_cost_a_bounded_number_of_queries(scene, django_assert_max_num_queries):
    client = signed_in(scene.head)
    scene.case_at(S.IN_REVIEW)
    client.get(INBOX)  # warm the calendar and the session
    with CaptureQueriesContext(connection) as one:
        client.get(INBOX)
    for status in [S.IN_REVIEW] * 4 + [S.SUSPENDED, S.APPROVED, "in_review:last"]:
        case = scene.case_at(status)
        if status == S.SUSPENDED:
            services.extend(case=case, actor=scene.head, reason="专家评审", days=2)
    with django_assert_max_num_queries(len(one)):
        response = client.get(INBOX)
    assert len(numbers(response)) == 8


def test_the_inbox_is_paginated(scene, monkeypatch):
    monkeypatch.setattr("yimen.cases.queues.PAGE_SIZE", 2)
    for _ in range(3):
        scene.case_at(S.IN_REVIEW)
    client = signed_in(scene.head)
    first, second = client.get(INBOX), client.get(INBOX, {"page": 2})
    assert len(numbers(first)) == 2 and len(numbers(second)) == 1
    assert set(numbers(first)).isdisjoint(numbers(second))


# --- the supervisors' list --------------------------------------------------------------------


def test_the_supervisor_sees_every_case_read_only_and_filters_them(scene):
    supervisor = grant(UserFactory(), Role.SUPERVISOR)
    mine = scene.case_at(S.IN_REVIEW)
    refused = scene.case_at(S.NOT_ACCEPTED)
    other = Scene.make(n=4)
    theirs = other.submit()
    client = signed_in(supervisor)

    response = client.get(ALL)
    assert sorted(numbers(response)) == sorted([mine.number, refused.number, theirs.number])
    assert "/act/" not in response.text  # no actions here
    by_department = client.get(ALL, {"department": other.version.item.department_id})
    assert numbers(by_department) == [theirs.number]
    assert numbers(client.get(ALL, {"status": S.NOT_ACCEPTED})) == [refused.number]
    assert numbers(client.get(ALL, {"light": "stopped"})) == [refused.number]
    assert client.get(ALL, {"department": 10**9}).status_code == 400


def test_a_department_head_is_not_a_supervisor(scene):
    scene.case_at(S.IN_REVIEW)
    assert signed_in(scene.head).get(ALL).status_code == 403
