"""The case admin: system admins look at cases (ID numbers masked), nobody changes one there."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.cases.choices import CaseStatus, DocumentKind
from yimen.cases.models import Case
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from .factories import Scene, person, submit

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:cases_case_changelist")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _signed_in(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_client(client, sysadmin):
    return _signed_in(client, sysadmin)


@pytest.fixture
def scene():
    return Scene.make()


def _change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def test_the_list_shows_cases_with_masked_ids(admin_client, scene):
    # Given a case accepted, in review
    case = scene.case_at(CaseStatus.IN_REVIEW)
    # When a system admin opens the list
    response = admin_client.get(CHANGELIST)
    # Then the case is listed with its item, department, status and light
    assert response.status_code == 200
    content = response.content.decode()
    assert case.number in content
    assert scene.version.name in content
    assert case.department.name in content
    assert "Under review" in content
    assert "On time" in content
    # and the applicant's ID number only masked
    identifier = scene.applicant.id_number
    assert identifier not in content
    assert f"{identifier[:4]}{'*' * 10}{identifier[-4:]}" in content


def test_the_list_is_searched_by_number(admin_client, scene):
    # Given two cases
    first = scene.submit()
    second = scene.submit()
    # When the list is searched by the first one's number
    response = admin_client.get(CHANGELIST, {"q": first.number})
    # Then only it is listed
    content = response.content.decode()
    assert first.number in content
    assert second.number not in content


def test_the_list_queries_do_not_grow_with_the_rows(admin_client, scene):
    # Given an approved case (its three clocks started)
    scene.case_at(CaseStatus.APPROVED)
    admin_client.get(CHANGELIST)  # the calendar and the session are read once
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    # When more cases of other applicants, items and states are added
    for n, status in enumerate((CaseStatus.RECEIVED, CaseStatus.SUSPENDED, CaseStatus.DELIVERED)):
        Scene.make(n=n + 2).case_at(status)
    submit(scene.version, person(n=9))
    assert Case.objects.count() == 5
    # Then the list takes as many queries as before
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many) == len(few)


def test_the_case_page_shows_materials_and_documents_read_only(admin_client, scene):
    # Given a case in review with its files and documents
    case = scene.case_at(CaseStatus.IN_REVIEW)
    # When its page is opened
    response = admin_client.get(_change_url(case))
    # Then its materials, documents and clocks are shown, with nothing to save
    assert response.status_code == 200
    content = response.content.decode()
    assert "材料.pdf" in content
    assert "证明.pdf" in content
    for document in case.documents.all():
        assert document.code in content
    assert case.documents.filter(kind=DocumentKind.ACCEPTANCE).exists()
    assert "Decision: On time, due" in content
    assert 'name="_save"' not in content
    assert scene.applicant.id_number not in content
    # and no form field of the case or of its rows can be posted
    assert not response.context["adminform"].form.fields
    for inline in response.context["inline_admin_formsets"]:
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission


def test_no_case_is_added_changed_or_deleted_in_the_admin(admin_client, scene):
    # Given a case
    case = scene.case_at(CaseStatus.RECEIVED)
    # When a system admin tries to add, change or delete one
    add = admin_client.get(reverse("admin:cases_case_add"))
    change = admin_client.post(_change_url(case), {"status": CaseStatus.ARCHIVED})
    delete = admin_client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"})
    # Then each is refused and the case is untouched
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


@pytest.mark.parametrize("role", [Role.CATALOGUE_ADMIN, Role.SUPERVISOR, Role.WINDOW_CLERK])
def test_other_roles_do_not_see_the_case_admin(client, scene, role):
    # Given a case and a user of another role
    scene.case_at(CaseStatus.RECEIVED)
    _signed_in(client, grant(UserFactory(), role))
    # When they open the case list
    response = client.get(CHANGELIST)
    # Then they are refused (or sent to the admin's login, for roles without the admin)
    assert response.status_code == (403 if role == Role.CATALOGUE_ADMIN else 302)
