"""我的空间: an applicant's licences (with their status today and the printable PDF), latest
cases and reusable materials (downloadable); an enterprise account sees the enterprise's;
nobody sees anyone else's; a staff-only account gets the friendly 403; the page reads in a
fixed number of queries."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.accounts.choices import ApplicantKind
from yimen.catalog.choices import Target
from yimen.licences import services, space_views
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import guide, submit
from ..catalog.factories import MaterialTypeFactory
from ..conftest import grant
from .factories import LicenceTypeFactory, enterprise, issue, monday, person

pytestmark = pytest.mark.django_db

SPACE = reverse("space:home")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    return monday(monkeypatch)


def signed_in(user) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def version():
    """A guide for persons and enterprises: 申请书 (valid 30 days once given) and 场所证明
    (does not expire)."""
    return guide(
        target=Target.BOTH,
        materials=[
            {"material_type": MaterialTypeFactory(name="申请书", validity_days=30)},
            {"material_type": MaterialTypeFactory(name="场所证明")},
        ],
    )


@pytest.fixture
def holder():
    return person(n=1)


def _licences_section(page: str) -> str:
    return page.split('id="my-licences"')[1].split('id="my-cases"')[0]


# --- my licences ------------------------------------------------------------------------------


def test_i_see_my_licences_with_their_status_and_pdf_and_no_one_elses(holder):
    mine = issue(LicenceTypeFactory(name="食品经营许可证"), holder)
    revoked = issue(LicenceTypeFactory(name="排水许可证"), holder)
    services.licence_revoke(licence=revoked, actor=UserFactory(), reason="吊销")
    theirs = issue(LicenceTypeFactory(name="他人证照"), person(n=2))

    response = signed_in(holder.user).get(SPACE)

    assert response.status_code == 200
    section = _licences_section(response.text)
    assert mine.identifier in section and revoked.identifier in section
    assert theirs.identifier not in response.text and "他人证照" not in response.text
    assert mine.issuer.name in section and "2026-11-23" in section
    assert 'data-status="valid">Valid<' in section and 'data-status="revoked">Revoked<' in section
    assert section.index(mine.identifier) < section.index(revoked.identifier)  # valid first
    pdf_url = reverse("licences:pdf", args=[mine.public_id])
    verify_url = reverse("licences:verify_identifier", args=[mine.identifier])
    assert pdf_url in section and verify_url in section
    # …and the link gives the holder the licence
    assert signed_in(holder.user).get(pdf_url)["Content-Type"] == "application/pdf"


def test_a_licence_past_its_day_shows_expired_on_reading(holder, _today):
    licence = issue(LicenceTypeFactory(validity_years=1), holder)
    _today.to(2028, 1, 5)
    section = _licences_section(signed_in(holder.user).get(SPACE).text)
    assert licence.identifier in section and 'data-status="expired">Expired<' in section


# --- my cases and my reusable materials -------------------------------------------------------


def test_i_see_my_latest_cases_and_a_way_to_all_of_them(version, holder, monkeypatch):
    monkeypatch.setattr(space_views, "LATEST_CASES", 2)
    first, second = submit(version, holder), submit(version, holder)
    someone_elses = submit(version, person(n=2))
    client = signed_in(holder.user)

    page = client.get(SPACE).text
    assert first.number in page and second.number in page
    assert someone_elses.number not in page
    assert f'href="{reverse("cases:mine")}">Open my cases<' in page

    third = submit(version, holder)
    response = client.get(SPACE)
    assert [case for case, _state in response.context["case_rows"]] == [third, second]
    assert f'href="{reverse("cases:mine")}">All my cases<' in response.text


def test_i_see_my_reusable_materials_with_their_validity_and_can_download_them(version, holder):
    case = submit(version, holder)
    submit(version, person(n=2))  # someone else's files are not mine
    client = signed_in(holder.user)

    response = client.get(SPACE)

    reusable = response.context["reusable"]
    assert {item.row.material.material_type.name for item, _url in reusable} == {
        "申请书",
        "场所证明",
    }
    assert {item.row.case for item, _url in reusable} == {case}
    page = response.text.split('id="my-materials"')[1]
    assert "2026-12-23" in page and "Does not expire" in page  # 30 days from Monday
    for item, url in reusable:
        assert url == reverse("case_documents:material", args=[case.number, item.row.pk])
        assert url in page
        assert client.get(url).status_code == 200
    # The download stays the applicant's (and the staff's on the case), nobody else's
    assert signed_in(person(n=3).user).get(reusable[0][1]).status_code == 404


def test_an_empty_space_says_so(holder):
    page = signed_in(holder.user).get(SPACE).text
    assert "You hold no e-licences yet." in page
    assert "You have no cases yet." in page
    assert "You have no reusable materials yet." in page


# --- who sees what ----------------------------------------------------------------------------


def test_an_enterprise_account_sees_the_enterprises_space(version, holder):
    company = enterprise(n=5)
    licence = issue(LicenceTypeFactory(holder_kind=ApplicantKind.ENTERPRISE), company)
    case = submit(version, company)
    persons = issue(LicenceTypeFactory(), holder)
    persons_case = submit(version, holder)

    response = signed_in(company.user).get(SPACE)

    assert response.status_code == 200 and response.context["applicant"] == company
    assert licence.identifier in response.text and case.number in response.text
    assert persons.identifier not in response.text and persons_case.number not in response.text
    assert company.uscc in response.text  # a credit code is public; an ID number is not


def test_a_staff_only_account_gets_the_friendly_403_and_anonymous_signs_in(holder):
    reviewer = grant(UserFactory(), Role.REVIEWER, department=LicenceTypeFactory().issuer)
    response = signed_in(reviewer).get(SPACE)
    assert response.status_code == 403 and reverse("accounts:register") in response.text
    anonymous = Client().get(SPACE)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))


def test_staff_who_also_apply_have_their_space(holder):
    grant(holder.user, Role.SUPERVISOR)
    assert signed_in(holder.user).get(SPACE).status_code == 200


def test_the_navigation_offers_my_space_to_applicants_only(holder):
    assert f'href="{SPACE}"' in signed_in(holder.user).get(reverse("home")).text
    assert f'href="{SPACE}"' in signed_in(enterprise(n=6).user).get(reverse("home")).text
    staff = grant(UserFactory(), Role.SUPERVISOR)
    assert f'href="{SPACE}"' not in signed_in(staff).get(reverse("home")).text
    assert f'href="{SPACE}"' not in Client().get(reverse("home")).text


def test_the_space_queries_do_not_grow_with_licences_cases_and_materials(version, holder):
    client = signed_in(holder.user)

    def add():
        issue(LicenceTypeFactory(), holder)
        submit(version, holder)

    add()
    client.get(SPACE)  # warm the calendar cache
    with CaptureQueriesContext(connection) as one:
        client.get(SPACE)
    for _ in range(4):
        add()
    expired = issue(LicenceTypeFactory(validity_years=1), holder)
    services.licence_revoke(licence=expired, actor=UserFactory(), reason="吊销")
    with CaptureQueriesContext(connection) as six:
        response = client.get(SPACE)
    assert len(response.context["licences"]) == 6 and len(response.context["case_rows"]) == 5
    assert len(six) == len(one) <= 10
