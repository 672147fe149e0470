"""The page shell: navigation by role, the calendar warning, error pages, no CDN."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.test import RequestFactory
from django.urls import reverse

from yimen import views
from yimen.org.choices import Role

from .accounts.factories import UserFactory
from .conftest import grant

pytestmark = pytest.mark.django_db

LOOKUP = reverse("accounts:applicant_lookup")


def test_navigation_follows_the_roles(client, clerk, reviewer):
    client.force_login(clerk)
    assert f'href="{LOOKUP}"' in client.get(reverse("accounts:home")).text
    client.force_login(reviewer)
    page = client.get(reverse("accounts:home")).text
    assert f'href="{LOOKUP}"' not in page
    assert f'href="{reverse("api-docs")}"' in page


def test_system_admins_are_warned_of_a_missing_calendar_year(client, sysadmin, reviewer, settings):
    # 2026-11-23 is past the warning day and 2027 is not in the table
    settings.YIMEN_CALENDAR_WARN_FROM = "01-01"
    client.force_login(sysadmin)
    assert "import_calendar" in client.get(reverse("accounts:home")).text
    client.force_login(reviewer)
    assert "import_calendar" not in client.get(reverse("accounts:home")).text


def test_the_server_error_page_needs_no_context():
    response = views.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "12345" in response.content.decode()


def test_a_forbidden_page_is_friendly(client):
    client.force_login(grant(UserFactory(), Role.SUPERVISOR))
    response = client.get(LOOKUP)
    assert response.status_code == 403
    assert "<nav" in response.text


def test_the_health_check_answers():
    from django.test import Client

    assert Client().get("/healthz").content == b"ok"


def test_no_page_template_loads_anything_from_another_host():
    templates = [*Path(settings.BASE_DIR, "templates").rglob("*.html")]
    templates += Path(settings.BASE_DIR, "yimen").rglob("templates/**/*.html")
    remote = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")
    offenders = [str(t) for t in templates if remote.search(t.read_text())]
    assert offenders == []


def test_the_chinese_catalogue_is_complete_and_compiled():
    po_path = Path(settings.BASE_DIR, "locale/zh_Hans/LC_MESSAGES/django.po")
    catalogue = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])
    mo_path = str(po_path.with_suffix(".mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(mo_path)}
    stale = [
        e.msgid
        for e in catalogue.translated_entries()
        if compiled.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert stale == [], "run `make messages` to compile the catalogue"


def test_pages_stay_chinese_for_an_english_browser(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-hans">' in page.text


def test_the_api_answers_in_the_language_asked_for(client, clerk):
    client.force_login(clerk)
    url = "/api/v1/accounts/applicants/"
    missing_en = client.get(url, headers={"Accept-Language": "en"}).json()["identifier"][0]
    missing_zh = client.get(url, headers={"Accept-Language": "zh-hans"}).json()["identifier"][0]
    assert missing_en == "This field is required."
    assert missing_zh != missing_en


@pytest.mark.parametrize(
    "name",
    sorted(name for name, app in get_commands().items() if app.startswith("yimen.")),
)
def test_every_command_explains_itself(name, capsys):
    # argparse formats plain strings only; the help texts are lazy translations.
    with pytest.raises(SystemExit) as exit_:
        call_command(name, "--help")
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out
