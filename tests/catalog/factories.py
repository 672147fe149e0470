"""Factories of the catalogue. The library rows are plain factories; an item is built through
the services (`make_item`), because a version with its parts and derived data is exactly
what they exist to produce."""

from __future__ import annotations

import factory

from yimen.catalog import services
from yimen.catalog.choices import (
    FieldType,
    HandlingType,
    ItemType,
    LimitUnit,
    MaterialKind,
    OnlineDepth,
    Target,
    VersionStatus,
)
from yimen.catalog.models import FieldDefinition, ItemVersion, MaterialType
from yimen.common.choices import Channel
from yimen.org.choices import Role

from ..org.factories import DepartmentFactory


class MaterialTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"material-{n}")
    name = factory.Sequence(lambda n: f"申请材料{n}号")
    kind = MaterialKind.DOCUMENT


class FieldDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldDefinition
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"field-{n}")
    label = factory.Sequence(lambda n: f"字段{n}")
    datatype = FieldType.TEXT
    max_length = 100


def good_guide(**overrides) -> dict:
    """A guide that passes every quality rule."""
    guide = {
        "name": "个体工商户设立登记",
        "item_type": ItemType.CONFIRMATION,
        "target": Target.PERSON,
        "keywords": "开店 营业执照",
        "conditions": "申请人具有经营能力。",
        "legal_basis": ["《促进个体工商户发展条例》第八条"],
        "statutory_limit": 15,
        "statutory_unit": LimitUnit.WORKDAYS,
        "promised_limit": 3,
        "promised_unit": LimitUnit.WORKDAYS,
        "handling_type": HandlingType.PROMISED,
        "visits": 0,
        "online_depth": OnlineDepth.FULL_ONLINE,
        "online": True,
        "supervision_phone": "0757-12345",
        "consultation_phone": "0757-83030000",
        "location": "佛山市政务服务中心",
        "hours": "周一至周五 9:00–17:00",
        "flow_description": "申请 → 受理 → 审核 → 办结",
    }
    guide.update(overrides)
    return guide


_codes = iter(range(1, 10**9))


def implementation_code(department, n: int | None = None) -> str:
    n = next(_codes) if n is None else n
    return f"{department.uscc}1{n % 10**11:011d}0"


def make_item(
    *,
    department=None,
    status: str = VersionStatus.PUBLISHED,
    materials: list[dict] | None = None,
    form_fields: list[dict] | None = None,
    review_steps: list[dict] | None = None,
    actor=None,
    **guide,
) -> ItemVersion:
    """An item with one version in `status`; by default a clean, published guide with one
    material, one form field and a two-step review chain."""
    department = department or DepartmentFactory()
    if materials is None:
        materials = [{"material_type": MaterialTypeFactory(), "originals": 1}]
    if form_fields is None:
        form_fields = [{"field": FieldDefinitionFactory(), "required": True}]
    if review_steps is None:
        review_steps = [
            {"name": "承办", "role": Role.REVIEWER},
            {"name": "审批", "role": Role.DEPARTMENT_HEAD},
        ]
    version = services.item_create(
        department=department,
        implementation_code=implementation_code(department),
        guide=good_guide(**guide),
        materials=materials,
        form_fields=form_fields,
        review_steps=review_steps,
        actor=actor,
        channel=Channel.SYSTEM,
    )
    if status in (VersionStatus.PUBLISHED, VersionStatus.ARCHIVED):
        version = services.publish(version=version, actor=actor, channel=Channel.SYSTEM)
    if status == VersionStatus.ARCHIVED:
        version = services.archive(
            version=version, actor=actor, channel=Channel.SYSTEM, reason="事项取消"
        )
    return ItemVersion.objects.with_guide().get(pk=version.pk)
