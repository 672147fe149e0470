"""The licences admin: licence types kept by system and catalogue admins (their data fields
checked against the field dictionary, every change audited), signing keys shown without
their private key anywhere, and licences read-only but for revoking and replacing them with
a reason."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yimen.common.models import AuditEvent
from yimen.licences import services
from yimen.licences.choices import LicenceStatus
from yimen.licences.models import Licence, LicenceType, SigningKey
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory, make_item
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import LicenceTypeFactory, fresh, issue, keyed_department, monday, person

pytestmark = pytest.mark.django_db

LICENCES = reverse("admin:licences_licence_changelist")
TYPES = reverse("admin:licences_licencetype_changelist")
KEYS = reverse("admin:licences_signingkey_changelist")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    return monday(monkeypatch)


def _signed_in(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_client(client, sysadmin):
    return _signed_in(client, sysadmin)


@pytest.fixture
def catalogue_admin():
    return grant(UserFactory(), Role.CATALOGUE_ADMIN)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _change(model: str, obj) -> str:
    return reverse(f"admin:licences_{model}_change", args=[obj.pk])


# --- signing keys: never the private key ------------------------------------------------------


def test_no_admin_page_shows_a_private_key(admin_client):
    # Given a department whose second key signed a licence (its first is retired)
    first = issue()
    services.key_generate(department=first.issuer)
    licence = fresh(issue(first.licence_type))
    keys = list(SigningKey.objects.filter(department=licence.issuer))
    assert len(keys) == 2
    assert all(len(key.private_key) == 64 for key in keys)
    pages = [
        KEYS,
        f"{KEYS}?is_active__exact=1",
        f"{KEYS}?q={licence.issuer.name}",
        *(_change("signingkey", key) for key in keys),
        *(reverse("admin:licences_signingkey_history", args=[key.pk]) for key in keys),
        LICENCES,
        _change("licence", licence),
        _change("licencetype", licence.licence_type),
        reverse("admin:index"),
    ]

    for url in pages:
        # When a system admin opens any page about them
        response = admin_client.get(url)
        # Then the public key may show, the private key never
        assert response.status_code == 200, url
        content = response.content.decode()
        for key in keys:
            assert key.private_key not in content, url
            assert key.private_key.upper() not in content, url
    assert keys[0].public_key in admin_client.get(_change("signingkey", keys[0])).content.decode()


def test_a_signing_key_page_shows_department_public_key_and_use(admin_client):
    key = SigningKey.objects.get(department=keyed_department(name="市市场监督管理局"))

    response = admin_client.get(_change("signingkey", key))

    content = response.content.decode()
    assert "市市场监督管理局" in content
    assert key.public_key in content
    assert "private_key" not in response.context["adminform"].form.fields
    shown = [f for fieldset in response.context["adminform"] for line in fieldset for f in line]
    names = {f.field["name"] if isinstance(f.field, dict) else f.field.name for f in shown}
    assert names == {"department", "public_key", "key_fingerprint", "is_active", "created_at"}


def test_the_private_key_cannot_be_searched_for(admin_client):
    key = SigningKey.objects.get(department=keyed_department())

    response = admin_client.get(KEYS, {"q": key.private_key})

    assert response.context["cl"].result_count == 0


def test_signing_keys_are_not_added_changed_or_deleted_in_the_admin(admin_client):
    key = SigningKey.objects.get(department=keyed_department())

    assert admin_client.get(reverse("admin:licences_signingkey_add")).status_code == 403
    assert admin_client.post(_change("signingkey", key), {"is_active": ""}).status_code == 403
    delete = reverse("admin:licences_signingkey_delete", args=[key.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert SigningKey.objects.filter(pk=key.pk, is_active=True).exists()


def test_only_system_admins_see_keys_and_licences(client, catalogue_admin):
    issue()
    _signed_in(client, catalogue_admin)

    assert client.get(KEYS).status_code == 403
    assert client.get(LICENCES).status_code == 403
    assert client.get(TYPES).status_code == 200


def test_the_key_list_queries_do_not_grow_with_the_rows(admin_client):
    keyed_department()
    admin_client.get(KEYS)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(KEYS).status_code == 200
    for _ in range(4):
        keyed_department()
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(KEYS).status_code == 200
    assert len(many) == len(few)


# --- licences: read-only, masked --------------------------------------------------------------


def test_the_list_shows_licences_with_masked_ids(admin_client):
    holder = person()
    licence = issue(LicenceTypeFactory(name="食品经营许可证"), holder)

    content = admin_client.get(LICENCES).content.decode()

    assert licence.identifier in content
    assert "食品经营许可证" in content
    assert licence.issuer.name in content
    assert holder.masked_identifier in content
    assert holder.id_number not in content


def test_the_list_is_searched_by_identifier_and_holder_name(admin_client):
    first = issue(holder=person(n=1))
    second = issue(holder=person(n=2))
    second.holder.name = "李四"
    second.holder.save(update_fields=["name"])

    by_identifier = admin_client.get(LICENCES, {"q": first.identifier}).content.decode()
    by_name = admin_client.get(LICENCES, {"q": "李四"}).content.decode()

    assert first.identifier in by_identifier
    assert second.identifier not in by_identifier
    assert second.identifier in by_name
    assert first.identifier not in by_name


def test_the_list_is_filtered_by_status_type_and_issuer(admin_client, sysadmin):
    kept, ended = issue(), issue()
    services.licence_revoke(licence=ended, actor=sysadmin, reason="吊销")

    revoked = admin_client.get(LICENCES, {"status__exact": "revoked"})
    by_type = admin_client.get(LICENCES, {"licence_type__id__exact": kept.licence_type_id})
    by_issuer = admin_client.get(LICENCES, {"issuer__id__exact": kept.issuer_id})

    assert [row.pk for row in revoked.context["cl"].result_list] == [ended.pk]
    assert [row.pk for row in by_type.context["cl"].result_list] == [kept.pk]
    assert [row.pk for row in by_issuer.context["cl"].result_list] == [kept.pk]


def test_the_licence_page_is_read_only_and_labels_the_data(admin_client):
    FieldDefinitionFactory(key="shop_name", label="店名")
    holder = person()
    licence = issue(holder=holder, data={"shop_name": "示例小店", "area": "88"})

    response = admin_client.get(_change("licence", licence))

    content = response.content.decode()
    assert "店名: 示例小店" in content
    assert "area: 88" in content
    assert licence.signature in content
    assert holder.id_number not in content
    assert 'name="_save"' not in content
    assert not response.context["adminform"].form.fields


def test_the_licence_list_queries_do_not_grow_with_the_rows(admin_client):
    issue()
    admin_client.get(LICENCES)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(LICENCES).status_code == 200
    for n in range(2, 6):
        issue(holder=person(n=n))
    assert Licence.objects.count() == 5
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(LICENCES).status_code == 200
    # one more licence type and issuer per licence: the filters list them in one query each
    assert len(many) == len(few)


def test_no_licence_is_added_or_deleted_in_the_admin(admin_client):
    licence = issue()

    assert admin_client.get(reverse("admin:licences_licence_add")).status_code == 403
    delete = reverse("admin:licences_licence_delete", args=[licence.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Licence.objects.filter(pk=licence.pk).exists()


# --- revoking and replacing -------------------------------------------------------------------


def _act(client, action, *licences, **extra):
    return client.post(
        LICENCES,
        {"action": action, "index": 0, "_selected_action": [x.pk for x in licences], **extra},
    )


def _apply(client, action, *licences, reason):
    return client.post(
        LICENCES,
        {
            "action": action,
            "apply": "1",
            "_selected_action": [x.pk for x in licences],
            "reason": reason,
        },
    )


def test_revoking_asks_for_the_reason(admin_client, sysadmin):
    licence = issue()
    # When revoking, a page asks why, naming the licence
    response = _act(admin_client, "revoke_selected", licence)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="reason"' in content
    assert licence.identifier in content
    # and without a reason nothing happens
    response = _apply(admin_client, "revoke_selected", licence, reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert fresh(licence).status == LicenceStatus.VALID
    # With a reason the licence is revoked, the reason recorded and audited
    response = _apply(admin_client, "revoke_selected", licence, reason="以欺骗手段取得")
    assert response.status_code == 302
    revoked = fresh(licence)
    assert revoked.status == LicenceStatus.REVOKED
    assert revoked.status_reason == "以欺骗手段取得"
    event = AuditEvent.objects.get(action="licence.revoke", object_id=str(licence.pk))
    assert (event.actor, event.reason, event.channel) == (sysadmin, "以欺骗手段取得", "admin")
    assert f"{licence.identifier} is revoked." in _messages(response)


def test_revoking_reports_each_licence(admin_client, sysadmin):
    # Given one valid licence and one revoked already
    valid, gone = issue(), issue()
    services.licence_revoke(licence=gone, actor=sysadmin, reason="先前吊销")

    # When both are revoked
    response = _apply(admin_client, "revoke_selected", valid, gone, reason="批量注销")

    # Then the valid one is, and the other is reported, untouched
    assert response.status_code == 302
    messages = _messages(response)
    assert f"{valid.identifier} is revoked." in messages
    assert any(m.startswith(f"{gone.identifier}: The licence is now") for m in messages)
    assert fresh(valid).status == LicenceStatus.REVOKED
    assert fresh(gone).status_reason == "先前吊销"


def test_replacing_issues_a_new_version(admin_client, sysadmin):
    licence = issue(data={"shop_name": "示例小店", "area": "88"})

    response = _act(admin_client, "replace_selected", licence)
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    response = _apply(admin_client, "replace_selected", licence, reason="证照损毁换发")

    assert response.status_code == 302
    old = fresh(licence)
    new = Licence.objects.get(previous=old)
    assert old.status == LicenceStatus.REPLACED
    assert (new.version, new.serial, new.status) == (2, old.serial, LicenceStatus.VALID)
    assert new.data == old.data
    assert f"{old.identifier} is replaced by {new.identifier}." in _messages(response)
    assert AuditEvent.objects.filter(action="licence.replace", reason="证照损毁换发").exists()


def test_a_department_without_a_key_cannot_replace(admin_client):
    licence = issue()
    SigningKey.objects.filter(department=licence.issuer).update(is_active=False)

    response = _apply(admin_client, "replace_selected", licence, reason="换发")

    assert response.status_code == 302
    assert any("has no signing key" in m for m in _messages(response))
    assert fresh(licence).status == LicenceStatus.VALID


def test_the_actions_are_for_system_admins_only(client, admin_client, catalogue_admin):
    licence = issue()
    response = admin_client.get(LICENCES)
    assert {"revoke_selected", "replace_selected"} <= {
        name for name, _label in response.context["action_form"].fields["action"].choices
    }
    # A department head of the issuer may print the licence, not get into the admin
    head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=licence.issuer)
    response = _apply(_signed_in(client, head), "revoke_selected", licence, reason="越权")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # and a catalogue admin gets into the admin, not to the licences
    response = _apply(
        _signed_in(client, catalogue_admin), "revoke_selected", licence, reason="越权"
    )
    assert response.status_code == 403
    assert fresh(licence).status == LicenceStatus.VALID


# --- licence types ----------------------------------------------------------------------------


def _type_form(**overrides) -> dict:
    data = {
        "code": "JY001",
        "name": "食品经营许可证",
        "issuer": keyed_department().pk,
        "holder_kind": "person",
        "validity_years": "5",
        "fields": "shop_name\narea",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_catalogue_admin_adds_a_licence_type(client, catalogue_admin):
    FieldDefinitionFactory(key="shop_name")
    FieldDefinitionFactory(key="area")
    item = make_item()
    material = MaterialTypeFactory(name="食品经营许可证（纸质）")
    _signed_in(client, catalogue_admin)

    response = client.post(
        reverse("admin:licences_licencetype_add"),
        _type_form(
            fields="shop_name, area\nshop_name",
            issuing_items=[item.item.pk],
            replaces=[material.pk],
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    licence_type = LicenceType.objects.get(code="JY001")
    assert licence_type.fields == ["shop_name", "area"]  # in order, once each
    assert list(licence_type.issuing_items.all()) == [item.item]
    assert list(licence_type.replaces.all()) == [material]
    event = AuditEvent.objects.get(action="admin.add", object_id=str(licence_type.pk))
    assert event.actor == catalogue_admin


def test_data_fields_must_be_in_the_field_dictionary(admin_client):
    FieldDefinitionFactory(key="shop_name")

    response = admin_client.post(
        reverse("admin:licences_licencetype_add"),
        _type_form(fields="shop_name\nno_such_key\nalso_missing"),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["fields"]
    assert errors == ["Not in the field dictionary: no_such_key, also_missing."]
    assert not LicenceType.objects.exists()


def test_the_type_page_lists_the_keys_one_per_line(admin_client):
    licence_type = LicenceTypeFactory(fields=["shop_name", "area"])

    response = admin_client.get(_change("licencetype", licence_type))

    assert response.status_code == 200
    assert "shop_name\narea</textarea>" in response.content.decode()


def test_the_code_of_a_licence_type_is_fixed_once_it_exists(admin_client):
    # Given a type that issued a licence (the code is in its identifier and signature)
    licence = issue()
    licence_type = licence.licence_type
    FieldDefinitionFactory(key="shop_name")
    FieldDefinitionFactory(key="area")

    # When its page is saved with another code and name
    response = admin_client.post(
        _change("licencetype", licence_type),
        _type_form(code="CHANGED", name="新名称", issuer=licence_type.issuer_id),
    )

    # Then the name changes, the code does not, and the licence stays genuine
    assert response.status_code == 302
    licence_type.refresh_from_db()
    assert (licence_type.code, licence_type.name) == (licence.licence_type.code, "新名称")
    assert services.is_genuine(fresh(licence))


def test_a_scoped_catalogue_admin_keeps_their_departments_types(client):
    mine, theirs = keyed_department(), keyed_department()
    own_type = LicenceTypeFactory(issuer=mine, name="本部门证照")
    LicenceTypeFactory(issuer=theirs, name="他部门证照")
    scoped = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=mine)
    _signed_in(client, scoped)

    listed = client.get(TYPES).content.decode()
    add_page = client.get(reverse("admin:licences_licencetype_add"))

    assert "本部门证照" in listed
    assert "他部门证照" not in listed
    issuers = add_page.context["adminform"].form.fields["issuer"].queryset
    assert list(issuers) == [mine]
    assert client.get(_change("licencetype", own_type)).status_code == 200


def test_the_type_list_queries_do_not_grow_with_the_rows(admin_client):
    LicenceTypeFactory()
    admin_client.get(TYPES)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(TYPES).status_code == 200
    for _ in range(4):
        LicenceTypeFactory(issuer=DepartmentFactory())
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(TYPES).status_code == 200
    assert len(many) == len(few)
