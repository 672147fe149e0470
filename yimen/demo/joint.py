"""The demo joint applications (主题式联审联办), walked through yimen.joint.services and
yimen.cases.services like the demo cases (yimen.demo.cases): each story is a list of steps,
`ago` working days before the load's day at a time of day, taken in time order with
`django.utils.timezone.now` held at each step's moment.

- 开办企业 (start-business), three new companies:
  - 佛山市示例新材料有限公司 (login `newco`) applies online with invoices and employees (six
    items, six departments); the enterprise window accepts; the market and the tax
    departments ask for corrections, sent in ONE notice; the company resubmits once;
    every department grants along its chain; every result is issued at once (多证同发),
    delivered at the window in one delivery and rated.
  - another applies at the window and is in review: some departments have granted, the
    others are still at work (the parallel progress).
  - a third applied at the window yesterday evening and waits for the clerk's acceptance.
- 社会投资工程建设项目审批 (construction-project): a developer (login `developer`) and its
  project: stages 1 and 2 granted and delivered; stage 3 accepted, the housing department
  asked for corrections and the notice went out; stage 4 is not open yet (the project page
  says why).

The companies apply with files for everything the set asks; what an item of the same
application issues (the 营业执照 of 设立登记) is not asked (services.application_merge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.core.files.base import ContentFile
from django.utils import timezone

from yimen.accounts import services as account_services
from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.cases import services as cases
from yimen.cases.choices import DeliveryMethod
from yimen.cases.models import Case
from yimen.catalog.choices import FieldType
from yimen.catalog.models import ItemVersion, MaterialType, Theme
from yimen.catalog.selectors import Merge, answers_given, theme_plan, theme_with_items
from yimen.common.choices import Channel
from yimen.joint import services
from yimen.joint.models import JointCase, Project
from yimen.licences import selectors as licence_selectors
from yimen.licences.models import Licence

from . import catalogue, city
from .cases import identifier, moment, sample_pdf

APPLICANT = "applicant"  # the step is the applicant's own (online)
KEY_PREFIX = "demo-joint-"


@dataclass(frozen=True)
class Enterprise:
    """A company of the joint stories: (name, district, legal representative — a demo
    person —, phone, login or None). `serial` numbers its credit code after the city's."""

    name: str
    region6: str
    representative: str
    phone: str
    username: str | None
    serial: int

    @property
    def uscc(self) -> str:
        return city.demo_uscc(self.region6, self.serial, kind="91")


NEWCO = "佛山市示例新材料有限公司"
EQUIPMENT = "佛山市南海区示例智能装备有限公司"
CATERING = "佛山市顺德区示例餐饮管理有限公司"
DEVELOPER = "佛山市禅城区示例置业发展有限公司"

ENTERPRISES = [
    Enterprise(NEWCO, "440604", "陈示例", "13900000101", "newco", 101),
    Enterprise(EQUIPMENT, "440605", "沈虚构", "13900000102", None, 102),
    Enterprise(CATERING, "440606", "卫演示", "13900000103", None, 103),
    Enterprise(DEVELOPER, "440604", "蒋样本", "13900000104", "developer", 104),
]


@dataclass(frozen=True)
class Step:
    """One action: `ago` working days before the load's day at `at`, by a demo login or
    the applicant. `item` (a catalogue key) names the case of the application the step is
    taken on; without it the step is the application's. `files` (library codes) become
    uploads, correction `items` are (code, problem) pairs."""

    ago: int
    at: str
    action: str
    by: str
    args: dict[str, Any]


def step(ago: int, at: str, action: str, by: str = APPLICANT, **args) -> Step:
    return Step(ago, at, action, by, args)


@dataclass(frozen=True)
class Story:
    """An application: the theme (code), the applicant, the scenario answers (one option
    text per question, in order), the stage (its order) and the project (the story whose
    application opened it, or the new project's name for a first stage), form values
    beyond the samples and the applicant's own, and the steps; the first applies (online
    when the applicant's own, else at a window)."""

    key: str
    theme: str
    applicant: str
    answers: tuple[str, ...]
    steps: tuple[Step, ...]
    stage: int | None = None
    project_of: str = ""
    project_name: str = ""
    form: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"{KEY_PREFIX}{self.key}"


START = "start-business"
BUILD = "construction-project"
WITH_EVERYTHING = ("需要", "是，同时办理社保和公积金登记")
MARKET_OK = "材料齐全，符合法定条件和标准。"
PROJECT = "禅城区示例科创园一期项目"
SITE = "佛山市禅城区南庄镇示例科创园地块（示例地址）"
STAGE_ANSWERS = ("是", "否", "是")  # special fire design; no road works; waste carted off

STORIES = [
    Story(
        "start-business-delivered",
        START,
        NEWCO,
        WITH_EVERYTHING,
        (
            step(4, "16:30", "apply"),
            step(3, "09:10", "accept", "clerk_biz"),
            step(3, "09:40", "approve", "reviewer_hr", item="employer-social-insurance",
                 reason="单位参保登记信息完整，准予登记。"),
            step(3, "10:00", "ask_correction", "reviewer", item="company-setup",
                 items=[("lease-contract", "租赁合同未附出租方的不动产权属证明复印件。")]),
            step(3, "10:15", "ask_correction", "reviewer_tax", item="invoice",
                 items=[("application-form-invoice", "未填写发票领用经办人及其身份证件号码。")]),
            step(3, "10:30", "approve", "reviewer_police", item="seal-filing",
                 reason="印章刻制备案信息完整，准予备案。"),
            step(3, "10:45", "send_corrections", "clerk_biz"),
            step(3, "11:30", "resubmit", files=["lease-contract", "application-form-invoice"]),
            step(3, "14:00", "review_pass", "reviewer", item="company-setup", opinion=MARKET_OK),
            step(3, "14:30", "approve", "head", item="company-setup",
                 reason="符合《中华人民共和国市场主体登记管理条例》规定的登记条件，准予设立登记。"),
            step(3, "14:40", "approve", "reviewer_tax", item="invoice",
                 reason="经办人信息已补正，准予领用数电发票。"),
            step(3, "15:00", "approve", "reviewer_fund", item="fund-registration",
                 reason="准予住房公积金单位缴存登记。"),
            step(3, "15:20", "approve", "reviewer_bank", item="bank-account-appointment",
                 reason="已预约基本存款账户开户。"),
            step(2, "10:00", "deliver", "clerk_biz", method=DeliveryMethod.WINDOW),
            step(2, "18:30", "evaluate", rating=5,
                 comment="一张表、一套材料，补正一次，一天就拿齐了执照、印章备案和发票。"),
        ),
        form={"business_scope": "新型建筑材料、陶瓷新材料的研发、生产和销售。"},
    ),
    Story(
        "start-business-in-review",
        START,
        EQUIPMENT,
        WITH_EVERYTHING,
        (
            step(1, "09:20", "apply", "clerk_biz"),
            step(1, "09:40", "accept", "clerk_biz"),
            step(1, "10:30", "approve", "reviewer_police", item="seal-filing",
                 reason="印章刻制备案信息完整，准予备案。"),
            step(1, "11:00", "approve", "reviewer_hr", item="employer-social-insurance",
                 reason="单位参保登记信息完整，准予登记。"),
            step(1, "14:00", "review_pass", "reviewer", item="company-setup", opinion=MARKET_OK),
            step(1, "15:00", "approve", "reviewer_bank", item="bank-account-appointment",
                 reason="已预约基本存款账户开户。"),
        ),
        form={"business_scope": "智能装备、工业机器人的研发、制造和销售。"},
    ),
    Story(
        "start-business-received",
        START,
        CATERING,
        ("需要", "暂不招用"),
        (step(1, "16:50", "apply", "clerk_biz"),),
        form={"business_scope": "餐饮管理；餐饮服务。"},
    ),
    Story(
        "construction-stage-1",
        BUILD,
        DEVELOPER,
        STAGE_ANSWERS,
        (
            step(30, "09:30", "apply"),
            step(29, "10:00", "accept", "clerk_build"),
            step(29, "14:00", "approve", "reviewer_dev", item="investment-filing",
                 reason="项目信息完整，予以备案。"),
            step(28, "10:00", "review_pass", "reviewer_land", item="site-selection",
                 opinion="选址符合国土空间规划。"),
            step(28, "11:00", "review_pass", "reviewer_land", item="land-planning-permit",
                 opinion="用地范围与红线图一致。"),
            step(27, "10:00", "review_pass", "reviewer_land", item="site-selection",
                 opinion="同意。"),
            step(27, "11:00", "review_pass", "reviewer_land", item="land-planning-permit",
                 opinion="同意。"),
            step(26, "15:00", "approve", "head_land", item="site-selection",
                 reason="符合用地预审和选址要求，核发用地预审与选址意见书。"),
            step(26, "15:30", "approve", "head_land", item="land-planning-permit",
                 reason="符合国土空间规划，核发建设用地规划许可证。"),
            step(25, "10:00", "deliver", "clerk_build", method=DeliveryMethod.POST,
                 tracking_number="1100843729601"),
            step(23, "20:00", "evaluate", rating=5,
                 comment="三个事项一次申请，五个工作日就办完了。"),
        ),
        stage=1,
        project_name=PROJECT,
        form={"construction_site": SITE},
    ),
    Story(
        "construction-stage-2",
        BUILD,
        DEVELOPER,
        STAGE_ANSWERS,
        (
            step(20, "09:30", "apply"),
            step(20, "11:00", "accept", "clerk_build"),
            step(19, "10:00", "review_pass", "reviewer_land", item="construction-planning-permit",
                 opinion="设计方案符合规划条件。"),
            step(19, "15:00", "review_pass", "reviewer_eco", item="eia-approval",
                 opinion="环境影响报告表编制规范。"),
            step(18, "10:00", "review_pass", "reviewer_land", item="construction-planning-permit",
                 opinion="同意。"),
            step(17, "10:00", "review_pass", "reviewer_eco", item="eia-approval",
                 opinion="技术评估意见已落实，同意。"),
            step(16, "15:00", "approve", "head_land", item="construction-planning-permit",
                 reason="符合控制性详细规划和规划条件，核发建设工程规划许可证。"),
            step(15, "16:00", "approve", "head_eco", item="eia-approval",
                 reason="项目符合生态环境准入要求，批准环境影响报告表。"),
            step(14, "10:00", "deliver", "clerk_build", method=DeliveryMethod.ELECTRONIC),
        ),
        stage=2,
        project_of="construction-stage-1",
        form={"construction_site": SITE},
    ),
    Story(
        "construction-stage-3",
        BUILD,
        DEVELOPER,
        STAGE_ANSWERS,
        (
            step(4, "09:30", "apply"),
            step(4, "10:30", "accept", "clerk_build"),
            step(3, "10:00", "review_pass", "reviewer_build", item="fire-design-review",
                 opinion="消防设计文件齐全，特殊消防设计待专家评审意见。"),
            step(3, "11:00", "ask_correction", "reviewer_build", item="construction-permit",
                 items=[
                     ("construction-contract",
                      "施工合同未加盖施工单位公章，合同价款与申请表不一致。"),
                     ("funding-commitment", "建设资金落实承诺书未经法定代表人签字。"),
                 ]),
            step(3, "15:00", "review_pass", "reviewer_urban", item="construction-waste",
                 opinion="处置方案和消纳场所合同齐全。"),
            step(2, "10:00", "approve", "head_urban", item="construction-waste",
                 reason="符合城市建筑垃圾处置核准条件，准予核准。"),
            step(2, "11:00", "send_corrections", "clerk_build"),
        ),
        stage=3,
        project_of="construction-stage-1",
        form={"construction_site": SITE},
    ),
]  # fmt: skip


# --- walking the stories --------------------------------------------------------------------------


def load(versions: Mapping[str, ItemVersion]) -> dict[str, int]:
    """The joint stories' companies, then every story not loaded yet (its idempotency key
    marks it), all steps in time order. `versions` are the guides in force by catalogue
    key. Returns how many rows of each kind were created."""
    created = _enterprises()
    loaded = set(
        JointCase.objects.filter(idempotency_key__startswith=KEY_PREFIX).values_list(
            "idempotency_key", flat=True
        )
    )
    todo = [s for s in STORIES if s.idempotency_key not in loaded]
    today = timezone.localdate()
    plan = sorted((at, n, m) for n, s in enumerate(todo) for m, at in enumerate(_moments(s, today)))
    counts = (Project.objects.count(), Licence.objects.count())
    walk = _Walk(versions)
    with mock.patch("django.utils.timezone.now") as now:
        for at, n, m in plan:
            now.return_value = at
            walk.take(todo[n], todo[n].steps[m])
    created["applications"] = len(todo)
    created["projects"] = Project.objects.count() - counts[0]
    created["licences"] = Licence.objects.count() - counts[1]
    return created


def _enterprises() -> dict[str, int]:
    """The companies of the stories, with their logins: like the city's applicants."""
    created = {"logins": 0, "applicants": 0}
    for enterprise in ENTERPRISES:
        if Applicant.objects.filter(uscc=enterprise.uscc).exists():
            continue
        user = None
        if enterprise.username:
            user = User.objects.filter(username=enterprise.username).first()
            if user is None:
                user = account_services.staff_account_create(
                    username=enterprise.username,
                    full_name=enterprise.name,
                    password=city.DEMO_PASSWORD,
                    channel=Channel.SYSTEM,
                )
                created["logins"] += 1
        account_services.applicant_register(
            kind=ApplicantKind.ENTERPRISE,
            name=enterprise.name,
            uscc=enterprise.uscc,
            legal_representative=enterprise.representative,
            phone=enterprise.phone,
            user=user,
            channel=Channel.SYSTEM,
        )
        created["applicants"] += 1
    return created


def _moments(story: Story, today) -> list:
    moments = [moment(today, st.ago, st.at) for st in story.steps]
    if (
        story.steps[0].action != "apply"
        or moments != sorted(moments)
        or any(st.ago < 1 for st in story.steps)
    ):
        raise ValueError(f"demo application {story.key}: apply first, in time order, before today")
    return moments


class _Walk:
    """Takes the steps, remembering the applications, logins and applicants it has met."""

    JOINT_STEPS = ("accept", "send_corrections", "resubmit", "deliver", "evaluate")
    CASE_STEPS = ("review_pass", "approve", "ask_correction")

    def __init__(self, versions: Mapping[str, ItemVersion]):
        self.versions = versions
        self.users: dict[str, User] = {}
        self.joints = {
            j.idempotency_key.removeprefix(KEY_PREFIX): j
            for j in JointCase.objects.filter(idempotency_key__startswith=KEY_PREFIX)
        }

    def user(self, username: str) -> User:
        if username not in self.users:
            self.users[username] = User.objects.get(username=username)
        return self.users[username]

    def take(self, story: Story, step: Step) -> None:
        applicant = _applicant(story.applicant)
        actor = applicant.user if step.by == APPLICANT else self.user(step.by)
        channel = Channel.ONLINE if step.by == APPLICANT else Channel.WINDOW
        if step.action == "apply":
            self.joints[story.key] = self._apply(story, applicant, actor, channel)
            return
        joint = self.joints[story.key]
        args = dict(step.args)
        if step.action in self.CASE_STEPS:
            case = joint.cases.get(item_version=self.versions[args.pop("item")])
            if step.action == "ask_correction":
                args["items"] = _case_items(case, args["items"])
            getattr(cases, step.action)(case=case, actor=actor, **args)
        elif step.action in self.JOINT_STEPS:
            if codes := args.pop("files", None):
                args["uploads"] = _uploads(_types(codes))
            if step.action in ("resubmit", "evaluate"):
                args["channel"] = channel
            getattr(services, step.action)(joint=joint, actor=actor, **args)
        else:
            raise ValueError(f"demo application {story.key}: no step {step.action}")

    def _apply(self, story: Story, applicant: Applicant, actor: User, channel: str) -> JointCase:
        theme = Theme.objects.get(code=story.theme)
        stage = theme.stages.get(order=story.stage) if story.stage else None
        project = self.joints[story.project_of].project if story.project_of else None
        merge = _stage_merge(theme, story.answers, stage)
        form = dict(story.form)
        licensed = licence_selectors.replacing(
            applicant, {m.material_type.pk for m in merge.materials}
        )
        given = [
            m.material_type
            for m in merge.materials
            if m.required and m.material_type.pk not in licensed
        ]
        return services.theme_apply(
            applicant=applicant,
            theme=theme,
            submitted_by=actor,
            channel=channel,
            answers=_answer_ids(theme, story.answers),
            form_data=merged_form(merge, applicant, form),
            uploads=_uploads(given),
            originals=given if channel == Channel.WINDOW else (),
            stage=stage,
            project=project,
            project_name=story.project_name if project is None else "",
            idempotency_key=story.idempotency_key,
        )


def _applicant(name: str) -> Applicant:
    enterprise = next(e for e in ENTERPRISES if e.name == name)
    return Applicant.objects.select_related("user").get(uscc=enterprise.uscc)


def _answer_ids(theme: Theme, answers: tuple[str, ...]) -> list[int]:
    questions = list(theme.questions.prefetch_related("options"))
    if len(questions) != len(answers):
        raise ValueError(f"{theme.code}: one answer per question")
    return [
        next(o.pk for o in question.options.all() if o.text == text)
        for question, text in zip(questions, answers, strict=True)
    ]


def _stage_merge(theme: Theme, answers: tuple[str, ...], stage) -> Merge:
    """The merged form and material set of the items the answers select (in the stage)."""
    theme = theme_with_items(theme)
    plan = theme_plan(theme, answers_given(theme, _answer_ids(theme, answers)))
    whole = next(p.merge for p in plan.stages if (p.stage and p.stage.pk) == (stage and stage.pk))
    return services.application_merge(whole, staged=stage is not None)


def _types(codes) -> list[MaterialType]:
    by_code = MaterialType.objects.in_bulk(codes, field_name="code")
    return [by_code[code] for code in codes]


def _uploads(types) -> list[services.SetUpload]:
    return [
        services.SetUpload(t, ContentFile(sample_pdf(t.name), name=f"{t.name}.pdf")) for t in types
    ]


def _case_items(case: Case, items) -> list[dict]:
    """Correction items by library code → the materials of the case's guide."""
    by_code = {m.material_type.code: m for m in case.item_version.materials.all()}
    return [{"material": by_code[code].pk, "problem": problem} for code, problem in items]


def merged_form(merge: Merge, applicant: Applicant, extra: Mapping[str, Any]) -> dict:
    """The one form filled in: the catalogue's sample values, the company's own name,
    code, representative and phone, then the story's values."""
    samples = {key: sample for key, _l, _t, _h, _o, sample in catalogue.FIELDS}
    data = {}
    for merged in merge.fields:
        key, kind = merged.field.key, merged.field.datatype
        data[key] = samples[key].split("、") if kind == FieldType.MULTICHOICE else samples[key]
    own = {
        "applicant_name": applicant.name,
        "enterprise_name": applicant.name,
        "uscc": applicant.uscc,
        "legal_representative": applicant.legal_representative,
        "legal_representative_id": identifier(applicant.legal_representative),
        "contact_mobile": applicant.phone,
    }
    data |= {key: value for key, value in own.items() if key in data and value}
    return data | {key: value for key, value in extra.items() if key in data}
