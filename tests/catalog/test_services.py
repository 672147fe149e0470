"""Writes of the catalogue: an item's life from its first draft to its withdrawal, each step
validated as a whole, never half-written, and audited."""

import pytest
from django.core.exceptions import ValidationError

from yimen.catalog import services
from yimen.catalog.choices import FieldType, Requirement, VersionStatus
from yimen.catalog.models import (
    FieldDefinition,
    FormField,
    ItemVersion,
    Material,
    ReviewStep,
    ServiceItem,
    Theme,
    ThemeItem,
)
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import (
    FieldDefinitionFactory,
    MaterialTypeFactory,
    good_guide,
    implementation_code,
    make_item,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return grant(UserFactory(username="catalogue-admin"), Role.CATALOGUE_ADMIN)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def fields_of(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


def steps():
    return [{"name": "承办", "role": Role.REVIEWER}, {"name": "审批", "role": Role.DEPARTMENT_HEAD}]


def status_of(version) -> str:
    return ItemVersion.objects.values_list("status", flat=True).get(pk=version.pk)


# --- item_create -------------------------------------------------------------------------------


class TestItemCreate:
    def test_creates_the_item_and_its_first_draft(self, admin):
        department = DepartmentFactory()
        licence, id_card = MaterialTypeFactory(), MaterialTypeFactory()
        name = FieldDefinitionFactory()
        code = implementation_code(department)

        version = services.item_create(
            department=department,
            implementation_code=code,
            guide=good_guide(),
            materials=[
                {"material_type": id_card, "originals": 1, "copies": 1},
                {
                    "material_type": licence,
                    "requirement": Requirement.CONDITIONAL,
                    "condition": "委托他人办理的",
                },
            ],
            form_fields=[{"field": name, "required": True}],
            review_steps=steps(),
            actor=admin,
            channel=Channel.ADMIN,
        )

        assert version.number == 1 and version.status == VersionStatus.DRAFT
        item = version.item
        assert (item.implementation_code, item.department, item.region) == (
            code,
            department,
            department.region,
        )
        assert item.basic_code == code[19:31]
        assert [(m.material_type, m.order) for m in version.materials.all()] == [
            (id_card, 1),
            (licence, 2),
        ]
        assert [f.field for f in version.form_fields.all()] == [name]
        assert [s.name for s in version.review_steps.all()] == ["承办", "审批"]
        assert version.created_by == admin
        assert version.findings == [] and " 个体工商户 " in version.search_text

        [event] = events("catalog.item.create")
        assert (event.object_type, event.object_id) == ("catalog.itemversion", str(version.pk))
        assert (event.actor, event.role, event.channel) == (admin, Role.CATALOGUE_ADMIN, "admin")
        assert event.to_state == VersionStatus.DRAFT
        assert event.payload == {"item": code, "findings": []}
        assert audit.verify() is None

    def test_the_code_is_trimmed_and_upper_cased(self, admin):
        department = DepartmentFactory()
        version = services.item_create(
            department=department,
            implementation_code=f" {department.uscc}144060400001y ",
            guide=good_guide(),
            actor=admin,
            channel=Channel.ADMIN,
        )
        assert version.item.implementation_code.endswith("44060400001Y")

    def test_the_findings_are_stored_and_audited(self, admin):
        department = DepartmentFactory()
        version = services.item_create(
            department=department,
            implementation_code=implementation_code(department),
            guide=good_guide(supervision_phone=""),
            review_steps=steps(),
            actor=admin,
            channel=Channel.ADMIN,
        )
        codes = {f["code"] for f in version.findings}
        assert codes == {"no-supervision-phone", "no-materials"}
        assert set(events("catalog.item.create")[0].payload["findings"]) == codes

    def test_every_error_is_keyed_by_its_field_and_nothing_is_written(self, admin):
        department = DepartmentFactory()
        id_card = MaterialTypeFactory()

        with pytest.raises(ValidationError) as excinfo:
            services.item_create(
                department=department,
                implementation_code=implementation_code(DepartmentFactory()),
                guide=good_guide(legal_basis="《行政许可法》", name=""),
                materials=[
                    {"material_type": id_card},
                    {"material_type": MaterialTypeFactory(), "requirement": "conditional"},
                    {"material_type": id_card},
                ],
                form_fields=[{"field": FieldDefinitionFactory(), "required": True}],
                review_steps=[{"name": "", "role": Role.REVIEWER}],
                actor=admin,
                channel=Channel.ADMIN,
            )

        assert fields_of(excinfo) == {
            "implementation_code",
            "name",
            "legal_basis",
            "materials.1.condition",
            "materials.2.material_type",
            "review_steps.0.name",
        }
        assert not ServiceItem.objects.exists() and not ItemVersion.objects.exists()
        assert not Material.objects.exists() and not FormField.objects.exists()
        assert not ReviewStep.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_an_implementation_code_is_used_once(self, admin):
        existing = make_item()
        with pytest.raises(ValidationError) as excinfo:
            services.item_create(
                department=existing.item.department,
                implementation_code=existing.item.implementation_code,
                guide=good_guide(),
                actor=admin,
                channel=Channel.ADMIN,
            )
        assert fields_of(excinfo) == {"implementation_code"}
        assert ServiceItem.objects.count() == 1


# --- draft_update -------------------------------------------------------------------------------


class TestDraftUpdate:
    def test_replaces_the_parts_given_and_keeps_the_others(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        old_fields = list(draft.form_fields.values_list("field", flat=True))
        new_type = MaterialTypeFactory()

        updated = services.draft_update(
            version=draft,
            guide={"name": "个体工商户变更登记", "promised_limit": 2},
            materials=[{"material_type": new_type, "copies": 2}],
            form_fields=None,
            review_steps=[{"name": "审核", "role": Role.REVIEWER}],
            actor=admin,
            channel=Channel.ONLINE,
        )

        assert (updated.name, updated.promised_limit) == ("个体工商户变更登记", 2)
        assert [(m.material_type, m.copies) for m in updated.materials.all()] == [(new_type, 2)]
        assert list(updated.form_fields.values_list("field", flat=True)) == old_fields
        assert [s.name for s in updated.review_steps.all()] == ["审核"]
        assert " 变更 " in updated.search_text

        [event] = events("catalog.version.update")
        assert event.payload["changes"] == {
            "name": ["个体工商户设立登记", "个体工商户变更登记"],
            "promised_limit": [3, 2],
        }
        assert event.payload["replaced"] == ["materials", "review_steps"]
        assert (event.actor, event.channel) == (admin, Channel.ONLINE)

    def test_an_empty_list_empties_a_part_and_the_findings_follow(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        updated = services.draft_update(
            version=draft, review_steps=[], actor=admin, channel=Channel.ADMIN
        )
        assert not updated.review_steps.exists()
        assert updated.materials.count() == 1
        assert [f["code"] for f in updated.findings] == ["no-review-chain"]
        assert events("catalog.version.update")[0].payload["findings"] == ["no-review-chain"]

    def test_errors_are_keyed_and_nothing_changes(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        material = draft.materials.get()

        with pytest.raises(ValidationError) as excinfo:
            services.draft_update(
                version=draft,
                guide={"name": "新名称", "is_free": False},
                materials=[
                    {"material_type": material.material_type},
                    {"material_type": MaterialTypeFactory(), "tolerable": True},
                ],
                actor=admin,
                channel=Channel.ADMIN,
            )

        assert fields_of(excinfo) == {
            "fee_basis",
            "materials.1.tolerance_days",
            "materials.1.tolerance_method",
        }
        draft.refresh_from_db()
        assert draft.name == "个体工商户设立登记"
        assert list(draft.materials.all()) == [material]
        assert not events("catalog.version.update")

    def test_a_published_version_cannot_be_changed(self, admin):
        published = make_item()
        materials = list(published.materials.all())

        with pytest.raises(ValidationError) as excinfo:
            services.draft_update(
                version=published,
                guide={"name": "改名"},
                materials=[],
                actor=admin,
                channel=Channel.ADMIN,
            )

        assert fields_of(excinfo) == {"status"}
        assert "Published" in excinfo.value.message_dict["status"][0]
        published.refresh_from_db()
        assert published.name == "个体工商户设立登记"
        assert list(published.materials.all()) == materials

    def test_an_archived_version_cannot_be_changed(self, admin):
        archived = make_item(status=VersionStatus.ARCHIVED)
        with pytest.raises(ValidationError) as excinfo:
            services.draft_update(
                version=archived, guide={"name": "改名"}, actor=admin, channel=Channel.ADMIN
            )
        assert fields_of(excinfo) == {"status"}

    def test_a_stale_copy_of_a_version_since_published_is_refused(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        services.publish(version=ItemVersion.objects.get(pk=draft.pk), actor=admin, channel="admin")
        assert draft.status == VersionStatus.DRAFT  # the caller's copy is stale

        with pytest.raises(ValidationError):
            services.draft_update(
                version=draft, guide={"name": "改名"}, actor=admin, channel=Channel.ADMIN
            )
        assert ItemVersion.objects.get(pk=draft.pk).name == "个体工商户设立登记"


# --- draft_start and draft_discard --------------------------------------------------------------


class TestDraftStart:
    def test_copies_the_guide_and_parts_of_the_version_in_force(self, admin):
        published = make_item(
            materials=[
                {"material_type": MaterialTypeFactory(), "copies": 2},
                {
                    "material_type": MaterialTypeFactory(),
                    "requirement": Requirement.CONDITIONAL,
                    "condition": "委托办理的",
                    "tolerable": True,
                    "tolerance_days": 5,
                    "tolerance_method": "窗口补交",
                },
            ],
            is_free=False,
            fee_amount=20,
            fee_basis="粤价〔2019〕12号",
            change_note="首次发布",
        )

        draft = services.draft_start(
            item=published.item, actor=admin, channel=Channel.ADMIN, change_note="调整时限"
        )

        assert (draft.number, draft.status, draft.change_note) == (2, "draft", "调整时限")
        for name in ItemVersion.GUIDE_FIELDS:
            if name != "change_note":
                assert getattr(draft, name) == getattr(published, name), name

        def parts(version, keyword, fields):
            return [
                tuple(getattr(p, f) for f in ("order", *fields))
                for p in getattr(version, keyword).all()
            ]

        for keyword, (_model, fields) in services.PARTS.items():
            assert parts(draft, keyword, fields) == parts(published, keyword, fields)
            assert not {p.pk for p in getattr(draft, keyword).all()} & {
                p.pk for p in getattr(published, keyword).all()
            }
        assert draft.findings == [] and draft.search_text == published.search_text
        assert status_of(published) == VersionStatus.PUBLISHED

        [event] = events("catalog.version.start")
        assert event.object_id == str(draft.pk) and event.payload == {"from_version": 1}
        assert event.to_state == VersionStatus.DRAFT

    def test_refused_while_a_draft_exists(self, admin):
        published = make_item()
        services.draft_start(item=published.item, actor=admin, channel=Channel.ADMIN)

        with pytest.raises(ValidationError) as excinfo:
            services.draft_start(item=published.item, actor=admin, channel=Channel.ADMIN)

        assert fields_of(excinfo) == {"status"}
        assert published.item.versions.count() == 2
        assert len(events("catalog.version.start")) == 1

    def test_a_withdrawn_item_starts_again_from_its_archived_version(self, admin):
        archived = make_item(status=VersionStatus.ARCHIVED, name="出生登记")
        draft = services.draft_start(item=archived.item, actor=admin, channel=Channel.ADMIN)
        assert (draft.number, draft.name) == (2, "出生登记")


class TestDraftDiscard:
    def test_the_first_version_takes_the_item_with_it(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        code = draft.item.implementation_code

        services.draft_discard(version=draft, actor=admin, channel=Channel.ADMIN)

        assert not ServiceItem.objects.exists() and not ItemVersion.objects.exists()
        assert not Material.objects.exists()
        [event] = events("catalog.version.discard")
        assert (event.object_type, event.object_id) == ("catalog.itemversion", str(draft.pk))
        assert event.from_state == VersionStatus.DRAFT
        assert event.payload == {"item": code, "item_deleted": True}

    def test_a_later_draft_leaves_the_version_in_force(self, admin):
        published = make_item()
        draft = services.draft_start(item=published.item, actor=admin, channel=Channel.ADMIN)

        services.draft_discard(version=draft, actor=admin, channel=Channel.ADMIN)

        assert list(published.item.versions.all()) == [published]
        assert status_of(published) == VersionStatus.PUBLISHED
        assert events("catalog.version.discard")[0].payload["item_deleted"] is False

    def test_an_item_that_a_theme_lists_is_not_removed(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        theme = Theme.objects.create(
            code="kai-ban-qi-ye", name="开办企业", category="enterprise_access", target="enterprise"
        )
        ThemeItem.objects.create(theme=theme, item=draft.item)

        with pytest.raises(ValidationError) as excinfo:
            services.draft_discard(version=draft, actor=admin, channel=Channel.ADMIN)

        assert fields_of(excinfo) == {"status"}
        assert ItemVersion.objects.filter(pk=draft.pk).exists()
        assert not events("catalog.version.discard")

    def test_only_a_draft_is_discarded(self, admin):
        published = make_item()
        with pytest.raises(ValidationError) as excinfo:
            services.draft_discard(version=published, actor=admin, channel=Channel.ADMIN)
        assert fields_of(excinfo) == {"status"}
        assert ItemVersion.objects.filter(pk=published.pk).exists()


# --- publish and archive ------------------------------------------------------------------------


class TestPublish:
    def test_publishes_a_clean_draft(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)

        published = services.publish(version=draft, actor=admin, channel=Channel.ADMIN)

        assert status_of(draft) == VersionStatus.PUBLISHED
        assert published.published_by == admin and published.published_at is not None
        [event] = events("catalog.version.publish")
        assert (event.from_state, event.to_state) == (VersionStatus.DRAFT, VersionStatus.PUBLISHED)
        assert event.payload == {"archived_version": None, "warnings": []}
        assert audit.verify() is None

    def test_a_blocking_finding_refuses_and_the_version_stays_a_draft(self, admin):
        draft = make_item(status=VersionStatus.DRAFT, legal_basis=[])

        with pytest.raises(ValidationError) as excinfo:
            services.publish(version=draft, actor=admin, channel=Channel.ADMIN)

        assert excinfo.value.message_dict["status"] == [
            "Publishing is refused: No legal basis is given"
        ]
        assert status_of(draft) == VersionStatus.DRAFT
        assert ItemVersion.objects.get(pk=draft.pk).published_at is None
        assert not events("catalog.version.publish")

    def test_warnings_do_not_stop_publishing_and_are_audited(self, admin):
        draft = make_item(status=VersionStatus.DRAFT, consultation_phone="")
        services.publish(version=draft, actor=admin, channel=Channel.ADMIN)
        assert status_of(draft) == VersionStatus.PUBLISHED
        assert events("catalog.version.publish")[0].payload["warnings"] == ["no-consultation-phone"]

    def test_the_guide_is_checked_again_when_publishing(self, admin):
        """Stored findings may be stale (a rule changed since): publish trusts only a fresh
        check."""
        draft = make_item(status=VersionStatus.DRAFT)
        ItemVersion.objects.filter(pk=draft.pk).update(supervision_phone="")

        with pytest.raises(ValidationError):
            services.publish(version=draft, actor=admin, channel=Channel.ADMIN)
        assert status_of(draft) == VersionStatus.DRAFT

    def test_returns_the_version_with_its_fresh_findings(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        ItemVersion.objects.filter(pk=draft.pk).update(consultation_phone="")

        published = services.publish(version=draft, actor=admin, channel=Channel.ADMIN)

        assert [f["code"] for f in published.findings] == ["no-consultation-phone"]

    def test_archives_the_version_in_force(self, admin):
        first = make_item()
        draft = services.draft_start(item=first.item, actor=admin, channel=Channel.ADMIN)

        services.publish(version=draft, actor=admin, channel=Channel.ADMIN)

        first.refresh_from_db()
        assert first.status == VersionStatus.ARCHIVED and first.archived_at is not None
        assert status_of(draft) == VersionStatus.PUBLISHED
        assert first.item.versions.filter(status=VersionStatus.PUBLISHED).count() == 1
        event = events("catalog.version.publish")[-1]
        assert event.object_id == str(draft.pk) and event.payload["archived_version"] == 1

    def test_publishing_the_same_draft_twice_fails_cleanly_the_second_time(self, admin):
        draft = make_item(status=VersionStatus.DRAFT)
        first_copy, second_copy = (ItemVersion.objects.get(pk=draft.pk) for _ in range(2))

        services.publish(version=first_copy, actor=admin, channel=Channel.ADMIN)
        with pytest.raises(ValidationError) as excinfo:
            services.publish(version=second_copy, actor=admin, channel=Channel.ADMIN)

        assert fields_of(excinfo) == {"status"}
        assert draft.item.versions.filter(status=VersionStatus.PUBLISHED).count() == 1
        assert len(events("catalog.version.publish")) == 1

    def test_a_published_version_is_not_published_again(self, admin):
        published = make_item()
        with pytest.raises(ValidationError):
            services.publish(version=published, actor=admin, channel=Channel.ADMIN)
        assert not events("catalog.version.publish")[1:]


class TestArchive:
    def test_withdraws_the_version_in_force(self, admin):
        published = make_item()

        archived = services.archive(
            version=published, actor=admin, channel=Channel.ADMIN, reason=" 事项取消 "
        )

        assert archived.status == VersionStatus.ARCHIVED and archived.archived_at is not None
        assert status_of(published) == VersionStatus.ARCHIVED
        [event] = events("catalog.version.archive")
        assert (event.from_state, event.to_state) == ("published", "archived")
        assert event.reason == "事项取消"

    def test_needs_a_reason(self, admin):
        published = make_item()
        with pytest.raises(ValidationError) as excinfo:
            services.archive(version=published, actor=admin, channel=Channel.ADMIN, reason="  ")
        assert fields_of(excinfo) == {"reason"}
        assert status_of(published) == VersionStatus.PUBLISHED

    @pytest.mark.parametrize("status", [VersionStatus.DRAFT, VersionStatus.ARCHIVED])
    def test_only_the_version_in_force_is_withdrawn(self, admin, status):
        version = make_item(status=status)
        with pytest.raises(ValidationError) as excinfo:
            services.archive(version=version, actor=admin, channel=Channel.ADMIN, reason="取消")
        assert fields_of(excinfo) == {"status"}
        assert status_of(version) == status


# --- the admin and the library ------------------------------------------------------------------


def test_after_admin_edit_rechecks_and_audits(admin):
    draft = make_item(status=VersionStatus.DRAFT)
    ItemVersion.objects.filter(pk=draft.pk).update(consultation_phone="")
    services.after_admin_edit(
        version=draft,
        actor=admin,
        changes={"consultation_phone": ["0757-83030000", ""]},
        parts={"materials": {"added": 1, "changed": 0, "deleted": 0}},
    )
    draft.refresh_from_db()
    assert [f["code"] for f in draft.findings] == ["no-consultation-phone"]
    [event] = events("catalog.version.update")
    assert event.channel == "admin"
    assert event.payload == {
        "changes": {"consultation_phone": ["0757-83030000", ""]},
        "parts": {"materials": {"added": 1, "changed": 0, "deleted": 0}},
        "findings": ["no-consultation-phone"],
    }


def test_after_admin_edit_records_nothing_when_nothing_changed(admin):
    draft = make_item(status=VersionStatus.DRAFT)
    services.after_admin_edit(version=draft, actor=admin, changes={}, parts={})
    assert not events("catalog.version.update")


def test_material_type_create_validates_and_audits(admin):
    with pytest.raises(ValidationError) as excinfo:
        services.material_type_create(code="bad code", name="", actor=admin, channel="admin")
    assert fields_of(excinfo) == {"code", "name"}

    created = services.material_type_create(
        code="id-card", name="居民身份证", validity_days=3650, actor=admin, channel="admin"
    )
    assert created.pk and created.name == "居民身份证"
    [event] = events("catalog.material_type.create")
    assert event.payload["fields"]["code"] == "id-card"


def test_field_definition_create_validates_and_audits(admin):
    with pytest.raises(ValidationError) as excinfo:
        services.field_definition_create(
            key="form", label="组成形式", datatype=FieldType.CHOICE, actor=admin, channel="admin"
        )
    assert fields_of(excinfo) == {"choices"}
    assert not FieldDefinition.objects.exists()

    services.field_definition_create(
        key="form",
        label="组成形式",
        datatype=FieldType.CHOICE,
        choices=["个人经营", "家庭经营"],
        actor=admin,
        channel="admin",
    )
    assert FieldDefinition.objects.get(key="form").choices == ["个人经营", "家庭经营"]
    assert len(events("catalog.field.create")) == 1


# --- the library ---------------------------------------------------------------------------------


def test_a_library_change_is_audited_and_rechecks_the_guides_that_use_it(admin):
    # Given a published guide for persons whose material is anyone's
    version = make_item()
    material_type = version.materials.get().material_type
    # When the library marks the material as a company's paper
    changes = services.library_update(
        entry=material_type,
        data={"holder_kind": "enterprise"},
        actor=admin,
        channel=Channel.ADMIN,
    )
    # Then the change is audited and the guide in force now shows the contradiction
    assert changes == {"holder_kind": ["any", "enterprise"]}
    event = AuditEvent.objects.filter(action="catalog.material_type.update").get()
    assert event.object_id == str(material_type.pk) and event.actor == admin
    version.refresh_from_db()
    assert [f["code"] for f in version.findings] == ["inconsistent-target"]


def test_an_unchanged_library_row_writes_nothing(admin):
    field = FieldDefinitionFactory(label="姓名")
    changes = services.library_update(
        entry=field, data={"label": "姓名"}, actor=admin, channel=Channel.ADMIN
    )
    assert changes == {}
    assert not AuditEvent.objects.filter(action="catalog.field.update").exists()


def test_a_bad_library_change_is_refused_whole(admin):
    field = FieldDefinitionFactory(datatype=FieldType.TEXT)
    with pytest.raises(ValidationError) as refused:
        services.library_update(
            entry=field,
            data={"datatype": FieldType.CHOICE, "label": "新名称"},
            actor=admin,
            channel=Channel.ADMIN,
        )
    assert "choices" in refused.value.message_dict
    field.refresh_from_db()
    assert field.datatype == FieldType.TEXT and field.label != "新名称"
