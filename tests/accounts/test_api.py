import pytest

from yimen.accounts.models import Applicant

from .factories import PersonFactory, UserFactory, citizen_id

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/applicants/"


def test_me_tells_staff_their_roles(client, reviewer):
    client.force_login(reviewer)
    body = client.get("/api/v1/accounts/me/").json()
    assert [r["role"] for r in body["roles"]] == ["reviewer"]
    assert body["applicant"] is None


def test_me_masks_an_applicants_own_number(client):
    applicant = PersonFactory(user=UserFactory())
    client.force_login(applicant.user)
    body = client.get("/api/v1/accounts/me/").json()
    assert body["applicant"]["identifier"] == applicant.masked_identifier != applicant.id_number


def test_me_needs_a_login(client):
    assert client.get("/api/v1/accounts/me/").status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "applicant", "reviewer"])
def test_only_window_staff_use_the_applicant_endpoint(client, who, request):
    if who == "applicant":
        client.force_login(PersonFactory(user=UserFactory()).user)
    elif who == "reviewer":
        client.force_login(request.getfixturevalue("reviewer"))
    assert client.get(URL, {"identifier": citizen_id(1)}).status_code == 403
    assert client.post(URL, {"kind": "person", "name": "x"}).status_code == 403


def test_lookup_needs_the_identifier(client, clerk):
    client.force_login(clerk)
    response = client.get(URL)
    assert response.status_code == 400
    assert "identifier" in response.json()


def test_lookup_finds_exactly_one_and_masks_it(client, clerk, django_assert_max_num_queries):
    applicant = PersonFactory()
    PersonFactory.create_batch(5)
    client.force_login(clerk)
    with django_assert_max_num_queries(6):
        body = client.get(URL, {"identifier": applicant.id_number}).json()
    assert [a["name"] for a in body] == [applicant.name]
    assert body[0]["identifier"] == applicant.masked_identifier


def test_register_a_walk_in_through_the_api(client, clerk):
    client.force_login(clerk)
    number = citizen_id(5)
    created = client.post(
        URL,
        {"kind": "person", "name": "李四", "id_number": number},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["identifier"] != number

    duplicate = client.post(
        URL,
        {"kind": "person", "name": "李四", "id_number": number},
        content_type="application/json",
    )
    assert duplicate.status_code == 400
    assert "id_number" in duplicate.json()

    bad = client.post(
        URL,
        {"kind": "person", "name": "王五", "id_number": "123"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "id_number" in bad.json()
    assert Applicant.objects.count() == 1
