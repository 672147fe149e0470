"""Factories of the accounts app."""

import factory

from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.common.identifiers import citizen_id_check_char, uscc_check_char

PASSWORD = "Correct-Horse-42"


def citizen_id(n: int, *, region: str = "440604", birth: str = "19900101") -> str:
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + citizen_id_check_char(first17)


def uscc(n: int, *, region: str = "440604") -> str:
    first17 = f"91{region}TEMP{n % 100000:05d}"
    return first17 + uscc_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    kind = ApplicantKind.PERSON
    name = factory.Sequence(lambda n: f"申请人{n}")
    id_number = factory.Sequence(citizen_id)
    uscc = None
    phone = factory.Sequence(lambda n: f"139{n % 100000000:08d}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    kind = ApplicantKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"示例企业{n}有限公司")
    id_number = None
    uscc = factory.Sequence(uscc)
    legal_representative = "张三"
