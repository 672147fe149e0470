"""The cases API: each role on each endpoint, submitting (files, form, idempotency), the
actions (inputs, 403, 404, 409), a whole path through the workflow, the list's filters and
query count, and the published schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from yimen.cases import rules, selectors, services
from yimen.cases.api.serializers import ACTION_INPUTS, ACTIONS
from yimen.cases.choices import CaseStatus, DocumentKind, MaterialState
from yimen.cases.models import Case
from yimen.cases.workflow import TRANSITIONS
from yimen.common.choices import Channel
from yimen.common.models import Clock
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory, HallFactory, WindowCategoryFactory
from .factories import guide, pdf, person, staff_for, submit

pytestmark = pytest.mark.django_db

BASE = "/api/v1/cases"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # the API speaks the caller's language
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def version():
    return guide()


@pytest.fixture
def staff(version):
    return staff_for(version)


@pytest.fixture
def clerk(staff):
    return staff[0]


@pytest.fixture
def reviewer(staff):
    return staff[1]


@pytest.fixture
def head(staff):
    return staff[2]


@pytest.fixture
def citizen():
    return person(n=1)


@pytest.fixture
def case(version, citizen, staff):
    """A case submitted online: materials received, awaiting acceptance."""
    return submit(version, citizen)


@pytest.fixture
def other_clerk():
    """A clerk of another window category."""
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=HallFactory())
    clerk.memberships.get().categories.add(WindowCategoryFactory())
    return clerk


@pytest.fixture
def other_reviewer():
    return grant(UserFactory(), Role.REVIEWER, department=DepartmentFactory())


@pytest.fixture
def supervisor():
    return grant(UserFactory(), Role.SUPERVISOR)


def login(request, who: str):
    """The user of a fixture (an applicant's login for "citizen")."""
    found = request.getfixturevalue(who)
    return found.user if who == "citizen" else found


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def act(user, case, action, data=None, **kwargs):
    return client_for(user).post(f"{BASE}/{case.number}/{action}/", data or {}, **kwargs)


def accepted(case, clerk):
    services.accept(case=case, actor=clerk)
    return case


def submission(version, **extra) -> dict:
    """A multipart submission with both materials and a valid form."""
    return {
        "item": version.item.implementation_code,
        "form": json.dumps({"shop_name": "示例小店"}),
        "materials.0": pdf(),
        "materials.1": pdf("证明.pdf"),
        **extra,
    }


# --- who sees what ---------------------------------------------------------------------------


class TestVisibility:
    def test_anonymous_gets_nothing(self, case, version):
        anonymous = client_for()
        assert anonymous.get(f"{BASE}/").status_code in (401, 403)
        assert anonymous.get(f"{BASE}/{case.number}/").status_code in (401, 403)
        assert anonymous.post(f"{BASE}/", submission(version)).status_code in (401, 403)
        assert act(None, case, "withdraw", {"reason": "不办了"}).status_code in (401, 403)
        assert Case.objects.count() == 1

    def test_citizen_sees_their_own_cases_only(self, case, version):
        other = submit(version, person(n=2))
        me = client_for(case.applicant.user)

        assert numbers(me.get(f"{BASE}/")) == [case.number]
        assert me.get(f"{BASE}/{case.number}/").status_code == 200
        assert me.get(f"{BASE}/{other.number}/").status_code == 404
        assert act(case.applicant.user, other, "withdraw", {"reason": "x"}).status_code == 404

    @pytest.mark.parametrize("who", ["clerk", "reviewer", "head", "supervisor"])
    def test_staff_in_scope_see_the_case(self, request, case, who):
        user = login(request, who)
        assert numbers(client_for(user).get(f"{BASE}/")) == [case.number]
        assert client_for(user).get(f"{BASE}/{case.number}/").status_code == 200

    @pytest.mark.parametrize("who", ["other_clerk", "other_reviewer"])
    def test_staff_out_of_scope_do_not(self, request, case, who):
        user = login(request, who)
        assert numbers(client_for(user).get(f"{BASE}/")) == []
        assert client_for(user).get(f"{BASE}/{case.number}/").status_code == 404
        assert act(user, case, "accept").status_code == 404

    def test_unknown_number_is_404(self, clerk):
        assert client_for(clerk).get(f"{BASE}/440604-20260101-99999/").status_code == 404


# --- the detail ------------------------------------------------------------------------------


class TestDetail:
    def test_shows_the_case(self, case, clerk):
        body = client_for(clerk).get(f"{BASE}/{case.number}/").json()

        assert body["number"] == case.number
        assert body["item"]["implementation_code"] == case.item_version.item.implementation_code
        assert body["status"] == CaseStatus.RECEIVED
        assert body["status_label"] == "Materials received, awaiting acceptance"
        assert body["channel"] == Channel.ONLINE
        assert body["form"] == {"shop_name": "示例小店"}
        assert body["light"] == "green" and body["due_at"] and body["remaining"] == 5
        assert [c["purpose"] for c in body["clocks"]] == ["case.acceptance"]
        assert body["applicant"]["identifier"].count("*") > 0
        assert [m["position"] for m in body["materials"]] == [0, 1]
        assert all(len(m["sha256"]) == 64 for m in body["materials"])
        assert {m["state"] for m in body["materials"]} == {MaterialState.PROVIDED}
        receipt = body["documents"][0]
        assert receipt["kind"] == DocumentKind.RECEIPT
        assert receipt["pdf"].endswith(f"/cases/{case.number}/documents/{receipt['code']}.pdf")
        assert [(e["action"], e["from_status"], e["to_status"]) for e in body["timeline"]] == [
            ("submit", None, CaseStatus.RECEIVED)
        ]

    @pytest.mark.parametrize(
        ("who", "actions"),
        [
            ("clerk", {"accept", "accept_tolerant", "refuse", "request_correction"}),
            ("citizen", {"withdraw"}),
            ("reviewer", {"terminate"}),
            ("head", {"terminate"}),
            ("supervisor", set()),
        ],
    )
    def test_offers_the_actions_the_user_may_take(self, request, case, who, actions):
        user = login(request, who)
        body = client_for(user).get(f"{BASE}/{case.number}/").json()
        assert {a["action"] for a in body["actions"]} == actions

    @pytest.mark.parametrize(
        ("who", "shown"),
        [("citizen", True), ("clerk", True), ("reviewer", True), ("supervisor", False)],
    )
    def test_file_links_only_for_those_who_work_on_the_case(self, request, case, who, shown):
        user = login(request, who)
        body = client_for(user).get(f"{BASE}/{case.number}/").json()
        assert all(bool(m["file"]) is shown for m in body["materials"])
        assert all(m["sha256"] for m in body["materials"])

    def test_an_overdue_commitment_is_labelled_in_the_api_and_on_the_case_page(
        self, version, citizen, clerk, supervisor
    ):
        # Given a case accepted on a commitment, whose promised material is now overdue
        materials = list(version.materials.all())
        case = submit(version, citizen, uploads=[services.Upload(materials[0], pdf())])
        services.accept_tolerant(case=case, actor=clerk)
        (row,) = rules.commitments_to_alert(today=timezone.localdate() + dt.timedelta(days=30))
        assert rules.alert_overdue_commitment(row)
        # When the supervisor reads the case through the API, and the case page reads it
        body = client_for(supervisor).get(f"{BASE}/{case.number}/").json()
        page = selectors.timeline(case)
        # Then both name every event the same way, the alert included
        expected = [
            "Application submitted",
            str(TRANSITIONS["accept_tolerant"].label),
            "Promised material overdue",
        ]
        assert [e["label"] for e in body["timeline"]] == expected
        assert [str(e.label) for e in page] == expected
        assert body["timeline"][-1]["action"] == "commitment_overdue"

    def test_an_acceptance_overdue_is_deemed_made_when_read(self, case, clerk):
        past = timezone.now() - dt.timedelta(days=30)
        Clock.objects.filter(pk=case.acceptance_clock_id).update(
            started_at=past, due_at=past + dt.timedelta(days=7)
        )

        body = client_for(clerk).get(f"{BASE}/{case.number}/").json()

        assert body["status"] == CaseStatus.IN_REVIEW
        assert body["deemed_accepted"] is True
        assert act(clerk, case, "accept").status_code == 409


# --- submitting ------------------------------------------------------------------------------


class TestSubmit:
    def test_citizen_submits_online(self, version, citizen):
        response = client_for(citizen.user).post(f"{BASE}/", submission(version))

        assert response.status_code == 201, response.json()
        body = response.json()
        case = Case.objects.get(number=body["number"])
        assert case.applicant == citizen and case.submitted_by == citizen.user
        assert case.channel == Channel.ONLINE
        assert body["status"] == CaseStatus.RECEIVED
        assert len(body["materials"]) == 2

    def test_the_channel_is_chosen_by_the_applicant(self, version, citizen):
        response = client_for(citizen.user).post(
            f"{BASE}/", submission(version, channel=Channel.MOBILE)
        )
        assert response.status_code == 201
        assert response.json()["channel"] == Channel.MOBILE

    def test_json_without_files(self, version, citizen):
        response = client_for(citizen.user).post(
            f"{BASE}/",
            {"item": version.item.implementation_code, "form": {"shop_name": "小店"}},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["materials"] == []

    def test_idempotency_key_yields_one_case(self, version, citizen):
        me = client_for(citizen.user)
        headers = {"Idempotency-Key": "4b3c-once"}

        first = me.post(f"{BASE}/", submission(version), headers=headers)
        again = me.post(f"{BASE}/", submission(version), headers=headers)

        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["number"] == again.json()["number"]
        assert Case.objects.count() == 1
        other = me.post(f"{BASE}/", submission(version), headers={"Idempotency-Key": "other"})
        assert other.status_code == 201 and Case.objects.count() == 2

    def test_clerk_submits_at_the_window_for_the_applicant_named(self, version, clerk, citizen):
        response = client_for(clerk).post(
            f"{BASE}/", submission(version, applicant=str(citizen.public_id))
        )

        assert response.status_code == 201, response.json()
        case = Case.objects.get()
        assert (case.applicant, case.submitted_by, case.channel) == (
            citizen,
            clerk,
            Channel.WINDOW,
        )

    def test_clerk_must_name_the_applicant(self, version, clerk):
        response = client_for(clerk).post(f"{BASE}/", submission(version))
        assert response.status_code == 400 and "applicant" in response.json()

    def test_clerk_of_another_category_may_not(self, version, other_clerk, citizen):
        response = client_for(other_clerk).post(
            f"{BASE}/", submission(version, applicant=str(citizen.public_id))
        )
        assert response.status_code == 403
        assert not Case.objects.exists()

    def test_citizen_may_not_apply_for_someone_else(self, version, citizen):
        someone = person(n=2)
        response = client_for(citizen.user).post(
            f"{BASE}/", submission(version, applicant=str(someone.public_id))
        )
        assert response.status_code == 403
        assert not Case.objects.exists()

    @pytest.mark.parametrize("who", ["reviewer", "supervisor"])
    def test_staff_who_are_not_clerks_may_not(self, request, version, who):
        user = login(request, who)
        response = client_for(user).post(f"{BASE}/", submission(version))
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"form": json.dumps({})}, "form.shop_name"),
            ({"form": "[1, 2]"}, "form"),
            ({"form": "{not json"}, "form"),
            ({"item": "no-such-code"}, "item"),
            ({"applicant": "6f1e6c1a-0000-4000-8000-000000000000"}, "applicant"),
            ({"channel": Channel.WINDOW}, "channel"),
            ({"materials.0": pdf("申请书.txt")}, "materials.0"),
            ({"materials.1": pdf("not-really.png")}, "materials.1"),
            ({"materials.9": pdf()}, "materials.9"),
            ({"attachment": pdf()}, "attachment"),
        ],
    )
    def test_bad_input_names_the_field(self, version, citizen, change, field):
        response = client_for(citizen.user).post(f"{BASE}/", submission(version, **change))

        assert response.status_code == 400
        assert field in response.json(), response.json()
        assert not Case.objects.exists()


# --- the actions -----------------------------------------------------------------------------


class TestActions:
    def test_clerk_accepts(self, case, clerk):
        response = act(clerk, case, "accept")

        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == CaseStatus.IN_REVIEW
        assert body["step"] == {"index": 0, "name": "承办", "role": Role.REVIEWER}
        assert DocumentKind.ACCEPTANCE in {d["kind"] for d in body["documents"]}
        assert body["timeline"][-1]["action"] == "accept"
        assert body["timeline"][-1]["role"] == Role.WINDOW_CLERK
        assert body["timeline"][-1]["channel"] == Channel.WINDOW

    @pytest.mark.parametrize("who", ["reviewer", "head", "supervisor", "citizen"])
    def test_others_who_see_the_case_may_not_accept(self, request, case, who):
        user = login(request, who)
        response = act(user, case, "accept")
        assert response.status_code == 403
        case.refresh_from_db()
        assert case.status == CaseStatus.RECEIVED

    def test_a_stale_action_is_a_conflict(self, case, clerk):
        assert act(clerk, case, "accept").status_code == 200

        response = act(clerk, case, "accept")

        assert response.status_code == 409
        assert "Under review" in response.json()["status"][0]

    def test_supervisor_acts_on_nothing(self, case, clerk, supervisor):
        accepted(case, clerk)
        for action, data in [("review_pass", {}), ("terminate", {"reason": "x"})]:
            assert act(supervisor, case, action, data, format="json").status_code == 403

    def test_the_reviewer_of_another_step_may_not(self, case, clerk, reviewer, head):
        accepted(case, clerk)
        assert act(head, case, "review_pass", {"opinion": "同意"}).status_code == 200
        response = act(reviewer, case, "approve")
        assert response.status_code == 403

    def test_a_reason_is_required(self, case, clerk):
        response = act(clerk, case, "refuse", {"reason": ""}, format="json")
        assert response.status_code == 400 and "reason" in response.json()

    def test_refuse(self, case, clerk):
        response = act(clerk, case, "refuse", {"reason": "不属于本事项"}, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == CaseStatus.NOT_ACCEPTED
        assert response.json()["close_reason"] == "不属于本事项"

    def test_correction_then_resubmit(self, case, clerk, citizen):
        response = act(
            clerk,
            case,
            "request_correction",
            {"items": [{"material": 0, "problem": "未签名"}, {"problem": "店名有误"}]},
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == CaseStatus.CORRECTION and body["light"] == "paused"
        assert body["timeline"][-1]["reason"] == "申请书：未签名；：店名有误"

        response = act(citizen.user, case, "resubmit", {"materials.0": pdf("签名.pdf")})

        assert response.status_code == 200, response.json()
        assert response.json()["status"] == CaseStatus.RECEIVED
        assert len(response.json()["materials"]) == 3

    @pytest.mark.parametrize(
        ("items", "field"),
        [
            ([], "items"),
            ([{"material": 7, "problem": "缺"}], "items.0.material"),
            ([{"material": 0, "problem": "缺"}, {"material": 0}], "items.1.problem"),
        ],
    )
    def test_correction_items_name_the_field(self, case, clerk, items, field):
        response = act(clerk, case, "request_correction", {"items": items}, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()

    def test_a_bad_file_of_a_resubmission_names_its_part(self, case, clerk, citizen):
        act(clerk, case, "request_correction", {"items": [{"problem": "缺"}]}, format="json")
        response = act(citizen.user, case, "resubmit", {"materials.1": pdf("x.exe")})
        assert response.status_code == 400 and "materials.1" in response.json()

    def test_tolerated_acceptance_and_supply(self, version, citizen, clerk):
        materials = list(version.materials.all())
        case = submit(version, citizen, uploads=[services.Upload(materials[0], pdf())])

        assert act(clerk, case, "accept").status_code == 400
        body = act(clerk, case, "accept_tolerant").json()
        assert body["status"] == CaseStatus.IN_REVIEW
        assert MaterialState.TOLERATED in {m["state"] for m in body["materials"]}

        response = act(clerk, case, "supply_tolerated", {"originals": [1]}, format="json")

        assert response.status_code == 200, response.json()
        assert MaterialState.SUPPLIED in {m["state"] for m in response.json()["materials"]}

    def test_an_original_the_guide_does_not_have_names_originals(self, version, citizen, clerk):
        materials = list(version.materials.all())
        case = submit(version, citizen, uploads=[services.Upload(materials[0], pdf())])
        services.accept_tolerant(case=case, actor=clerk)

        response = act(clerk, case, "supply_tolerated", {"originals": [9]}, format="json")

        assert response.status_code == 400 and "originals" in response.json(), response.json()

    def test_special_procedure_and_extension(self, case, clerk, reviewer, head):
        accepted(case, clerk)
        bad = act(reviewer, case, "suspend", {"kind": "correction", "reason": "x"}, format="json")
        assert bad.status_code == 400 and "kind" in bad.json()

        response = act(reviewer, case, "suspend", {"kind": "survey", "reason": "现场核查"})
        assert response.json()["status"] == CaseStatus.SUSPENDED
        assert act(reviewer, case, "extend", {"reason": "复杂"}).status_code == 403
        response = act(head, case, "extend", {"reason": "情况复杂", "days": 5}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["timeline"][-1]["action"] == "extend"
        assert act(reviewer, case, "resume").json()["status"] == CaseStatus.IN_REVIEW

    def test_send_back(self, case, clerk, reviewer, head):
        accepted(case, clerk)
        act(reviewer, case, "review_pass")
        response = act(head, case, "send_back", {"reason": "材料不清"}, format="json")
        assert response.status_code == 200
        assert response.json()["step"]["index"] == 0

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"method": "post"}, "tracking_number"),
            ({"method": "pigeon"}, "method"),
            ({}, "method"),
        ],
    )
    def test_delivery_input_names_the_field(self, case, clerk, reviewer, head, data, field):
        accepted(case, clerk)
        services.review_pass(case=case, actor=reviewer)
        services.approve(case=case, actor=head)
        services.produce(case=case, actor=reviewer)
        response = act(clerk, case, "deliver", data, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()

    def test_withdraw_by_the_applicant(self, case, citizen, clerk):
        assert act(clerk, case, "withdraw", {"reason": "x"}).status_code == 403
        response = act(citizen.user, case, "withdraw", {"reason": "不需要了"})
        assert response.status_code == 200
        assert response.json()["status"] == CaseStatus.WITHDRAWN
        assert response.json()["actions"] == []

    def test_deemed_acceptance_has_no_route(self, case, clerk):
        assert act(clerk, case, "deem_accepted").status_code == 404


def test_a_whole_path_through_the_api(version, citizen, clerk, reviewer, head):
    response = client_for(citizen.user).post(
        f"{BASE}/", submission(version), headers={"Idempotency-Key": "path-1"}
    )
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()["number"])

    steps = [
        (clerk, "accept", {}, CaseStatus.IN_REVIEW),
        (reviewer, "review_pass", {"opinion": "材料齐全"}, CaseStatus.IN_REVIEW),
        (head, "approve", {"reason": "符合条件"}, CaseStatus.APPROVED),
        (reviewer, "produce", {}, CaseStatus.READY),
        (clerk, "deliver", {"method": "window"}, CaseStatus.DELIVERED),
        (citizen.user, "evaluate", {"rating": 5}, CaseStatus.DELIVERED),
        (clerk, "archive", {}, CaseStatus.ARCHIVED),
    ]
    for user, action, data, status in steps:
        response = act(user, case, action, data, format="json")
        assert response.status_code == 200, (action, response.json())
        assert response.json()["status"] == status, action

    body = client_for(citizen.user).get(f"{BASE}/{case.number}/").json()
    assert [e["action"] for e in body["timeline"]] == [
        "submit",
        "accept",
        "review_pass",
        "approve",
        "produce",
        "deliver",
        "evaluate",
        "archive",
    ]
    assert [d["kind"] for d in body["documents"]] == [
        DocumentKind.RECEIPT,
        DocumentKind.ACCEPTANCE,
        DocumentKind.APPROVAL,
        DocumentKind.SERVICE_RECEIPT,
    ]
    assert body["rating"] == 5 and body["light"] is None
    assert body["timeline"][-2]["channel"] == Channel.ONLINE
    assert body["timeline"][3]["role"] == Role.DEPARTMENT_HEAD


def test_evaluation_below_three_needs_a_comment(case, citizen, clerk):
    services.refuse(case=case, actor=clerk, reason="不属于受理范围")
    response = act(citizen.user, case, "evaluate", {"rating": 1}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    response = act(citizen.user, case, "evaluate", {"rating": 1, "comment": "等太久"})
    assert response.status_code == 200 and response.json()["rating"] == 1


# --- the list --------------------------------------------------------------------------------


class TestList:
    def test_filters(self, version, citizen, clerk, supervisor):
        online = submit(version, citizen)
        someone = person(n=2)
        window = submit(version, someone, channel=Channel.WINDOW, by=clerk)
        other_version = guide()
        elsewhere = submit(other_version, citizen)
        accepted(window, clerk)
        client = client_for(supervisor)

        def listed(query: str) -> set[str]:
            return set(numbers(client.get(f"{BASE}/?{query}")))

        assert listed("") == {online.number, window.number, elsewhere.number}
        assert listed("status=in_review") == {window.number}
        assert listed(f"department={other_version.item.department_id}") == {elsewhere.number}
        assert listed(f"item={version.item.implementation_code}") == {
            online.number,
            window.number,
        }
        assert listed(f"applicant={someone.public_id}") == {window.number}
        assert listed("channel=window") == {window.number}
        tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        assert listed(f"submitted_before={tomorrow}") == listed("")
        assert listed(f"submitted_after={tomorrow}") == set()
        assert client.get(f"{BASE}/?status=nonsense").status_code == 400

    def test_light_filter_and_due_order(self, version, citizen, clerk, supervisor):
        green, yellow, red, paused, none = (submit(version, citizen) for _ in range(5))
        Clock.objects.filter(pk=yellow.acceptance_clock_id).update(limit=1)
        past = timezone.now() - dt.timedelta(days=60)
        Clock.objects.filter(pk=red.acceptance_clock_id).update(
            started_at=past, due_at=past + dt.timedelta(days=7)
        )
        services.request_correction(case=paused, actor=clerk, items=[{"problem": "缺"}])
        services.refuse(case=none, actor=clerk, reason="不予受理")
        client = client_for(supervisor)

        for light, case in [("green", green), ("yellow", yellow), ("red", red),
                            ("paused", paused)]:  # fmt: skip
            assert numbers(client.get(f"{BASE}/?light={light}")) == [case.number], light

        rows = client.get(f"{BASE}/").json()["results"]
        assert rows[0]["number"] == red.number and rows[0]["light"] == "red"
        assert [r["number"] for r in rows[-2:]] == [paused.number, none.number]
        assert rows[-1]["light"] is None and rows[-1]["due_at"] is None
        assert rows[0]["item_name"] == version.name
        assert rows[0]["status_label"] == "Materials received, awaiting acceptance"

    def test_an_unknown_light_names_light(self, case, supervisor):
        response = client_for(supervisor).get(f"{BASE}/?light=purple")
        assert response.status_code == 400 and "light" in response.json(), response.json()

    # Session, user, memberships and their categories; the light filter's candidates and
    # their clocks' pauses and extensions; the count; the page and its clocks' again.
    MAX_LIST_QUERIES = 11

    def test_queries_do_not_grow_with_rows(
        self, version, citizen, clerk, reviewer, django_assert_max_num_queries
    ):
        client = client_for(clerk)
        counts = []
        for rows in (1, 4):
            for _ in range(rows):
                accepted(submit(version, citizen), clerk)
                submit(version, citizen)
            client.get(f"{BASE}/")  # warm the calendar cache
            with django_assert_max_num_queries(self.MAX_LIST_QUERIES) as captured:
                response = client.get(f"{BASE}/?light=green")
            assert response.json()["count"] >= rows
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- the schema ------------------------------------------------------------------------------


def test_every_action_has_an_input_and_a_route():
    unrouted = {"deem_accepted", "correction_answered"}  # the system and the application take them
    assert set(ACTION_INPUTS) == set(ACTIONS) == set(TRANSITIONS) - unrouted


def test_schema_lists_the_case_paths():
    response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[f"{BASE}/"]) == {"get", "post"}
    assert f"{BASE}/{{number}}/" in paths
    for action in ACTIONS:
        operation = paths[f"{BASE}/{{number}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"]), action
    assert f"{BASE}/{{number}}/deem_accepted/" not in paths
    submit_op = paths[f"{BASE}/"]["post"]
    assert "multipart/form-data" in submit_op["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in submit_op["parameters"])
