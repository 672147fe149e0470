"""Factories of the organisation app. Regions carry real-shaped division codes that nest
(city 440600000000 → district 440604000000 → town 440604001000), departments valid credit
codes. Factories write rows directly: they set the scene, the services are what is tested."""

import factory

from yimen.common.identifiers import uscc_check_char
from yimen.org.choices import RegionLevel, Role
from yimen.org.models import Department, Hall, Membership, Region, Window, WindowCategory

from ..accounts.factories import UserFactory

PROVINCES = ("44", "32", "33", "35", "37", "51")
QUEUE_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"


def _city_code(n: int) -> str:
    return f"{PROVINCES[(n // 99) % len(PROVINCES)]}{n % 99 + 1:02d}00000000"


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(_city_code)
    name = factory.Sequence(lambda n: f"City {n}")
    level = RegionLevel.CITY
    parent = None


class DistrictFactory(CityFactory):
    code = factory.LazyAttributeSequence(lambda r, n: f"{r.parent.code[:4]}{n % 99 + 1:02d}000000")
    name = factory.Sequence(lambda n: f"District {n}")
    level = RegionLevel.DISTRICT
    parent = factory.SubFactory(CityFactory)


class TownFactory(CityFactory):
    code = factory.LazyAttributeSequence(lambda r, n: f"{r.parent.code[:6]}{n % 999 + 1:03d}000")
    name = factory.Sequence(lambda n: f"Town {n}")
    level = RegionLevel.TOWN
    parent = factory.SubFactory(DistrictFactory)


class VillageFactory(CityFactory):
    code = factory.LazyAttributeSequence(lambda r, n: f"{r.parent.code[:9]}{n % 999 + 1:03d}")
    name = factory.Sequence(lambda n: f"Village {n}")
    level = RegionLevel.VILLAGE
    parent = factory.SubFactory(TownFactory)


def make_uscc(region_code: str, n: int) -> str:
    """A valid code of a government organ (registration 1, type 1) in the region."""
    first17 = f"11{region_code[:6]}{n:09d}"
    return first17 + uscc_check_char(first17)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    region = factory.SubFactory(DistrictFactory)
    uscc = factory.LazyAttributeSequence(lambda d, n: make_uscc(d.region.code, n))


class WindowCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WindowCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    queue_prefix = factory.LazyFunction(lambda: _free_queue_letter())
    order = factory.Sequence(lambda n: n)


def _free_queue_letter() -> str:
    """A queue letter no category has yet, from the end of the alphabet: tests that name
    their letters use the first ones (A, B, C, D)."""
    used = set(WindowCategory.objects.values_list("queue_prefix", flat=True))
    return next((letter for letter in reversed(QUEUE_LETTERS) if letter not in used), "Z")


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hall

    name = factory.Sequence(lambda n: f"Hall {n}")
    region = factory.SubFactory(DistrictFactory)


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Window
        skip_postgeneration_save = True

    hall = factory.SubFactory(HallFactory)
    number = factory.Sequence(lambda n: f"{n % 100:02d}")

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        """`categories=[...]` sets them; by default a window serves one new category."""
        if create:
            self.categories.set(extracted if extracted is not None else [WindowCategoryFactory()])


class MembershipFactory(factory.django.DjangoModelFactory):
    """A reviewer of a department by default; the traits give the other scopes."""

    class Meta:
        model = Membership
        skip_postgeneration_save = True

    class Params:
        clerk = factory.Trait(
            role=Role.WINDOW_CLERK, department=None, hall=factory.SubFactory(HallFactory)
        )
        system_admin = factory.Trait(role=Role.SYSTEM_ADMIN, department=None)
        supervisor = factory.Trait(role=Role.SUPERVISOR, department=None)

    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER
    department = factory.SubFactory(DepartmentFactory)
    hall = None
    window = None
    region = None

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if create and extracted:
            self.categories.set(extracted)
