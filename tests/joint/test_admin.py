"""The admin of joint handling: applications and projects read-only for system admins, and
the reduction report (fields and materials before → after) for catalogue and system admins,
with its xlsx download."""

import io

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from yimen.catalog.models import Theme
from yimen.joint.models import JointCase
from yimen.org.choices import Role

from ..accounts.factories import UserFactory
from ..conftest import grant
from .factories import JointScene

pytestmark = pytest.mark.django_db

REPORT = reverse("admin:joint_reduction")
XLSX = reverse("admin:joint_reduction_xlsx")
CHANGELIST = reverse("admin:joint_jointcase_changelist")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def scene():
    return JointScene.make()


def signed_in(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def catalogue_admin():
    return grant(UserFactory(), Role.CATALOGUE_ADMIN)


def row_of(response, theme):
    return next(r for r in response.context["rows"] if r.theme.pk == theme.pk)


# --- the reduction report ---------------------------------------------------------------------


def test_the_report_shows_the_fields_and_materials_saved_by_merging(scene):
    # Given the theme of three items: 企业名称 in all three, 注册资本 in A, 员工人数 in C;
    # 申请书 in A and C, 身份证明 in A and B, 场所证明 in B
    # When a catalogue admin opens the report
    response = signed_in(catalogue_admin()).get(REPORT)
    # Then the theme's row counts every item: fields 5 → 3, materials 5 → 3 (−40 %)
    assert response.status_code == 200
    row = row_of(response, scene.theme)
    assert row.stage is None and len(row.merge.versions) == 3
    merge = row.merge
    assert (merge.fields_before, merge.fields_after, merge.fields_cut) == (5, 3, 40)
    assert (merge.materials_before, merge.materials_after, merge.materials_cut) == (5, 3, 40)
    assert sorted(f.field.key for f in merge.fields) == ["capital", "company_name", "staff_count"]
    page = response.text
    assert "开办测试" in page and "5 → 3 (−40%)" in page
    # and the totals are the sums of the rows (this theme is the only one)
    assert response.context["totals"] == {
        "fields_before": 5,
        "fields_after": 3,
        "fields_cut": 40,
        "materials_before": 5,
        "materials_after": 3,
        "materials_cut": 40,
    }
    assert f'href="{XLSX}"' in page


def test_the_report_goes_stage_by_stage_and_leaves_out_themes_not_in_force(scene):
    # Given a second theme, not in force, and the first one in two stages
    Theme.objects.create(code="off", name="停用主题", category=scene.theme.category,
                         target=scene.theme.target, is_active=False)  # fmt: skip
    first = scene.theme.stages.create(order=1, name="第一阶段")
    second = scene.theme.stages.create(order=2, name="第二阶段")
    items = list(scene.theme.theme_items.order_by("order"))
    for theme_item, stage in zip(items, (first, first, second), strict=True):
        theme_item.stage = stage
        theme_item.save()
    response = signed_in(catalogue_admin()).get(REPORT)
    rows = [(r.stage.name, r.merge.fields_before, r.merge.fields_after) for r in
            response.context["rows"]]  # fmt: skip
    # Then: A+B ask 企业名称 twice and 注册资本 once (3 → 2); C asks 企业名称, 员工人数 (2 → 2)
    assert rows == [("第一阶段", 3, 2), ("第二阶段", 2, 2)]
    assert "停用主题" not in response.text
    assert response.context["totals"]["fields_before"] == 5
    assert response.context["totals"]["fields_after"] == 4


def test_the_report_downloads_as_xlsx(scene):
    response = signed_in(catalogue_admin()).get(XLSX)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="theme-reduction-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("主题", "主题编码", "阶段", "事项数")
    assert rows[1] == (
        "开办测试",
        scene.theme.code,
        None,
        3,
        "设立登记、印章备案、社保登记",
        5,
        3,
        40,
        5,
        3,
        40,
    )
    assert rows[-1] == ("合计", None, None, 3, None, 5, 3, 40, 5, 3, 40)


def test_a_name_that_looks_like_a_formula_stays_text(scene):
    scene.theme.name = '=HYPERLINK("http://x")'
    scene.theme.save()
    response = signed_in(catalogue_admin()).get(XLSX)
    cell = load_workbook(io.BytesIO(response.content)).active["A2"]
    assert cell.value == scene.theme.name and cell.data_type == "s"


def test_catalogue_and_system_admins_read_the_report_and_no_one_else(scene, client, sysadmin):
    superuser = UserFactory(is_superuser=True)
    for user in (catalogue_admin(), sysadmin, superuser):
        browser = signed_in(user)
        assert browser.get(REPORT).status_code == 200, user
        assert browser.get(XLSX).status_code == 200, user
    # Staff flagged for the admin but holding neither role: refused
    staff = UserFactory(is_staff=True)
    assert signed_in(staff).get(REPORT).status_code == 403
    assert signed_in(staff).get(XLSX).status_code == 403
    # Anyone else is sent to the admin's sign-in
    for user in (scene.clerk, scene.departments[0].reviewer, scene.applicant.user):
        response = signed_in(user).get(REPORT)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
        assert signed_in(user).get(XLSX).status_code == 302
    assert client.get(XLSX).status_code == 302


def test_the_themes_list_links_to_the_report(scene):
    page = signed_in(catalogue_admin()).get(reverse("admin:catalog_theme_changelist"))
    assert page.status_code == 200 and f'href="{REPORT}"' in page.text
    assert "window_category" in page.context["cl"].list_display


def test_the_theme_form_sets_the_window_category(scene):
    page = signed_in(catalogue_admin()).get(
        reverse("admin:catalog_theme_change", args=[scene.theme.pk])
    )
    assert page.status_code == 200
    assert "window_category" in page.context["adminform"].form.fields


# --- applications and projects, read only ----------------------------------------------------


def test_system_admins_look_at_applications_with_masked_ids(scene, sysadmin):
    # Given an accepted application (its cases open) with its documents
    joint = scene.accepted()
    client = signed_in(sysadmin)
    # The list shows it, the applicant as the masked identifier (a credit code is public,
    # an ID number would be masked), and links to the report
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert joint.number in listing.text and "开办测试" in listing.text
    shown = f"{scene.applicant.name} ({scene.applicant.masked_identifier})"
    assert shown in listing.text
    assert f'href="{REPORT}"' in listing.text
    # The page shows its set, its documents and links to each department's case
    page = client.get(reverse("admin:joint_jointcase_change", args=[joint.pk]))
    assert page.status_code == 200
    text = page.text
    for child in joint.cases.all():
        assert reverse("admin:cases_case_change", args=[child.pk]) in text
        assert child.number in text
    assert "申请书.pdf" in text and "是否招用员工？" in text
    formsets = {f.formset.model.__name__: len(f.formset.forms) for f in
                page.context["inline_admin_formsets"]}  # fmt: skip
    assert formsets == {"JointMaterial": 3, "CorrectionRequest": 0, "JointDocument": 2}
    assert "示例科技有限公司" not in text  # the application form is left out
    # Nothing is added, changed or deleted here
    assert client.get(reverse("admin:joint_jointcase_add")).status_code == 403
    delete = reverse("admin:joint_jointcase_delete", args=[joint.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert JointCase.objects.filter(pk=joint.pk).exists()


def test_catalogue_admins_do_not_see_the_applications(scene):
    scene.apply()
    assert signed_in(catalogue_admin()).get(CHANGELIST).status_code == 403


def test_the_list_queries_do_not_grow_with_the_rows(scene, sysadmin):
    client = signed_in(sysadmin)
    scene.apply()
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for _ in range(4):
        scene.apply()
    with CaptureQueriesContext(connection) as five:
        response = client.get(CHANGELIST)
    assert response.context["cl"].result_count == 5
    assert len(five) == len(one)


def test_projects_list_their_applications_stage_by_stage(scene, sysadmin):
    first = scene.theme.stages.create(order=1, name="第一阶段")
    second = scene.theme.stages.create(order=2, name="第二阶段")
    items = list(scene.theme.theme_items.order_by("order"))
    for theme_item, stage in zip(items, (first, first, second), strict=True):
        theme_item.stage = stage
        theme_item.save()
    joint = scene.apply(stage=first, project_name="示例厂房")
    client = signed_in(sysadmin)
    listing = client.get(reverse("admin:joint_project_changelist"))
    assert listing.status_code == 200 and joint.project.code in listing.text
    page = client.get(reverse("admin:joint_project_change", args=[joint.project.pk]))
    assert page.status_code == 200
    assert reverse("admin:joint_jointcase_change", args=[joint.pk]) in page.text
    assert "第一阶段" in page.text
