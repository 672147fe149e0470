"""Open311 GeoReport v2 (/open311/v2/): every JSON answer checked against the spec's JSON
schemas (yimen/hotline/open311/schemas, from open311/schema-validation), every XML answer
parsed and its structure checked; the discovery document, the services (active leaves),
a definition, unknown services and formats; filing a request (with a key, without, with a
wrong or revoked one, with bad input by parameter, resent with an Idempotency-Key); the
query of requests (default span, dates, statuses, ids, service codes, the query count), one
request, tokens; no personal data anywhere; the key command."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.hotline.factories import CategoryFactory, Frozen, OrderScene, at, branch
from tests.org.factories import DistrictFactory
from yimen.common.models import AuditEvent
from yimen.hotline import orders
from yimen.hotline.choices import OrderChannel, OrderStatus, OrderType, Urgency
from yimen.hotline.models import Open311Client, WorkOrder
from yimen.hotline.open311 import keys
from yimen.org.models import Department

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
SCHEMAS = Path(keys.__file__).parent / "schemas"
CALLER = {"name": "陈小明", "phone": "13800138000", "email": "chen.xm@example.com"}


# --- the schemas -------------------------------------------------------------------------------


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((path.name, Resource.from_contents(contents, DRAFT7)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _w3c_datetime(value) -> bool:
    # The spec: ISO 8601 with the offset (Z or ±HH:MM) always given.
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value) -> bool:
    return not isinstance(value, str) or value.startswith(("http://", "https://"))


def conforms(data, schema: str) -> None:
    """The data fits the schema of that file name (its $refs resolved by file name)."""
    contents = REGISTRY[schema].contents
    validator = jsonschema.Draft7Validator(contents, registry=REGISTRY, format_checker=FORMATS)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not problems, problems
    if schema.endswith("s.json"):  # a list: each item against the item's schema on its own
        for item in data:
            conforms(item, schema.replace("s.json", ".json"))


def test_the_schema_checker_refuses_what_the_spec_refuses():
    # (else every `conforms` below would prove nothing)
    with pytest.raises(AssertionError):
        conforms([{"service_request_id": "x", "status": "pending"}], "requests.json")
    with pytest.raises(AssertionError):
        conforms([{"service_request_id": "x", "status": "open", "service_code": "c",
                   "requested_datetime": "2026-03-02T09:30:00"}], "requests.json")  # fmt: skip


# --- helpers -----------------------------------------------------------------------------------


def client(**headers) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", **headers)


def get_json(url: str, expect: int = 200, **params):
    response = client().get(f"{BASE}/{url}.json", params)
    assert response.status_code == expect, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def get_xml(url: str, expect: int = 200, **params) -> ET.Element:
    response = client().get(f"{BASE}/{url}.xml", params)
    assert response.status_code == expect, (response.status_code, response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def fields(element: ET.Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def error_texts(data) -> list[str]:
    """The descriptions of an error document (JSON list or XML <errors>)."""
    if isinstance(data, ET.Element):
        assert data.tag == "errors"
        assert all(error.tag == "error" for error in data)
        return [fields(error)["description"] for error in data]
    assert isinstance(data, list) and data
    assert all(set(row) == {"code", "description"} for row in data)
    return [row["description"] for row in data]


def named(texts: list[str], parameter: str) -> bool:
    return any(text.startswith(f"{parameter}: ") for text in texts)


REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "lat",
    "long",
    "media_url",
]


def xml_requests(root: ET.Element) -> list[dict]:
    assert root.tag == "service_requests"
    assert all(item.tag == "request" for item in root)
    rows = [fields(item) for item in root]
    assert all(list(row) == REQUEST_FIELDS for row in rows)
    return rows


@pytest.fixture
def scene():
    return OrderScene()


@pytest.fixture
def api_key():
    _client, raw = keys.make_key("佛山通 App", OrderChannel.APP)
    return raw


def post(data, fmt: str = "json", *, as_json: bool = False, **headers):
    if as_json:
        return client(**headers).post(
            f"{BASE}/requests.{fmt}", json.dumps(data), content_type="application/json"
        )
    return client(**headers).post(f"{BASE}/requests.{fmt}", data)


def request_data(scene, api_key, **changes):
    data = {
        "api_key": api_key,
        "service_code": scene.category.code,
        "lat": "23.021548",
        "long": "113.121416",
        "address_string": "季华路与文华路交界",
        "description": "季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。",
        "attribute[order_type]": OrderType.COMPLAINT,
        "attribute[district]": scene.district.code,
        "first_name": "小明",
        "last_name": "陈",
        "phone": CALLER["phone"],
        "email": CALLER["email"],
        "device_id": "device-42",
        "account_id": "acc-7",
        "media_url": "https://img.example.com/lamp.jpg",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


# --- discovery ---------------------------------------------------------------------------------


class TestDiscovery:
    def test_json_and_xml(self, settings):
        settings.YIMEN_PUBLIC_URL = "https://yimen.example.gov.cn"
        # given a taxonomy change on record
        CategoryFactory()
        # when the discovery document is asked for in both formats
        data = get_json("discovery")
        root = get_xml("discovery")
        # then it names the endpoint, its formats, a changeset, a contact and the key service
        assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
        (endpoint,) = data["endpoints"]
        assert endpoint["url"] == "https://yimen.example.gov.cn/open311/v2"
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert dt.datetime.fromisoformat(data["changeset"]).tzinfo is not None
        assert root.tag == "discovery"
        assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
        (node,) = root.find("endpoints")
        assert node.tag == "endpoint"
        assert [f.text for f in node.find("formats")] == ["text/xml", "application/json"]
        assert node.findtext("type") == "production"

    def test_the_changeset_follows_the_taxonomy(self):
        from yimen.hotline import services

        before = get_json("discovery")["changeset"]
        # when a category is made through the services (audited)
        with Frozen(at(2026, 5, 6, 7, 8)):
            services.category_create(actor=None, code="newcat", name="新分类")
        # then the changeset is that moment
        assert get_json("discovery")["changeset"] == "2026-05-06T07:08:00+08:00"
        assert before != "2026-05-06T07:08:00+08:00"


# --- services ----------------------------------------------------------------------------------


class TestServices:
    def test_the_active_leaves(self):
        # given a branch with two leaves, one of them inactive, and a leaf of another branch
        lamp = branch(names=("城乡建设", "市政设施", "路灯不亮"))[-1]
        CategoryFactory(name="井盖缺失", parent=lamp.parent, is_active=False)
        noise = branch(names=("环境保护", "噪声污染", "夜间施工"))[-1]
        # when the services are listed
        data = get_json("services")
        # then they conform, and are the active leaves with their path and top-level group
        conforms(data, "services.json")
        assert [row["service_code"] for row in data] == [lamp.code, noise.code]
        first = data[0]
        assert first == {
            "service_code": lamp.code,
            "service_name": "路灯不亮",
            "description": "城乡建设 › 市政设施 › 路灯不亮",
            "metadata": True,
            "type": "realtime",
            "keywords": "城乡建设, 市政设施, 路灯不亮",
            "group": "城乡建设",
        }
        assert data[1]["group"] == "环境保护"

    def test_xml(self):
        lamp = branch()[-1]
        root = get_xml("services")
        assert root.tag == "services"
        (service,) = root
        assert service.tag == "service"
        assert fields(service) == {
            "service_code": lamp.code,
            "service_name": "路灯不亮",
            "description": "城乡建设 › 市政设施 › 路灯不亮",
            "metadata": "true",
            "type": "realtime",
            "keywords": "城乡建设, 市政设施, 路灯不亮",
            "group": "城乡建设",
        }

    def test_in_a_fixed_number_of_queries(self, django_assert_num_queries):
        for n in range(5):
            branch(names=(f"一级{n}", f"二级{n}", f"三级{n}"))
        with django_assert_num_queries(1):
            assert len(get_json("services")) == 5


class TestDefinition:
    def test_json(self):
        # given a leaf and two districts
        lamp = branch()[-1]
        districts = [DistrictFactory(), DistrictFactory()]
        # when its definition is asked for
        data = get_json(f"services/{lamp.code}")
        # then it conforms: a required type, the districts, confidentiality (not the urgency:
        # the center judges it)
        conforms(data, "service-definition.json")
        assert data["service_code"] == lamp.code
        by_code = {item["code"]: item for item in data["attributes"]}
        assert list(by_code) == ["order_type", "district", "confidential"]
        assert [item["order"] for item in data["attributes"]] == [1, 2, 3]
        order_type = by_code["order_type"]
        assert order_type["required"] is True
        assert order_type["datatype"] == "singlevaluelist"
        assert [v["key"] for v in order_type["values"]] == OrderType.values
        assert order_type["values"][1]["name"] == "Request for help"  # Accept-Language: en
        assert by_code["district"]["required"] is False
        assert sorted(v["key"] for v in by_code["district"]["values"]) == sorted(
            d.code for d in districts
        )

    def test_xml(self):
        lamp = branch()[-1]
        root = get_xml(f"services/{lamp.code}")
        assert root.tag == "service_definition"
        assert root.findtext("service_code") == lamp.code
        attributes = root.find("attributes")
        assert [a.tag for a in attributes] == ["attribute"] * 2  # no districts: no district
        first = attributes[0]
        assert [c.tag for c in first] == [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ]
        assert first.findtext("required") == "true"
        values = first.find("values")
        assert [v.tag for v in values] == ["value"] * len(OrderType.values)
        assert fields(values[0]) == {"key": "consultation", "name": "Consultation"}

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_unknown_inactive_or_not_a_leaf_is_a_404(self, fmt):
        top, middle, lamp = branch()
        dead = CategoryFactory(parent=middle, is_active=False)
        for code in ("nosuch", top.code, middle.code, dead.code):
            getter = get_json if fmt == "json" else get_xml
            texts = error_texts(getter(f"services/{code}", 404))
            assert named(texts, "service_code"), texts
            assert code in texts[0]
        assert get_json(f"services/{lamp.code}")["service_code"] == lamp.code

    def test_an_unknown_format_is_a_404(self):
        lamp = branch()[-1]
        for url in ("services.csv", f"services/{lamp.code}.html", "requests.yaml"):
            response = client().get(f"{BASE}/{url}")
            assert response.status_code == 404
            root = ET.fromstring(response.content)
            assert root.tag == "errors" and root.findtext("error/code") == "404"

    def test_head_and_the_language_of_the_answer(self):
        lamp = branch()[-1]
        assert client().head(f"{BASE}/services/{lamp.code}.json").status_code == 200
        english = client().get(f"{BASE}/services/{lamp.code}.json")
        chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"{BASE}/services/{lamp.code}.json")
        assert english["Content-Language"] == "en"
        assert chinese["Content-Language"] == "zh-hans"

    def test_another_method_is_a_405(self):
        response = client().delete(f"{BASE}/services.json")
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
        assert error_texts(response.json())


# --- filing a request --------------------------------------------------------------------------


class TestPost:
    def test_form_encoded(self, scene, api_key):
        # when an app files a request, form-encoded as the spec says
        with Frozen(at(2026, 3, 2, 9, 30)):
            response = post(request_data(scene, api_key))
        # then an order is registered with what it said, under the client's channel
        assert response.status_code == 200, response.content
        (row,) = response.json()
        assert set(row) == {"service_request_id", "service_notice", "account_id"}
        assert row["account_id"] is None
        assert "working days" in row["service_notice"]  # normal: working days
        order = WorkOrder.objects.get(number=row["service_request_id"])
        assert order.status == OrderStatus.REGISTERED
        assert order.channel == OrderChannel.APP
        assert order.category == scene.category
        assert (order.order_type, order.urgency) == (OrderType.COMPLAINT, Urgency.NORMAL)
        assert order.district == scene.district
        assert order.address == "季华路与文华路交界"
        assert str(order.latitude) == "23.021548" and str(order.longitude) == "113.121416"
        assert order.caller_name == "陈小明" and order.caller_phone == CALLER["phone"]
        assert order.title == "季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。"
        assert order.content == "季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。"
        assert order.media_url == "https://img.example.com/lamp.jpg"
        assert order.registered_by is None and not order.confidential
        # and the registration names the client that filed it on the audit chain
        events = AuditEvent.objects.filter(
            object_type="hotline.workorder", object_id=str(order.pk)
        ).order_by("pk")
        assert [(e.action, e.channel) for e in events] == [("hotline.order.register", "api")]
        assert events[0].payload["source"] == "open311:佛山通 App"
        assert Open311Client.objects.get().last_used_at == at(2026, 3, 2, 9, 30)
        # and the request reads back as filed
        (back,) = get_json(f"requests/{order.number}")
        assert back["description"] == "季华路与文华路交界处路灯连续三晚不亮，夜间行人很危险。"
        assert back["media_url"] == "https://img.example.com/lamp.jpg"
        assert back["address"] == f"季华路与文华路交界, {scene.district.name}"
        assert (back["lat"], back["long"]) == (23.021548, 113.121416)
        assert back["requested_datetime"] == "2026-03-02T09:30:00+08:00"

    def test_json_body_and_xml_answer(self, scene, api_key):
        data = request_data(scene, api_key, lat=23.02, long=113.12, address_string=None)
        data = {k: v for k, v in data.items() if not k.startswith("attribute[")}
        data["attribute"] = {"order_type": "help", "confidential": "true"}
        response = post(data, "xml", as_json=True)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests"
        (item,) = root
        assert item.tag == "request"
        assert [c.tag for c in item] == ["service_request_id", "service_notice", "account_id"]
        assert item.find("account_id").text is None  # null: an empty element
        order = WorkOrder.objects.get(number=item.findtext("service_request_id"))
        assert order.order_type == OrderType.HELP and order.urgency == Urgency.NORMAL
        assert order.confidential

    def test_a_long_description_gives_its_first_words_as_title(self, scene, api_key):
        text = "The street lamp at the corner of Jihua Road has been out for three nights now"
        response = post(request_data(scene, api_key, description=text, media_url=None))
        order = WorkOrder.objects.get(number=response.json()[0]["service_request_id"])
        assert order.title == "The street lamp at the corner…"
        assert order.content == text

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    @pytest.mark.parametrize("key", [None, "", "wrong-key-wrong-key", "revoked"])
    def test_without_a_good_key_is_a_403(self, scene, api_key, fmt, key):
        if key == "revoked":
            revoked, key = keys.make_key("Old app")
            keys.revoke_key(revoked)
        response = post(request_data(scene, api_key=key), fmt)
        assert response.status_code == 403
        document = response.json() if fmt == "json" else ET.fromstring(response.content)
        assert named(error_texts(document), "api_key")
        assert not WorkOrder.objects.exists()
        assert Open311Client.objects.get(name="佛山通 App").last_used_at is None

    def test_the_key_in_the_query_string(self, scene, api_key):
        data = request_data(scene, api_key=None)
        response = client().post(f"{BASE}/requests.json?api_key={api_key}", data)
        assert response.status_code == 200, response.content

    @pytest.mark.parametrize(
        ("changes", "parameter"),
        [
            ({"lat": "north"}, "lat"),
            ({"lat": "91"}, "lat"),
            ({"long": None}, "long"),
            ({"lat": None, "long": None, "address_string": None}, "lat"),
            ({"lat": None, "long": None, "address_string": None, "address_id": "7"}, "address_id"),
            ({"service_code": "nosuch"}, "service_code"),
            ({"service_code": None}, "service_code"),
            ({"description": None, "media_url": None}, "description"),
            ({"description": "长" * 4001}, "description"),
            ({"media_url": "javascript:alert(1)"}, "media_url"),
            ({"phone": "call me"}, "phone"),
            ({"attribute[order_type]": None}, "attribute[order_type]"),
            ({"attribute[order_type]": "rant"}, "attribute[order_type]"),
            ({"attribute[district]": "999999000000"}, "attribute[district]"),
            ({"attribute[colour]": "red"}, "attribute[colour]"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_parameter(self, scene, api_key, changes, parameter):
        response = post(request_data(scene, api_key, **changes))
        assert response.status_code == 400, response.content
        texts = error_texts(response.json())
        assert named(texts, parameter), texts
        assert not WorkOrder.objects.exists()

    def test_every_problem_at_once_in_xml(self, scene, api_key):
        changes = {"lat": "x", "service_code": "nosuch", "attribute[order_type]": None}
        response = post(request_data(scene, api_key, **changes), "xml")
        assert response.status_code == 400
        texts = error_texts(ET.fromstring(response.content))
        for parameter in ("lat", "service_code", "attribute[order_type]"):
            assert named(texts, parameter), texts
        assert ET.fromstring(response.content).findtext("error/code") == "400"

    def test_a_body_that_is_not_json(self, api_key):
        response = client().post(
            f"{BASE}/requests.json", "{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert error_texts(response.json())

    def test_a_resend_with_the_same_idempotency_key_is_one_order(self, scene, api_key):
        first = post(request_data(scene, api_key), HTTP_IDEMPOTENCY_KEY="abc-1").json()
        again = post(request_data(scene, api_key), HTTP_IDEMPOTENCY_KEY="abc-1").json()
        assert first[0]["service_request_id"] == again[0]["service_request_id"]
        assert WorkOrder.objects.count() == 1
        assert AuditEvent.objects.filter(action="hotline.order.register").count() == 1
        # another client's key of the same name is its own
        _other, other_key = keys.make_key("Another app")
        third = post(request_data(scene, other_key), HTTP_IDEMPOTENCY_KEY="abc-1").json()
        assert third[0]["service_request_id"] != first[0]["service_request_id"]

    def test_the_client_channel_is_the_order_channel(self, scene):
        _kiosk, raw = keys.make_key("市民之窗", OrderChannel.KIOSK)
        response = post(request_data(scene, raw))
        order = WorkOrder.objects.get(number=response.json()[0]["service_request_id"])
        assert order.channel == OrderChannel.KIOSK

    def test_a_runaway_client_is_slowed_down(self, scene, api_key, monkeypatch):
        from yimen.hotline.open311 import views

        monkeypatch.setattr(views, "POSTS_PER_MINUTE", 2)
        codes = [post(request_data(scene, api_key)).status_code for _n in range(3)]
        assert codes == [200, 200, 429]

    def test_csrf_is_not_asked_of_an_api_client(self, scene, api_key):
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(f"{BASE}/requests.json", request_data(scene, api_key))
        assert response.status_code == 200


# --- reading requests --------------------------------------------------------------------------


def numbers(data) -> list[str]:
    return [row["service_request_id"] for row in data]


class TestRequests:
    def test_each_state_as_the_spec_has_it(self, scene):
        # given orders in each state
        with Frozen(at(2026, 3, 2, 9, 0)) as time:
            registered = scene.order_at(OrderStatus.REGISTERED)
            time.forward(minutes=1)
            dispatched = scene.order_at(OrderStatus.DISPATCHED)
            time.forward(minutes=1)
            closed = scene.order_at(OrderStatus.CLOSED)
            time.forward(minutes=1)
            linked = scene.order_at(OrderStatus.LINKED)
            time.forward(minutes=1)
            # when the requests are read
            data = get_json("requests")
            root = get_xml("requests")
        # then they conform, newest first, each state mapped to open or closed
        conforms(data, "requests.json")
        by_number = {row["service_request_id"]: row for row in data}
        assert numbers(data)[-1] == registered.number
        assert by_number[registered.number]["status"] == "open"
        assert by_number[registered.number]["agency_responsible"] is None
        assert by_number[registered.number]["expected_datetime"] is None
        assert by_number[registered.number]["status_notes"] == "Awaiting dispatch"
        row = by_number[dispatched.number]
        assert row["status"] == "open"
        assert row["agency_responsible"] == "禅城区城管执法局"
        dispatched.refresh_from_db()
        assert row["expected_datetime"] == dispatched.close_clock.due_at.astimezone(
            at(2026, 1, 1).tzinfo
        ).isoformat(timespec="seconds")
        assert "within 1 working day, replies within 5 working days" in row["service_notice"]
        row = by_number[closed.number]
        assert row["status"] == "closed"
        assert row["status_notes"] == "Closed: Handled by a unit"
        assert row["service_notice"] is None
        assert row["updated_datetime"] >= row["requested_datetime"]
        row = by_number[linked.number]
        assert row["status"] == "open"
        assert row["status_notes"] == f"Handled together with {linked.master.number}."
        # and the XML says the same
        rows = {row["service_request_id"]: row for row in xml_requests(root)}
        assert rows[closed.number]["status"] == "closed"
        assert rows[registered.number]["agency_responsible"] is None
        assert rows[dispatched.number]["lat"] is None

    def test_an_unfiled_order_is_not_a_request(self, scene):
        data = {"order_type": "consultation", "content": "公积金怎么提取？"}
        orders.order_register(
            actor=scene.agent, order_channel="phone", data={**data, "caller_phone": "13800138000"}
        )
        assert get_json("requests") == []

    def test_the_default_span_is_the_last_90_days(self, scene):
        with Frozen(at(2026, 1, 1)) as time:
            old = scene.register()
            time.to(2026, 3, 1)
            recent = scene.register()
            time.to(2026, 4, 5)
            assert numbers(get_json("requests")) == [recent.number]
        assert old.number not in numbers(get_json("requests", service_code=scene.category.code))

    def test_dates(self, scene):
        with Frozen(at(2026, 1, 1)) as time:
            january = scene.register()
            time.to(2026, 2, 1)
            february = scene.register()
            time.to(2026, 3, 1)
            march = scene.register()
            time.to(2026, 3, 2)
            assert numbers(
                get_json("requests", start_date="2026-01-15T00:00:00+08:00", end_date="2026-03-01")
            ) == [march.number, february.number]
            assert numbers(get_json("requests", start_date="2026-01-01T10:00:00Z")) == [
                march.number,
                february.number,
            ]  # 10:00 UTC is 18:00 here: after january's 10:00
            assert numbers(get_json("requests", end_date="2026-02-01T10:00:00+08:00")) == [
                february.number,
                january.number,
            ]

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"start_date": "yesterday"}, "start_date"),
            ({"end_date": "2026-13-01"}, "end_date"),
            ({"start_date": "2026-01-01", "end_date": "2026-05-01"}, "end_date"),
            ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, "end_date"),
            ({"status": "pending"}, "status"),
        ],
    )
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_bad_parameters_are_a_400(self, params, parameter, fmt):
        getter = get_json if fmt == "json" else get_xml
        assert named(error_texts(getter("requests", 400, **params)), parameter)

    def test_status(self, scene):
        open_ = scene.order_at(OrderStatus.HANDLING)
        closed = scene.order_at(OrderStatus.CLOSED)
        assert numbers(get_json("requests", status="open")) == [open_.number]
        assert numbers(get_json("requests", status="closed")) == [closed.number]
        assert set(numbers(get_json("requests", status="open,closed"))) == {
            open_.number,
            closed.number,
        }

    def test_ids_override_everything_else(self, scene):
        with Frozen(at(2026, 1, 1)):
            old = scene.register()
        first, second, _third = (scene.register() for _n in range(3))
        found = get_json(
            "requests",
            service_request_id=f"{first.number}, {old.number},nosuch",
            status="closed",
            service_code="other",
        )
        assert set(numbers(found)) == {first.number, old.number}
        assert numbers(get_json("requests", service_request_id=second.number)) == [second.number]

    def test_service_code(self, scene):
        lamp = scene.register()
        other_leaf = branch(unit=scene.unit, names=("环境保护", "噪声污染"))[-1]
        noise = scene.register(category=other_leaf)
        assert numbers(get_json("requests", service_code=other_leaf.code)) == [noise.number]
        both = get_json("requests", service_code=f"{other_leaf.code},{scene.category.code}")
        assert numbers(both) == [noise.number, lamp.number]
        assert get_json("requests", service_code="nosuch") == []

    def test_at_most_1000(self, scene, monkeypatch):
        from yimen.hotline.open311 import feed

        monkeypatch.setattr(feed, "MAX_REQUESTS", 2)
        made = [scene.register() for _n in range(3)]
        assert numbers(get_json("requests")) == [made[2].number, made[1].number]

    def test_in_a_fixed_number_of_queries(self, scene, django_assert_num_queries):
        scene.order_at(OrderStatus.CLOSED)
        with django_assert_num_queries(2):  # the orders, the deadline rules
            assert len(get_json("requests")) == 1
        for status in (OrderStatus.DISPATCHED, OrderStatus.LINKED, OrderStatus.REGISTERED):
            scene.order_at(status)
        with django_assert_num_queries(2):
            assert len(get_json("requests")) == 5

    @pytest.mark.parametrize("who", ["anonymous", "agent", "supervisor"])
    def test_the_same_to_everyone(self, scene, who):
        # the feed is public: signing in as staff shows no more
        order = scene.order_at(OrderStatus.HANDLING)
        browser = client()
        if who != "anonymous":
            browser.force_login(getattr(scene, who))
        data = browser.get(f"{BASE}/requests.json").json()
        assert data == get_json("requests")
        assert numbers(data) == [order.number]


class TestOneRequest:
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_found(self, scene, fmt):
        order = scene.order_at(OrderStatus.DISPATCHED)
        if fmt == "json":
            data = get_json(f"requests/{order.number}")
            conforms(data, "requests.json")
            assert numbers(data) == [order.number]
            assert data[0]["service_name"] == "路灯不亮"
        else:
            (row,) = xml_requests(get_xml(f"requests/{order.number}"))
            assert row["service_request_id"] == order.number
            assert row["agency_responsible"] == "禅城区城管执法局"

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_unknown_is_a_404(self, fmt):
        getter = get_json if fmt == "json" else get_xml
        assert named(error_texts(getter("requests/GD2026010100001", 404)), "service_request_id")


class TestTokens:
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_the_public_id_gives_the_number(self, scene, fmt):
        order = scene.register()
        if fmt == "json":
            data = get_json(f"tokens/{order.public_id}")
            assert data == [{"service_request_id": order.number, "token": str(order.public_id)}]
        else:
            root = get_xml(f"tokens/{order.public_id}")
            assert root.tag == "service_requests"
            (item,) = root
            assert fields(item) == {
                "service_request_id": order.number,
                "token": str(order.public_id),
            }

    @pytest.mark.parametrize("token", ["not-a-uuid", "3f2b8a52-6a5e-4c1b-9f0e-2d7c1a4b5e6f"])
    def test_unknown_is_a_404(self, token):
        assert named(error_texts(get_json(f"tokens/{token}", 404)), "token")


# --- personal data -----------------------------------------------------------------------------


class TestNoPersonalData:
    def _everything(self, order) -> str:
        texts = [
            client().get(f"{BASE}/{url}").content.decode()
            for url in (
                "requests.json",
                "requests.xml",
                f"requests/{order.number}.json",
                f"requests/{order.number}.xml",
                f"tokens/{order.public_id}.json",
            )
        ]
        return "\n".join(texts)

    def test_never_the_caller(self, scene):
        # given an order whose content, as the agent wrote it, names the caller
        content = (
            f"{CALLER['name']}（{CALLER['phone']}，{CALLER['email']}）反映季华路路灯不亮，"
            "身份证 440604199001011234，另一联系电话 13912345678。"
        )
        order = scene.order_at(
            OrderStatus.HANDLING,
            caller_name=CALLER["name"],
            caller_phone=CALLER["phone"],
            content=content,
        )
        # when anything is read
        everything = self._everything(order)
        # then neither the name nor a number nor the e-mail address is there
        for secret in (
            *CALLER.values(),
            "chen.xm",
            "440604199001011234",
            "13912345678",
        ):
            assert secret not in everything
        (row,) = get_json(f"requests/{order.number}")
        assert row["description"].startswith("陈*明（138****8000，c***@example.com）反映")
        assert "4406**********1234" in row["description"]

    def test_a_confidential_order_shows_no_content(self, scene):
        order = scene.order_at(
            OrderStatus.DISPATCHED,
            confidential=True,
            content="举报某餐馆无证经营，地址：季华路 12 号。",
            latitude="23.02",
            longitude="113.12",
        )
        everything = self._everything(order)
        assert "无证经营" not in everything and "季华路" not in everything
        (row,) = get_json(f"requests/{order.number}")
        for name in ("description", "address", "lat", "long", "media_url"):
            assert row[name] is None, name
        assert row["status"] == "open" and row["agency_responsible"] == "禅城区城管执法局"

    def test_a_posted_request_reads_back_without_its_caller(self, scene, api_key):
        response = post(request_data(scene, api_key))
        number = response.json()[0]["service_request_id"]
        order = WorkOrder.objects.get(number=number)
        everything = self._everything(order)
        for secret in ("陈小明", "小明", CALLER["phone"], CALLER["email"], "device-42", "acc-7"):
            assert secret not in everything

    def test_text_that_xml_cannot_carry(self, scene):
        order = scene.order_at(OrderStatus.REGISTERED, content="路灯\x0b不亮\x01了 <b>&amp;")
        (row,) = xml_requests(get_xml(f"requests/{order.number}"))
        assert row["description"] == "路灯不亮了 <b>&amp;"


# --- the key command ---------------------------------------------------------------------------


def command(*args) -> str:
    out = StringIO()
    call_command("hotline_open311_key", *args, stdout=out)
    return out.getvalue()


class TestKeyCommand:
    def test_create_list_revoke(self):
        # when a client is made
        out = command("create", "佛山通 App", "--channel", "wechat")
        # then its key is printed once, and works
        raw = next(line for line in out.splitlines() if line.startswith("api_key: "))[9:]
        client_ = keys.check_key(raw)
        assert client_ is not None and client_.name == "佛山通 App"
        assert client_.channel == OrderChannel.WECHAT
        assert client_.key_hash == keys.key_hash(raw) and raw not in client_.key_hash
        assert client_.key_prefix == raw[:8]
        assert AuditEvent.objects.filter(action="hotline.open311.key_create").count() == 1
        # and the list shows it without the key
        listing = command("list")
        assert "佛山通 App" in listing and f"{raw[:8]}…" in listing and raw not in listing
        assert "active" in listing and "never used" in listing
        # when it is revoked
        assert "revoked" in command("revoke", "佛山通 App")
        # then the key no longer works
        assert keys.check_key(raw) is None
        assert "revoked" in command("list")
        assert "already" in command("revoke", "佛山通 App")
        assert AuditEvent.objects.filter(action="hotline.open311.key_revoke").count() == 1

    def test_refusals(self):
        command("create", "App")
        with pytest.raises(CommandError, match="exists already"):
            command("create", "App")
        with pytest.raises(CommandError, match="No client"):
            command("revoke", "Nobody")
        with pytest.raises(CommandError):
            command("create", "Other", "--channel", "pigeon")
        assert command("list").count("\n") == 1

    def test_an_empty_list(self):
        assert "No Open311 clients" in command("list")

    def test_keys_are_different_and_checked_whole(self):
        first, raw1 = keys.make_key("One")
        _second, raw2 = keys.make_key("Two")
        assert raw1 != raw2 and len(raw1) >= 40
        assert keys.check_key(raw1) == first
        assert keys.check_key(raw1[:-1]) is None
        assert keys.check_key(raw1[:8]) is None
        assert keys.check_key(None) is None


def test_agency_responsible_is_the_lead_unit_as_named_now(scene):
    # a unit renamed is renamed there too (the name is read, not copied at dispatch)
    order = scene.order_at(OrderStatus.DISPATCHED)
    Department.objects.filter(pk=scene.unit.pk).update(name="禅城区城市管理局")
    (row,) = get_json(f"requests/{order.number}")
    assert row["agency_responsible"] == "禅城区城市管理局"


# --- bounds, unknown paths, the urgency, the colon -----------------------------------------------


class TestBounds:
    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"start_date": "9999-12-31"}, "start_date"),
            ({"start_date": "0001-01-01"}, "start_date"),
            ({"end_date": "9999-12-31"}, "end_date"),
            ({"end_date": "0001-01-01"}, "end_date"),
            ({"end_date": "0001-01-01T00:00:00+08:00"}, "end_date"),
            ({"start_date": "2100-01-01T00:00:00Z"}, "start_date"),
        ],
    )
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_a_year_out_of_range_is_a_400_naming_it(self, params, parameter, fmt):
        getter = get_json if fmt == "json" else get_xml
        texts = error_texts(getter("requests", 400, **params))
        assert named(texts, parameter), texts
        assert any("Choose a year from 2000 to 2099." in text for text in texts)

    def test_the_years_in_range_are_fine(self, scene):
        order = scene.register()
        assert numbers(get_json("requests", end_date="2099-12-31")) == []
        assert get_json("requests", start_date="2000-01-01") == []
        today = timezone.localdate().isoformat()
        assert order.number in numbers(get_json("requests", end_date=today + "T23:59:59+08:00"))

    def test_at_most_1000_ids_at_once(self, scene):
        order = scene.register()
        ids = ",".join([order.number] * 1000)
        assert numbers(get_json("requests", service_request_id=ids)) == [order.number]
        texts = error_texts(get_json("requests", 400, service_request_id=ids + ",GD1"))
        assert named(texts, "service_request_id")

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"service_request_id": "GD1,\x00"}, "service_request_id"),
            ({"service_code": "lamp,a b"}, "service_code"),
        ],
    )
    def test_a_value_that_cannot_be_an_id_is_a_400(self, params, parameter):
        assert named(error_texts(get_json("requests", 400, **params)), parameter)


class TestUnknownPaths:
    @pytest.mark.parametrize(
        "path", ["services/..json", "requests/%00.json", "requests/a/b.json", "nothing.json"]
    )
    def test_json_is_the_error_document(self, path):
        response = client().get(f"{BASE}/{path}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert error_texts(response.json()) == ["No such resource: see discovery.xml."]

    @pytest.mark.parametrize("path", ["services/..xml", "requests/%00.xml", "somewhere"])
    def test_otherwise_xml(self, path):
        response = client().get(f"{BASE}/{path}")
        assert response.status_code == 404
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        assert error_texts(ET.fromstring(response.content))


class TestUrgency:
    def test_a_client_may_not_set_it(self, scene, api_key):
        # the center judges the urgency: the attribute is not in the definition …
        definition = get_json(f"services/{scene.category.code}")
        assert "urgency" not in {item["code"] for item in definition["attributes"]}
        # … and a request that sends it is refused, naming it
        response = post(request_data(scene, api_key, **{"attribute[urgency]": "very_urgent"}))
        assert response.status_code == 400
        assert named(error_texts(response.json()), "attribute[urgency]")
        assert not WorkOrder.objects.exists()
        # without it the order is a normal one
        response = post(request_data(scene, api_key))
        order = WorkOrder.objects.get(number=response.json()[0]["service_request_id"])
        assert order.urgency == Urgency.NORMAL


class TestStatusNotes:
    def test_the_colon_of_the_language(self, scene):
        from django.utils import translation

        from yimen.hotline.open311 import feed

        closed = scene.order_at(OrderStatus.CLOSED)
        (row,) = get_json("requests", status="closed")
        assert row["status_notes"] == "Closed: Handled by a unit"
        response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(
            f"{BASE}/requests.json", {"status": "closed"}
        )
        (row,) = response.json()
        with translation.override("zh-hans"):
            label, resolution = closed.get_status_display(), closed.get_resolution_display()
            assert feed.labelled("a", "b") == "a：b"
        assert row["status_notes"] == f"{label}：{resolution}"
