"""Registering a historical paper licence in the admin (issue 5 §2): a system admin chooses
the type, then gives the holder's ID number or USCC, the date issued and the data; the
service signs it and audits `licence.register`. Anyone else is kept out; every refusal is a
field error with 400 and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from yimen.accounts.choices import ApplicantKind
from yimen.common.models import AuditEvent
from yimen.licences import services
from yimen.licences.choices import LicenceStatus
from yimen.licences.models import Licence
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id
from ..catalog.factories import FieldDefinitionFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import LicenceTypeFactory, enterprise, fresh, monday, person

pytestmark = pytest.mark.django_db

REGISTER = reverse("admin:licences_licence_register")
LICENCES = reverse("admin:licences_licence_changelist")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    return monday(monkeypatch)  # 2026-11-23


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def shop_type():
    FieldDefinitionFactory(key="shop_name", label="店名")
    FieldDefinitionFactory(key="area", label="面积")
    return LicenceTypeFactory(name="小餐饮登记证", validity_years=5)


def _post(client, licence_type, **overrides):
    data = {
        "licence_type": licence_type.pk,
        "holder": "",
        "issued_on": "2024-03-01",
        "data__shop_name": "老街小馆",
        "data__area": "45",
        **overrides,
    }
    return client.post(REGISTER, data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _nothing_written():
    assert not Licence.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="licence.").exists()


# --- the happy path ---------------------------------------------------------------------------


def test_the_changelist_links_system_admins_to_the_register_page(admin_client):
    response = admin_client.get(LICENCES)

    assert REGISTER in response.content.decode()


def test_step_one_offers_active_types_and_step_two_their_labelled_fields(admin_client, shop_type):
    # Given an active type and one no longer issued
    retired = LicenceTypeFactory(name="旧证", is_active=False)

    # When the admin opens the page, then chooses the type
    first = admin_client.get(REGISTER)
    second = admin_client.get(REGISTER, {"licence_type": shop_type.pk})

    # Then step one lists only the active type, step two asks for its fields by label
    assert first.status_code == 200
    assert list(first.context["form"].fields["licence_type"].queryset) == [shop_type]
    assert retired.name not in first.content.decode()
    assert second.status_code == 200
    form = second.context["form"]
    assert [f.label for f in form.data_fields()] == ["店名", "面积"]
    assert {"holder", "issued_on"} <= set(form.fields)
    assert 'method="post"' in second.content.decode()
    # A type not issued any more is refused at step one.
    assert admin_client.get(REGISTER, {"licence_type": retired.pk}).status_code == 400


def test_a_system_admin_registers_a_paper_licence(admin_client, sysadmin, shop_type):
    # Given an applicant already registered
    holder = person(n=7)

    # When a system admin registers her paper licence of 2024
    response = _post(admin_client, shop_type, holder=holder.id_number)

    # Then it is issued, signed and valid, marked as registered by the admin
    licence = fresh(Licence.objects.get())
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:licences_licence_change", args=[licence.pk])
    assert licence.holder == holder
    assert licence.licence_type == shop_type
    assert licence.data == {"shop_name": "老街小馆", "area": "45"}
    assert licence.issued_on == dt.date(2024, 3, 1)
    assert licence.valid_until == dt.date(2029, 3, 1)
    assert licence.status == LicenceStatus.VALID
    assert licence.registered_by == sysadmin
    assert licence.case is None
    assert services.is_genuine(licence)
    # And the registration is audited with the admin as the actor
    event = AuditEvent.objects.get(action="licence.register")
    assert event.object_id == str(licence.pk)
    assert event.actor == sysadmin
    assert not AuditEvent.objects.filter(action="licence.issue").exists()
    # And the admin is told the identifier
    assert _messages(response) == [f"The paper licence is registered as {licence.identifier}."]


def test_an_enterprise_licence_is_found_by_uscc_and_a_past_due_one_is_expired_at_once(
    admin_client,
):
    # Given an enterprise's 3-year licence issued in 2020 (its validity ended in 2023)
    licence_type = LicenceTypeFactory(
        holder_kind=ApplicantKind.ENTERPRISE, validity_years=3, fields=[]
    )
    holder = enterprise(n=8)

    # When it is registered by the enterprise's USCC, in lower case
    response = admin_client.post(
        REGISTER,
        {"licence_type": licence_type.pk, "holder": holder.uscc.lower(), "issued_on": "2020-05-06"},
    )

    # Then it is kept, expired, and the admin is told so
    licence = Licence.objects.get()
    assert response.status_code == 302
    assert licence.holder == holder
    assert licence.status == LicenceStatus.EXPIRED
    assert AuditEvent.objects.filter(action="licence.expire", object_id=str(licence.pk)).exists()
    (message,) = _messages(response)
    assert licence.identifier in message
    assert "expired already" in message


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_catalogue_admin_may_not_register(client, shop_type, method):
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN)
    client.force_login(user)
    holder = person(n=7)

    if method == "get":
        response = client.get(REGISTER, {"licence_type": shop_type.pk})
    else:
        response = _post(client, shop_type, holder=holder.id_number)

    assert response.status_code == 403
    _nothing_written()


@pytest.mark.parametrize("who", ["anonymous", "reviewer"])
def test_anonymous_users_and_reviewers_are_sent_to_log_in(client, request, shop_type, who):
    if who == "reviewer":
        client.force_login(request.getfixturevalue("reviewer"))
    holder = person(n=7)

    page = client.get(REGISTER)
    post = _post(client, shop_type, holder=holder.id_number)

    for response in (page, post):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    _nothing_written()


# --- refusals: field errors, 400, nothing written -----------------------------------------------


def test_an_unknown_holder_is_to_be_registered_first(admin_client, shop_type):
    response = _post(admin_client, shop_type, holder=citizen_id(99))

    assert response.status_code == 400
    (error,) = response.context["form"].errors["holder"]
    assert "register the applicant first" in error
    _nothing_written()


def test_a_holder_of_the_wrong_kind_is_refused(admin_client, shop_type):
    # Given a type issued to persons, and an enterprise
    holder = enterprise(n=3)

    response = _post(admin_client, shop_type, holder=holder.uscc)

    assert response.status_code == 400
    assert "holder" in response.context["form"].errors
    _nothing_written()


def test_a_future_date_is_refused(admin_client, shop_type):
    holder = person(n=7)

    response = _post(admin_client, shop_type, holder=holder.id_number, issued_on="2026-11-24")

    assert response.status_code == 400
    assert response.context["form"].errors["issued_on"] == [
        "A licence cannot be issued in the future."
    ]
    _nothing_written()


def test_today_is_not_the_future(admin_client, shop_type):
    holder = person(n=7)

    response = _post(admin_client, shop_type, holder=holder.id_number, issued_on="2026-11-23")

    assert response.status_code == 302
    assert Licence.objects.get().issued_on == dt.date(2026, 11, 23)


def test_a_type_whose_issuer_has_no_signing_key_is_refused_on_the_type(admin_client):
    # Given a type of a department that cannot sign yet
    licence_type = LicenceTypeFactory(issuer=DepartmentFactory(name="市交通运输局"), fields=[])
    holder = person(n=7)

    response = _post(admin_client, licence_type, holder=holder.id_number)

    assert response.status_code == 400
    (error,) = response.context["form"].errors["licence_type"]
    assert "市交通运输局 has no signing key" in error
    assert "市交通运输局 has no signing key" in response.content.decode()
    _nothing_written()
