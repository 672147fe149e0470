"""The demo cases: a few dozen applications of the demo city, each a story of steps (who did
what, how many working days ago), walked through yimen.cases.services so that every list has
cases in every state and every document exists.

The steps of all stories run in time order with `django.utils.timezone.now` held at each
step's moment, so the clocks, the documents and the audit chain tell the same story and the
lights differ: a case accepted yesterday is green, one due today yellow, one left too long
red. Times count back from the day of the load, in working days, so a fresh load always
shows the same picture.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from unittest import mock

from django.core.files.base import ContentFile
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from yimen.accounts.models import Applicant, User
from yimen.accounts.selectors import applicant_by_identifier
from yimen.cases import services
from yimen.cases.choices import DeliveryMethod, PauseKind
from yimen.cases.models import Case
from yimen.cases.pdf import FONT
from yimen.catalog.choices import FieldType, Requirement
from yimen.catalog.models import ItemVersion, Material
from yimen.common import workdays
from yimen.common.choices import Channel
from yimen.licences import selectors as licence_selectors

from . import catalogue, city

APPLICANT = "applicant"  # the step is the applicant's own (online)
SYSTEM = None  # the step is the system's (the 5-day rule, automatic archiving)
KEY_PREFIX = "demo-"

ZHANG = "张三"
COMPANY = "佛山市禅城区示例商贸有限公司"
TECH = "佛山市南海区演示科技有限公司"
APPLIANCES = "佛山市顺德区样板家电制造有限公司"
FOODS = "佛山市三水区虚构食品有限公司"
BUILDER = "佛山市高明区测试建筑工程有限公司"


@dataclass(frozen=True)
class Step:
    """One action: `ago` working days before the load's day, at `at` (local time), by a
    demo login, the applicant, or the system. `args` go to the service; `files` (codes of
    the library) become uploads, `originals` materials seen at the window, and correction
    `items` are (code, problem) pairs."""

    ago: int
    at: str
    action: str
    by: str | None
    args: dict[str, Any]


def step(ago: int, at: str, action: str, by: str | None = APPLICANT, **args) -> Step:
    return Step(ago, at, action, by, args)


@dataclass(frozen=True)
class Story:
    """A case: the item (catalogue key), the applicant (by name), the tolerable materials
    left out of the application (容缺), form values beyond the applicant's own, and the steps,
    the first of which submits (online when the applicant's own, else at a window)."""

    key: str
    item: str
    applicant: str
    steps: tuple[Step, ...]
    missing: tuple[str, ...] = ()
    form: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"{KEY_PREFIX}{self.key}"


def story(key, item, applicant, *steps, missing=(), form=None) -> Story:
    return Story(key, item, applicant, tuple(steps), tuple(missing), dict(form or {}))


MARKET_OK = "材料齐全，符合法定条件和标准。"

STORIES = [
    # --- 市市场监管局 (enterprise windows: clerk_biz; reviewer 李文华, head 吴国栋) ----------
    story(
        "company-setup-received",
        "company-setup",
        COMPANY,
        step(1, "10:15", "submit"),
        form={"enterprise_name": "佛山市禅城区示例餐饮管理有限公司"},
    ),
    story(
        "company-change-received",
        "company-change",
        TECH,
        step(3, "14:20", "submit", "clerk_biz"),
    ),
    story(
        "company-change-deemed",
        "company-change",
        APPLIANCES,
        step(9, "09:40", "submit", "clerk_biz"),
        step(3, "00:20", "deem_accepted", SYSTEM),
    ),
    story(
        "company-setup-last-step",
        "company-setup",
        COMPANY,
        step(1, "09:05", "submit"),
        step(1, "10:30", "accept", "clerk_biz"),
        step(1, "15:00", "review_pass", "reviewer", opinion=MARKET_OK),
        form={"enterprise_name": "佛山市禅城区示例供应链管理有限公司"},
    ),
    story(
        "drug-retail-first-step",
        "drug-retail",
        COMPANY,
        step(5, "09:30", "submit"),
        step(5, "14:00", "prereview_pass", "clerk_biz"),
        step(4, "10:00", "receive", "clerk_biz"),
        step(4, "10:20", "accept", "clerk_biz"),
    ),
    story(
        "drug-retail-second-step",
        "drug-retail",
        FOODS,
        step(9, "09:15", "submit", "clerk_biz"),
        step(9, "09:35", "accept", "clerk_biz"),
        step(7, "16:00", "review_pass", "reviewer", opinion="经营场所与布局图一致，同意。"),
    ),
    story(
        "drug-retail-suspended",
        "drug-retail",
        TECH,
        step(8, "10:00", "submit", "clerk_biz"),
        step(8, "10:20", "accept", "clerk_biz"),
        step(
            6,
            "15:00",
            "suspend",
            "reviewer",
            kind=PauseKind.SURVEY,
            reason="组织现场检查：核查经营场所、仓储设施及药品质量管理制度的执行情况。",
        ),
    ),
    story(
        "drug-retail-extended",
        "drug-retail",
        APPLIANCES,
        step(14, "09:00", "submit", "clerk_biz"),
        step(14, "09:30", "accept", "clerk_biz"),
        step(12, "11:00", "review_pass", "reviewer", opinion=MARKET_OK),
        step(10, "15:30", "review_pass", "reviewer", opinion="质量管理制度完备，同意。"),
        step(
            4,
            "16:00",
            "extend",
            "head",
            days=10,
            reason="拟任执业药师的注册信息需向省药品监督管理局核实，十个工作日内无法作出决定。",
        ),
    ),
    story(
        "company-setup-ready",
        "company-setup",
        COMPANY,
        step(4, "09:00", "submit"),
        step(4, "09:20", "accept", "clerk_biz"),
        step(4, "14:00", "review_pass", "reviewer", opinion=MARKET_OK),
        step(
            3,
            "10:00",
            "approve",
            "head",
            reason="符合《中华人民共和国市场主体登记管理条例》规定的登记条件，准予设立登记。",
        ),
        step(3, "10:30", "produce", "reviewer"),
        form={"enterprise_name": "佛山市禅城区示例文化传播有限公司"},
    ),
    story(
        "company-setup-delivered",
        "company-setup",
        COMPANY,
        step(12, "09:00", "submit"),
        step(12, "09:20", "accept", "clerk_biz"),
        step(12, "14:00", "review_pass", "reviewer", opinion=MARKET_OK),
        step(11, "10:00", "approve", "head", reason="符合设立登记条件，准予设立登记。"),
        step(11, "10:30", "produce", "reviewer"),
        step(11, "11:00", "deliver", "clerk_biz", method=DeliveryMethod.ELECTRONIC),
        step(10, "20:15", "evaluate", rating=5, comment="全程网上办理，一天就拿到电子营业执照。"),
        form={"enterprise_name": "佛山市禅城区示例物业服务有限公司"},
    ),
    story(
        "company-change-denied",
        "company-change",
        COMPANY,
        step(6, "09:30", "submit"),
        step(6, "10:00", "accept", "clerk_biz"),
        step(5, "11:00", "review_pass", "reviewer", opinion="拟变更住所为住宅，建议不予变更。"),
        step(
            5,
            "16:00",
            "deny",
            "head",
            reason="拟变更的住所为住宅，未提交经有利害关系的业主同意的证明，"
            "不符合《佛山市市场主体住所（经营场所）登记管理办法》的规定。",
        ),
    ),
    story(
        "company-setup-not-accepted",
        "company-setup",
        BUILDER,
        step(7, "10:10", "submit", "clerk_biz"),
        step(
            7,
            "10:40",
            "refuse",
            "clerk_biz",
            reason="拟设立的公司为外商投资企业，其设立登记依法由省市场监督管理局受理，"
            "不属于本机关的职权范围。",
        ),
        form={"enterprise_name": "佛山市高明区测试国际贸易有限公司"},
    ),
    story(
        "company-change-withdrawn",
        "company-change",
        COMPANY,
        step(10, "09:00", "submit"),
        step(10, "11:00", "accept", "clerk_biz"),
        step(9, "09:30", "withdraw", reason="股东会决定暂缓变更住所，撤回本次申请。"),
    ),
    story(
        "company-change-correction",
        "company-change",
        COMPANY,
        step(2, "16:40", "submit"),
        step(
            1,
            "09:50",
            "request_correction",
            "clerk_biz",
            items=[
                ("shareholder-resolution", "缺少全体股东签字。"),
                ("company-articles", "章程修正案未加盖公章，且未载明修改日期。"),
            ],
        ),
    ),
    story(
        "company-setup-archived",
        "company-setup",
        COMPANY,
        step(20, "09:10", "submit"),
        step(
            20,
            "15:00",
            "request_correction",
            "clerk_biz",
            items=[("lease-contract", "租赁合同未附出租方的不动产权属证明复印件。")],
        ),
        step(19, "10:00", "resubmit", files=["lease-contract"]),
        step(19, "14:00", "accept", "clerk_biz"),
        step(18, "10:00", "review_pass", "reviewer", opinion=MARKET_OK),
        step(18, "16:00", "approve", "head", reason="符合设立登记条件，准予设立登记。"),
        step(18, "16:30", "produce", "reviewer"),
        step(17, "10:00", "deliver", "clerk_biz", method=DeliveryMethod.WINDOW),
        step(17, "18:00", "evaluate", rating=4, comment="一次性告知清楚，补正一次就通过了。"),
        step(15, "09:00", "archive", "clerk_biz"),
        form={"enterprise_name": "佛山市禅城区示例陶瓷贸易有限公司"},
    ),
    # --- 禅城区市场监管局 (reviewer 何俊杰, head 冯志远) ---------------------------------------
    story(
        "individual-business-archived",
        "individual-business",
        ZHANG,
        step(11, "09:00", "submit"),
        step(11, "09:30", "accept", "clerk_biz"),
        step(11, "10:00", "approve", "reviewer_cc", reason="即办件，材料齐全，当场办结。"),
        step(11, "10:05", "produce", "reviewer_cc"),
        step(11, "10:10", "deliver", "clerk_biz", method=DeliveryMethod.ELECTRONIC),
        step(10, "19:30", "evaluate", rating=5, comment="即来即办，半小时就拿到了执照。"),
        step(5, "02:00", "archive", SYSTEM),
    ),
    story(
        "individual-business-correction",
        "individual-business",
        ZHANG,
        step(2, "11:20", "submit"),
        step(
            1,
            "10:10",
            "request_correction",
            "clerk_biz",
            items=[("lease-contract", "租赁期限不足一年，请提交续租协议或新的租赁合同。")],
        ),
        form={"shop_name": "佛山市禅城区张三茶叶店", "business_scope": "茶叶及茶具零售。"},
    ),
    story(
        "food-business-tolerated",
        "food-business",
        COMPANY,
        step(3, "09:00", "submit"),
        step(3, "11:00", "prereview_pass", "clerk_biz"),
        step(2, "09:30", "receive", "clerk_biz"),
        step(2, "09:40", "accept_tolerant", "clerk_biz"),
        missing=["staff-health-certificates"],
    ),
    story(
        "food-business-terminated",
        "food-business",
        FOODS,
        step(14, "10:00", "submit", "clerk_biz"),
        step(14, "10:15", "accept_tolerant", "clerk_biz"),
        step(12, "15:00", "review_pass", "reviewer_cc", opinion="经营场所布局合理，同意。"),
        step(
            6,
            "10:00",
            "terminate",
            "head_cc",
            reason="容缺受理承诺补交的从业人员健康证明逾期未补交，经电话催告仍未补交，"
            "依承诺终止办理。",
        ),
        missing=["staff-health-certificates"],
    ),
    story(
        "food-business-supplied",
        "food-business",
        TECH,
        step(6, "09:00", "submit", "clerk_biz"),
        step(6, "09:20", "accept_tolerant", "clerk_biz"),
        step(4, "15:10", "supply_tolerated", "clerk_biz", originals=["staff-health-certificates"]),
        step(3, "10:00", "review_pass", "reviewer_cc", opinion="健康证明已补交，同意。"),
        step(2, "11:00", "review_pass", "reviewer_cc", opinion="现场核查符合要求，同意。"),
        missing=["staff-health-certificates"],
    ),
    story(
        "food-business-submitted",
        "food-business",
        COMPANY,
        step(1, "21:05", "submit"),
        form={"business_address": "佛山市禅城区祖庙街道示例路3号首层"},
    ),
    # --- 市住建局 (construction windows: clerk_build; reviewer 周建国, head 邱国强) ------------
    story(
        "fire-design-first-step",
        "fire-design-review",
        COMPANY,
        step(2, "09:30", "submit"),
        step(2, "11:00", "accept", "clerk_build"),
        form={"project_name": "禅城区示例商贸中心改造工程"},
    ),
    story(
        "construction-permit-received",
        "construction-permit",
        COMPANY,
        step(2, "17:10", "submit"),
        form={"project_name": "禅城区示例商贸中心扩建工程"},
    ),
    story(
        "construction-permit-tolerated",
        "construction-permit",
        BUILDER,
        step(1, "10:00", "submit", "clerk_build"),
        step(1, "10:20", "accept_tolerant", "clerk_build"),
        missing=["construction-contract"],
    ),
    story(
        "fire-design-resumed",
        "fire-design-review",
        BUILDER,
        step(9, "09:00", "submit", "clerk_build"),
        step(9, "09:30", "accept", "clerk_build"),
        step(
            8,
            "14:00",
            "suspend",
            "reviewer_build",
            kind=PauseKind.APPRAISAL,
            reason="项目采用特殊消防设计，组织专家评审。",
        ),
        step(3, "10:00", "resume", "reviewer_build"),
        step(2, "15:00", "review_pass", "reviewer_build", opinion="专家评审意见已采纳，同意。"),
        form={"project_name": "高明区示例产业园2号仓库"},
    ),
    story(
        "construction-permit-extended",
        "construction-permit",
        BUILDER,
        step(6, "09:30", "submit", "clerk_build"),
        step(6, "10:00", "accept", "clerk_build"),
        step(5, "11:00", "review_pass", "reviewer_build", opinion="施工图审查合格，同意。"),
        step(4, "16:00", "review_pass", "reviewer_build", opinion="资金落实，同意。"),
        step(
            3,
            "15:00",
            "extend",
            "head_build",
            days=5,
            reason="项目含深基坑工程，需复核专项施工方案的专家论证意见。",
        ),
        form={"project_name": "高明区示例产业园3号厂房"},
    ),
    story(
        "construction-permit-archived",
        "construction-permit",
        BUILDER,
        step(25, "09:00", "submit", "clerk_build"),
        step(25, "09:40", "accept", "clerk_build"),
        step(24, "10:00", "review_pass", "reviewer_build", opinion="施工图审查合格，同意。"),
        step(23, "10:00", "review_pass", "reviewer_build", opinion="资金落实，同意。"),
        step(
            22,
            "11:00",
            "approve",
            "head_build",
            reason="符合《建筑工程施工许可管理办法》规定的条件，准予核发施工许可证。",
        ),
        step(22, "14:00", "produce", "reviewer_build"),
        step(
            21,
            "10:00",
            "deliver",
            "clerk_build",
            method=DeliveryMethod.POST,
            tracking_number="1100843729516",
        ),
        step(15, "09:00", "archive", "clerk_build"),
    ),
    # --- 市人社局 (personal windows: clerk, clerk_cc; reviewer 方晓雯, head 蔡明辉) -------------
    story(
        "social-card-first-step",
        "social-security-card",
        ZHANG,
        step(3, "09:00", "submit"),
        step(3, "10:00", "accept", "clerk"),
    ),
    story(
        "social-card-delivered",
        "social-security-card",
        "李四",
        step(10, "09:30", "submit", "clerk"),
        step(10, "09:40", "accept", "clerk"),
        step(9, "10:00", "review_pass", "reviewer_hr", opinion="身份信息核验一致，同意。"),
        step(8, "11:00", "approve", "head_hr", reason="符合社会保障卡申领条件。"),
        step(7, "15:00", "produce", "reviewer_hr"),
        step(5, "10:30", "deliver", "clerk", method=DeliveryMethod.WINDOW),
    ),
    story(
        "social-card-withdrawn",
        "social-security-card",
        ZHANG,
        step(15, "10:00", "submit"),
        step(14, "16:00", "withdraw", reason="已在银行网点即时制卡，撤回本申请。"),
    ),
    story(
        "social-card-received",
        "social-security-card",
        "钱小一",
        step(4, "15:00", "submit", "clerk_cc"),
    ),
    story(
        "social-card-overdue",
        "social-security-card",
        "冯小二",
        step(12, "09:00", "submit", "clerk"),
        step(12, "09:10", "accept", "clerk"),
    ),
    # --- 市公安局 (personal windows: clerk; reviewer 彭家豪, head 唐卫东) -----------------------
    story(
        "passport-fee-due",
        "passport",
        ZHANG,
        step(8, "09:20", "submit", "clerk"),
        step(8, "09:30", "accept", "clerk"),
        step(6, "11:00", "review_pass", "reviewer_police", opinion="人像比对通过，同意。"),
        step(2, "16:00", "approve", "head_police", reason="符合普通护照签发条件，准予签发。"),
    ),
    story(
        "passport-ready",
        "passport",
        "赵六",
        step(9, "10:00", "submit", "clerk"),
        step(9, "10:10", "accept", "clerk"),
        step(7, "11:00", "review_pass", "reviewer_police", opinion="人像比对通过，同意。"),
        step(5, "15:00", "approve", "head_police", reason="符合普通护照签发条件，准予签发。"),
        step(4, "10:00", "record_fee", "clerk"),
        step(3, "16:00", "produce", "reviewer_police"),
    ),
    story(
        "passport-correction",
        "passport",
        "孙七",
        step(2, "10:30", "submit", "clerk"),
        step(
            2,
            "10:40",
            "request_correction",
            "clerk",
            items=[("photo", "相片背景非白色，不符合出入境证件相片照相指引。")],
        ),
    ),
    story(
        "id-card-first-step",
        "id-card-renewal",
        "周八",
        step(5, "14:00", "submit", "clerk"),
        step(5, "14:10", "accept", "clerk"),
    ),
]


# --- walking the stories --------------------------------------------------------------------------


def load(versions: Mapping[str, ItemVersion]) -> int:
    """Walk every story not loaded yet (its idempotency key marks it) through the services,
    all steps in time order. `versions` are the guides in force by catalogue key. Returns
    how many cases were created."""
    loaded = set(
        Case.objects.filter(idempotency_key__startswith=KEY_PREFIX).values_list(
            "idempotency_key", flat=True
        )
    )
    todo = [s for s in STORIES if s.idempotency_key not in loaded]
    today = timezone.localdate()
    plan = sorted((at, n, m) for n, s in enumerate(todo) for m, at in enumerate(_moments(s, today)))
    walk = _Walk(versions)
    with mock.patch("django.utils.timezone.now") as now:
        for at, n, m in plan:
            now.return_value = at
            walk.take(todo[n], todo[n].steps[m])
    return len(todo)


def moment(today: dt.date, ago: int, at: str) -> dt.datetime:
    """`at` o'clock on the working day `ago` working days before `today`."""
    day = today
    while ago:
        day -= dt.timedelta(days=1)
        ago -= workdays.is_workday(day)
    hour, minute = (int(part) for part in at.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def _moments(story: Story, today: dt.date) -> list[dt.datetime]:
    """The moments of the story's steps: submitted first, in time order, all before today
    (a step later today might lie in the future)."""
    moments = [moment(today, st.ago, st.at) for st in story.steps]
    if (
        story.steps[0].action != "submit"
        or moments != sorted(moments)
        or any(st.ago < 1 for st in story.steps)
    ):
        raise ValueError(f"demo case {story.key}: submit first, steps in time order, before today")
    return moments


class _Walk:
    """Takes the steps, remembering the cases, logins and applicants it has met."""

    def __init__(self, versions: Mapping[str, ItemVersion]):
        self.versions = versions
        self.cases: dict[str, Case] = {}
        self.users: dict[str, User] = {}
        self.applicants: dict[str, Applicant] = {}

    def user(self, username: str) -> User:
        if username not in self.users:
            self.users[username] = User.objects.get(username=username)
        return self.users[username]

    def applicant(self, name: str) -> Applicant:
        if name not in self.applicants:
            found = applicant_by_identifier(identifier=identifier(name))
            if found is None:
                raise LookupError(f"demo applicant {name} is not loaded")
            self.applicants[name] = found
        return self.applicants[name]

    def actor(self, applicant: Applicant, by: str | None) -> User | None:
        if by == APPLICANT:
            return applicant.user
        return self.user(by) if by else None

    def take(self, story: Story, step: Step) -> None:
        version = self.versions[story.item]
        applicant = self.applicant(story.applicant)
        actor = self.actor(applicant, step.by)
        if step.action == "submit":
            self.cases[story.key] = _submit(story, version, applicant, actor)
        elif step.action == "deem_accepted":
            services.deem_accepted(case=self.cases[story.key])
        else:
            action = getattr(services, step.action)
            action(case=self.cases[story.key], actor=actor, **_arguments(version, step.args))


def _submit(story: Story, version: ItemVersion, applicant: Applicant, by: User) -> Case:
    online = story.steps[0].by == APPLICANT
    missing = _materials(version, story.missing)
    # 零提交: what a valid licence of the applicant stands for is not given again.
    licensed = licence_selectors.replacing(
        applicant, {m.material_type_id for m in version.materials.all()}
    )
    given = [
        m
        for m in version.materials.all()
        if m.requirement == Requirement.REQUIRED
        and m not in missing
        and m.material_type_id not in licensed
    ]
    return services.case_submit(
        applicant=applicant,
        version=version,
        submitted_by=by,
        channel=Channel.ONLINE if online else Channel.WINDOW,
        form_data=form_data(version, applicant, story.form),
        uploads=[_upload(m) for m in given],
        originals=() if online else given,
        idempotency_key=story.idempotency_key,
    )


def _arguments(version: ItemVersion, args: Mapping[str, Any]) -> dict[str, Any]:
    args = dict(args)
    if codes := args.pop("files", None):
        args["uploads"] = [_upload(m) for m in _materials(version, codes)]
    if codes := args.pop("originals", None):
        args["materials"] = _materials(version, codes)
    if items := args.get("items"):
        args["items"] = [
            {"material": _materials(version, [code])[0].display_name, "problem": problem}
            for code, problem in items
        ]
    return args


def _materials(version: ItemVersion, codes: Iterable[str]) -> list[Material]:
    by_code = {m.material_type.code: m for m in version.materials.all()}
    return [by_code[code] for code in codes]


def _upload(material: Material) -> services.Upload:
    name = material.display_name
    return services.Upload(material, ContentFile(sample_pdf(name), name=f"{name}.pdf"))


@functools.cache
def sample_pdf(title: str) -> bytes:
    """A one-page PDF standing for a material: its name and that it is demo data."""
    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setTitle(title)
    page.setFont(FONT, 18)
    page.drawString(25 * mm, 260 * mm, title)
    page.setFont(FONT, 11)
    page.drawString(25 * mm, 248 * mm, "（演示数据：示例材料，不具法律效力）")
    page.showPage()
    page.save()
    return buffer.getvalue()


# --- who the applicants are -----------------------------------------------------------------------


def identifier(name: str) -> str:
    """The ID number or credit code the loader gave the demo applicant `name`."""
    for serial, (person, region6, birth, _phone, _user) in enumerate(city.PERSONS):
        if person == name:
            return city.demo_citizen_id(region6, birth, serial)
    for serial, (enterprise, region6, *_rest) in enumerate(city.ENTERPRISES, start=1):
        if enterprise == name:
            return city.demo_uscc(region6, serial, kind="91")
    raise LookupError(f"no demo applicant is called {name}")


def form_data(version: ItemVersion, applicant: Applicant, extra: Mapping[str, Any]) -> dict:
    """The guide's form filled in: the catalogue's sample values, the applicant's own
    name, number and phone, then the story's values."""
    samples = {key: sample for key, _l, _t, _h, _o, sample in catalogue.FIELDS}
    data = {}
    for form_field in version.form_fields.all():
        key, kind = form_field.field.key, form_field.field.datatype
        value = samples[key]
        data[key] = value.split("、") if kind == FieldType.MULTICHOICE else value
    own = {"contact_mobile": applicant.phone}
    if applicant.id_number:
        number = applicant.id_number
        own |= {
            "applicant_name": applicant.name,
            "applicant_id_number": number,
            "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
            "gender": "男" if int(number[16]) % 2 else "女",
        }
    else:
        own |= {
            "applicant_name": applicant.name,
            "enterprise_name": applicant.name,
            "uscc": applicant.uscc,
            "legal_representative": applicant.legal_representative,
        }
        if applicant.legal_representative in [p[0] for p in city.PERSONS]:
            own["legal_representative_id"] = identifier(applicant.legal_representative)
    data |= {key: value for key, value in own.items() if key in data and value}
    if unknown := set(extra) - set(data):
        raise ValueError(f"{version.name} has no form fields {sorted(unknown)}")
    return data | dict(extra)
