"""The intake pages: the agent's console (each role, the side panel's history and
suggestions by htmx, register only / answer / dispatch / link in one transaction, field
errors with 400, a double submit), the citizen's web report (idempotent, field errors) and
the citizen's own orders (only theirs, newest first, paginated, constant queries)."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.cases.factories import person
from tests.conftest import grant
from tests.hotline import factories as hf
from tests.org.factories import DepartmentFactory, DistrictFactory
from yimen.common.models import AuditEvent
from yimen.hotline import orders, views_intake
from yimen.hotline.choices import (
    AssignmentRole,
    OrderChannel,
    OrderStatus,
    Resolution,
)
from yimen.hotline.models import WorkOrder
from yimen.org.choices import Role

pytestmark = pytest.mark.django_db

CONSOLE = reverse("hotline:console")
HISTORY = reverse("hotline:console_history")
SUGGESTIONS = reverse("hotline:console_suggestions")
REPORT = reverse("hotline:report")
MINE = reverse("hotline:mine")
PHONE = "13800138000"
CONTENT = "禅城区季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。"


def order_url(order) -> str:
    return f"/hotline/orders/{order.number}/"


def client_for(user=None) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.fixture
def people():
    """An agent, a unit handler, a supervisor, a system admin, two citizens."""
    unit = DepartmentFactory(name="禅城区城管执法局")
    return SimpleNamespace(
        agent=hf.agent(username="agent"),
        handler=hf.handler(unit, username="handler"),
        supervisor=hf.supervisor(username="supervisor"),
        admin=grant(UserFactory(username="admin"), Role.SYSTEM_ADMIN),
        citizen=person(
            UserFactory(username="citizen", full_name="陈小明", phone="13500135000"), n=1
        ).user,
        other_citizen=person(UserFactory(username="citizen2"), n=2).user,
        unit=unit,
    )


@pytest.fixture
def scene(people):
    """A leaf whose default unit is the handler's, in a district with its own government."""
    district = DistrictFactory(name="禅城区")
    local = DepartmentFactory(name="禅城区人民政府", region=district)
    leaf = hf.leaf(unit=people.unit)
    return SimpleNamespace(district=district, local=local, leaf=leaf)


def intake(scene, **changes) -> dict:
    """A complete console form: a phone complaint, registered only."""
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "channel": OrderChannel.PHONE,
        "caller_phone": PHONE,
        "caller_name": "陈先生",
        "order_type": "complaint",
        "urgency": "normal",
        "category": str(scene.leaf.pk),
        "district": str(scene.district.pk),
        "address": "季华路与文华路交界",
        "title": "路灯不亮",
        "content": CONTENT,
        "next_step": "register",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response) -> str:
    return response.content.decode()


# --- who may use the console ------------------------------------------------------------------


class TestConsoleAccess:
    def test_the_agent_gets_the_console(self, people, scene):
        response = client_for(people.agent).get(CONSOLE)
        assert response.status_code == 200
        page = response.content.decode()
        # the phone comes first and has the focus; access keys are documented on screen
        assert re.search(r'<input[^>]*name="caller_phone"[^>]*autofocus', page)
        assert 'accesskey="p"' in page and "Ctrl+Enter" in page
        # the leaves grouped by their path, the districts
        assert f'<optgroup label="{scene.leaf.parent.path}">' in page
        assert f'value="{scene.leaf.pk}"' in page
        assert f'value="{scene.district.pk}"' in page
        assert "hotline/console.js" in page

    @pytest.mark.parametrize("role", ["handler", "supervisor", "admin", "citizen"])
    @pytest.mark.parametrize("url", [CONSOLE, HISTORY, SUGGESTIONS])
    def test_other_roles_are_refused(self, people, role, url):
        assert client_for(getattr(people, role)).get(url).status_code == 403

    @pytest.mark.parametrize("role", ["handler", "supervisor", "citizen"])
    def test_other_roles_cannot_register(self, people, scene, role):
        response = client_for(getattr(people, role)).post(CONSOLE, intake(scene))
        assert response.status_code == 403
        assert not WorkOrder.objects.exists()

    @pytest.mark.parametrize("url", [CONSOLE, HISTORY, SUGGESTIONS])
    def test_anonymous_is_sent_to_sign_in(self, url):
        assert_login_redirect(Client().get(url))

    def test_a_telephony_system_can_open_it_with_the_number(self, people, scene):
        earlier = hf.order(by=people.agent, category=scene.leaf, caller_phone=PHONE)
        page = client_for(people.agent).get(CONSOLE, {"caller_phone": PHONE}).content.decode()
        assert f'value="{PHONE}"' in page
        assert order_url(earlier) in page


# --- the side panel ---------------------------------------------------------------------------


class TestHistory:
    def test_the_callers_earlier_orders_latest_first(self, people, scene):
        first = hf.order(by=people.agent, category=scene.leaf, title="第一次来电")
        second = hf.order(by=people.agent, category=scene.leaf, title="第二次来电")
        stranger = hf.order(by=people.agent, category=scene.leaf, caller_phone="13900139000")
        response = client_for(people.agent).get(
            HISTORY, {"caller_phone": "138 0013 8000"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "<html" not in page  # the partial alone
        assert order_url(first) in page and order_url(second) in page
        assert page.index(second.number) < page.index(first.number)
        assert "第二次来电" in page and "Awaiting dispatch" in page
        assert stranger.number not in page

    def test_a_few_digits_are_not_looked_up(self, people, django_assert_max_num_queries):
        client = client_for(people.agent)
        with django_assert_max_num_queries(10) as captured:
            page = client.get(HISTORY, {"caller_phone": "138"}).content.decode()
        assert "Type the caller's number" in page
        assert not [q for q in captured.captured_queries if "hotline_workorder" in q["sql"]]

    def test_a_number_nobody_called_from(self, people):
        page = client_for(people.agent).get(HISTORY, {"caller_phone": PHONE}).content.decode()
        assert "No earlier order from this number." in page

    def test_a_too_long_number_is_refused(self, people):
        assert client_for(people.agent).get(HISTORY, {"caller_phone": "1" * 30}).status_code == 400


class TestSuggestions:
    def test_nothing_typed_nothing_suggested(self, people):
        response = client_for(people.agent).get(SUGGESTIONS)
        assert response.status_code == 200
        assert "As you type the content" in response.content.decode()

    def test_knowledge_base_answers(self, people):
        article = hf.article()
        response = client_for(people.agent).get(
            SUGGESTIONS, {"content": "请问公积金怎么提取"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert reverse("hotline:article", args=[article.public_id]) in page
        assert f'data-article="{article.public_id}"' in page
        assert "Answer with this" in page

    def test_possible_duplicates_with_score_and_why(self, people, scene):
        same = hf.order(by=people.agent, category=scene.leaf, caller_phone=PHONE)
        similar = hf.order(
            by=people.agent, category=scene.leaf, caller_phone="13900139000", content=CONTENT
        )
        unrelated = hf.order(
            by=people.agent,
            category=hf.leaf(names=("教育", "学校", "招生")),
            caller_phone="13700137000",
            content="孩子明年上小学，想咨询学位申请的时间安排。",
        )
        response = client_for(people.agent).get(
            SUGGESTIONS,
            {"content": CONTENT, "caller_phone": PHONE, "category": scene.leaf.pk},
        )
        page = response.content.decode()
        assert order_url(same) in page and order_url(similar) in page
        assert unrelated.number not in page
        assert "Same phone" in page and "Similar words" in page
        assert "Score <strong>100%</strong>" in page
        assert f'data-number="{same.number}"' in page

    def test_dispatch_suggestions_with_score_and_source(self, people, scene):
        response = client_for(people.agent).get(
            SUGGESTIONS,
            {"content": CONTENT, "category": scene.leaf.pk, "district": scene.district.pk},
        )
        page = response.content.decode()
        units = page[page.index('id="units"') :]
        assert units.index("禅城区城管执法局") < units.index("禅城区人民政府")
        assert "Default unit of the category" in units and "100%" in units
        assert "Government of the district" in units and "50%" in units
        assert f'data-unit="{people.unit.pk}"' in units

    @pytest.mark.parametrize(
        "query", [{"content": "路灯", "category": "x"}, {"content": "路灯", "district": "999999"}]
    )
    def test_bad_values_are_refused(self, people, query):
        assert client_for(people.agent).get(SUGGESTIONS, query).status_code == 400

    def test_a_branch_is_not_a_category_to_suggest_for(self, people, scene):
        response = client_for(people.agent).get(
            SUGGESTIONS, {"content": "路灯", "category": scene.leaf.parent.pk}
        )
        assert response.status_code == 400


# --- submitting the console -------------------------------------------------------------------


def audit_count() -> int:
    return AuditEvent.objects.filter(action__startswith="hotline.order.").count()


class TestRegister:
    def test_register_only(self, people, scene):
        response = client_for(people.agent).post(CONSOLE, intake(scene))
        order = WorkOrder.objects.get()
        assert response.status_code == 302
        assert response["Location"] == order_url(order)
        assert order.status == OrderStatus.REGISTERED
        assert order.channel == OrderChannel.PHONE
        assert order.caller_phone == PHONE and order.caller_name == "陈先生"
        assert order.category == scene.leaf and order.district == scene.district
        assert order.registered_by == people.agent
        assert order.caller_user is None

    def test_answer_at_once_from_an_article(self, people, scene):
        article = hf.article()
        data = intake(
            scene, next_step="answer", answer="可在网上业务平台办理。", article=article.public_id
        )
        response = client_for(people.agent).post(CONSOLE, data)
        order = WorkOrder.objects.get()
        assert response.status_code == 302 and response["Location"] == order_url(order)
        assert order.status == OrderStatus.CLOSED
        assert order.resolution == Resolution.INSTANT
        assert order.article == article
        assert order.reply == "可在网上业务平台办理。"

    def test_dispatch_with_co_units_and_a_note(self, people, scene):
        co = DepartmentFactory(name="禅城区住建局")
        data = intake(
            scene,
            next_step="dispatch",
            lead=str(people.unit.pk),
            co_units=[str(co.pk)],
            note="请尽快修复",
        )
        response = client_for(people.agent).post(CONSOLE, data)
        order = WorkOrder.objects.get()
        assert response.status_code == 302 and response["Location"] == order_url(order)
        assert order.status == OrderStatus.DISPATCHED
        assert order.lead_unit == people.unit
        roles = dict(order.assignments.values_list("unit_id", "role"))
        assert roles == {people.unit.pk: AssignmentRole.LEAD, co.pk: AssignmentRole.CO}
        assert set(order.assignments.values_list("note", flat=True)) == {"请尽快修复"}
        assert order.sign_clock is not None

    def test_link_to_a_duplicate(self, people, scene):
        master = hf.order(by=people.agent, category=scene.leaf)
        data = intake(scene, next_step="link", master=master.number.lower())
        response = client_for(people.agent).post(CONSOLE, data)
        order = WorkOrder.objects.exclude(pk=master.pk).get()
        assert response.status_code == 302 and response["Location"] == order_url(order)
        assert order.status == OrderStatus.LINKED
        assert order.master == master

    def test_the_same_form_sent_twice_makes_one_order(self, people, scene):
        client = client_for(people.agent)
        data = intake(scene, next_step="dispatch", lead=str(people.unit.pk))
        first = client.post(CONSOLE, data)
        second = client.post(CONSOLE, data)
        order = WorkOrder.objects.get()
        assert first["Location"] == second["Location"] == order_url(order)
        assert order.assignments.count() == 1
        assert order.status == OrderStatus.DISPATCHED


class TestRefusals:
    """Every refusal is a 400 with the reason next to its field, and leaves no order."""

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"content": ""}, "content", "Say what the caller asks or reports."),
            ({"order_type": ""}, "order_type", "This field is required."),
            ({"caller_phone": ""}, "caller_phone", "A phone order needs the caller"),
            ({"caller_phone": "abc"}, "caller_phone", "Enter a phone number of digits"),
            ({"next_step": "answer", "answer": ""}, "answer", "Write the answer given"),
            ({"next_step": "dispatch"}, "lead", "Choose the unit to lead."),
            ({"next_step": "link", "master": "GD2000010100001"}, "master", "No order has"),
            ({"next_step": "fly"}, "next_step", "Select a valid choice"),
        ],
    )
    def test_field_errors(self, people, scene, changes, field, message):
        response = client_for(people.agent).post(CONSOLE, intake(scene, **changes))
        assert response.status_code == 400
        page = response.content.decode()
        assert re.search(rf'name="{field}"[^>]*is-invalid|is-invalid[^>]*name="{field}"', page) or (
            field == "next_step"
        )
        assert message in page
        assert not WorkOrder.objects.exists()

    def test_a_refused_answer_leaves_no_order(self, people, scene):
        # the order registers, then the answer needs a category: both roll back
        before = audit_count()
        data = intake(scene, category="", next_step="answer", answer="已答复。")
        response = client_for(people.agent).post(CONSOLE, data)
        assert response.status_code == 400
        assert "File the order under a category first." in response.content.decode()
        assert not WorkOrder.objects.exists()
        assert audit_count() == before

    def test_a_refused_dispatch_leaves_no_order(self, people, scene):
        data = intake(
            scene, next_step="dispatch", lead=str(people.unit.pk), co_units=[str(people.unit.pk)]
        )
        response = client_for(people.agent).post(CONSOLE, data)
        assert response.status_code == 400
        assert "The lead unit cannot also be a co-handler." in response.content.decode()
        assert not WorkOrder.objects.exists()
        # and the form keeps what was typed, with the same key to send again
        assert CONTENT in response.content.decode()
        assert data["idempotency_key"] in response.content.decode()

    def test_a_refused_link_leaves_no_order(self, people, scene):
        master = hf.order(by=people.agent, category=scene.leaf)
        orders.order_answer(order=master, actor=people.agent, answer="已答复。")
        before = audit_count()
        data = intake(scene, next_step="link", master=master.number)
        response = client_for(people.agent).post(CONSOLE, data)
        # the master's state is in the way: a conflict, said on the master field
        assert response.status_code == 409
        page = response.content.decode()
        assert "handle this order on its own." in page
        assert re.search(
            r'<input[^>]*name="master"[^>]*is-invalid|is-invalid[^>]*name="master"', page
        )
        assert list(WorkOrder.objects.all()) == [master]
        assert audit_count() == before

    def test_an_error_in_the_step_itself_rolls_the_order_back(self, people, scene, monkeypatch):
        real = orders.order_dispatch
        written = []

        def broken(**kwargs):
            written.append(real(**kwargs))  # the dispatch is written, then something fails
            raise RuntimeError("the network went down")

        monkeypatch.setattr(views_intake.orders, "order_dispatch", broken)
        data = intake(scene, next_step="dispatch", lead=str(people.unit.pk))
        client = client_for(people.agent)
        client.raise_request_exception = False
        assert client.post(CONSOLE, data).status_code == 500
        assert written and written[0].status == OrderStatus.DISPATCHED
        assert not WorkOrder.objects.exists()

    def test_the_panel_shows_again_on_a_refused_form(self, people, scene):
        earlier = hf.order(by=people.agent, category=scene.leaf)
        response = client_for(people.agent).post(CONSOLE, intake(scene, order_type=""))
        page = response.content.decode()
        assert response.status_code == 400
        assert order_url(earlier) in page  # history and duplicates
        assert 'data-use="unit"' in page  # dispatch suggestions


# --- the citizen's report ---------------------------------------------------------------------


def report_data(scene=None, **changes) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "order_type": "complaint",
        "category": str(scene.leaf.pk) if scene else "",
        "district": str(scene.district.pk) if scene else "",
        "address": "季华路",
        "title": "路灯不亮",
        "content": CONTENT,
        "caller_phone": "13600136000",
    }
    data.update(changes)
    return data


class TestReport:
    def test_anonymous_is_sent_to_sign_in(self):
        assert_login_redirect(Client().get(REPORT))
        assert_login_redirect(Client().post(REPORT, {}))

    def test_the_form_has_the_accounts_phone(self, people):
        response = client_for(people.citizen).get(REPORT)
        assert response.status_code == 200
        assert f'value="{people.citizen.phone}"' in response.content.decode()

    def test_a_report_becomes_a_web_order_of_the_citizen(self, people, scene):
        response = client_for(people.citizen).post(REPORT, report_data(scene, confidential="on"))
        order = WorkOrder.objects.get()
        assert response.status_code == 302 and response["Location"] == order_url(order)
        assert order.channel == OrderChannel.WEB
        assert order.caller_user == people.citizen
        assert order.caller_name == "陈小明"
        assert order.caller_phone == "13600136000"
        assert order.confidential is True
        assert order.registered_by is None
        assert order.status == OrderStatus.REGISTERED

    def test_the_category_is_optional(self, people):
        response = client_for(people.citizen).post(REPORT, report_data())
        assert response.status_code == 302
        assert WorkOrder.objects.get().category is None

    def test_a_double_submit_makes_one_order(self, people, scene):
        client = client_for(people.citizen)
        data = report_data(scene)
        first, second = client.post(REPORT, data), client.post(REPORT, data)
        order = WorkOrder.objects.get()
        assert first["Location"] == second["Location"] == order_url(order)

    def test_another_users_key_makes_their_own_order(self, people, scene):
        data = report_data(scene)
        client_for(people.citizen).post(REPORT, data)
        client_for(people.other_citizen).post(REPORT, data)
        assert WorkOrder.objects.filter(caller_user=people.other_citizen).count() == 1
        assert WorkOrder.objects.count() == 2

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"content": " "}, "content", "Say what the caller asks or reports."),
            ({"order_type": "gossip"}, "order_type", "Select a valid choice"),
            ({"caller_phone": "电话"}, "caller_phone", "Enter a phone number of digits"),
            ({"category": "0"}, "category", "Select a valid choice"),
            ({"title": "长" * 101}, "title", "at most 100 characters"),
        ],
    )
    def test_field_errors(self, people, scene, changes, field, message):
        response = client_for(people.citizen).post(REPORT, report_data(scene, **changes))
        assert response.status_code == 400
        page = response.content.decode()
        assert re.search(rf'name="{field}"[^>]*is-invalid', page)
        assert message in page
        assert not WorkOrder.objects.exists()

    def test_a_missing_key_is_refused(self, people, scene):
        response = client_for(people.citizen).post(REPORT, report_data(scene, idempotency_key=""))
        assert response.status_code == 400
        assert "The form expired: send it again." in response.content.decode()
        assert not WorkOrder.objects.exists()


# --- the citizen's own orders -----------------------------------------------------------------


def web_order(user, **data) -> WorkOrder:
    values = {"order_type": "consultation", "content": CONTENT, "title": "路灯不亮"}
    values.update(data)
    return orders.order_register(
        actor=user, order_channel=OrderChannel.WEB, data=values, caller_user=user
    )


class TestMine:
    def test_anonymous_is_sent_to_sign_in(self):
        assert_login_redirect(Client().get(MINE))

    def test_only_own_orders_newest_first(self, people, scene):
        older = web_order(people.citizen, title="较早的工单")
        newer = web_order(people.citizen, title="较新的工单")
        theirs = web_order(people.other_citizen, title="别人的工单")
        by_phone = hf.order(by=people.agent, category=scene.leaf, caller_phone=people.citizen.phone)
        response = client_for(people.citizen).get(MINE)
        assert response.status_code == 200
        page = response.content.decode()
        assert order_url(older) in page and order_url(newer) in page
        assert page.index(newer.number) < page.index(older.number)
        assert theirs.number not in page and by_phone.number not in page
        assert "Awaiting dispatch" in page

    def test_the_light_of_a_dispatched_order(self, people, scene):
        order = web_order(people.citizen, category=scene.leaf)
        orders.order_dispatch(order=order, actor=people.agent, lead=people.unit)
        page = client_for(people.citizen).get(MINE).content.decode()
        assert "Awaiting signature" in page
        # the sign clock runs: its light and its due date (a registered order has none)
        assert re.search(r'class="light light-(green|yellow)"', page)
        assert "due " in page

    def test_staff_without_orders_see_an_empty_list(self, people, scene):
        hf.order(by=people.agent, category=scene.leaf)
        page = client_for(people.agent).get(MINE).content.decode()
        assert "You have not asked or reported anything to 12345 yet." in page

    def test_paginated(self, people, monkeypatch):
        monkeypatch.setattr(views_intake, "PAGE_SIZE", 2)
        made = [web_order(people.citizen, title=f"工单{n}") for n in range(3)]
        client = client_for(people.citizen)
        first = client.get(MINE).content.decode()
        second = client.get(MINE, {"page": 2}).content.decode()
        assert made[2].number in first and made[1].number in first
        assert made[0].number not in first
        assert made[0].number in second

    def test_queries_do_not_grow(self, people, scene, django_assert_max_num_queries):
        client = client_for(people.citizen)
        client.get(MINE)  # warm the session and the calendar cache
        counts = []
        for batch in (1, 5):
            for _ in range(batch):
                order = web_order(people.citizen, category=scene.leaf)
                orders.order_dispatch(order=order, actor=people.agent, lead=people.unit)
            with django_assert_max_num_queries(20) as captured:
                assert client.get(MINE).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]


# --- the report's limits, the console's steps, the side panel ------------------------------------


class TestReportLimits:
    def test_a_few_reports_a_minute_from_one_address(self, people, scene):
        from yimen.hotline.api.orders import FILINGS_PER_MINUTE

        client = client_for(people.citizen)
        codes = [
            client.post(REPORT, report_data(scene)).status_code
            for _n in range(FILINGS_PER_MINUTE + 1)
        ]
        assert codes == [302] * FILINGS_PER_MINUTE + [429]
        assert WorkOrder.objects.count() == FILINGS_PER_MINUTE
        # the refusal is said on the form, which keeps what was typed
        response = client.post(REPORT, report_data(scene))
        page = response.content.decode()
        assert response.status_code == 429
        assert "Too many orders from this address: wait a minute." in page
        assert CONTENT in page
        # a resend of a form already taken is not refused: it finds its order
        first = WorkOrder.objects.order_by("pk").first()
        resend = report_data(scene, idempotency_key=first.idempotency_key.split(":")[-1])
        response = client.post(REPORT, resend)
        assert response.status_code == 302 and response["Location"] == order_url(first)

    def test_the_api_and_the_form_share_the_limit(self, people, scene):
        from rest_framework.test import APIClient

        from yimen.hotline.api.orders import FILINGS_PER_MINUTE

        api = APIClient()
        api.force_login(people.citizen)
        for _n in range(FILINGS_PER_MINUTE):
            data = {"order_type": "complaint", "content": CONTENT}
            assert api.post("/api/v1/hotline/orders/", data, format="json").status_code == 201
        response = client_for(people.citizen).post(REPORT, report_data(scene))
        assert response.status_code == 429

    def test_the_urgency_is_not_the_citizens_to_set(self, people, scene):
        page = client_for(people.citizen).get(REPORT).content.decode()
        assert 'name="urgency"' not in page
        response = client_for(people.citizen).post(
            REPORT, report_data(scene, urgency="very_urgent")
        )
        assert response.status_code == 302
        assert WorkOrder.objects.get().urgency == "normal"


class TestOnlyTheChosenStep:
    def test_a_master_left_from_the_panel_does_not_block_register_only(self, people, scene):
        # given a master number filled by “Link to this order” that is no order at all, then
        # “register only” chosen
        data = intake(scene, next_step="register", master="GD0000000000001")
        response = client_for(people.agent).post(CONSOLE, data)
        # then the order is registered, and nothing links it
        assert response.status_code == 302, errors_of(response)[:2000]
        order = WorkOrder.objects.get()
        assert order.status == OrderStatus.REGISTERED and order.master is None

    def test_a_unit_left_from_the_panel_does_not_dispatch_a_link(self, people, scene):
        master = hf.order(by=people.agent, category=scene.leaf)
        data = intake(
            scene,
            next_step="link",
            master=master.number,
            lead=str(people.unit.pk),
            co_units=[str(people.unit.pk)],  # the lead as a co-handler: refused if checked
            article="not-an-id",
            answer="答复",
        )
        response = client_for(people.agent).post(CONSOLE, data)
        assert response.status_code == 302, errors_of(response)[:2000]
        order = WorkOrder.objects.exclude(pk=master.pk).get()
        assert order.status == OrderStatus.LINKED and order.master == master
        assert order.lead_unit is None and order.reply == ""

    def test_the_chosen_steps_fields_are_still_checked(self, people, scene):
        data = intake(scene, next_step="link", master="GD0000000000001")
        response = client_for(people.agent).post(CONSOLE, data)
        assert response.status_code == 400
        assert "No order has the number GD0000000000001." in errors_of(response)
        assert not WorkOrder.objects.exists()


class TestPanelAnswers:
    @pytest.mark.parametrize("url", [HISTORY, SUGGESTIONS])
    def test_an_expired_session_sends_the_page_to_sign_in(self, url):
        # given the console open in a browser whose session expired
        console = f"http://testserver{CONSOLE}"
        response = Client().get(
            url, {"content": "路灯"}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=console
        )
        # then htmx is told to take the whole page to the login page, and back after
        assert response.status_code == 200
        assert response.content == b""
        target = response["HX-Redirect"]
        assert target.startswith(reverse("accounts:login"))
        assert f"next={CONSOLE}" in target.replace("%2F", "/")

    def test_a_refusal_is_a_400_that_the_panel_shows(self, people):
        response = client_for(people.agent).get(
            SUGGESTIONS, {"content": "路灯", "category": "x"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 400
        assert "These values cannot be looked up." in response.content.decode()
        # (htmx leaves the panel as it was on a 4xx unless told: the console's script does)
        script = (django_settings.BASE_DIR / "yimen/hotline/static/hotline/console.js").read_text()
        assert "htmx:beforeSwap" in script and "shouldSwap = true" in script

    def test_the_summary_is_swapped_into_the_status_line(self, people, scene):
        hf.article()
        response = client_for(people.agent).get(
            SUGGESTIONS,
            {"content": "请问公积金怎么提取", "category": scene.leaf.pk},
            HTTP_HX_REQUEST="true",
        )
        page = response.content.decode()
        status = re.search(
            r'<span id="suggestions-status" hx-swap-oob="innerHTML">(.*?)</span>', page, re.S
        )
        assert status, page[:500]
        assert " ".join(status.group(1).split()) == (
            "1 answer, 0 possible duplicates, 1 unit suggested."
        )


class TestConsoleAccessibility:
    def test_the_panel_is_not_read_out_whole(self, people, scene):
        page = client_for(people.agent).get(CONSOLE).content.decode()
        # the big panel is not a live region; a short status line outside it is
        assert re.search(r'<div id="suggestions"(?![^>]*aria-live)[^>]*>', page)
        status = page.index('id="suggestions-status"')
        assert 'role="status"' in page[status - 80 : status + 40]
        assert status < page.index('<div id="suggestions"')
        # and an access key reaches the side panel
        assert re.search(r'<a href="#side-panel"[^>]*accesskey="g"', page)
        assert re.search(r'<aside[^>]*id="side-panel"[^>]*tabindex="-1"', page)
        assert "Go to the side panel" in page  # listed with the other keys

    def test_repeated_buttons_say_what_they_act_on(self, people, scene):
        first = hf.article(title="公积金提取条件")
        second = hf.article(title="公积金提取材料")
        same = hf.order(by=people.agent, category=scene.leaf, caller_phone=PHONE)
        page = (
            client_for(people.agent)
            .get(
                SUGGESTIONS,
                {"content": "请问公积金怎么提取", "caller_phone": PHONE, "category": scene.leaf.pk},
            )
            .content.decode()
        )
        labels = re.findall(r'aria-label="([^"]+)"', page)
        assert f"Answer with “{first.title}”" in labels
        assert f"Answer with “{second.title}”" in labels
        assert f"Link to order {same.number}" in labels
        assert f"Dispatch to {people.unit.name}" in labels
        # links that open a new tab say so
        for link in re.findall(r'<a [^>]*target="_blank"[^>]*>.*?</a>', page, re.S):
            assert "(opens in a new tab)" in link, link

    def test_the_history_links_say_they_open_a_new_tab(self, people, scene):
        hf.order(by=people.agent, category=scene.leaf, caller_phone=PHONE)
        page = client_for(people.agent).get(HISTORY, {"caller_phone": PHONE}).content.decode()
        links = re.findall(r'<a [^>]*target="_blank"[^>]*>.*?</a>', page, re.S)
        assert links and all("(opens in a new tab)" in link for link in links)
