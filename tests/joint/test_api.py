"""The themes API (主题式联审联办): each role on each endpoint, applying (files, form, reuse,
idempotency, bad input by field), the steps (inputs, 403, 404, 409), a whole application
through the API only, the steps of an item's case through the cases API, projects and their
stages, the reduction report, the lists' query counts, and the published schema."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from yimen.cases import services as case_services
from yimen.cases.api.serializers import ACTIONS as CASE_ACTIONS
from yimen.cases.choices import CaseStatus
from yimen.catalog.models import ThemeStage
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.joint.api import views
from yimen.joint.api.serializers import ACTION_INPUTS, ACTIONS
from yimen.joint.choices import JointStatus
from yimen.joint.models import JointCase, Project
from yimen.joint.workflow import STEPS
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import clerk_of, enterprise, pdf
from ..catalog.factories import MaterialTypeFactory
from ..conftest import grant
from ..org.factories import WindowCategoryFactory
from .factories import JointScene

pytestmark = pytest.mark.django_db

BASE = "/api/v1/themes"
APPS = f"{BASE}/applications"
CASES = "/api/v1/cases"
FORM = {"company_name": "示例科技有限公司", "capital": "100", "staff_count": "5"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # the API speaks the caller's language
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def scene() -> JointScene:
    return JointScene.make()


@pytest.fixture
def users(scene) -> dict:
    """One user per role, by name (None: anonymous)."""
    return {
        "applicant": scene.applicant.user,
        "other_applicant": enterprise(n=2).user,
        "clerk": scene.clerk,
        "other_clerk": clerk_of(WindowCategoryFactory()),
        "reviewer": scene.departments[0].reviewer,
        "head": scene.departments[0].head,
        "supervisor": grant(UserFactory(), Role.SUPERVISOR),
        "anonymous": None,
    }


def code(scene, name: str) -> str:
    return scene.types[name].code


ALL_TYPES = ("申请书", "身份证明", "场所证明")
STAGE_ONE = ("申请书", "身份证明")  # what 设立登记 asks


def application(scene, *, types=ALL_TYPES, **extra) -> dict:
    """A multipart application of the whole theme (all three items) with a file of each
    material type named."""
    return {
        "theme": scene.theme.code,
        "answers": [scene.yes.pk],
        "form": json.dumps(FORM),
        **{f"material.{code(scene, n)}": pdf(f"{n}.pdf") for n in types},
        **extra,
    }


def act(user, joint, action, data=None, **kwargs):
    kwargs.setdefault("format", "json")
    return client_for(user).post(f"{APPS}/{joint.number}/{action}/", data or {}, **kwargs)


def case_act(user, case, action, data=None):
    return client_for(user).post(f"{CASES}/{case.number}/{action}/", data or {}, format="json")


def detail(user, joint) -> dict:
    response = client_for(user).get(f"{APPS}/{joint.number}/")
    assert response.status_code == 200, response.json()
    return response.json()


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def children(joint) -> list:
    return list(joint.cases.order_by("pk"))


# --- who sees what ---------------------------------------------------------------------------


class TestVisibility:
    def test_anonymous_gets_nothing_but_the_report(self, scene):
        joint = scene.apply()
        anonymous = client_for()
        assert anonymous.get(f"{APPS}/").status_code == 403
        assert anonymous.get(f"{APPS}/{joint.number}/").status_code == 403
        assert anonymous.post(f"{APPS}/", application(scene)).status_code == 403
        assert act(None, joint, "withdraw", {"reason": "不办了"}).status_code == 403
        assert anonymous.get(f"{BASE}/projects/").status_code == 403
        assert anonymous.get(f"{BASE}/reductions/").status_code == 200
        assert JointCase.objects.count() == 1

    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("applicant", True),
            ("other_applicant", False),
            ("clerk", True),
            ("other_clerk", False),
            ("reviewer", True),
            ("head", True),
            ("supervisor", True),
        ],
    )
    def test_an_accepted_application_in_lists_and_lookups(self, scene, users, who, sees):
        joint = scene.accepted()
        client = client_for(users[who])

        assert numbers(client.get(f"{APPS}/")) == ([joint.number] if sees else [])
        assert client.get(f"{APPS}/{joint.number}/").status_code == (200 if sees else 404)

    def test_departments_see_it_once_it_is_accepted(self, scene, users):
        joint = scene.apply()
        reviewer = client_for(users["reviewer"])
        assert numbers(reviewer.get(f"{APPS}/")) == []
        assert reviewer.get(f"{APPS}/{joint.number}/").status_code == 404
        services.accept(joint=joint, actor=scene.clerk)
        assert numbers(reviewer.get(f"{APPS}/")) == [joint.number]

    def test_a_department_without_a_case_in_it_does_not(self, scene):
        # Item C (the third department) only applies when the answer is 「需要」.
        joint = scene.accepted(
            answers=[scene.no.pk], uploads=scene.uploads("申请书", "身份证明", "场所证明")
        )
        outsider = scene.departments[2].reviewer
        assert len(children(joint)) == 2
        assert client_for(outsider).get(f"{APPS}/{joint.number}/").status_code == 404

    def test_unknown_number_is_404(self, users):
        response = client_for(users["supervisor"]).get(f"{APPS}/LB440604-20260101-9999/")
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("clerk", 200),
            ("applicant", 403),
            ("supervisor", 403),
            ("other_clerk", 404),
            ("other_applicant", 404),
            ("reviewer", 404),  # not accepted yet: no case of theirs in it
            ("anonymous", 403),
        ],
    )
    def test_who_accepts(self, scene, users, who, status):
        joint = scene.apply()
        response = act(users[who], joint, "accept")
        assert response.status_code == status, response.json()
        joint.refresh_from_db()
        assert (joint.status == JointStatus.IN_REVIEW) == (status == 200)

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("applicant", 200),
            ("clerk", 403),
            ("reviewer", 403),
            ("head", 403),
            ("supervisor", 403),
            ("other_applicant", 404),
            ("other_clerk", 404),
        ],
    )
    def test_who_withdraws(self, scene, users, who, status):
        joint = scene.accepted()
        response = act(users[who], joint, "withdraw", {"reason": "不办了"})
        assert response.status_code == status, response.json()
        joint.refresh_from_db()
        assert (joint.status == JointStatus.WITHDRAWN) == (status == 200)

    @pytest.mark.parametrize("action", sorted(ACTIONS))
    @pytest.mark.parametrize("who", ["other_applicant", "other_clerk"])
    def test_every_step_is_404_for_those_who_do_not_see_it(self, scene, users, who, action):
        joint = scene.apply()
        assert act(users[who], joint, action, {"reason": "x"}).status_code == 404

    @pytest.mark.parametrize("action", sorted(ACTIONS))
    def test_a_supervisor_takes_no_step(self, scene, users, action):
        # The status is checked first (409), then who acts (403).
        joint = scene.apply()
        response = act(users["supervisor"], joint, action, {"reason": "x"})
        expected = 403 if JointStatus.RECEIVED in STEPS[action].sources else 409
        assert response.status_code == expected, response.json()
        joint.refresh_from_db()
        assert joint.status == JointStatus.RECEIVED


# --- the detail ------------------------------------------------------------------------------


class TestDetail:
    def test_shows_the_application(self, scene, users):
        joint = scene.apply()
        body = detail(users["clerk"], joint)

        assert body["number"] == joint.number
        assert body["theme"] == {"code": scene.theme.code, "name": "开办测试"}
        assert body["stage"] is None and body["project"] is None
        assert body["status"] == JointStatus.RECEIVED
        assert body["status_label"] == "Materials received, awaiting acceptance"
        assert body["channel"] == Channel.ONLINE
        assert body["light"] == "green" and body["due_at"] and body["remaining"] == 5
        assert [(c["purpose"], c["current"]) for c in body["clocks"]] == [
            ("joint.acceptance", True)
        ]
        assert body["answers"] == [{"question": "是否招用员工？", "answers": ["需要"]}]
        assert (
            body["form"] == joint.form_data and body["form"]["company_name"] == "示例科技有限公司"
        )
        assert body["applicant"]["public_id"] == str(scene.applicant.public_id)
        materials = {m["material_type"]["name"]: m for m in body["materials"]}
        assert set(materials) == {"申请书", "身份证明", "场所证明"}
        assert all(m["given"] and len(m["sha256"]) == 64 for m in materials.values())
        assert materials["身份证明"]["required"] is True
        assert len(materials["身份证明"]["items"]) == 2  # asked once for two items
        assert body["cases"] == [] and body["corrections"] == []
        receipt = body["documents"][0]
        assert receipt["kind"] == "receipt"
        assert receipt["pdf"].endswith(f"/themes/{joint.number}/documents/{receipt['code']}/")

    def test_after_acceptance_each_item_has_its_case(self, scene, users):
        joint = scene.accepted()
        body = detail(users["applicant"], joint)

        assert body["status"] == JointStatus.IN_REVIEW
        assert [c["purpose"] for c in body["clocks"]] == ["joint.acceptance", "joint.decision"]
        assert [c["current"] for c in body["clocks"]] == [False, True]
        assert body["remaining"] == 10  # the theme's promised limit
        rows = body["cases"]
        assert [r["number"] for r in rows] == [c.number for c in children(joint)]
        assert {r["department"]["id"] for r in rows} == {d.department.pk for d in scene.departments}
        assert {r["item_name"] for r in rows} == {"设立登记", "印章备案", "社保登记"}
        assert all(r["status"] == CaseStatus.IN_REVIEW for r in rows)
        assert all(r["light"] == "green" and r["granted"] is None for r in rows)
        assert [d["kind"] for d in body["documents"]] == ["receipt", "acceptance"]

    @pytest.mark.parametrize(
        ("who", "shown"),
        [("applicant", True), ("clerk", True), ("reviewer", False), ("supervisor", False)],
    )
    def test_file_links_only_for_the_applicant_and_the_window(self, scene, users, who, shown):
        joint = scene.accepted()
        links = [m["file"] for m in detail(users[who], joint)["materials"]]
        assert all(links) if shown else not any(links)
        if shown:
            assert f"/themes/{joint.number}/materials/" in links[0]

    def test_no_file_links_for_a_department_head(self, scene, users):
        joint = scene.accepted()
        assert not any(m["file"] for m in detail(users["head"], joint)["materials"])

    @pytest.mark.parametrize(
        ("who", "actions"),
        [
            ("clerk", {"accept", "refuse", "request_correction"}),
            ("applicant", {"withdraw"}),
            ("supervisor", set()),
        ],
    )
    def test_offers_the_steps_the_user_may_take(self, scene, users, who, actions):
        joint = scene.apply()
        assert {a["action"] for a in detail(users[who], joint)["actions"]} == actions

    def test_send_corrections_is_offered_once_a_department_asked(self, scene, users):
        joint = scene.accepted()
        offered = {a["action"] for a in detail(users["clerk"], joint)["actions"]}
        assert "send_corrections" not in offered
        first = children(joint)[0]
        case_services.ask_correction(
            case=first, actor=scene.department_of(first).reviewer,
            items=[{"material": "", "problem": "注册资本有误"}],
        )  # fmt: skip
        offered = {a["action"] for a in detail(users["clerk"], joint)["actions"]}
        assert "send_corrections" in offered


# --- applying --------------------------------------------------------------------------------


class TestApply:
    def test_applicant_applies_online_with_one_form_and_one_set(self, scene, users):
        response = client_for(users["applicant"]).post(f"{APPS}/", application(scene))

        assert response.status_code == 201, response.json()
        body = response.json()
        joint = JointCase.objects.get(number=body["number"])
        assert joint.applicant == scene.applicant and joint.channel == Channel.ONLINE
        assert joint.item_versions.count() == 3
        assert joint.materials.count() == 3  # 身份证明 given once for A and B
        assert body["form"]["company_name"] == "示例科技有限公司"
        assert body["status"] == JointStatus.RECEIVED

    def test_the_answers_select_the_items(self, scene, users):
        response = client_for(users["applicant"]).post(
            f"{APPS}/", application(scene, answers=[scene.no.pk])
        )
        assert response.status_code == 201, response.json()
        joint = JointCase.objects.get(number=response.json()["number"])
        assert {v.name for v in joint.item_versions.all()} == {"设立登记", "印章备案"}

    def test_json_without_files(self, scene, users):
        body = {"theme": scene.theme.code, "answers": [scene.yes.pk], "form": FORM}
        response = client_for(users["applicant"]).post(f"{APPS}/", body, format="json")

        assert response.status_code == 201, response.json()
        assert not any(m["given"] for m in response.json()["materials"])

    def test_idempotency_key_yields_one_application(self, scene, users):
        client = client_for(users["applicant"])
        first = client.post(f"{APPS}/", application(scene), HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post(f"{APPS}/", application(scene), HTTP_IDEMPOTENCY_KEY="k-1")
        other = client.post(f"{APPS}/", application(scene), HTTP_IDEMPOTENCY_KEY="k-2")

        assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
        assert first.json()["number"] == again.json()["number"] != other.json()["number"]
        assert JointCase.objects.count() == 2

    def test_clerk_applies_at_the_window_for_the_applicant_named(self, scene, users):
        data = application(
            scene,
            applicant=str(scene.applicant.public_id),
            originals=[code(scene, "身份证明")],
        )
        response = client_for(users["clerk"]).post(f"{APPS}/", data)

        assert response.status_code == 201, response.json()
        joint = JointCase.objects.get(number=response.json()["number"])
        assert joint.channel == Channel.WINDOW and joint.submitted_by == scene.clerk
        seen = {
            m["material_type"]["name"]: m["original_seen"] for m in response.json()["materials"]
        }
        assert seen == {"申请书": False, "身份证明": True, "场所证明": False}

    def test_clerk_must_name_the_applicant(self, scene, users):
        response = client_for(users["clerk"]).post(f"{APPS}/", application(scene))
        assert response.status_code == 400 and "applicant" in response.json()

    @pytest.mark.parametrize("who", ["other_clerk", "reviewer", "head", "supervisor"])
    def test_others_may_not_apply(self, scene, users, who):
        data = application(scene, applicant=str(scene.applicant.public_id))
        response = client_for(users[who]).post(f"{APPS}/", data)
        assert response.status_code == 403, response.json()
        assert JointCase.objects.count() == 0

    def test_an_applicant_may_not_apply_for_someone_else(self, scene, users):
        data = application(scene, applicant=str(scene.applicant.public_id))
        response = client_for(users["other_applicant"]).post(f"{APPS}/", data)
        assert response.status_code == 403
        assert JointCase.objects.count() == 0

    def test_an_only_applicant_may_not_give_originals(self, scene, users):
        data = application(scene, originals=[code(scene, "身份证明")])
        response = client_for(users["applicant"]).post(f"{APPS}/", data)
        assert response.status_code == 400 and "originals" in response.json()

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"theme": "no-such-theme"}, "theme"),
            ({"answers": [999999]}, "answers"),
            ({"answers": ["x"]}, "answers.0"),
            ({"form": json.dumps({"company_name": "示例"})}, "form.capital"),
            ({"form": "[1, 2]"}, "form"),
            ({"stage": 1}, "stage"),
            ({"project": "8a4c4e54-3a4f-4a4c-9b0c-2f0a9c5f0d11"}, "project"),
            ({"channel": "window"}, "channel"),
            ({"material.no-such-type": pdf()}, "material.no-such-type"),
            ({"materials.0": pdf()}, "materials.0"),
            ({"reuse.no-such-type": "1"}, "reuse.no-such-type"),
        ],
    )
    def test_bad_input_names_the_field(self, scene, users, change, field):
        response = client_for(users["applicant"]).post(f"{APPS}/", application(scene, **change))
        assert response.status_code == 400, response.json()
        assert field in response.json(), response.json()
        assert JointCase.objects.count() == 0

    def test_a_bad_file_is_named_by_its_part(self, scene, users):
        part = f"material.{code(scene, '申请书')}"
        fake = SimpleUploadedFile("申请书.pdf", b"not a pdf", content_type="application/pdf")
        response = client_for(users["applicant"]).post(
            f"{APPS}/", application(scene, **{part: fake})
        )
        assert response.status_code == 400 and part in response.json(), response.json()

    def test_a_material_the_items_do_not_ask_for_is_named_by_its_part(self, scene, users):
        extra = MaterialTypeFactory(name="无关材料")
        part = f"material.{extra.code}"
        response = client_for(users["applicant"]).post(
            f"{APPS}/", application(scene, **{part: pdf()})
        )
        assert response.status_code == 400 and part in response.json(), response.json()

    def test_an_earlier_file_is_reused_by_its_case_number(self, scene, users):
        version = scene.versions[0]  # asks for 申请书 and 身份证明
        earlier = case_services.case_submit(
            applicant=scene.applicant,
            version=version,
            submitted_by=scene.applicant.user,
            channel=Channel.ONLINE,
            form_data=FORM,
            uploads=[case_services.Upload(m, pdf()) for m in version.materials.all()],
        )
        data = application(scene)
        part = f"reuse.{code(scene, '申请书')}"
        del data[f"material.{code(scene, '申请书')}"]
        data[part] = earlier.number

        response = client_for(users["applicant"]).post(f"{APPS}/", data)

        assert response.status_code == 201, response.json()
        joint = JointCase.objects.get(number=response.json()["number"])
        row = joint.materials.get(material_type=scene.types["申请书"])
        assert (
            row.file.name
            == earlier.materials.get(material__material_type=scene.types["申请书"]).file.name
        )

    def test_someone_elses_file_may_not_be_reused(self, scene, users):
        version = scene.versions[0]
        stranger = enterprise(n=3)
        theirs = case_services.case_submit(
            applicant=stranger,
            version=version,
            submitted_by=stranger.user,
            channel=Channel.ONLINE,
            form_data=FORM,
            uploads=[case_services.Upload(m, pdf()) for m in version.materials.all()],
        )
        row = theirs.materials.get(material__material_type=scene.types["申请书"])
        part = f"reuse.{code(scene, '申请书')}"
        for value in (theirs.number, str(row.pk)):
            data = application(scene, **{part: value})
            del data[f"material.{code(scene, '申请书')}"]
            response = client_for(users["applicant"]).post(f"{APPS}/", data)
            assert response.status_code == 400 and part in response.json(), response.json()
        assert JointCase.objects.count() == 0


# --- the steps -------------------------------------------------------------------------------


class TestSteps:
    def test_a_stale_step_is_a_conflict(self, scene, users):
        joint = scene.apply()
        assert act(users["clerk"], joint, "accept").status_code == 200
        again = act(users["clerk"], joint, "accept")
        assert again.status_code == 409 and "status" in again.json(), again.json()
        assert act(users["applicant"], joint, "evaluate", {"rating": 5}).status_code == 409

    def test_a_reason_is_required(self, scene, users):
        joint = scene.apply()
        response = act(users["clerk"], joint, "refuse", {})
        assert response.status_code == 400 and "reason" in response.json()

    def test_refuse(self, scene, users):
        joint = scene.apply()
        response = act(users["clerk"], joint, "refuse", {"reason": "不属于本中心受理范围"})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == JointStatus.NOT_ACCEPTED and body["actions"] == []
        assert body["documents"][-1]["kind"] == "non_acceptance"

    def test_accept_needs_every_required_material(self, scene, users):
        joint = scene.apply(uploads=scene.uploads("申请书"))
        response = act(users["clerk"], joint, "accept")
        assert response.status_code == 400 and "materials" in response.json()

    def test_window_correction_then_resubmit(self, scene, users):
        joint = scene.apply()
        items = [
            {"material_type": code(scene, "场所证明"), "problem": "租赁合同过期"},
            {"material_type": "", "problem": "注册资本填写有误"},
        ]
        response = act(users["clerk"], joint, "request_correction", {"items": items})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == JointStatus.CORRECTION
        assert [c["problem"] for c in body["corrections"]] == ["租赁合同过期", "注册资本填写有误"]
        assert all(c["notice"] and c["case"] is None for c in body["corrections"])
        assert {a["action"] for a in detail(users["applicant"], joint)["actions"]} == {
            "resubmit",
            "withdraw",
        }

        response = act(
            users["applicant"],
            joint,
            "resubmit",
            {f"material.{code(scene, '场所证明')}": pdf("新合同.pdf"),
             "form": json.dumps({"capital": "200"})},
            format="multipart",
        )  # fmt: skip

        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == JointStatus.RECEIVED
        assert body["form"]["capital"] in (200, "200", "200.00")
        place = next(m for m in body["materials"] if m["material_type"]["name"] == "场所证明")
        assert place["file_name"] == "新合同.pdf"
        assert all(c["answered_at"] for c in body["corrections"])

    @pytest.mark.parametrize(
        ("items", "field"),
        [
            ([], "items"),
            ([{"material_type": "no-such-type", "problem": "x"}], "items.0.material_type"),
            ([{"material_type": "", "problem": ""}], "items.0.problem"),
        ],
    )
    def test_correction_items_name_the_field(self, scene, users, items, field):
        joint = scene.apply()
        response = act(users["clerk"], joint, "request_correction", {"items": items})
        assert response.status_code == 400 and field in response.json(), response.json()

    def test_a_type_the_set_does_not_ask_for_names_items(self, scene, users):
        joint = scene.apply()
        extra = MaterialTypeFactory(name="无关材料")
        items = [{"material_type": extra.code, "problem": "x"}]
        response = act(users["clerk"], joint, "request_correction", {"items": items})
        assert response.status_code == 400 and "items" in response.json(), response.json()

    def test_resubmit_needs_something(self, scene, users):
        joint = scene.apply()
        services.request_correction(
            joint=joint, actor=scene.clerk, items=[{"material_type": "", "problem": "x"}]
        )
        response = act(users["applicant"], joint, "resubmit", {})
        assert response.status_code == 400 and "materials" in response.json(), response.json()
        response = act(users["applicant"], joint, "resubmit", {"form": {"nonsense": 1}})
        assert response.status_code == 400 and "form" in response.json(), response.json()

    def test_send_corrections_with_nothing_asked_names_the_status(self, scene, users):
        joint = scene.accepted()
        response = act(users["clerk"], joint, "send_corrections")
        assert response.status_code == 400 and "status" in response.json(), response.json()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"method": "pigeon"}, "method"),
            ({"method": "post"}, "tracking_number"),
        ],
    )
    def test_delivery_input_names_the_field(self, scene, users, data, field):
        joint = scene.accepted()
        for case in children(joint):
            scene.grant(case)
        joint.refresh_from_db()
        assert joint.status == JointStatus.READY
        response = act(users["clerk"], joint, "deliver", data)
        assert response.status_code == 400 and field in response.json(), response.json()

    def test_extend_by_a_head_of_a_department_in_it(self, scene, users):
        joint = scene.accepted()
        assert act(users["reviewer"], joint, "extend", {"reason": "需现场核查"}).status_code == 403
        assert act(users["clerk"], joint, "extend", {"reason": "需现场核查"}).status_code == 403
        response = act(users["head"], joint, "extend", {"reason": "需现场核查", "days": 5})
        assert response.status_code == 200, response.json()
        assert response.json()["remaining"] == 15
        too_many = act(users["head"], joint, "extend", {"reason": "再延", "days": 11})
        assert too_many.status_code == 400 and "days" in too_many.json()

    def test_evaluation_below_three_needs_a_comment(self, scene, users):
        joint = scene.accepted()
        for case in children(joint):
            scene.grant(case)
        services.deliver(joint=JointCase.objects.get(pk=joint.pk), actor=scene.clerk,
                         method="window")  # fmt: skip
        response = act(users["applicant"], joint, "evaluate", {"rating": 2})
        assert response.status_code == 400 and "comment" in response.json()
        response = act(users["applicant"], joint, "evaluate", {"rating": 9})
        assert response.status_code == 400 and "rating" in response.json()

    def test_the_system_step_has_no_route(self, scene, users):
        joint = scene.apply()
        assert act(users["clerk"], joint, "deem_accepted").status_code == 404


def test_a_whole_application_through_the_api(scene, users):
    applicant, clerk = client_for(users["applicant"]), client_for(users["clerk"])

    # Given an application online with its one form and one material set
    response = applicant.post(f"{APPS}/", application(scene), HTTP_IDEMPOTENCY_KEY="whole")
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    joint = JointCase.objects.get(number=number)

    # When the window accepts it, a case opens per item in its own department
    assert act(users["clerk"], joint, "accept").json()["status"] == JointStatus.IN_REVIEW
    rows = detail(users["clerk"], joint)["cases"]
    assert len(rows) == 3
    first, second, third = children(joint)

    # Two departments ask for corrections on their cases (the cases API)
    reviewer_1 = scene.department_of(first).reviewer
    reviewer_2 = scene.department_of(second).reviewer
    asked_1 = case_act(reviewer_1, first, "ask_correction",
                       {"items": [{"material": 0, "problem": "申请书未签字"}]})  # fmt: skip
    asked_2 = case_act(reviewer_2, second, "ask_correction",
                       {"items": [{"material": 1, "problem": "场所证明不清晰"}]})  # fmt: skip
    assert asked_1.status_code == asked_2.status_code == 200, (asked_1.json(), asked_2.json())
    assert asked_1.json()["status"] == CaseStatus.CORRECTION
    body = detail(users["clerk"], joint)
    assert [c["waiting_correction"] for c in body["cases"]] == [True, True, False]
    assert [c["notice"] for c in body["corrections"]] == [None, None]
    assert {c["department"] for c in body["corrections"]} == {
        first.department.name,
        second.department.name,
    }

    # The window sends them in ONE notice
    sent = act(users["clerk"], joint, "send_corrections")
    assert sent.status_code == 200, sent.json()
    body = sent.json()
    assert body["status"] == JointStatus.CORRECTION
    notices = {c["notice"] for c in body["corrections"]}
    assert len(notices) == 1 and None not in notices
    assert [d["kind"] for d in body["documents"]].count("correction") == 1
    assert body["clocks"][-1]["light"] == "paused"

    # The applicant answers once, for both departments
    resubmitted = applicant.post(
        f"{APPS}/{number}/resubmit/",
        {
            f"material.{code(scene, '申请书')}": pdf("申请书（已签字）.pdf"),
            f"material.{code(scene, '场所证明')}": pdf("场所证明（清晰）.pdf"),
        },
    )
    assert resubmitted.status_code == 200, resubmitted.json()
    assert resubmitted.json()["status"] == JointStatus.IN_REVIEW
    assert all(c["status"] == CaseStatus.IN_REVIEW for c in resubmitted.json()["cases"])

    # Every department grants its case (the cases API): all results are issued together
    for case in (first, second, third):
        who = scene.department_of(case)
        passed = case_act(who.reviewer, case, "review_pass", {"opinion": "同意"})
        assert passed.status_code == 200, passed.json()
        approved = case_act(who.head, case, "approve", {"reason": "符合条件"})
        assert approved.status_code == 200, approved.json()
    body = detail(users["applicant"], joint)
    assert body["status"] == JointStatus.READY and body["issued_at"]
    assert all(c["granted"] is True and c["status"] == CaseStatus.READY for c in body["cases"])
    assert {a["action"] for a in detail(users["clerk"], joint)["actions"]} == {"deliver"}

    # ONE delivery, then ONE rating
    delivered = act(users["clerk"], joint, "deliver", {"method": "window"})
    assert delivered.status_code == 200, delivered.json()
    assert delivered.json()["status"] == JointStatus.DELIVERED
    assert all(c["status"] == CaseStatus.DELIVERED for c in delivered.json()["cases"])
    assert delivered.json()["documents"][-1]["kind"] == "service_receipt"
    rated = act(users["applicant"], joint, "evaluate", {"rating": 5, "comment": "一次办好"})
    assert rated.status_code == 200, rated.json()
    assert rated.json()["rating"] == 5 and rated.json()["actions"] == []
    assert clerk.get(f"{APPS}/?status=delivered").json()["count"] == 1


# --- an item's case through the cases API ----------------------------------------------------


class TestChildCaseInTheCasesApi:
    def test_its_department_asks_for_corrections(self, scene):
        joint = scene.accepted()
        case = children(joint)[0]
        reviewer = scene.department_of(case).reviewer
        offered = {a["action"] for a in client_for(reviewer).get(f"{CASES}/{case.number}/")
                   .json()["actions"]}  # fmt: skip
        assert "ask_correction" in offered and "request_correction" not in offered

        response = case_act(reviewer, case, "ask_correction",
                            {"items": [{"material": 1, "problem": "身份证明过期"},
                                       {"problem": "注册资本有误"}]})  # fmt: skip

        assert response.status_code == 200, response.json()
        assert response.json()["status"] == CaseStatus.CORRECTION
        asked = joint.corrections.order_by("pk")
        assert [(r.case_id, r.material_type_id) for r in asked] == [
            (case.pk, scene.types["身份证明"].pk),
            (case.pk, None),
        ]

    @pytest.mark.parametrize(
        ("items", "field"),
        [
            ([{"material": 9, "problem": "x"}], "items.0.material"),
            ([{"material": 0, "problem": ""}], "items.0.problem"),
            ([], "items"),
        ],
    )
    def test_ask_correction_input_names_the_field(self, scene, items, field):
        case = children(scene.accepted())[0]
        reviewer = scene.department_of(case).reviewer
        response = case_act(reviewer, case, "ask_correction", {"items": items})
        assert response.status_code == 400 and field in response.json(), response.json()

    def test_others_may_not_ask(self, scene, users):
        case = children(scene.accepted())[0]
        other_department = scene.departments[1].reviewer
        item = {"items": [{"problem": "x"}]}
        assert case_act(users["clerk"], case, "ask_correction", item).status_code == 403
        assert case_act(users["applicant"], case, "ask_correction", item).status_code == 403
        assert case_act(other_department, case, "ask_correction", item).status_code == 404

    def test_the_applicant_is_not_offered_withdrawal_of_one_item(self, scene, users):
        case = children(scene.accepted())[0]
        offered = client_for(users["applicant"]).get(f"{CASES}/{case.number}/").json()["actions"]
        assert "withdraw" not in {a["action"] for a in offered}

    def test_withdrawing_one_item_is_refused(self, scene, users):
        case = children(scene.accepted())[0]
        response = case_act(users["applicant"], case, "withdraw", {"reason": "不办了"})
        assert response.status_code == 400 and "status" in response.json(), response.json()
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_REVIEW

    def test_producing_one_result_is_refused(self, scene):
        joint = scene.accepted()
        case = children(joint)[0]
        scene.grant(case)  # the others are still in review: nothing is issued yet
        case.refresh_from_db()
        assert case.status == CaseStatus.APPROVED
        reviewer = scene.department_of(case).reviewer
        response = case_act(reviewer, case, "produce")
        assert response.status_code == 400 and "status" in response.json(), response.json()

    def test_delivering_one_result_is_refused(self, scene, users):
        joint = scene.accepted()
        case = children(joint)[0]
        scene.deny(case)
        case.refresh_from_db()
        assert case.status == CaseStatus.DENIED
        response = case_act(users["clerk"], case, "deliver", {"method": "window"})
        assert response.status_code == 400 and "status" in response.json(), response.json()
        case.refresh_from_db()
        assert case.status == CaseStatus.DENIED

    def test_the_theme_only_step_has_no_route(self, scene, users):
        case = children(scene.accepted())[0]
        assert "correction_answered" not in CASE_ACTIONS
        response = case_act(users["clerk"], case, "correction_answered")
        assert response.status_code == 404


# --- projects --------------------------------------------------------------------------------


@pytest.fixture
def staged(scene):
    """The scene's theme in two stages: 设立登记 first, then 印章备案 and 社保登记."""
    first = ThemeStage.objects.create(theme=scene.theme, order=1, name="立项")
    second = ThemeStage.objects.create(theme=scene.theme, order=2, name="施工")
    items = list(scene.theme.theme_items.order_by("order"))
    items[0].stage = first
    items[0].save(update_fields=["stage"])
    for theme_item in items[1:]:
        theme_item.stage = second
        theme_item.save(update_fields=["stage"])
    return scene


class TestProjects:
    def test_a_staged_theme_through_the_api(self, staged, users):
        scene = staged
        applicant = client_for(users["applicant"])
        first = application(scene, types=STAGE_ONE, stage=1, project_name="示例厂房")
        response = applicant.post(f"{APPS}/", first)
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["stage"] == {"order": 1, "name": "立项"}
        project = Project.objects.get()
        assert body["project"]["public_id"] == str(project.public_id)
        joint = JointCase.objects.get(number=body["number"])

        stages = applicant.get(f"{BASE}/projects/{project.public_id}/").json()["stages"]
        assert [(s["order"], s["application"] and s["application"]["number"]) for s in stages] == [
            (1, joint.number),
            (2, None),
        ]
        assert stages[1]["may_apply"] is False and "stage" in stages[1]["refusal"]

        later = application(scene, stage=2, project=str(project.public_id))
        refused = applicant.post(f"{APPS}/", later)
        assert refused.status_code == 400 and "stage" in refused.json(), refused.json()

        services.accept(joint=joint, actor=scene.clerk)
        for case in children(joint):
            scene.grant(case)
        stages = applicant.get(f"{BASE}/projects/{project.public_id}/").json()["stages"]
        assert stages[0]["application"]["granted"] is True
        assert stages[1]["may_apply"] is True and stages[1]["refusal"] is None

        later = application(scene, stage=2, project=str(project.public_id))
        response = applicant.post(f"{APPS}/", later)
        assert response.status_code == 201, response.json()
        assert response.json()["project"]["code"] == project.code

    def test_the_first_stage_needs_a_project_name(self, staged, users):
        response = client_for(users["applicant"]).post(
            f"{APPS}/", application(staged, types=STAGE_ONE, stage=1)
        )
        assert response.status_code == 400 and "project_name" in response.json()

    def test_an_unknown_stage_names_stage(self, staged, users):
        data = application(staged, types=STAGE_ONE, stage=7, project_name="x")
        response = client_for(users["applicant"]).post(f"{APPS}/", data)
        assert response.status_code == 400 and "stage" in response.json()

    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("applicant", True),
            ("other_applicant", False),
            ("clerk", True),
            ("other_clerk", False),
            ("reviewer", True),
            ("supervisor", True),
        ],
    )
    def test_who_sees_a_project(self, staged, users, who, sees):
        joint = staged.accepted(
            stage=staged.theme.stages.get(order=1),
            project_name="示例厂房",
            uploads=staged.uploads(*STAGE_ONE),
        )
        project = joint.project
        client = client_for(users[who])
        listed = client.get(f"{BASE}/projects/")
        assert listed.status_code == 200
        assert [r["code"] for r in listed.json()["results"]] == ([project.code] if sees else [])
        status = client.get(f"{BASE}/projects/{project.public_id}/").status_code
        assert status == (200 if sees else 404)

    def test_anonymous_sees_no_project(self, staged):
        joint = staged.apply(
            stage=staged.theme.stages.get(order=1),
            project_name="示例厂房",
            uploads=staged.uploads(*STAGE_ONE),
        )
        anonymous = client_for()
        assert anonymous.get(f"{BASE}/projects/").status_code == 403
        assert anonymous.get(f"{BASE}/projects/{joint.project.public_id}/").status_code == 403


# --- the reduction report --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "applicant", "clerk", "reviewer", "supervisor"])
def test_the_reduction_report_is_public(scene, users, who):
    response = client_for(users[who]).get(f"{BASE}/reductions/")

    assert response.status_code == 200
    rows = [r for r in response.json()["rows"] if r["theme"]["code"] == scene.theme.code]
    assert len(rows) == 1
    row = rows[0]
    # Fields: 企业名称 ×3, 注册资本, 员工人数 → 3; materials: 申请书 ×2, 身份证明 ×2, 场所证明 → 3.
    assert (row["items"], row["fields_before"], row["fields_after"]) == (3, 5, 3)
    assert (row["materials_before"], row["materials_after"], row["materials_cut"]) == (5, 3, 40)
    assert response.json()["totals"]["fields_before"] >= 5


# --- lists -----------------------------------------------------------------------------------


class TestLists:
    def test_filters(self, scene, users):
        received = scene.apply()
        accepted = scene.accepted()
        client = client_for(users["supervisor"])

        assert numbers(client.get(f"{APPS}/?status=received")) == [received.number]
        assert numbers(client.get(f"{APPS}/?status=in_review")) == [accepted.number]
        assert set(numbers(client.get(f"{APPS}/?theme={scene.theme.code}"))) == {
            received.number,
            accepted.number,
        }
        assert numbers(client.get(f"{APPS}/?theme=other")) == []
        bad = client.get(f"{APPS}/?status=nonsense")
        assert bad.status_code == 400 and "status" in bad.json()

    # Session and user, memberships (and their categories), the count, the page, the
    # prefetched pauses and extensions of both clocks.
    MAX_LIST_QUERIES = 12

    @pytest.mark.parametrize("who", ["clerk", "reviewer", "applicant"])
    def test_application_queries_do_not_grow_with_rows(
        self, scene, users, who, django_assert_max_num_queries
    ):
        client = client_for(users[who])
        counts = []
        for rows in (1, 4):
            for _ in range(rows):
                scene.accepted()
                scene.apply()
            client.get(f"{APPS}/")  # warm the calendar cache
            with django_assert_max_num_queries(self.MAX_LIST_QUERIES) as captured:
                response = client.get(f"{APPS}/")
            assert response.json()["count"] >= rows
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]

    def test_project_queries_do_not_grow_with_rows(
        self, staged, users, django_assert_max_num_queries
    ):
        client = client_for(users["clerk"])
        first = staged.theme.stages.get(order=1)
        counts = []
        for rows in (1, 4):
            for n in range(rows):
                staged.apply(
                    stage=first, project_name=f"项目{rows}-{n}", uploads=staged.uploads(*STAGE_ONE)
                )
            with django_assert_max_num_queries(8) as captured:
                response = client.get(f"{BASE}/projects/")
            assert response.json()["count"] >= rows
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- the schema ------------------------------------------------------------------------------


def test_every_step_a_client_takes_has_an_input_and_a_route():
    assert set(ACTION_INPUTS) == set(ACTIONS) == set(views.ACTION_VIEWS)
    assert set(ACTIONS) == {n for n, s in STEPS.items() if s.performers - {"system"}}
    assert "deem_accepted" not in ACTIONS


def test_schema_lists_the_theme_paths_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    ours = ["yimen/joint/", "yimen.joint."] + [
        name for name, value in vars(views).items() if name.endswith("View") and value
    ]
    troubles = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if any(mark in message for mark in ours)
    ]
    assert troubles == []
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    assert set(paths[f"{APPS}/"]) == {"get", "post"}
    for path in ("applications/{number}/", "projects/", "projects/{public_id}/", "reductions/"):
        assert set(paths[f"{BASE}/{path}"]) == {"get"}, path
    for action in ACTIONS:
        operation = paths[f"{APPS}/{{number}}/{action}/"]["post"]
        assert operation["tags"] == ["themes"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"]), action
    create = paths[f"{APPS}/"]["post"]
    assert create["tags"] == ["themes"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert f"{CASES}/{{number}}/ask_correction/" in paths
    assert f"{CASES}/{{number}}/correction_answered/" not in paths
