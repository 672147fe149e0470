"""Factories of joint handling: a theme of three items in three departments that share
materials and form fields, an enterprise applicant, the window's clerk and each
department's reviewer and head, and a walk of an application to a state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yimen.accounts.models import Applicant
from yimen.cases import services as cases
from yimen.catalog.choices import Target, ThemeCategory
from yimen.catalog.models import (
    ItemVersion,
    ScenarioOption,
    ScenarioQuestion,
    Theme,
    ThemeItem,
    ThemeStage,
)
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..cases.factories import clerk_of, enterprise, pdf
from ..catalog.factories import FieldDefinitionFactory, MaterialTypeFactory, make_item
from ..conftest import grant
from ..org.factories import DepartmentFactory, WindowCategoryFactory


def _item(department, category, materials, fields, **guide) -> ItemVersion:
    return make_item(
        department=department,
        window_category=category,
        target=Target.ENTERPRISE,
        materials=[{"material_type": t, "originals": 1, **extra} for t, extra in materials],
        form_fields=[{"field": f, "required": required} for f, required in fields],
        **guide,
    )


@dataclass
class Department:
    department: Any
    reviewer: Any
    head: Any


@dataclass
class JointScene:
    """Theme 「开办测试」: items A (two materials), B (shares 身份证明, adds 场所证明) and C
    (shares 申请书; only when the scenario answer 「需要」 is chosen). Fields: 企业名称 in all
    three, 注册资本 in A (required), 员工人数 in C."""

    theme: Theme
    versions: list[ItemVersion]
    departments: list[Department]
    applicant: Applicant
    clerk: Any
    types: dict[str, Any]
    yes: ScenarioOption
    no: ScenarioOption
    category: Any
    extra: dict = field(default_factory=dict)

    @classmethod
    def make(cls, *, denial_blocks_all: bool = False, promised_limit: int | None = 10,
             fee: bool = False, limits: tuple[int, int, int] = (3, 3, 3),
             n: int = 1) -> JointScene:  # fmt: skip
        """`limits`: each item's promised limit; `n`: which applicant (a second scene of a
        test takes another)."""
        category = WindowCategoryFactory()
        types = {
            name: MaterialTypeFactory(name=name) for name in ("申请书", "身份证明", "场所证明")
        }
        name_field = FieldDefinitionFactory(key="company_name", label="企业名称")
        capital = FieldDefinitionFactory(key="capital", label="注册资本")
        staff = FieldDefinitionFactory(key="staff_count", label="员工人数")
        departments = []
        for _n in range(3):
            department = DepartmentFactory()
            departments.append(
                Department(
                    department,
                    grant(UserFactory(), Role.REVIEWER, department=department),
                    grant(UserFactory(), Role.DEPARTMENT_HEAD, department=department),
                )
            )
        charged = {"is_free": False, "fee_amount": 50, "fee_basis": "收费依据"} if fee else {}
        versions = [
            _item(departments[0].department, category,
                  [(types["申请书"], {}), (types["身份证明"], {})],
                  [(name_field, True), (capital, True)], name="设立登记", promised_limit=limits[0],
                  **charged),
            _item(departments[1].department, category,
                  [(types["身份证明"], {}), (types["场所证明"], {})],
                  [(name_field, True)], name="印章备案", promised_limit=limits[1]),
            _item(departments[2].department, category,
                  [(types["申请书"], {})],
                  [(name_field, True), (staff, False)], name="社保登记", promised_limit=limits[2]),
        ]  # fmt: skip
        theme = Theme.objects.create(
            code=f"test-theme-{category.pk}", name="开办测试",
            category=ThemeCategory.ENTERPRISE_ACCESS,
            target=Target.ENTERPRISE, promised_limit=promised_limit,
            denial_blocks_all=denial_blocks_all, window_category=category,
        )  # fmt: skip
        theme_items = [
            ThemeItem.objects.create(theme=theme, item=v.item, order=n)
            for n, v in enumerate(versions)
        ]
        question = ScenarioQuestion.objects.create(theme=theme, text="是否招用员工？")
        yes = ScenarioOption.objects.create(question=question, text="需要", order=1)
        yes.theme_items.set([theme_items[2]])
        no = ScenarioOption.objects.create(question=question, text="不需要", order=2)
        return cls(theme, versions, departments, enterprise(n=n), clerk_of(category), types, yes,
                   no, category)  # fmt: skip

    def uploads(self, *names: str) -> list[services.SetUpload]:
        names = names or ("申请书", "身份证明", "场所证明")
        return [services.SetUpload(self.types[n], pdf(f"{n}.pdf")) for n in names]

    def apply(self, *, answers=None, uploads=None, form=None, channel=Channel.ONLINE, by=None,
              **kwargs):  # fmt: skip
        return services.theme_apply(
            applicant=self.applicant,
            theme=self.theme,
            submitted_by=by or self.applicant.user,
            channel=channel,
            answers=[self.yes.pk] if answers is None else answers,
            form_data=form
            or {"company_name": "示例科技有限公司", "capital": "100", "staff_count": "5"},
            uploads=self.uploads() if uploads is None else uploads,
            **kwargs,
        )

    def accepted(self, **kwargs):
        joint = self.apply(**kwargs)
        return services.accept(joint=joint, actor=self.clerk)

    def department_of(self, case) -> Department:
        return next(d for d in self.departments if d.department.pk == case.department_id)

    def grant(self, case):
        """Take the case along its chain (承办 → 审批) to a grant."""
        who = self.department_of(case)
        cases.review_pass(case=case, actor=who.reviewer)
        return cases.approve(case=case, actor=who.head, fee=case.item_version.fee_amount)

    def deny(self, case, reason="不符合条件"):
        who = self.department_of(case)
        cases.review_pass(case=case, actor=who.reviewer)
        return cases.deny(case=case, actor=who.head, reason=reason)


@dataclass
class StagedScene:
    """Theme 「工程测试」 in three stages: 立项 (items S1a and S1b, two departments), 许可
    (item S2) and 验收 (item S3), each in a department of its own. Every item asks for
    申请书 and 项目名称 (the form field `project_title`)."""

    theme: Theme
    stages: list[ThemeStage]
    versions: list[list[ItemVersion]]  # by stage
    departments: list[Department]
    applicant: Applicant
    clerk: Any
    material_type: Any
    category: Any

    @classmethod
    def make(cls) -> StagedScene:
        category = WindowCategoryFactory()
        material_type = MaterialTypeFactory(name="工程申请书")
        title = FieldDefinitionFactory(key="project_title", label="项目名称")
        theme = Theme.objects.create(
            code=f"test-staged-{category.pk}", name="工程测试", category=ThemeCategory.CONSTRUCTION,
            target=Target.ENTERPRISE, window_category=category,
        )  # fmt: skip
        names = [["立项用地", "规划许可"], ["施工许可"], ["竣工验收"]]
        stages, versions, departments = [], [], []
        for order, (stage_name, items) in enumerate(
            zip(("立项", "许可", "验收"), names, strict=True), 1
        ):
            stage = ThemeStage.objects.create(theme=theme, order=order, name=stage_name)
            stages.append(stage)
            in_stage = []
            for name in items:
                department = DepartmentFactory()
                departments.append(
                    Department(
                        department,
                        grant(UserFactory(), Role.REVIEWER, department=department),
                        grant(UserFactory(), Role.DEPARTMENT_HEAD, department=department),
                    )
                )
                version = _item(department, category, [(material_type, {})], [(title, True)],
                                name=name)  # fmt: skip
                ThemeItem.objects.create(theme=theme, stage=stage, item=version.item)
                in_stage.append(version)
            versions.append(in_stage)
        return cls(theme, stages, versions, departments, enterprise(), clerk_of(category),
                   material_type, category)  # fmt: skip

    def apply(self, stage: int, *, project=None, project_name="示例厂房项目", applicant=None,
              by=None):  # fmt: skip
        """Apply online for stage number `stage` (1-based)."""
        applicant = applicant or self.applicant
        return services.theme_apply(
            applicant=applicant,
            theme=self.theme,
            submitted_by=by or applicant.user,
            channel=Channel.ONLINE,
            form_data={"project_title": "示例厂房"},
            uploads=[services.SetUpload(self.material_type, pdf("工程申请书.pdf"))],
            stage=self.stages[stage - 1],
            project=project,
            project_name=project_name,
        )

    def department_of(self, case) -> Department:
        return next(d for d in self.departments if d.department.pk == case.department_id)

    def decide(self, case, *, grant: bool = True):
        who = self.department_of(case)
        cases.review_pass(case=case, actor=who.reviewer)
        if grant:
            return cases.approve(case=case, actor=who.head)
        return cases.deny(case=case, actor=who.head, reason="不符合条件")

    def granted(self, stage: int, **kwargs):
        """An application for the stage, accepted and every item of it granted."""
        joint = services.accept(joint=self.apply(stage, **kwargs), actor=self.clerk)
        for case in joint.cases.order_by("pk"):
            self.decide(case)
        joint.refresh_from_db()
        return joint
