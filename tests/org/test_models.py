"""The rules the organisation models enforce themselves (full_clean)."""

import pytest
from django.core.exceptions import ValidationError

from yimen.org.choices import RegionLevel, Role
from yimen.org.models import Department, Membership, Region

from .factories import (
    CityFactory,
    DepartmentFactory,
    DistrictFactory,
    HallFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    WindowFactory,
    make_uscc,
)

pytestmark = pytest.mark.django_db


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


class TestRegion:
    def test_factories_build_a_valid_chain(self):
        village = VillageFactory()
        town, district = village.parent, village.parent.parent
        city = district.parent
        for region in (city, district, town, village):
            region.full_clean()
        assert [r.level for r in (city, district, town, village)] == [1, 2, 3, 4]
        assert village.code.startswith(town.code[:9]) and town.code.startswith(district.code[:6])
        assert district.prefix == district.code[:6]

    def test_only_a_city_has_no_parent(self):
        region = Region(code="440604000000", name="禅城区", level=RegionLevel.DISTRICT)
        with pytest.raises(ValidationError) as excinfo:
            region.full_clean()
        assert "parent" in error_fields(excinfo)

    def test_level_is_one_below_the_parent(self):
        city = CityFactory()
        region = Region(code="440604001000", name="祖庙街道", level=RegionLevel.TOWN, parent=city)
        with pytest.raises(ValidationError) as excinfo:
            region.full_clean()
        assert "level" in error_fields(excinfo)

    @pytest.mark.parametrize("code", ["44060400000", "4406040000001", "44060400000A"])
    def test_code_is_twelve_digits(self, code):
        with pytest.raises(ValidationError) as excinfo:
            Region(code=code, name="x", level=RegionLevel.CITY).full_clean()
        assert "code" in error_fields(excinfo)

    def test_a_child_code_nests_in_its_parents(self):
        district = DistrictFactory()
        province = "32" if not district.code.startswith("32") else "44"
        foreign = province + district.code[2:6] + "001000"
        town = Region(code=foreign, name="外地街道", level=RegionLevel.TOWN, parent=district)
        with pytest.raises(ValidationError) as excinfo:
            town.full_clean()
        assert district.code[:6] in " ".join(excinfo.value.message_dict["code"])
        town.code = district.code[:6] + "001000"
        town.full_clean()

    def test_digits_below_the_level_are_zero(self):
        city = CityFactory()
        district = Region(
            code=city.code[:4] + "04000001", name="禅城区", level=RegionLevel.DISTRICT, parent=city
        )
        with pytest.raises(ValidationError) as excinfo:
            district.full_clean()
        assert "code" in error_fields(excinfo)

    def test_a_region_with_sub_regions_keeps_its_level(self):
        district = TownFactory().parent
        district.level, district.parent = RegionLevel.TOWN, DistrictFactory()
        with pytest.raises(ValidationError) as excinfo:
            district.full_clean()
        assert "level" in error_fields(excinfo)


class TestWindowCategory:
    def test_queue_letters_are_unique_capitals(self):
        from yimen.org.models import WindowCategory

        WindowCategory.objects.create(code="personal", name="个人办事", queue_prefix="A")
        for prefix in ("A", "a1"):
            with pytest.raises(ValidationError) as excinfo:
                WindowCategory(code="other", name="其他", queue_prefix=prefix).full_clean()
            assert "queue_prefix" in error_fields(excinfo)


class TestDepartment:
    def test_a_department_cannot_sit_under_itself(self):
        top = DepartmentFactory()
        child = DepartmentFactory(parent=top)
        top.parent = child
        with pytest.raises(ValidationError) as excinfo:
            top.full_clean()
        assert "parent" in error_fields(excinfo)

    def test_valid_uscc(self):
        DepartmentFactory().full_clean()

    def test_wrong_check_character(self):
        region = DistrictFactory()
        good = make_uscc(region.code, 7)
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        department = Department(name="x", uscc=bad, region=region)
        with pytest.raises(ValidationError) as excinfo:
            department.full_clean()
        assert "uscc" in error_fields(excinfo)

    @pytest.mark.parametrize("uscc", ["91440604MA4UXXXXX", "91440604MA4UXXXXXI"])
    def test_wrong_length_or_alphabet(self, uscc):
        department = Department(name="x", uscc=uscc, region=DistrictFactory())
        with pytest.raises(ValidationError) as excinfo:
            department.full_clean()
        assert "uscc" in error_fields(excinfo)


class TestMembershipScope:
    def test_department_role_needs_a_department(self):
        membership = Membership(user=UserFactory(), role=Role.REVIEWER)
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "department" in error_fields(excinfo)

    def test_window_clerk_needs_a_hall(self):
        membership = Membership(user=UserFactory(), role=Role.WINDOW_CLERK)
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "hall" in error_fields(excinfo)

    def test_only_window_clerks_get_a_hall(self):
        membership = Membership(
            user=UserFactory(), role=Role.SUPERVISOR, hall=HallFactory(), region=TownFactory()
        )
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "hall" in error_fields(excinfo)

    def test_window_must_be_in_the_hall(self):
        membership = Membership(
            user=UserFactory(), role=Role.WINDOW_CLERK, hall=HallFactory(), window=WindowFactory()
        )
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "window" in error_fields(excinfo)

    def test_only_supervisors_are_limited_to_a_region(self):
        membership = Membership(
            user=UserFactory(),
            role=Role.REVIEWER,
            department=DepartmentFactory(),
            region=CityFactory(),
        )
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "region" in error_fields(excinfo)
        Membership(user=UserFactory(), role=Role.SUPERVISOR, region=CityFactory()).full_clean()

    def test_fitting_scopes_pass(self):
        window = WindowFactory()
        Membership(
            user=UserFactory(), role=Role.WINDOW_CLERK, hall=window.hall, window=window
        ).full_clean()
        Membership(
            user=UserFactory(), role=Role.DEPARTMENT_HEAD, department=DepartmentFactory()
        ).full_clean()
        Membership(user=UserFactory(), role=Role.SUPERVISOR).full_clean()
