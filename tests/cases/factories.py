"""Factories of the cases module: a published guide to apply under, an applicant with an
account, staff in the right scopes, and small valid files."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant
from yimen.cases import services
from yimen.catalog.choices import OnlineDepth
from yimen.common.choices import Channel
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory, make_item
from ..conftest import grant
from ..org.factories import DepartmentFactory, HallFactory, WindowCategoryFactory

PDF = b"%PDF-1.4\n% test\n"


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def guide(*, department=None, category=None, **overrides):
    """A published guide: one required and one tolerable material, one form field, and the
    chain 承办 (reviewer) → 审批 (head)."""
    department = department or DepartmentFactory()
    category = category or WindowCategoryFactory()
    materials = overrides.pop(
        "materials",
        [
            {"material_type": MaterialTypeFactory(name="申请书"), "originals": 1},
            {
                "material_type": MaterialTypeFactory(name="场所证明"),
                "tolerable": True,
                "tolerance_method": "补交原件",
                "tolerance_days": 5,
            },
        ],
    )
    return make_item(
        department=department,
        window_category=category,
        materials=materials,
        form_fields=[{"field": FieldDefinitionFactory(key="shop_name", label="店名"), "required": True}],
        online_depth=overrides.pop("online_depth", OnlineDepth.FULL_ONLINE),
        **overrides,
    )


def person(user=None, n: int = 1) -> Applicant:
    user = user or UserFactory()
    return Applicant.objects.create(
        kind=ApplicantKind.PERSON, name="张三", id_number=citizen_id(n), user=user
    )


def staff_for(version):
    """A clerk of the guide's window category, a reviewer and a head of its department."""
    hall = HallFactory()
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=hall)
    clerk.memberships.get().categories.add(version.window_category)
    clerk.__dict__.pop("_yimen_memberships", None)
    department = version.item.department
    reviewer = grant(UserFactory(), Role.REVIEWER, department=department)
    head = grant(UserFactory(), Role.DEPARTMENT_HEAD, department=department)
    return clerk, reviewer, head


def submit(version, applicant, *, uploads=None, key="", channel=Channel.ONLINE, by=None):
    materials = list(version.materials.all())
    if uploads is None:
        uploads = [services.Upload(materials[0], pdf()), services.Upload(materials[1], pdf("证明.pdf"))]
    return services.case_submit(
        applicant=applicant,
        version=version,
        submitted_by=by or applicant.user,
        channel=channel,
        form_data={"shop_name": "示例小店"},
        uploads=uploads,
        idempotency_key=key,
    )
