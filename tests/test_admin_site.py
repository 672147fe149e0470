"""The admin site opens by role: who gets in, and what each role may do there."""

import pytest
from django.urls import reverse

from yimen.org.choices import Role

from .accounts.factories import UserFactory
from .conftest import grant
from .org.factories import DepartmentFactory, HallFactory

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_a_system_admin_without_the_staff_flag_keeps_the_structure(client, sysadmin):
    # Given a system admin who is not a Django staff user
    assert not sysadmin.is_staff
    client = _signed_in(client, sysadmin)
    # Then the admin opens, and regions can be listed and added
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:org_region_changelist")).status_code == 200
    assert client.get(reverse("admin:org_region_add")).status_code == 200
    # and the audit chain can be read but not written
    assert client.get(reverse("admin:common_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:common_auditevent_add")).status_code == 403


def test_a_system_admin_cannot_reach_accounts_that_could_make_superusers(client, sysadmin):
    client = _signed_in(client, sysadmin)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_a_catalogue_admin_may_look_up_departments_but_not_change_them(client):
    admin_user = grant(UserFactory(), Role.CATALOGUE_ADMIN)
    department = DepartmentFactory()
    client = _signed_in(client, admin_user)
    assert client.get(reverse("admin:org_department_changelist")).status_code == 200
    assert client.get(reverse("admin:org_department_add")).status_code == 403
    response = client.post(
        reverse("admin:org_department_change", args=[department.pk]), {"name": "改名"}
    )
    assert response.status_code == 403
    department.refresh_from_db()
    assert department.name != "改名"


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.REVIEWER, Role.SUPERVISOR])
def test_other_roles_are_sent_to_sign_in(client, role):
    scopes = {
        Role.REVIEWER: {"department": DepartmentFactory},
        Role.WINDOW_CLERK: {"hall": HallFactory},
    }
    scope = {name: factory() for name, factory in scopes.get(role, {}).items()}
    user = grant(UserFactory(), role, **scope)
    response = _signed_in(client, user).get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_a_citizen_is_sent_to_sign_in(client):
    response = _signed_in(client, UserFactory()).get(reverse("admin:index"))
    assert response.status_code == 302


def test_the_navigation_shows_administration_to_admin_roles_only(client, sysadmin, clerk):
    admin_url = reverse("admin:index")
    assert admin_url in _signed_in(client, sysadmin).get("/").content.decode()
    client.logout()
    assert admin_url not in _signed_in(client, clerk).get("/").content.decode()
