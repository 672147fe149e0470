"""The public pages of the catalogue (网上办事大厅)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from yimen.catalog import services
from yimen.catalog.choices import (
    ItemType,
    OnlineDepth,
    Requirement,
    Target,
    ThemeCategory,
    VersionStatus,
)
from yimen.catalog.models import (
    ItemVersion,
    ScenarioOption,
    ScenarioQuestion,
    Theme,
    ThemeItem,
    ThemeStage,
)
from yimen.common.choices import Channel
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import FieldDefinitionFactory, MaterialTypeFactory, make_item

pytestmark = pytest.mark.django_db

INDEX = reverse("catalog:index")
ITEMS = reverse("catalog:items")


def item_url(version):
    return reverse("catalog:item", args=[version.item.implementation_code])


def version_url(version):
    return reverse("catalog:item_version", args=[version.item.implementation_code, version.number])


@pytest.fixture
def english(client):
    """A visitor who switched the pages to English, to assert on the page's own words."""
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def catalogue_admin(department=None):
    return grant(UserFactory(), Role.CATALOGUE_ADMIN, department=department)


# --- the front page -----------------------------------------------------------------------------


def test_index_lists_departments_with_their_published_items_and_the_themes(client):
    market = DepartmentFactory(name="市场监督管理局")
    health = DepartmentFactory(name="卫生健康局")
    drafts_only = DepartmentFactory(name="只有草稿的局")
    make_item(department=market, name="个体工商户设立登记")
    make_item(department=market, name="食品经营许可")
    make_item(department=health, name="公共场所卫生许可")
    make_item(department=drafts_only, status=VersionStatus.DRAFT)
    Theme.objects.create(
        code="open-business", name="开办企业", category=ThemeCategory.ENTERPRISE_ACCESS,
        target=Target.ENTERPRISE,
    )  # fmt: skip
    Theme.objects.create(
        code="retired", name="已停用主题", category=ThemeCategory.JOINT, target=Target.BOTH,
        is_active=False,
    )  # fmt: skip

    response = client.get(INDEX)

    assert response.status_code == 200
    text = response.text
    assert "市场监督管理局" in text and "卫生健康局" in text
    assert "只有草稿的局" not in text
    market_link = f'href="{ITEMS}?department={market.pk}"'
    assert market_link in text
    # the count badge follows the department's name
    after = text.split(market_link, 1)[1]
    assert ">2<" in after.split("</a>", 1)[0].replace(" ", "")
    assert "开办企业" in text and reverse("catalog:theme", args=["open-business"]) in text
    assert "已停用主题" not in text
    assert f'action="{ITEMS}"' in text and 'name="q"' in text


def test_the_navigation_offers_the_service_guide_to_everyone(client):
    assert f'href="{INDEX}"' in client.get("/").text
    assert 'aria-current="page"' in client.get(INDEX).text


# --- the list -----------------------------------------------------------------------------------


def test_chinese_search_finds_an_item_by_its_keywords(client):
    wanted = make_item(name="个体工商户设立登记", keywords="开店 营业执照")
    other = make_item(name="公共场所卫生许可", keywords="卫生 公共场所")

    response = client.get(ITEMS, {"q": "营业执照"})

    assert response.status_code == 200
    assert item_url(wanted) in response.text
    assert item_url(other) not in response.text
    # the search box keeps the query
    assert 'value="营业执照"' in response.text


def test_a_search_that_matches_nothing_says_so(english):
    make_item(name="个体工商户设立登记")
    response = english.get(ITEMS, {"q": "宇宙飞船"})
    assert response.status_code == 200
    assert "0 services found" in response.text


FILTERS = [
    ("target", "person", {"target": Target.PERSON}, {"target": Target.ENTERPRISE}),
    ("target", "enterprise", {"target": Target.BOTH}, {"target": Target.PERSON}),
    ("tag", "online", {"online": True}, {"online": False}),
    ("tag", "zero_visit", {"zero_visit": True}, {"zero_visit": False}),
    ("tag", "one_visit", {"one_visit": True}, {}),
    ("tag", "citywide", {"tongban": "citywide"}, {"tongban": "cross_region"}),
    ("item_type", "licence", {"item_type": ItemType.LICENCE}, {"item_type": ItemType.PAYMENT}),
    (
        "online_depth",
        "offline",
        {"online_depth": OnlineDepth.OFFLINE, "online": False, "visits": 1},
        {"online_depth": OnlineDepth.FULL_ONLINE},
    ),
]


@pytest.mark.parametrize(("name", "value", "matching", "other"), FILTERS)
def test_each_filter_narrows_the_list(client, name, value, matching, other):
    wanted = make_item(name="甲事项", **matching)
    left_out = make_item(name="乙事项", **other)

    everything = client.get(ITEMS).text
    narrowed = client.get(ITEMS, {name: value})

    assert item_url(wanted) in everything and item_url(left_out) in everything
    assert narrowed.status_code == 200
    assert item_url(wanted) in narrowed.text
    assert item_url(left_out) not in narrowed.text
    # the sidebar keeps the filter
    assert f'value="{value}" selected' in narrowed.text


def test_the_department_filter_narrows_the_list(client):
    market, health = DepartmentFactory(), DepartmentFactory()
    wanted = make_item(department=market)
    left_out = make_item(department=health)

    response = client.get(ITEMS, {"department": market.pk})

    assert item_url(wanted) in response.text
    assert item_url(left_out) not in response.text


def test_filters_combine_with_the_search(client):
    wanted = make_item(name="个体工商户设立登记", keywords="营业执照", online=True)
    offline = make_item(
        name="个体工商户变更登记", keywords="营业执照", online=False,
        online_depth=OnlineDepth.OFFLINE, visits=1,
    )  # fmt: skip
    response = client.get(ITEMS, {"q": "营业执照", "tag": "online"})
    assert item_url(wanted) in response.text
    assert item_url(offline) not in response.text


def test_drafts_and_archived_versions_are_not_listed(client):
    draft = make_item(status=VersionStatus.DRAFT)
    archived = make_item(status=VersionStatus.ARCHIVED)
    published = make_item()
    text = client.get(ITEMS).text
    assert item_url(published) in text
    assert item_url(draft) not in text and item_url(archived) not in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("department", "abc"),
        ("department", "999999"),
        ("department", "9" * 30),
        ("department", "1\x00"),
        ("target", "martian"),
        ("tag", "fast"),
        ("item_type", "licence'--"),
        ("online_depth", "teleport"),
        ("q", "证" * 101),
        ("q", "\x00"),
    ],
)
def test_an_impossible_filter_is_a_400_with_the_reason(english, name, value):
    make_item()
    response = english.get(ITEMS, {name: value})
    assert response.status_code == 400
    assert "These filters cannot be applied" in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'name="{name}"' in response.text


@pytest.mark.parametrize(("page", "shown"), [("abc", 1), ("", 1), ("-1", 2), ("9999", 2)])
def test_any_page_number_gives_a_page(client, page, shown):
    # given two pages of guides
    for n in range(21):
        make_item(name=f"事项{n:02d}")

    # when a page number is not a page's / then the first page or, past the end, the last
    response = client.get(ITEMS, {"page": page})

    assert response.status_code == 200
    assert f'aria-current="page">{shown}<' in response.text
    assert response.text.count('<th scope="row"') == (20 if shown == 1 else 1)


def test_the_list_pages_by_twenty_and_keeps_the_filters_in_page_links(client):
    for n in range(21):
        make_item(name=f"事项{n:02d}", online=True)

    first = client.get(ITEMS, {"tag": "online"})
    second = client.get(ITEMS, {"tag": "online", "page": 2})

    assert first.text.count('<th scope="row"') == 20
    assert second.text.count('<th scope="row"') == 1
    assert "?tag=online&amp;page=2" in first.text
    assert 'aria-current="page">2<' in second.text


@pytest.mark.parametrize("params", [{}, {"q": "营业执照", "tag": "online"}])
def test_the_list_queries_do_not_grow_with_the_rows(client, django_assert_max_num_queries, params):
    for _n in range(25):
        make_item(name="个体工商户设立登记", keywords="营业执照", online=True)
    with django_assert_max_num_queries(5):
        response = client.get(ITEMS, params)
    assert response.text.count('<th scope="row"') == 20


# --- the guide ----------------------------------------------------------------------------------


@pytest.fixture
def full_guide():
    form = MaterialTypeFactory(
        name="个体工商户登记申请书",
        template_file="catalog/forms/blank.docx",
        sample_file="catalog/samples/sample.pdf",
    )
    return make_item(
        name="个体工商户设立登记",
        legal_basis=["《促进个体工商户发展条例》第八条", "《市场主体登记管理条例》第三条"],
        is_free=False,
        fee_amount=Decimal("50.00"),
        fee_basis="按《行政事业性收费标准》收取",
        supervision_phone="0757-12345",
        consultation_phone="0757-83030000",
        location="佛山市政务服务中心三楼",
        hours="周一至周五 9:00–17:00",
        conditions="申请人具有经营能力。",
        flow_description="申请 → 受理 → 审核 → 办结",
        materials=[
            {"material_type": form, "originals": 1},
            {
                "material_type": MaterialTypeFactory(name="经营场所证明"),
                "originals": 0,
                "copies": 1,
                "tolerable": True,
                "tolerance_method": "邮寄补交",
                "tolerance_days": 5,
            },
            {
                "material_type": MaterialTypeFactory(name="委托书"),
                "requirement": Requirement.CONDITIONAL,
                "condition": "委托他人代办的",
            },
        ],
        form_fields=[{"field": FieldDefinitionFactory(label="经营者姓名"), "required": True}],
    )


def test_the_item_page_shows_every_section_of_the_guide(client, full_guide):
    response = client.get(item_url(full_guide))

    assert response.status_code == 200
    text = response.text
    for shown in (
        full_guide.item.implementation_code,
        full_guide.item.basic_code,
        full_guide.item.department.name,
        "申请人具有经营能力。",
        "《促进个体工商户发展条例》第八条",
        "《市场主体登记管理条例》第三条",
        "50.00",
        "按《行政事业性收费标准》收取",
        'href="tel:0757-12345"',
        'href="tel:0757-83030000"',
        "佛山市政务服务中心三楼",
        "周一至周五 9:00–17:00",
        "个体工商户登记申请书",
        "/media/catalog/forms/blank.docx",
        "/media/catalog/samples/sample.pdf",
        "经营场所证明",
        "邮寄补交",
        "委托他人代办的",
        "经营者姓名",
        "承办",
        "审批",
        "申请 → 受理 → 审核 → 办结",
        "window.print()",
        "catalog/guide.css",
    ):
        assert shown in text, shown
    assert '<th scope="row"' in text and '<th scope="col"' in text


def test_the_item_page_in_english_names_its_version_and_tolerance(english, full_guide):
    text = english.get(item_url(full_guide)).text
    published = date_format(localtime(full_guide.published_at))
    assert f"Version 1, published on {published}" in text
    assert "Yes: 邮寄补交, within 5 working days" in text
    assert "When 委托他人代办的" in text
    assert "50.00 yuan" in text


def test_an_item_without_a_published_version_is_404(client):
    draft = make_item(status=VersionStatus.DRAFT)
    archived = make_item(status=VersionStatus.ARCHIVED)
    assert client.get(item_url(draft)).status_code == 404
    assert client.get(item_url(archived)).status_code == 404
    assert client.get(reverse("catalog:item", args=["nothing-here"])).status_code == 404


def test_guide_pages_print_without_the_site_chrome():
    from django.contrib.staticfiles import finders

    css = Path(finders.find("catalog/guide.css")).read_text(encoding="utf-8")
    print_rules = css.split("@media print", 1)[1]
    for hidden in ("nav", "footer", "button", ".btn"):
        assert hidden in print_rules


# --- versions -----------------------------------------------------------------------------------


@pytest.fixture
def flawed_draft():
    """A draft with one blocking finding (no supervision phone) and one warning."""
    return make_item(status=VersionStatus.DRAFT, supervision_phone="", consultation_phone="")


def test_a_draft_is_404_to_the_public(client, flawed_draft):
    assert client.get(version_url(flawed_draft)).status_code == 404


@pytest.mark.parametrize(
    "make_user",
    [
        lambda draft: catalogue_admin(DepartmentFactory()),
        lambda draft: grant(UserFactory(), Role.REVIEWER, department=draft.item.department),
    ],
    ids=["catalogue-admin-of-another-department", "reviewer-of-its-department"],
)
def test_a_draft_is_404_to_staff_who_cannot_edit_it(client, flawed_draft, make_user):
    client.force_login(make_user(flawed_draft))
    assert client.get(version_url(flawed_draft)).status_code == 404


@pytest.mark.parametrize(
    "make_user",
    [
        lambda draft: catalogue_admin(draft.item.department),
        lambda draft: catalogue_admin(None),
        lambda draft: UserFactory(is_superuser=True),
    ],
    ids=["its-department", "unscoped", "superuser"],
)
def test_a_draft_shows_its_findings_to_its_editors(english, flawed_draft, make_user):
    english.force_login(make_user(flawed_draft))

    response = english.get(version_url(flawed_draft))

    assert response.status_code == 200
    text = response.text
    assert "Version 1, draft" in text
    blocking_row = text.split("No supervision phone is published")[0].rsplit("<li", 1)[1]
    assert "list-group-item-danger" in blocking_row and "Blocks publishing" in blocking_row
    warning_row = text.split("No consultation phone is published")[0].rsplit("<li", 1)[1]
    assert "list-group-item-warning" in warning_row
    # blocking findings come first
    assert text.index("No supervision phone") < text.index("No consultation phone")


def test_the_editor_of_a_published_item_sees_a_link_to_its_draft(client):
    version = make_item()
    draft = services.draft_start(item=version.item, actor=None, channel=Channel.SYSTEM)
    admin = catalogue_admin(version.item.department)

    public = client.get(item_url(version)).text
    client.force_login(admin)
    editor = client.get(item_url(version)).text

    assert version_url(draft) not in public
    assert version_url(draft) in editor


def test_a_withdrawn_version_is_public_with_a_notice(english):
    archived = make_item(status=VersionStatus.ARCHIVED)
    response = english.get(version_url(archived))
    assert response.status_code == 200
    assert "This item has been withdrawn." in response.text


def test_a_superseded_version_links_to_the_guide_in_force(english):
    first = make_item(name="旧名称")
    draft = services.draft_start(item=first.item, actor=None, channel=Channel.SYSTEM)
    draft = services.draft_update(
        version=draft, guide={"name": "新名称"}, actor=None, channel=Channel.SYSTEM
    )
    services.publish(version=draft, actor=None, channel=Channel.SYSTEM)

    old = english.get(version_url(first)).text
    current = english.get(item_url(first)).text

    assert "旧名称" in old and "This version has been superseded." in old
    assert f'href="{item_url(first)}"' in old and "version 2" in old
    assert "新名称" in current and "Version 2, published on" in current


def test_an_unknown_version_is_404(client):
    version = make_item()
    url = reverse("catalog:item_version", args=[version.item.implementation_code, 9])
    assert client.get(url).status_code == 404


# --- themes -------------------------------------------------------------------------------------


@pytest.fixture
def theme():
    """Two stages: the first with two items that share a material type and a dictionary
    field, the second with one item asking the shared ones again."""
    licence, shared_field = (
        MaterialTypeFactory(name="营业执照"),
        FieldDefinitionFactory(label="统一社会信用代码"),
    )
    first = make_item(
        name="公章刻制备案",
        target=Target.ENTERPRISE,
        materials=[
            {"material_type": licence},
            {"material_type": MaterialTypeFactory(name="法定代表人身份证")},
        ],
        form_fields=[
            {"field": shared_field},
            {"field": FieldDefinitionFactory(label="印章数量")},
        ],
    )
    second = make_item(
        name="发票申领",
        target=Target.ENTERPRISE,
        materials=[
            {"material_type": licence, "copies": 2, "originals": 0},
            {"material_type": MaterialTypeFactory(name="办税人员身份证")},
        ],
        form_fields=[{"field": shared_field}],
    )
    third = make_item(
        name="社会保险登记",
        target=Target.ENTERPRISE,
        materials=[{"material_type": licence}],
        form_fields=[{"field": shared_field}],
    )
    theme = Theme.objects.create(
        code="open-business", name="开办企业", category=ThemeCategory.ENTERPRISE_ACCESS,
        target=Target.ENTERPRISE, description="一次申请，全部办好。",
    )  # fmt: skip
    start = ThemeStage.objects.create(theme=theme, order=1, name="设立")
    after = ThemeStage.objects.create(theme=theme, order=2, name="开业")
    ThemeItem.objects.create(theme=theme, stage=start, item=first.item, order=1)
    invoice = ThemeItem.objects.create(theme=theme, stage=start, item=second.item, order=2)
    ThemeItem.objects.create(theme=theme, stage=after, item=third.item, order=1)
    question = ScenarioQuestion.objects.create(theme=theme, text="是否需要开具发票？")
    ScenarioOption.objects.create(question=question, text="需要", order=1).theme_items.add(invoice)
    ScenarioOption.objects.create(question=question, text="暂不需要", order=2)
    return theme


def test_the_themes_page_lists_the_active_themes_by_category(client, theme):
    Theme.objects.create(
        code="old", name="已停用主题", category=ThemeCategory.JOINT, target=Target.BOTH,
        is_active=False,
    )  # fmt: skip
    text = client.get(reverse("catalog:themes")).text
    assert "开办企业" in text and theme.get_absolute_url() in text
    assert "已停用主题" not in text


def test_the_theme_page_reports_the_reduction_per_stage_and_overall(client, theme):
    response = client.get(theme.get_absolute_url())

    assert response.status_code == 200
    text = response.text
    stage_one = text.split("1. 设立</th>", 1)[1].split("</tr>", 1)[0]
    assert "4 → 3" in stage_one and "(−25 %)" in stage_one  # materials
    assert "3 → 2" in stage_one and "(−33 %)" in stage_one  # fields
    stage_two = text.split("2. 开业</th>", 1)[1].split("</tr>", 1)[0]
    assert stage_two.count("1 → 1") == 2
    # the whole theme, applied for stage by stage: the sum of its stages
    total = text.split('id="reduction-total"', 1)[1].split("</tr>", 1)[0]
    assert "5 → 4" in total and "(−20 %)" in total
    assert "4 → 3" in total and "(−25 %)" in total


def test_the_theme_page_lists_stages_questions_and_the_merged_lists(client, theme):
    text = client.get(theme.get_absolute_url()).text

    assert "一次申请，全部办好。" in text
    for version_name in ("公章刻制备案", "发票申领", "社会保险登记"):
        assert version_name in text
    assert text.index("设立") < text.index("开业")
    assert "是否需要开具发票？" in text and "暂不需要" in text
    # the shared material once, with every item that needs it and the most copies asked
    licence_row = text.split(">营业执照</th>", 1)[1].split("</tr>", 1)[0]
    assert "公章刻制备案、发票申领、社会保险登记" in licence_row
    assert ">2</td>" in licence_row
    assert text.count(">营业执照</th>") == 1
    assert text.count(">统一社会信用代码</th>") == 1


def test_the_theme_page_links_each_item_to_its_guide(client, theme):
    text = client.get(theme.get_absolute_url()).text
    for theme_item in theme.theme_items.all():
        assert reverse("catalog:item", args=[theme_item.item.implementation_code]) in text


def test_an_inactive_or_unknown_theme_is_404(client, theme):
    Theme.objects.filter(pk=theme.pk).update(is_active=False)
    assert client.get(theme.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:theme", args=["nothing"])).status_code == 404


def test_the_theme_page_queries_stay_bounded(client, theme, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        assert client.get(theme.get_absolute_url()).status_code == 200


def answer(theme, text) -> ScenarioOption:
    return ScenarioOption.objects.get(question__theme=theme, text=text)


def section(text, heading) -> str:
    """The part of a page under the heading with this id."""
    return text.split(f'id="{heading}"', 1)[1].split("</section>", 1)[0]


def withdraw(name) -> None:
    version = ItemVersion.objects.get(name=name)
    services.archive(version=version, reason="停止办理", actor=None, channel=Channel.SYSTEM)


def test_without_answers_every_service_is_listed_and_the_questions_are_a_form(english, theme):
    text = english.get(theme.get_absolute_url()).text

    services_listed = section(text, "items-heading")
    for name in ("公章刻制备案", "发票申领", "社会保险登记"):
        assert name in services_listed
    assert "depends on your answers" in section(text, "questions-heading")
    form = text.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert f'action="{theme.get_absolute_url()}"' in form
    assert 'name="answer" value=""' in form  # says that the form was answered
    needed, not_needed = answer(theme, "需要"), answer(theme, "暂不需要")
    assert f'<option value="{needed.pk}">' in form and f'<option value="{not_needed.pk}">' in form
    assert "Show what I need" in form


@pytest.mark.parametrize("given", ["暂不需要", ""])
def test_answers_narrow_the_services_and_the_merged_lists(english, theme, given):
    # given the applicant needs no invoice (or answers nothing)
    value = answer(theme, given).pk if given else ""

    # when they ask what they need
    response = english.get(theme.get_absolute_url(), {"answer": value})

    # then the invoice item, its materials and its share of the reduction are left out
    assert response.status_code == 200
    text = response.text
    services_listed = section(text, "items-heading")
    assert "公章刻制备案" in services_listed and "社会保险登记" in services_listed
    assert "发票申领" not in services_listed
    assert "办税人员身份证" not in text
    licence_row = text.split(">营业执照</th>", 1)[1].split("</tr>", 1)[0]
    assert "公章刻制备案、社会保险登记" in licence_row
    stage_one = text.split("1. 设立</th>", 1)[1].split("</tr>", 1)[0]
    assert stage_one.count("2 → 2") == 2 and "−" not in stage_one
    # stage by stage, nothing is asked twice within a stage: the sum of the stages
    total = text.split('id="reduction-total"', 1)[1].split("</tr>", 1)[0]
    assert total.count("3 → 3") == 2 and "−" not in total
    note = section(text, "questions-heading")
    assert "those your answers call for" in note
    assert f'href="{theme.get_absolute_url()}"' in note
    if given:
        assert f'value="{value}" selected' in text


def test_an_answer_brings_its_service_in(client, theme):
    needed = answer(theme, "需要")

    text = client.get(theme.get_absolute_url(), {"answer": needed.pk}).text

    assert "发票申领" in section(text, "items-heading")
    total = text.split('id="reduction-total"', 1)[1].split("</tr>", 1)[0]
    assert "5 → 4" in total and "4 → 3" in total
    assert f'value="{needed.pk}" selected' in text


def test_a_question_with_several_answers_is_checkboxes(client, theme):
    # given a question whose answers each bring in an item
    question = ScenarioQuestion.objects.create(theme=theme, text="还需要办理？", multiple=True)
    seal, insurance = (
        ScenarioOption.objects.create(question=question, text=text, order=n)
        for n, text in enumerate(("刻章", "参保"))
    )
    seal.theme_items.add(theme.theme_items.get(item__versions__name="公章刻制备案"))
    insurance.theme_items.add(theme.theme_items.get(item__versions__name="社会保险登记"))
    url = theme.get_absolute_url()

    both = client.get(url, {"answer": [seal.pk, insurance.pk]})
    one = client.get(url, {"answer": [seal.pk]})

    assert both.status_code == one.status_code == 200
    for option in (seal, insurance):
        assert f'type="checkbox" name="answer" value="{option.pk}"' in both.text
        assert f'value="{option.pk}" id="answer-{option.pk}" checked' in both.text
    assert "社会保险登记" in section(both.text, "items-heading")
    assert "社会保险登记" not in section(one.text, "items-heading")
    assert "公章刻制备案" in section(one.text, "items-heading")


@pytest.mark.parametrize("bad", ["elsewhere", "abc", "both"])
def test_an_answer_that_is_not_the_themes_is_a_400_with_the_reason(english, theme, bad):
    other = Theme.objects.create(
        code="other", name="其他", category=ThemeCategory.JOINT, target=Target.BOTH
    )
    elsewhere = ScenarioOption.objects.create(
        question=ScenarioQuestion.objects.create(theme=other, text="？"), text="是"
    )
    given = {
        "elsewhere": [elsewhere.pk],
        "abc": ["abc"],
        "both": [answer(theme, "需要").pk, answer(theme, "暂不需要").pk],
    }[bad]

    response = english.get(theme.get_absolute_url(), {"answer": given})

    assert response.status_code == 400
    alert = response.text.split('class="alert alert-danger"', 1)[1].split("</div>", 1)[0]
    reason = "takes one answer" if bad == "both" else "is not an answer to this theme"
    assert "These answers cannot be applied" in alert and reason in alert
    assert "发票申领" in section(response.text, "items-heading")  # everything, as before


def test_a_service_not_offered_at_present_is_named_so_without_its_code(english, theme):
    withdrawn = theme.theme_items.get(item__versions__name="社会保险登记").item
    withdraw("社会保险登记")

    text = english.get(theme.get_absolute_url()).text

    assert "A service not offered at present" in section(text, "items-heading")
    assert withdrawn.implementation_code not in text
    assert "社会保险登记" not in text


def test_theme_counts_leave_out_services_not_offered_at_present(english, theme):
    withdraw("社会保险登记")

    for page in (INDEX, reverse("catalog:themes")):
        text = english.get(page).text
        assert "2 items" in text and "3 items" not in text, page


def test_the_theme_page_with_answers_queries_stay_bounded(
    client, theme, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = client.get(theme.get_absolute_url(), {"answer": answer(theme, "需要").pk})
    assert response.status_code == 200
