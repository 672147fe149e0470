"""The public verify page of e-licences (each verdict, nothing personal shown, bad input,
rate limit) and the printable licence (what it states, its QR code, its stamp, and who may
download it)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse

from yimen.common.identifiers import licence_identifier
from yimen.licences import pdf, services
from yimen.licences.choices import LicenceStatus, Verdict
from yimen.licences.models import Licence
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..catalog.factories import FieldDefinitionFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory, HallFactory
from .factories import (
    MONDAY,
    LicenceTypeFactory,
    enterprise,
    fresh,
    issue,
    monday,
    person,
    tamper,
)

pytestmark = pytest.mark.django_db
PUBLIC = "https://zwfw.example.gov.cn"
SHOP = "示例小店"
AREA = "137.5"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.YIMEN_PUBLIC_URL = PUBLIC + "/"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The verify page counts look-ups per address in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture
def holder():
    return person()


@pytest.fixture
def licence(holder):
    FieldDefinitionFactory(key="shop_name", label="店名")  # "area" is not in the dictionary
    return issue(
        LicenceTypeFactory(name="食品经营许可证"), holder, data={"shop_name": SHOP, "area": AREA}
    )


def _verify(client, identifier, address="127.0.0.1"):
    url = reverse("licences:verify_identifier", args=[identifier])
    return client.get(url, REMOTE_ADDR=address)


def _page(response) -> str:
    return response.content.decode()


def _unknown_identifier() -> str:
    return licence_identifier(
        type_code="LT9999", issuer_uscc=DepartmentFactory().uscc, serial=42, version=1
    )


# --- the verdicts -----------------------------------------------------------------------------


def test_a_valid_licence_shows_what_identifies_it_and_the_masked_holder(client, licence):
    # Given a licence issued today, valid for five years
    # When its QR code is followed
    response = _verify(client, licence.identifier)

    # Then it is genuine and valid, with its type, issuer, dates and the masked name
    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.VALID
    page = _page(response)
    assert 'data-verdict="valid"' in page
    assert "border-success" in page
    for shown in (licence.identifier, "食品经营许可证", licence.issuer.name, "张*"):
        assert shown in page
    facts = response.context["facts"]
    assert facts["issued_on"] == MONDAY
    assert facts["valid_until"] == dt.date(2031, 11, 23)
    # and nothing personal beyond it: no full name, ID number or data value
    assert "张三" not in page
    assert licence.holder.id_number not in page
    assert licence.holder.masked_identifier not in page
    assert SHOP not in page
    assert AREA not in page
    assert "licence" not in response.context  # the template gets the shown facts only


def test_the_verdict_is_never_cached(client, licence):
    response = _verify(client, licence.identifier)

    assert "no-store" in response["Cache-Control"]


def test_an_expired_licence_says_so(client, holder):
    # Given a paper licence registered today whose five years ended last year
    licence = issue(holder=holder, issued_on=dt.date(2020, 1, 6))

    response = _verify(client, licence.identifier)

    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.EXPIRED
    assert "border-warning" in _page(response)
    assert response.context["facts"]["valid_until"] == dt.date(2025, 1, 6)


def test_a_licence_is_found_expired_the_day_after_its_last_day(client, licence, _today):
    # Given a valid licence
    assert _verify(client, licence.identifier).context["verdict"] == Verdict.VALID
    # When its validity runs out (no daily task has run)
    _today.to(2031, 11, 24)
    # Then the page finds it expired, and the licence is marked so
    assert _verify(client, licence.identifier).context["verdict"] == Verdict.EXPIRED
    assert fresh(licence).status == LicenceStatus.EXPIRED


def test_a_revoked_licence_says_so(client, licence, sysadmin):
    services.licence_revoke(licence=licence, actor=sysadmin, reason="以欺骗手段取得许可")

    response = _verify(client, licence.identifier)

    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.REVOKED
    page = _page(response)
    assert "border-danger" in page
    assert "食品经营许可证" in page
    assert "以欺骗手段取得许可" not in page  # the reason is the holder's business


def test_a_replaced_licence_names_its_successor(client, licence, sysadmin):
    # Given a licence replaced by a new version
    new = services.licence_replace(licence=licence, actor=sysadmin, reason="经营场所变更")

    # When the old one is verified
    response = _verify(client, licence.identifier)

    # Then it is replaced, and the page leads to the new one, which is valid
    assert response.context["verdict"] == Verdict.REPLACED
    assert response.context["facts"]["successor"] == new.identifier
    successor_url = reverse("licences:verify_identifier", args=[new.identifier])
    assert f'href="{successor_url}"' in _page(response)
    assert _verify(client, new.identifier).context["verdict"] == Verdict.VALID


def test_a_tampered_licence_is_not_genuine_and_shows_nothing_of_itself(client, licence):
    # Given a licence whose stored data was changed behind the services' back
    tamper(licence, data={"shop_name": "另一家店", "area": AREA})

    # When it is verified
    response = _verify(client, licence.identifier)

    # Then it is not genuine, and the record that cannot be trusted is not shown
    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.NOT_GENUINE
    assert response.context["facts"] is None
    page = _page(response)
    assert "border-danger" in page
    assert "食品经营许可证" not in page
    assert licence.issuer.name not in page
    assert "另一家店" not in page


def test_a_tampered_validity_is_not_genuine(client, licence):
    tamper(licence, valid_until=dt.date(2099, 12, 31))

    assert _verify(client, licence.identifier).context["verdict"] == Verdict.NOT_GENUINE


def test_an_unknown_identifier_is_not_found(client, db):
    response = _verify(client, _unknown_identifier())

    assert response.status_code == 404
    assert response.context["verdict"] == Verdict.UNKNOWN
    assert response.context["facts"] is None
    assert "border-secondary" in _page(response)


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("hello", "1.2.156.3005.2.type.issuer.serial.version.check"),
        ("x" * 500, "at most 120 characters"),
        ("证照", "1.2.156.3005.2.type.issuer.serial.version.check"),
        ("1.2.156.3005.2.LT0001.<script>", "1.2.156.3005.2.type.issuer.serial.version.check"),
    ],
)
def test_malformed_input_is_unknown_with_a_hint_about_the_format(client, db, typed, hint):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    for response in (
        _verify(client, typed),
        client.get(reverse("licences:verify"), {"id": typed}),
    ):
        assert response.status_code == 400
        assert response.context["verdict"] == Verdict.UNKNOWN
        page = _page(response)
        assert hint in page
        assert "1.2.156.3005.2.{type}.{issuer}.{serial}.{version}.{check}" in page
        assert "<script>" not in page


def test_a_wrong_check_character_is_explained(client, licence):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    body, check = licence.identifier.rsplit(".", 1)
    wrong = f"{body}.{'0' if check != '0' else '1'}"

    response = _verify(client, wrong)

    assert response.status_code == 400
    assert "The check character of the licence identifier is wrong." in _page(response)


def test_the_form_takes_a_pasted_identifier(client, licence):
    url = reverse("licences:verify")
    # Given the blank form
    blank = client.get(url)
    assert blank.status_code == 200
    assert blank.context["verdict"] is None
    # When an identifier is pasted in lower case with stray spaces
    response = client.get(url, {"id": f"  {licence.identifier.lower()} \n"})
    # Then it is verified as printed
    assert response.status_code == 200
    assert response.context["verdict"] == Verdict.VALID
    assert response.context["identifier"] == licence.identifier


def test_an_enterprise_holder_is_masked_too(client):
    licence_type = LicenceTypeFactory(holder_kind="enterprise")
    holder = enterprise()

    page = _page(_verify(client, issue(licence_type, holder).identifier))

    assert "示****司" in page
    assert "示例有限公司" not in page


def test_the_verify_page_is_rate_limited_per_address(client, licence):
    # Given 30 look-ups from one address within the minute, by QR code and by the form
    for n in range(30):
        if n % 2:
            assert _verify(client, licence.identifier).status_code == 200
        else:
            url = reverse("licences:verify")
            response = client.get(url, {"id": licence.identifier}, REMOTE_ADDR="127.0.0.1")
            assert response.status_code == 200

    # When one more is made
    limited = _verify(client, licence.identifier)

    # Then it is refused for a minute, with nothing of the licence; another address goes on
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert "食品经营许可证" not in _page(limited)
    assert _verify(client, "not-even-an-identifier").status_code == 429
    assert _verify(client, licence.identifier, address="10.0.0.2").status_code == 200


# --- the printable licence --------------------------------------------------------------------


def _text(licence) -> str:
    return "\n".join(pdf.licence_lines(fresh(licence)))


def _verify_url(licence) -> str:
    return f"{PUBLIC}/licences/verify/{licence.identifier}/"


def test_the_licence_states_what_it_certifies_and_its_signature(licence, holder):
    lines = pdf.licence_lines(fresh(licence))
    text = "\n".join(lines)

    assert lines[0] == "食品经营许可证"
    assert f"证照标识：{licence.identifier}" in lines
    # the holder in full: it is the holder's own licence
    assert "持证人：张三" in lines
    assert f"公民身份号码：{holder.id_number}" in lines
    # the data, labelled by the field dictionary (the key when it has no entry)
    assert f"店名：{SHOP}" in lines
    assert f"area：{AREA}" in lines
    assert f"发证机关：{licence.issuer.name}" in lines
    assert "发证日期：2026年11月23日" in lines
    assert "有效期至：2031年11月23日" in lines
    assert "证照状态：有效" in lines
    assert f"SM2签名：{licence.signature}" in lines
    assert f"签发公钥指纹（SM3）：{pdf.fingerprint(licence.signing_key.public_key)}" in text
    assert _verify_url(licence) in lines
    # and no stamp on a valid licence
    assert not any(stamp in lines[-1] for stamp in ("已注销", "已过期", "已换发", "验签未通过"))


def test_the_fingerprint_is_the_sm3_of_the_public_key(licence):
    printed = pdf.fingerprint(licence.signing_key.public_key)

    assert re.fullmatch(r"([0-9A-F]{4} ){15}[0-9A-F]{4}", printed)
    assert printed != pdf.fingerprint(services.key_generate(department=licence.issuer).public_key)


def test_an_enterprise_licence_names_the_credit_code():
    licence_type = LicenceTypeFactory(holder_kind="enterprise")
    holder = enterprise()

    lines = pdf.licence_lines(fresh(issue(licence_type, holder)))

    assert "持证单位：示例有限公司" in lines
    assert f"统一社会信用代码：{holder.uscc}" in lines


def test_a_licence_for_good_says_so():
    licence = issue(LicenceTypeFactory(validity_years=None))

    assert "有效期至：长期" in pdf.licence_lines(fresh(licence))


def test_the_qr_code_holds_the_verify_address(licence, monkeypatch):
    drawn = []
    original = pdf.qr_drawing
    monkeypatch.setattr(pdf, "qr_drawing", lambda i: drawn.append(original(i)) or drawn[-1])

    document = pdf.render(fresh(licence))

    assert [d.contents[0].value for d in drawn] == [_verify_url(licence)]
    # and the address is a link of the PDF as well, readable without decompressing
    assert f"/URI ({_verify_url(licence)})".encode() in document


def test_the_pdf_is_one_reproducible_a4_page(licence):
    document = pdf.render(fresh(licence))

    assert document.startswith(b"%PDF")
    assert document == pdf.render(fresh(licence))
    assert len(re.findall(rb"/Type /Page\b(?!s)", document)) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in document


@pytest.mark.parametrize(
    ("end", "stamp"),
    [("revoke", "已注销"), ("replace", "已换发"), ("expire", "已过期")],
)
def test_a_licence_no_longer_valid_is_stamped(licence, sysadmin, _today, monkeypatch, end, stamp):
    stamped = []
    original = pdf._stamper
    monkeypatch.setattr(pdf, "_stamper", lambda text: stamped.append(text) or original(text))
    valid = pdf.render(fresh(licence))
    if end == "revoke":
        services.licence_revoke(licence=licence, actor=sysadmin, reason="依法吊销")
    elif end == "replace":
        new = services.licence_replace(licence=licence, actor=sysadmin, reason="信息变更")
    else:
        _today.to(2031, 11, 24)
        services.expire_due()

    lines = pdf.licence_lines(fresh(licence))

    assert lines[-1] == stamp
    assert any(line.startswith(f"证照状态：{stamp}") for line in lines)
    assert pdf.render(fresh(licence)) != valid
    assert stamped == ["", stamp]  # nothing across the valid page; the stamp across this one
    if end == "revoke":
        assert "证照状态：已注销；原因：依法吊销" in lines
    if end == "replace":
        assert f"证照状态：已换发（以新证照 {new.identifier} 为准）；原因：信息变更" in lines


def test_a_tampered_licence_is_stamped_as_failing_its_signature(licence):
    tampered = tamper(licence, data={"shop_name": "另一家店", "area": AREA})

    lines = pdf.licence_lines(tampered)

    assert lines[-1] == "验签未通过"
    assert any("本证照记录与签名不符" in line for line in lines)


# --- who may download it ----------------------------------------------------------------------


def _download(client, user, licence):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(reverse("licences:pdf", args=[licence.public_id]))


def test_the_holder_downloads_their_licence(client, licence, holder):
    response = _download(client, holder.user, licence)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "inline" in response["Content-Disposition"]
    assert licence.identifier in response["Content-Disposition"]


def test_an_enterprise_account_downloads_the_enterprise_licence(client):
    holder = enterprise()
    licence = issue(LicenceTypeFactory(holder_kind="enterprise"), holder)

    assert _download(client, holder.user, licence).status_code == 200


def test_the_download_applies_expiry_first(client, licence, holder, _today):
    _today.to(2031, 11, 24)

    assert _download(client, holder.user, licence).status_code == 200
    assert fresh(licence).status == LicenceStatus.EXPIRED


def test_who_may_download_a_licence(client, licence):
    issuer = licence.issuer
    other = DepartmentFactory()
    allowed = {
        "reviewer of the issuer": grant(UserFactory(), Role.REVIEWER, department=issuer),
        "head of the issuer": grant(UserFactory(), Role.DEPARTMENT_HEAD, department=issuer),
        "system admin": grant(UserFactory(), Role.SYSTEM_ADMIN),
    }
    refused = {
        "another applicant": person(n=2).user,
        "reviewer of another department": grant(UserFactory(), Role.REVIEWER, department=other),
        "head of another department": grant(UserFactory(), Role.DEPARTMENT_HEAD, department=other),
        "window clerk": grant(UserFactory(), Role.WINDOW_CLERK, hall=HallFactory()),
        "catalogue admin": grant(UserFactory(), Role.CATALOGUE_ADMIN),
        "supervisor": grant(UserFactory(), Role.SUPERVISOR),
    }

    for who, user in allowed.items():
        assert _download(client, user, licence).status_code == 200, who
    for who, user in refused.items():
        assert _download(client, user, licence).status_code == 404, who


def test_a_visitor_is_sent_to_sign_in(client, licence):
    response = _download(client, None, licence)

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_an_unknown_licence_is_not_found(client, holder, licence):
    client.force_login(holder.user)
    url = reverse("licences:pdf", args=["00000000-0000-0000-0000-000000000000"])

    assert client.get(url).status_code == 404
    assert Licence.objects.count() == 1


def test_data_values_are_printed_as_read():
    licence_type = LicenceTypeFactory(fields=["opened_on", "scopes", "chain", "note"])
    data = {"opened_on": "2026-03-01", "scopes": ["预包装食品", "散装食品"], "chain": False}

    lines = pdf.licence_lines(fresh(issue(licence_type, data={**data, "note": None})))

    assert "opened_on：2026年3月1日" in lines
    assert "scopes：预包装食品、散装食品" in lines
    assert "chain：否" in lines
    assert "note：" in lines
