"""Factories of the cases module: a published guide to apply under, an applicant with an
account, staff in the right scopes, and small valid files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant
from yimen.cases import services
from yimen.cases.choices import CaseStatus, DeliveryMethod, PauseKind
from yimen.catalog.choices import OnlineDepth
from yimen.common.choices import Channel
from yimen.common.models import Clock
from yimen.org.choices import Role

from ..accounts.factories import UserFactory, citizen_id, uscc
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
        form_fields=[
            {"field": FieldDefinitionFactory(key="shop_name", label="店名"), "required": True}
        ],
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
        uploads = [
            services.Upload(materials[0], pdf()),
            services.Upload(materials[1], pdf("证明.pdf")),
        ]
    return services.case_submit(
        applicant=applicant,
        version=version,
        submitted_by=by or applicant.user,
        channel=channel,
        form_data={"shop_name": "示例小店"},
        uploads=uploads,
        idempotency_key=key,
    )


# --- added for the engine's own tests -----------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in the project's time zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


class FrozenTime:
    """`django.utils.timezone.now` held at a chosen moment (the services, the clocks, the
    audit and `localdate` all read it), moved on with `to(...)`."""

    def __init__(self, monkeypatch, moment: dt.datetime):
        self.moment = moment
        monkeypatch.setattr(timezone, "now", lambda: self.moment)

    def to(self, *args, **kwargs) -> dt.datetime:
        self.moment = at(*args, **kwargs)
        return self.moment


def enterprise(user=None, n: int = 1) -> Applicant:
    user = user or UserFactory()
    return Applicant.objects.create(
        kind=ApplicantKind.ENTERPRISE, name="示例有限公司", uscc=uscc(n), user=user
    )


def clerk_of(*categories):
    """A window clerk of a new hall who accepts the given categories."""
    clerk = grant(UserFactory(), Role.WINDOW_CLERK, hall=HallFactory())
    clerk.memberships.get().categories.add(*categories)
    clerk.__dict__.pop("_yimen_memberships", None)
    return clerk


def pdf_upload(version, index: int = 0, name: str = "材料.pdf") -> services.Upload:
    return services.Upload(list(version.materials.all())[index], pdf(name))


@dataclass
class Scene:
    """A guide, its applicant and its staff, and the way to bring a case to a state."""

    version: Any
    applicant: Applicant
    clerk: Any
    reviewer: Any
    head: Any

    @classmethod
    def make(cls, n: int = 1, **guide_overrides) -> Scene:
        version = guide(**guide_overrides)
        return cls(version, person(n=n), *staff_for(version))

    def submit(self, **kwargs):
        return submit(self.version, self.applicant, **kwargs)

    def case_at(self, status: str, **submit_kwargs):
        """A case walked through the services to `status` (in review: at the first step,
        or the last one for "in_review:last")."""
        case = self.submit(**submit_kwargs)
        if status == CaseStatus.RECEIVED:
            return case
        if status == CaseStatus.CORRECTION:
            items = [{"material": "申请书", "problem": "未签名"}]
            return services.request_correction(case=case, actor=self.clerk, items=items)
        if status == CaseStatus.NOT_ACCEPTED:
            return services.refuse(case=case, actor=self.clerk, reason="不属于本机关职权范围")
        services.accept(case=case, actor=self.clerk)
        if status == CaseStatus.IN_REVIEW:
            return case
        if status == CaseStatus.SUSPENDED:
            return services.suspend(
                case=case, actor=self.reviewer, kind=PauseKind.TESTING, reason="送检"
            )
        if status == CaseStatus.TERMINATED:
            return services.terminate(case=case, actor=self.head, reason="申请人已注销")
        if status == CaseStatus.WITHDRAWN:
            return services.withdraw(case=case, actor=self.applicant.user, reason="不再需要")
        services.review_pass(case=case, actor=self.reviewer)
        if status == "in_review:last":
            return case
        if status == CaseStatus.DENIED:
            return services.deny(case=case, actor=self.head, reason="不符合条件")
        services.approve(case=case, actor=self.head, fee=None if self.version.is_free else 1)
        if status == CaseStatus.APPROVED:
            return case
        if case.fee_amount is not None:
            services.record_fee(case=case, actor=self.clerk)
        services.produce(case=case, actor=self.reviewer)
        if status == CaseStatus.READY:
            return case
        services.deliver(case=case, actor=self.clerk, method=DeliveryMethod.WINDOW)
        if status == CaseStatus.DELIVERED:
            return case
        services.archive(case=case, actor=self.clerk)
        if status == CaseStatus.ARCHIVED:
            return case
        raise ValueError(f"no walk to {status}")


def let_acceptance_lapse(case) -> None:
    """Let the case's 5 working days for an acceptance decision run out."""
    Clock.objects.filter(pk=case.acceptance_clock_id).update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )
