"""Suite-wide fixtures: one user per role, and plain static files."""

import pytest
from django.core.cache import cache
from django.utils import translation

from yimen.common import ratelimit, workdays
from yimen.org.choices import Role
from yimen.org.models import Membership

from .accounts.factories import UserFactory
from .org.factories import DepartmentFactory, HallFactory


@pytest.fixture(scope="session", autouse=True)
def _demo_without_its_month():
    # The demo city without its month of 12345 orders (tests/hotline/test_demo_month.py walks
    # a small month of its own). Session-wide: the demo tests load the city in module-scoped
    # fixtures, before any function-scoped `settings` change.
    from django.conf import settings

    settings.YIMEN_DEMO_HOTLINE_ORDERS = 0


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Argon2 is deliberately slow; the tests only need passwords to check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    # Each test counts its requests from zero, in one window that cannot roll over mid-test.
    cache.clear()
    monkeypatch.setattr(ratelimit, "current_window", lambda: 0)


@pytest.fixture(autouse=True)
def _english_messages():
    # Code outside a request reports in English here, so assertions read like the source;
    # pages follow the request's language (Chinese unless the user switched).
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # The working-day calendar is cached in-process; a test that edits it must not leak.
    workdays.invalidate()
    yield
    workdays.invalidate()


def grant(user, role, **scope):
    """Give a user a role directly (the org services are tested in tests/org)."""
    Membership.objects.create(user=user, role=role, **scope)
    user.__dict__.pop("_yimen_memberships", None)
    return user


@pytest.fixture
def clerk(db):
    return grant(UserFactory(username="clerk"), Role.WINDOW_CLERK, hall=HallFactory())


@pytest.fixture
def reviewer(db):
    return grant(UserFactory(username="reviewer"), Role.REVIEWER, department=DepartmentFactory())


@pytest.fixture
def sysadmin(db):
    return grant(UserFactory(username="sysadmin"), Role.SYSTEM_ADMIN)
