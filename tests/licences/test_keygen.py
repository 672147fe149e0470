"""`manage.py licences_keygen USCC…|--missing`: new SM2 signing keys for departments, never
printing a private key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from yimen.common import sm2
from yimen.licences.models import SigningKey

from ..org.factories import DepartmentFactory
from .factories import LicenceTypeFactory, keyed_department

pytestmark = pytest.mark.django_db


def keygen(*args) -> str:
    """Run the command; everything it printed, on either stream."""
    out, err = StringIO(), StringIO()
    call_command("licences_keygen", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def private_keys() -> list[str]:
    return list(SigningKey.objects.values_list("private_key", flat=True))


def test_keygen_gives_the_named_departments_a_key():
    first, second, bystander = DepartmentFactory(), DepartmentFactory(), DepartmentFactory()
    output = keygen(first.uscc, second.uscc)
    for department in (first, second):
        key = SigningKey.objects.get(department=department, is_active=True)
        assert sm2.public_key_of(key.private_key) == key.public_key
        assert key.public_key[:16] in output
    assert not SigningKey.objects.filter(department=bystander).exists()
    assert len(output.strip().splitlines()) == 2


def test_keygen_replaces_a_departments_key_and_keeps_the_old_one():
    department = keyed_department()
    old = SigningKey.objects.get(department=department)
    keygen(department.uscc)
    old.refresh_from_db()
    assert not old.is_active
    new = SigningKey.objects.get(department=department, is_active=True)
    assert new.public_key != old.public_key


def test_an_unknown_credit_code_is_refused_and_nothing_is_generated():
    known = DepartmentFactory()
    unknown = DepartmentFactory.build().uscc
    with pytest.raises(CommandError) as refused:
        keygen(known.uscc, unknown)
    assert unknown in str(refused.value) and known.uscc not in str(refused.value)
    assert not SigningKey.objects.exists()


def test_no_department_named_is_refused():
    DepartmentFactory()
    with pytest.raises(CommandError, match="--missing"):
        keygen()
    assert not SigningKey.objects.exists()


def test_missing_keys_only_issuing_departments_without_a_key():
    # Given an issuing department without a key, one with a key, one with only an old
    # inactive key, and a department that issues nothing,
    bare = DepartmentFactory()
    LicenceTypeFactory(issuer=bare)
    LicenceTypeFactory(issuer=bare)  # two types: still one key
    keyed = keyed_department()
    LicenceTypeFactory(issuer=keyed)
    kept = SigningKey.objects.get(department=keyed)
    retired = DepartmentFactory()
    LicenceTypeFactory(issuer=retired)
    SigningKey.objects.create(
        department=retired, public_key=kept.public_key, private_key="1", is_active=False
    )
    idle = DepartmentFactory()
    # when --missing runs,
    output = keygen("--missing")
    # then the two without an active key get one, and the others are left alone.
    assert SigningKey.objects.filter(department=bare).count() == 1
    assert SigningKey.objects.filter(department=retired, is_active=True).count() == 1
    assert list(SigningKey.objects.filter(department=keyed)) == [kept]
    assert not SigningKey.objects.filter(department=idle).exists()
    assert len(output.strip().splitlines()) == 2
    # A second run has nothing left to do.
    assert keygen("--missing") == ""
    assert SigningKey.objects.count() == 4


def test_the_private_key_never_appears_in_the_output():
    named = DepartmentFactory()
    LicenceTypeFactory(issuer=DepartmentFactory())
    output = keygen(named.uscc) + keygen("--missing")
    keys = private_keys()
    assert len(keys) == 2
    for key in keys:
        assert key not in output and key.upper() not in output
        assert key[:16] not in output and key[-16:] not in output
    # and not the whole public key either: a prefix to recognise it is enough.
    for public_key in SigningKey.objects.values_list("public_key", flat=True):
        assert public_key[:16] in output and public_key not in output
