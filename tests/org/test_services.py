"""Writes of the organisation app: validated as a whole, audited, never half-written."""

import pytest
from django.core.exceptions import ValidationError

from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.org import services
from yimen.org.choices import RegionLevel, Role
from yimen.org.models import Department, Hall, Membership, Region, Window
from yimen.org.roles import roles_of

from .factories import (
    CityFactory,
    DepartmentFactory,
    DistrictFactory,
    HallFactory,
    MembershipFactory,
    TownFactory,
    UserFactory,
    WindowCategoryFactory,
    WindowFactory,
    make_uscc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def system_admin():
    return MembershipFactory(system_admin=True).user


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def fields_of(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


class TestGrant:
    def test_grant_saves_and_audits(self, system_admin):
        department = DepartmentFactory()
        user = UserFactory()

        membership = services.membership_grant(
            user=user,
            role=Role.REVIEWER,
            department=department,
            granted_by=system_admin,
            channel=Channel.API,
        )

        assert membership.is_active and membership.department == department
        [event] = events("org.membership.grant")
        assert event.object_id == str(membership.pk)
        assert event.actor == system_admin and event.role == Role.SYSTEM_ADMIN
        assert event.channel == Channel.API and event.to_state == "active"
        assert event.payload["department"] == department.pk
        assert audit.verify() is None

    def test_clerk_with_window_and_categories(self, system_admin):
        category = WindowCategoryFactory()
        window = WindowFactory(categories=[category])

        membership = services.membership_grant(
            user=UserFactory(),
            role=Role.WINDOW_CLERK,
            hall=window.hall,
            window=window,
            categories=[category],
            granted_by=system_admin,
            channel=Channel.ADMIN,
        )

        assert list(membership.categories.all()) == [category]
        assert events("org.membership.grant")[0].payload["categories"] == [category.pk]

    def test_identical_active_duplicate_is_refused(self, system_admin):
        department = DepartmentFactory()
        user = UserFactory()
        grant = dict(
            user=user,
            role=Role.REVIEWER,
            department=department,
            granted_by=system_admin,
            channel=Channel.API,
        )
        services.membership_grant(**grant)

        with pytest.raises(ValidationError) as excinfo:
            services.membership_grant(**grant)

        assert "role" in fields_of(excinfo)
        assert Membership.objects.filter(user=user).count() == 1
        assert len(events("org.membership.grant")) == 1

    def test_same_role_elsewhere_or_after_revoke_is_allowed(self, system_admin):
        user = UserFactory()
        first = services.membership_grant(
            user=user,
            role=Role.REVIEWER,
            department=DepartmentFactory(),
            granted_by=system_admin,
            channel=Channel.API,
        )
        services.membership_grant(
            user=user,
            role=Role.REVIEWER,
            department=DepartmentFactory(),
            granted_by=system_admin,
            channel=Channel.API,
        )
        services.membership_revoke(
            membership=first, revoked_by=system_admin, reason="", channel=Channel.API
        )
        services.membership_grant(
            user=user,
            role=Role.REVIEWER,
            department=first.department,
            granted_by=system_admin,
            channel=Channel.API,
        )
        assert Membership.objects.filter(user=user, is_active=True).count() == 2

    @pytest.mark.parametrize(
        ("role", "scope", "field"),
        [
            (Role.REVIEWER, {}, "department"),
            (Role.WINDOW_CLERK, {}, "hall"),
            (Role.SUPERVISOR, {"hall": "hall"}, "hall"),
            (Role.REVIEWER, {"department": "department", "categories": "categories"}, "categories"),
            ("astronaut", {}, "role"),
        ],
    )
    def test_bad_scope_is_a_field_error_and_writes_nothing(self, system_admin, role, scope, field):
        made = {
            "hall": HallFactory(),
            "department": DepartmentFactory(),
            "categories": [WindowCategoryFactory()],
        }
        kwargs = {key: made[value] for key, value in scope.items()}
        before = AuditEvent.objects.count()

        with pytest.raises(ValidationError) as excinfo:
            services.membership_grant(
                user=UserFactory(),
                role=role,
                granted_by=system_admin,
                channel=Channel.API,
                **kwargs,
            )

        assert field in fields_of(excinfo)
        assert Membership.objects.exclude(role=Role.SYSTEM_ADMIN).count() == 0
        assert AuditEvent.objects.count() == before

    def test_window_of_another_hall(self, system_admin):
        with pytest.raises(ValidationError) as excinfo:
            services.membership_grant(
                user=UserFactory(),
                role=Role.WINDOW_CLERK,
                hall=HallFactory(),
                window=WindowFactory(),
                granted_by=system_admin,
                channel=Channel.API,
            )
        assert "window" in fields_of(excinfo)

    def test_disabled_account(self, system_admin):
        with pytest.raises(ValidationError) as excinfo:
            services.membership_grant(
                user=UserFactory(is_active=False),
                role=Role.SUPERVISOR,
                granted_by=system_admin,
                channel=Channel.API,
            )
        assert "user" in fields_of(excinfo)

    def test_grant_refreshes_roles_cached_on_the_user(self, system_admin):
        assert roles_of(system_admin) == {Role.SYSTEM_ADMIN}
        services.membership_grant(
            user=system_admin, role=Role.SUPERVISOR, granted_by=system_admin, channel=Channel.API
        )
        assert roles_of(system_admin) == {Role.SYSTEM_ADMIN, Role.SUPERVISOR}


class TestRevoke:
    def test_revoke_deactivates_and_audits_the_reason(self, system_admin):
        membership = MembershipFactory()

        revoked = services.membership_revoke(
            membership=membership, revoked_by=system_admin, reason="调岗", channel=Channel.ADMIN
        )

        assert revoked.is_active is False
        membership.refresh_from_db()
        assert membership.is_active is False
        [event] = events("org.membership.revoke")
        assert (event.from_state, event.to_state, event.reason) == ("active", "revoked", "调岗")
        assert event.channel == Channel.ADMIN and event.actor == system_admin

    def test_revoking_twice_is_refused(self, system_admin):
        membership = MembershipFactory()
        services.membership_revoke(
            membership=membership, revoked_by=system_admin, reason="", channel=Channel.API
        )
        with pytest.raises(ValidationError):
            services.membership_revoke(
                membership=membership, revoked_by=system_admin, reason="", channel=Channel.API
            )
        assert len(events("org.membership.revoke")) == 1

    def test_the_last_system_admin_stays(self, system_admin):
        own = system_admin.memberships.get()
        with pytest.raises(ValidationError):
            services.membership_revoke(
                membership=own, revoked_by=system_admin, reason="", channel=Channel.API
            )
        own.refresh_from_db()
        assert own.is_active

        MembershipFactory(system_admin=True)
        services.membership_revoke(
            membership=own, revoked_by=system_admin, reason="", channel=Channel.API
        )
        own.refresh_from_db()
        assert not own.is_active


class TestStructure:
    def test_region_create_audits(self, system_admin):
        city = CityFactory(code="440600000000")

        district = services.region_create(
            code="440604000000",
            name="禅城区",
            level=RegionLevel.DISTRICT,
            parent=city,
            created_by=system_admin,
            channel=Channel.API,
        )

        [event] = events("org.region.create")
        assert event.object_id == str(district.pk)
        assert event.payload["fields"]["parent"] == city.pk

    def test_region_rules_are_field_errors(self, system_admin):
        city = CityFactory()
        with pytest.raises(ValidationError) as excinfo:
            services.region_create(
                code="44060400000X",
                name="x",
                level=RegionLevel.TOWN,
                parent=city,
                created_by=system_admin,
                channel=Channel.API,
            )
        assert {"code", "level"} <= fields_of(excinfo)
        with pytest.raises(ValidationError) as excinfo:
            services.region_create(
                code=city.code,
                name="x",
                level=RegionLevel.CITY,
                created_by=system_admin,
                channel=Channel.API,
            )
        assert "code" in fields_of(excinfo)
        assert Region.objects.count() == 1

    def test_a_region_with_children_keeps_its_level(self, system_admin):
        district = TownFactory().parent
        with pytest.raises(ValidationError) as excinfo:
            services.region_update(
                region=district,
                data={"level": RegionLevel.TOWN, "parent": DistrictFactory()},
                updated_by=system_admin,
                channel=Channel.API,
            )
        assert "level" in fields_of(excinfo)

    def test_update_audits_only_real_changes(self, system_admin):
        department = DepartmentFactory(name="旧名")

        services.department_update(
            department=department,
            data={"name": "旧名"},
            updated_by=system_admin,
            channel=Channel.API,
        )
        assert events("org.department.update") == []

        services.department_update(
            department=department,
            data={"name": "新名", "is_active": False},
            updated_by=system_admin,
            channel=Channel.API,
        )
        [event] = events("org.department.update")
        assert event.payload["changes"] == {"name": ["旧名", "新名"], "is_active": [True, False]}
        department.refresh_from_db()
        assert department.name == "新名" and not department.is_active

    def test_department_uscc_is_normalised_and_checked(self, system_admin):
        region = DistrictFactory()
        code = make_uscc(region.code, 42)

        department = services.department_create(
            name="x",
            uscc=f" {code[:9].lower()} {code[9:]} ",
            region=region,
            created_by=system_admin,
            channel=Channel.API,
        )
        assert department.uscc == code

        with pytest.raises(ValidationError) as excinfo:
            services.department_create(
                name="y", uscc=code, region=region, created_by=system_admin, channel=Channel.API
            )
        assert "uscc" in fields_of(excinfo)

    def test_departments_do_not_loop(self, system_admin):
        top = DepartmentFactory()
        middle = DepartmentFactory(parent=top)
        bottom = DepartmentFactory(parent=middle)
        with pytest.raises(ValidationError) as excinfo:
            services.department_update(
                department=top,
                data={"parent": bottom},
                updated_by=system_admin,
                channel=Channel.API,
            )
        assert "parent" in fields_of(excinfo)
        assert top.parent is None  # the refused change is not left on the object either

    def test_window_number_clash_is_a_field_error(self, system_admin):
        window = WindowFactory(number="01")
        with pytest.raises(ValidationError) as excinfo:
            services.window_create(
                hall=window.hall,
                number="01",
                categories=[WindowCategoryFactory()],
                created_by=system_admin,
                channel=Channel.API,
            )
        assert fields_of(excinfo) == {"number"}
        assert Window.objects.count() == 1

    def test_window_needs_a_category_and_stays_in_its_hall(self, system_admin):
        hall = HallFactory()
        with pytest.raises(ValidationError) as excinfo:
            services.window_create(
                hall=hall, number="01", categories=[], created_by=system_admin, channel=Channel.API
            )
        assert "categories" in fields_of(excinfo)
        assert not Window.objects.exists()

        window = WindowFactory(hall=hall)
        with pytest.raises(ValidationError) as excinfo:
            services.window_update(
                window=window, data={"hall": HallFactory()}, updated_by=system_admin, channel="api"
            )
        assert "hall" in fields_of(excinfo)

    def test_window_categories_change_is_audited(self, system_admin):
        old, new = WindowCategoryFactory(), WindowCategoryFactory()
        window = WindowFactory(categories=[old])

        services.window_update(
            window=window, data={"categories": [new]}, updated_by=system_admin, channel="api"
        )

        assert list(window.categories.all()) == [new]
        [event] = events("org.window.update")
        assert event.payload["changes"] == {"categories": [[old.pk], [new.pk]]}

    def test_unknown_fields_are_a_programming_error(self, system_admin):
        with pytest.raises(TypeError):
            services.hall_update(
                hall=HallFactory(), data={"pk": 5}, updated_by=system_admin, channel="api"
            )

    def test_category_prefix_is_upper_case(self, system_admin):
        category = services.window_category_create(
            code="personal",
            name="个人办事",
            queue_prefix="a",
            created_by=system_admin,
            channel=Channel.API,
        )
        assert category.queue_prefix == "A"

    def test_nothing_half_written_when_audit_fails(self, system_admin, monkeypatch):
        def broken(**kwargs):
            raise RuntimeError("audit store down")

        monkeypatch.setattr(audit, "record", broken)
        with pytest.raises(RuntimeError):
            services.hall_create(
                name="x", region=DistrictFactory(), created_by=system_admin, channel="api"
            )
        with pytest.raises(RuntimeError):
            services.membership_grant(
                user=UserFactory(),
                role=Role.REVIEWER,
                department=DepartmentFactory(),
                granted_by=system_admin,
                channel="api",
            )
        assert not Hall.objects.exists()
        assert not Membership.objects.filter(role=Role.REVIEWER).exists()
        assert Department.objects.count() == 1


class TestAdminGoesThroughTheServices:
    """The admin is one more caller of the services: same rules, same audit trail."""

    @pytest.fixture
    def site(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        return client

    @pytest.mark.parametrize(
        "model", ["region", "department", "windowcategory", "hall", "window", "membership"]
    )
    def test_pages_render(self, site, model):
        MembershipFactory(clerk=True, window=None)
        WindowFactory()
        assert site.get(f"/admin/org/{model}/").status_code == 200
        assert site.get(f"/admin/org/{model}/add/").status_code == 200

    def test_adding_a_membership_grants_it(self, site):
        user, department = UserFactory(), DepartmentFactory()
        form = {"user": user.pk, "role": Role.REVIEWER, "department": department.pk}

        response = site.post("/admin/org/membership/add/", form)

        assert response.status_code == 302
        membership = Membership.objects.get(user=user)
        [event] = events("org.membership.grant")
        assert event.object_id == str(membership.pk) and event.channel == Channel.ADMIN

        response = site.post("/admin/org/membership/add/", form)
        assert response.status_code == 200  # the form again, with the duplicate explained
        assert response.context["adminform"].form.errors["role"]
        assert Membership.objects.filter(user=user).count() == 1

    def test_revoke_action(self, site):
        membership = MembershipFactory()
        response = site.post(
            "/admin/org/membership/",
            {"action": "revoke_selected", "_selected_action": [membership.pk]},
        )
        assert response.status_code == 302
        membership.refresh_from_db()
        assert not membership.is_active
        assert events("org.membership.revoke")[0].channel == Channel.ADMIN

    def test_memberships_are_not_deleted(self, site):
        membership = MembershipFactory()
        assert site.get(f"/admin/org/membership/{membership.pk}/delete/").status_code == 403

    def test_windows_edited_on_the_hall_page_are_audited(self, site):
        hall, category = HallFactory(), WindowCategoryFactory()
        form = {
            "name": hall.name,
            "region": hall.region.pk,
            "is_active": "on",
            "windows-TOTAL_FORMS": "1",
            "windows-INITIAL_FORMS": "0",
            "windows-0-number": "03",
            "windows-0-categories": [category.pk],
            "windows-0-is_active": "on",
        }
        response = site.post(f"/admin/org/hall/{hall.pk}/change/", form)
        assert response.status_code == 302, response.context["adminform"].form.errors
        window = hall.windows.get()
        event = AuditEvent.objects.get(object_type="org.window")
        assert (event.action, event.object_id) == ("admin.add", str(window.pk))

    def test_region_rules_hold_in_the_admin(self, site):
        district = TownFactory().parent
        form = {
            "code": district.code,
            "name": district.name,
            "level": RegionLevel.TOWN,
            "parent": DistrictFactory().pk,
        }
        response = site.post(f"/admin/org/region/{district.pk}/change/", form)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["level"]

    def test_changing_a_scope_in_the_admin_is_checked_and_audited(self, site):
        membership = MembershipFactory()
        taken = MembershipFactory(user=membership.user).department
        url = f"/admin/org/membership/{membership.pk}/change/"

        response = site.post(url, {"department": taken.pk})
        assert response.status_code == 200
        # The role is read-only on this page, so the duplicate is a form-wide error.
        assert response.context["adminform"].form.non_field_errors()

        other = DepartmentFactory()
        assert site.post(url, {"department": other.pk}).status_code == 302
        membership.refresh_from_db()
        assert membership.department == other and membership.role == Role.REVIEWER
        event = AuditEvent.objects.filter(object_id=str(membership.pk)).latest("pk")
        assert event.action == "admin.change" and "department" in event.payload["fields"]
