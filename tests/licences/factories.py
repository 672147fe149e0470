"""Factories of the licences module: departments with an SM2 signing key, licence types
(the catalogue rows), licences issued through the service, and the direct database edits
that stand for tampering. Keys are real SM2 key pairs: signing is what is tested."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from yimen.accounts.choices import ApplicantKind
from yimen.common import sm2
from yimen.licences import services
from yimen.licences.models import Licence, LicenceType, SigningKey

from ..cases.factories import FrozenTime, at, enterprise, person
from ..org.factories import DepartmentFactory

MONDAY = dt.date(2026, 11, 23)  # the suite's usual today

__all__ = [
    "MONDAY",
    "FrozenTime",
    "LicenceTypeFactory",
    "at",
    "enterprise",
    "fresh",
    "issue",
    "keyed_department",
    "monday",
    "new_holder",
    "person",
    "signing_key",
    "tamper",
]


def monday(monkeypatch) -> FrozenTime:
    """The clock held on Monday 2026-11-23, 10:00 in Shanghai."""
    return FrozenTime(monkeypatch, at(2026, 11, 23))


def signing_key(department) -> SigningKey:
    """A fresh active key of the department, written directly (key_generate is tested)."""
    pair = sm2.generate_keypair()
    SigningKey.objects.filter(department=department, is_active=True).update(is_active=False)
    return SigningKey.objects.create(
        department=department, public_key=pair.public_key, private_key=pair.private_key
    )


def keyed_department(**kwargs):
    """A department that can sign."""
    department = DepartmentFactory(**kwargs)
    signing_key(department)
    return department


class LicenceTypeFactory(factory.django.DjangoModelFactory):
    """A 5-year licence for natural persons carrying a shop name and an area, issued by a
    department with a key (`issuer=...` to choose one, without a key if it has none)."""

    class Meta:
        model = LicenceType
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"LT{n:04d}")
    name = factory.Sequence(lambda n: f"证照{n}号")
    issuer = factory.LazyFunction(keyed_department)
    holder_kind = ApplicantKind.PERSON
    validity_years = 5
    fields = factory.LazyFunction(lambda: ["shop_name", "area"])
    is_active = True

    @factory.post_generation
    def issuing_items(self, create, extracted, **kwargs):
        if create and extracted:
            self.issuing_items.set(extracted)

    @factory.post_generation
    def replaces(self, create, extracted, **kwargs):
        if create and extracted:
            self.replaces.set(extracted)


_holders = itertools.count()


def new_holder(kind: str = ApplicantKind.PERSON):
    """A new applicant of the kind, distinct from every other one of the test."""
    n = 500 + next(_holders) % 500  # clear of the n = 1, 2, 3… that tests name themselves
    return person(n=n) if kind == ApplicantKind.PERSON else enterprise(n=n)


def issue(licence_type=None, holder=None, *, data=None, **kwargs) -> Licence:
    """A licence issued through the service (today unless `issued_on` says otherwise)."""
    licence_type = licence_type or LicenceTypeFactory()
    holder = holder or new_holder(licence_type.holder_kind)
    if data is None:
        data = {"shop_name": "示例小店", "area": "120"}
    return services.licence_issue(licence_type=licence_type, holder=holder, data=data, **kwargs)


def fresh(licence: Licence) -> Licence:
    """The licence as stored now, with what `is_genuine` reads."""
    return Licence.objects.select_related("licence_type", "holder", "issuer", "signing_key").get(
        pk=licence.pk
    )


def tamper(licence: Licence, **fields) -> Licence:
    """Edit the stored row behind the services' back (as someone with database access
    would), and return it as stored."""
    Licence.objects.filter(pk=licence.pk).update(**fields)
    return fresh(licence)
