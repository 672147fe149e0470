"""Browser tests: a headless Debian chromium per test process, a fresh page per test on the
process's live server, and signing in through the login form.

The whole package is skipped, with the reason, where playwright or chromium is missing."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connections
from django.urls import reverse

from ..accounts.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).parent
TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def _unavailable() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need playwright (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"browser tests need Debian's chromium at {CHROMIUM}"
    return ""


UNAVAILABLE = _unavailable()


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            if UNAVAILABLE:
                item.add_marker(pytest.mark.skip(reason=UNAVAILABLE))


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started after the test database is made: it then shares
    the tests' connection to an in-memory SQLite database, as Django's LiveServerTestCase
    does (started first, it would open one of its own)."""
    return live_server


@pytest.fixture(scope="package")
def browser(live_server):
    """One chromium for all the browser tests of the process (they run together: pytest-django
    puts the live server's tests after the others that use the database).

    Playwright's sync API marks an event loop as running in this thread between its calls.
    Django then takes the tests for async code: its async-safety check is turned off, and
    its connections, which asgiref keeps per context while a loop runs, are handed this
    thread's own (those the live server shares and the test database was set up on). The
    browser closes with the package, so none of this reaches the tests that follow."""
    from playwright.sync_api import sync_playwright

    held = {alias: connections[alias] for alias in connections}
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            for alias, connection in held.items():
                connections[alias] = connection
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            yield browser
            browser.close()
    finally:
        if before is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = before


@pytest.fixture
def page(browser, live_server, settings, tmp_path):
    """A page of its own (cookies included) on the live server, in Chinese like any first
    visit. The live server serves the static files from their finders, with the plain
    storage tests/conftest.py sets; uploads go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the public pages count requests per address
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    # No favicon: its 404 page would reach the database while the test reads it.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()
    yield page
    context.close()
    cache.clear()


@pytest.fixture
def login(page):
    """Sign `user` in through the login form: the one on screen (after a redirect to it),
    or a fresh one, signing out whoever was signed in."""

    def sign_in(user):
        login_path = reverse("accounts:login")
        if urlsplit(page.url).path != login_path:
            page.context.clear_cookies()
            page.goto(login_path)
        page.locator("#id_username").fill(user.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form").get_by_role("button").click()
        page.wait_for_url(lambda url: login_path not in url)

    return sign_in
