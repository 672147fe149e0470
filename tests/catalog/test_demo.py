"""The demo catalogue: `load_demo` fills the catalogue through the services with published
guides that pass the checker, a draft that fails it, and themes that merge their items;
loading again adds nothing."""

from collections import Counter
from io import BytesIO, StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from yimen.accounts.models import User
from yimen.catalog import quality, selectors, services
from yimen.catalog.choices import (
    HandlingType,
    ItemType,
    MaterialKind,
    OnlineDepth,
    Requirement,
    Target,
    TongbanScope,
    VersionStatus,
)
from yimen.catalog.models import ItemVersion, Material, MaterialType, ServiceItem, Theme
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.demo import catalogue
from yimen.demo.loader import STEPS, Report, implementation_code


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city, loaded once for this module (it takes seconds) and rolled back after."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(MEDIA_ROOT=media),
        django_db_blocker.unblock(),
        translation.override("en"),
        transaction.atomic(),
    ):
        call_command("load_demo", "--no-progress", stdout=StringIO())
        yield media
        transaction.set_rollback(True)


@pytest.fixture
def published(demo, db):
    return list(selectors.versions_in_force())


def _theme(code: str) -> Theme:
    return selectors.theme_with_items(Theme.objects.get(code=code))


def test_load_publishes_forty_items_across_twelve_departments(published):
    # given the loaded demo / then
    assert len(published) >= 40
    assert len({v.item.department_id for v in published}) >= 12
    assert len(published) == len(catalogue.ITEMS)


def test_the_catalogue_covers_every_depth_handling_type_tag_and_target(published):
    # given the published guides / then every way of handling an item occurs
    assert {v.online_depth for v in published} == set(OnlineDepth.values)
    assert {v.handling_type for v in published} == set(HandlingType.values)
    assert {v.tongban for v in published} == set(TongbanScope.values)
    assert {v.target for v in published} == set(Target.values)
    assert {v.window_category.code for v in published} == {
        "personal",
        "enterprise",
        "construction",
        "other",
    }
    assert len({v.item_type for v in published}) >= 6
    assert ItemType.LEVY in {v.item_type for v in published}
    for tag in ItemVersion.TAG_FIELDS:
        assert any(getattr(v, tag) for v in published), tag
    # immediate items are decided on the spot, by a one-step chain
    for version in published:
        immediate = version.handling_type == HandlingType.IMMEDIATE
        assert (version.promised_limit == 0) == immediate, version.name
        assert (len(version.review_steps.all()) == 1) == immediate, version.name


def test_named_items_of_the_issue_are_published(published):
    names = {v.name for v in published}
    for name in (
        "个体工商户设立登记",
        "有限责任公司设立登记",
        "食品经营许可",
        "公共场所卫生许可",
        "建设工程规划许可证核发",
        "建筑工程施工许可证核发",
        "出生登记",
        "社会保障卡申领",
        "道路货物运输经营许可",
        "药品零售企业许可",
        "城镇污水排入排水管网许可",
        "城市道路占用挖掘许可",
        "公章刻制备案",
        "发票领用",
        "社会保险登记（单位参保登记）",
        "企业银行开户预约",
        "用水报装",
        "用电报装",
        "燃气报装",
        "有线电视报装",
    ):
        assert name in names


def test_published_guides_pass_every_blocking_rule(published):
    # given the published guides / when checked again / then nothing blocks them
    problems = {
        v.name: [f.code for f in quality.blocking(quality.check(v))]
        for v in published
        if quality.blocking(quality.check(v))
    }
    assert problems == {}


def test_guides_are_complete_and_limits_compressed(published):
    for version in published:
        assert version.legal_basis and version.supervision_phone and version.consultation_phone
        assert version.location and version.hours and version.flow_description
        assert version.materials.all() and version.form_fields.all(), version.name
        if not version.is_free:
            assert version.fee_basis
    promised = [v for v in published if v.statutory_unit == v.promised_unit and v.promised_limit]
    assert all(v.promised_limit < v.statutory_limit for v in promised)
    assert not [v for v in published if v.is_free and v.fee_amount is not None]
    assert len([v for v in published if not v.is_free]) >= 3


def test_implementation_codes_are_department_code_plus_basic_code(published):
    for version in published:
        item = version.item
        assert item.implementation_code == f"{item.department.uscc}1{item.basic_code}"
    assert len({v.item.basic_code for v in published}) == len(published)


def test_materials_come_from_the_shared_library(published):
    # given the guides / then many items ask for the same library entries
    uses = Counter(m.material_type.code for v in published for m in v.materials.all())
    assert uses["id-card"] >= 30
    assert uses["business-licence"] >= 15
    assert uses["application-form-utility"] == 4
    # and some materials are conditional, some tolerable with how and when to supply them
    conditional = Material.objects.filter(
        version__status=VersionStatus.PUBLISHED, requirement=Requirement.CONDITIONAL
    )
    assert conditional.count() >= 10
    assert all(m.condition for m in conditional)
    tolerable = Material.objects.filter(version__status=VersionStatus.PUBLISHED, tolerable=True)
    assert tolerable.count() >= 4
    assert all(m.tolerance_method and m.tolerance_days for m in tolerable)


def test_forms_have_a_blank_form_and_a_sample_to_download(demo, db):
    forms = MaterialType.objects.filter(kind=MaterialKind.FORM)
    assert forms.count() >= 30
    for form in forms:
        assert form.template_file and form.sample_file, form.code
        assert (demo / form.template_file.name).exists()
    # the blank form lists the fields of the items that ask for it; the sample fills them in
    form = forms.get(code="application-form-company")
    with form.template_file.open("rb") as blank, form.sample_file.open("rb") as sample:
        blank_rows = list(load_workbook(BytesIO(blank.read())).active.values)
        sample_rows = list(load_workbook(BytesIO(sample.read())).active.values)
    assert blank_rows[0][0] == "公司登记（备案）申请书"
    assert ("经营范围", None) in blank_rows
    assert ("统一社会信用代码", "91440604DEMQ00001B") in sample_rows


def test_the_start_business_theme_merges_its_items(demo, db):
    # given the theme 开办企业
    theme = _theme("start-business")
    names = {ti.item.implementation_code for ti in theme.theme_items.all()}
    keys = [
        "company-setup",
        "seal-filing",
        "invoice",
        "employer-social-insurance",
        "fund-registration",
        "bank-account-appointment",
    ]
    assert names == {implementation_code(e) for e in catalogue.ITEMS if e["key"] in keys}
    # when its guides are merged / then materials and fields are asked once
    merge = selectors.theme_plan(theme).whole
    assert merge.materials_after < merge.materials_before
    assert merge.fields_after < merge.fields_before
    # and the scenario answers select the items that apply
    invoice, staff = theme.questions.all()
    needed = next(o for o in invoice.options.all() if o.text == "需要")
    nobody = next(o for o in staff.options.all() if o.text == "暂不招用")
    chosen = selectors.items_for_answers(theme, {invoice.pk: [needed.pk], staff.pk: [nobody.pk]})
    assert sorted(ti.item.versions.get().name for ti in chosen) == sorted(
        ["有限责任公司设立登记", "公章刻制备案", "发票领用", "企业银行开户预约"]
    )


def test_the_utilities_theme_asks_which_utilities(demo, db):
    theme = _theme("utilities")
    assert {ti.item.department.short_name for ti in theme.theme_items.all()} == {
        "市供水公司",
        "佛山供电局",
        "佛山燃气",
        "广电网络佛山分公司",
    }
    (question,) = theme.questions.all()
    assert question.multiple
    water, power = list(question.options.all())[:2]
    chosen = selectors.items_for_answers(theme, {question.pk: [water.pk, power.pk]})
    assert [ti.item.versions.get().name for ti in chosen] == ["用水报装", "用电报装"]
    merge = selectors.theme_plan(theme).whole
    assert merge.materials_after < merge.materials_before


def test_the_construction_theme_has_its_four_stages(demo, db):
    theme = _theme("construction-project")
    assert [s.name for s in theme.stages.all()] == [
        "立项用地规划许可",
        "工程建设许可",
        "施工许可",
        "竣工验收",
    ]
    plans = selectors.theme_plan(theme).stages
    assert [len(p.theme_items) for p in plans] == [3, 2, 4, 4]
    assert all(p.merge.materials_after <= p.merge.materials_before for p in plans)
    assert plans[0].merge.materials_after < plans[0].merge.materials_before


def test_every_theme_was_audited(demo, db):
    assert Theme.objects.count() == len(catalogue.THEMES) >= 3
    assert AuditEvent.objects.filter(action="catalog.theme.create").count() == Theme.objects.count()
    newborn = _theme("newborn")
    assert selectors.theme_plan(newborn).whole.materials_after < (
        selectors.theme_plan(newborn).whole.materials_before
    )


def test_the_bad_example_is_a_draft_that_cannot_be_published(demo, db):
    # given the deliberately bad guide
    item = ServiceItem.objects.get(implementation_code=implementation_code(catalogue.DRAFT_EXAMPLE))
    version = ItemVersion.objects.with_guide().get(item=item)
    assert version.status == VersionStatus.DRAFT
    codes = {f.code for f in quality.blocking(quality.check(version))}
    assert {"no-legal-basis", "catch-all-material", "promised-exceeds-statutory"} <= codes
    # when publishing it / then it is refused and stays a draft
    with pytest.raises(ValidationError) as refused:
        services.publish(version=version, actor=None, channel=Channel.SYSTEM)
    assert "status" in refused.value.message_dict
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_a_second_load_creates_nothing(demo, db):
    # given the loaded demo
    counts = (ServiceItem.objects.count(), MaterialType.objects.count(), Theme.objects.count())
    # when every step runs again
    report = Report()
    for _label, step in STEPS:
        step(report)
    # then nothing is added
    assert report.created == {}
    assert counts == (
        ServiceItem.objects.count(),
        MaterialType.objects.count(),
        Theme.objects.count(),
    )
    out = StringIO()
    call_command("load_demo", "--no-progress", stdout=out)
    assert "nothing to add" in out.getvalue()


def test_the_public_pages_and_the_admin_show_the_demo_catalogue(demo, db, client):
    # Given the demo city: the front page, every guide, every theme and the admin's list
    assert "开办企业" in client.get(reverse("catalog:index")).content.decode()
    for version in selectors.versions_in_force():
        page = client.get(version.item.get_absolute_url())
        assert page.status_code == 200 and version.name in page.content.decode()
    for theme in selectors.themes_in_force():
        assert theme.name in client.get(theme.get_absolute_url()).content.decode()
    client.force_login(User.objects.get(username="catalog"))
    listing = client.get(reverse("admin:catalog_itemversion_changelist"), {"all": ""})
    assert listing.status_code == 200
    assert "（示例）质量不合格的办事指南" in listing.content.decode()
