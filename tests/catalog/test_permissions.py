"""Who may change the catalogue: every role, scoped and unscoped."""

import pytest
from django.contrib.auth.models import AnonymousUser

from yimen.catalog import permissions
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments():
    return DepartmentFactory(), DepartmentFactory()


def abilities(user, departments) -> tuple:
    """(scope, may edit the catalogue, may edit each department, may edit the library)."""
    return (
        permissions.catalogue_scope(user),
        permissions.can_edit_catalogue(user),
        [permissions.can_edit_department(user, d.pk) for d in departments],
        permissions.can_edit_library(user),
    )


def test_a_superuser_edits_everything(departments):
    user = UserFactory(is_superuser=True, is_staff=True)
    assert abilities(user, departments) == (None, True, [True, True], True)


def test_an_unscoped_catalogue_admin_edits_everything(departments):
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN)
    assert abilities(user, departments) == (None, True, [True, True], True)


def test_a_scoped_catalogue_admin_edits_their_departments_items_only(departments):
    mine = departments[0]
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=mine)
    assert abilities(user, departments) == ({mine.pk}, True, [True, False], False)


def test_scopes_add_up_and_an_unscoped_role_wins(departments):
    first, second = departments
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=first)
    grant(user, Role.CATALOGUE_ADMIN, department=second)
    assert permissions.catalogue_scope(user) == {first.pk, second.pk}
    assert not permissions.can_edit_library(user)

    grant(user, Role.CATALOGUE_ADMIN)
    assert permissions.catalogue_scope(user) is None
    assert permissions.can_edit_library(user)


@pytest.mark.parametrize(
    "role, scope",
    [
        (Role.REVIEWER, "department"),
        (Role.DEPARTMENT_HEAD, "department"),
        (Role.SYSTEM_ADMIN, None),
        (Role.SUPERVISOR, None),
        (Role.HOTLINE_AGENT, None),
    ],
)
def test_other_roles_edit_nothing(departments, role, scope):
    kwargs = {"department": departments[0]} if scope else {}
    user = grant(UserFactory(), role, **kwargs)
    assert abilities(user, departments) == (set(), False, [False, False], False)


def test_the_clerk_fixture_edits_nothing(clerk, departments):
    assert abilities(clerk, departments) == (set(), False, [False, False], False)


def test_a_revoked_catalogue_admin_edits_nothing(departments):
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN)
    user.memberships.update(is_active=False)
    user.__dict__.pop("_yimen_memberships", None)
    assert abilities(user, departments) == (set(), False, [False, False], False)


def test_an_anonymous_visitor_edits_nothing(departments):
    assert abilities(AnonymousUser(), departments) == (set(), False, [False, False], False)


def test_a_user_without_roles_edits_nothing(departments):
    assert abilities(UserFactory(), departments) == (set(), False, [False, False], False)
