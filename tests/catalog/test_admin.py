"""The catalogue admin: catalogue admins (no staff flag) work on item versions within their
departments, edit drafts inline, and publish, start and withdraw through the services."""

import pytest
from django import forms
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from yimen.catalog.choices import VersionStatus
from yimen.catalog.models import (
    ItemVersion,
    MaterialType,
    ScenarioQuestion,
    ServiceItem,
    Theme,
    ThemeItem,
    ThemeStage,
)
from yimen.common.models import AuditEvent
from yimen.org.choices import Role
from yimen.org.models import WindowCategory

from ..accounts.factories import UserFactory
from ..conftest import grant
from ..org.factories import DepartmentFactory
from .factories import (
    FieldDefinitionFactory,
    MaterialTypeFactory,
    implementation_code,
    make_item,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_itemversion_changelist")
ADD = reverse("admin:catalog_itemversion_add")


def _change_url(version):
    return reverse("admin:catalog_itemversion_change", args=[version.pk])


def _signed_in(client, user):
    client.force_login(user)
    # Assertions read the English source strings.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def catalogue_admin(db):
    return grant(UserFactory(), Role.CATALOGUE_ADMIN)


@pytest.fixture
def admin_client(client, catalogue_admin):
    return _signed_in(client, catalogue_admin)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _posted_back(response) -> dict:
    """The change page's forms as a browser would post them back unchanged."""
    forms_ = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_ += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms_:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, forms.CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            elif value is not None:
                data[field.html_name] = value
    return data


def _act(client, action, *versions, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, "index": 0, "_selected_action": [v.pk for v in versions], **extra},
    )


# --- who gets in -------------------------------------------------------------------------------


def test_a_catalogue_admin_without_the_staff_flag_works_on_the_catalogue(admin_client):
    version = make_item(name="食品经营许可")
    assert not admin_client.get(reverse("admin:index")).wsgi_request.user.is_staff
    assert admin_client.get(reverse("admin:index")).status_code == 200
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "食品经营许可" in response.content.decode()
    assert version.item.implementation_code in response.content.decode()


def test_a_clerk_is_sent_to_sign_in(client, clerk):
    make_item()
    response = _signed_in(client, clerk).get(CHANGELIST)
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_a_department_admin_sees_only_their_departments_items(client):
    # Given an admin limited to one department, and an item in another
    own, other = DepartmentFactory(), DepartmentFactory()
    mine = make_item(department=own, name="本部门事项")
    theirs = make_item(department=other, name="外部门事项")
    client = _signed_in(client, grant(UserFactory(), Role.CATALOGUE_ADMIN, department=own))
    # Then the list holds only their own
    content = client.get(CHANGELIST).content.decode()
    assert "本部门事项" in content
    assert "外部门事项" not in content
    # and the other's page is not found
    assert client.get(_change_url(mine)).status_code == 200
    response = client.get(_change_url(theirs))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    # and a new item can only be placed in their department
    departments = client.get(ADD).context["adminform"].form.fields["department"].queryset
    assert list(departments) == [own]


# --- the change page ---------------------------------------------------------------------------


def test_the_change_page_shows_the_findings_blocking_first(admin_client):
    version = make_item(status=VersionStatus.DRAFT, consultation_phone="", supervision_phone="")
    content = admin_client.get(_change_url(version)).content.decode()
    blocking = content.index("No supervision phone is published")
    warning = content.index("No consultation phone is published")
    assert blocking < warning


def test_editing_a_draft_saves_rechecks_and_audits(admin_client, catalogue_admin):
    # Given a clean draft
    version = make_item(status=VersionStatus.DRAFT)
    assert version.findings == []
    old_basis = version.legal_basis
    data = _posted_back(admin_client.get(_change_url(version)))
    # When its name changes, its supervision phone is removed and its review chain dropped
    data.update(name="个体工商户变更登记", supervision_phone="")
    data["legal_basis"] = "《促进个体工商户发展条例》第八条\n\n《市场主体登记管理条例》第三条\n"
    for index in range(int(data["review_steps-TOTAL_FORMS"])):
        data[f"review_steps-{index}-DELETE"] = "on"
    response = admin_client.post(_change_url(version), data)
    # Then the draft is saved
    assert response.status_code == 302, response.context["errors"]
    version.refresh_from_db()
    assert version.name == "个体工商户变更登记"
    assert version.legal_basis == [
        "《促进个体工商户发展条例》第八条",
        "《市场主体登记管理条例》第三条",
    ]
    assert not version.review_steps.exists()
    # and re-checked
    codes = {f["code"] for f in version.findings}
    assert codes == {"no-supervision-phone", "no-review-chain"}
    # and the edit is audited with each field's old and new value and the rows it dropped
    event = AuditEvent.objects.filter(action="catalog.version.update").latest("pk")
    assert (event.object_id, event.channel, event.actor) == (
        str(version.pk),
        "admin",
        catalogue_admin,
    )
    assert event.payload["changes"] == {
        "name": ["个体工商户设立登记", "个体工商户变更登记"],
        "supervision_phone": ["0757-12345", ""],
        "legal_basis": [old_basis, version.legal_basis],
    }
    assert event.payload["parts"] == {"review_steps": {"added": 0, "changed": 0, "deleted": 2}}
    assert set(event.payload["findings"]) == codes


def test_the_audit_row_values_fields_and_counts_rows_as_the_api_does(admin_client):
    # Given a draft with one material and no window category
    version = make_item(status=VersionStatus.DRAFT)
    category = WindowCategory.objects.create(code="market", name="市场监管", queue_prefix="S")
    new_type = MaterialTypeFactory()
    data = _posted_back(admin_client.get(_change_url(version)))
    # When its category and fee are set, its material changed and one added
    data.update(window_category=category.pk, fee_amount="12.50", fee_basis="按件收费")
    data.pop("is_free")
    data.update({"materials-0-copies": "3", "materials-TOTAL_FORMS": "2"})
    data.update({"materials-1-material_type": new_type.pk, "materials-1-order": "2"})
    data.update({"materials-1-originals": "1", "materials-1-copies": "0"})
    data.update({"materials-1-requirement": "required", "materials-1-electronic_accepted": "on"})
    response = admin_client.post(_change_url(version), data)
    assert response.status_code == 302, response.context["errors"]
    # Then relations are recorded by id and decimals as text, as the API records them
    event = AuditEvent.objects.filter(action="catalog.version.update").latest("pk")
    assert event.payload["changes"] == {
        "window_category": [None, category.pk],
        "is_free": [True, False],
        "fee_amount": [None, "12.50"],
        "fee_basis": ["", "按件收费"],
    }
    assert event.payload["parts"] == {"materials": {"added": 1, "changed": 1, "deleted": 0}}


def test_saving_a_draft_unchanged_records_nothing(admin_client):
    version = make_item(status=VersionStatus.DRAFT)
    data = _posted_back(admin_client.get(_change_url(version)))
    events = AuditEvent.objects.count()
    response = admin_client.post(_change_url(version), data)
    assert response.status_code == 302, response.context["errors"]
    assert AuditEvent.objects.count() == events


def test_a_bad_material_row_is_refused_on_the_form(admin_client):
    version = make_item(status=VersionStatus.DRAFT)
    data = _posted_back(admin_client.get(_change_url(version)))
    data.update({"materials-0-requirement": "conditional", "materials-0-condition": ""})
    response = admin_client.post(_change_url(version), data)
    assert response.status_code == 200
    assert "A conditional material states its condition." in response.content.decode()
    assert version.materials.get().requirement == "required"


def test_a_published_version_cannot_be_changed(admin_client):
    version = make_item(name="出生登记")
    response = admin_client.get(_change_url(version))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert 'name="materials-0-name"' not in response.content.decode()
    response = admin_client.post(_change_url(version), {"name": "改名", "_save": "Save"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.name == "出生登记"


# --- actions -----------------------------------------------------------------------------------


def test_publishing_refuses_a_blocked_draft_and_publishes_a_clean_one(admin_client):
    blocked = make_item(status=VersionStatus.DRAFT, supervision_phone="")
    clean = make_item(status=VersionStatus.DRAFT)
    response = _act(admin_client, "publish_selected", blocked, clean)
    assert response.status_code == 302
    blocked.refresh_from_db()
    clean.refresh_from_db()
    assert blocked.status == VersionStatus.DRAFT
    assert clean.status == VersionStatus.PUBLISHED
    reported = _messages(response)
    assert any(
        str(blocked) in m and "Publishing is refused: No supervision phone" in m for m in reported
    )
    assert any(str(clean) in m and "published" in m for m in reported)


def test_the_publish_button_returns_to_the_draft(admin_client):
    draft = make_item(status=VersionStatus.DRAFT)
    page = admin_client.get(_change_url(draft)).content.decode()
    assert 'value="publish_selected"' in page
    response = _act(admin_client, "publish_selected", draft, _return=_change_url(draft))
    assert response.url == _change_url(draft)


def test_an_off_site_return_address_is_ignored(admin_client):
    draft = make_item(status=VersionStatus.DRAFT)
    response = _act(admin_client, "publish_selected", draft, _return="https://evil.example/")
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_withdrawing_asks_for_the_reason(admin_client):
    version = make_item()
    # When withdrawing, a page asks why
    response = _act(admin_client, "withdraw_selected", version)
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    # and without a reason nothing happens
    response = _act(admin_client, "withdraw_selected", version, apply="1", reason=" ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    # With a reason the version is archived, and the reason recorded
    response = _act(admin_client, "withdraw_selected", version, apply="1", reason="职权取消")
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.ARCHIVED
    event = AuditEvent.objects.get(action="catalog.version.archive", object_id=str(version.pk))
    assert event.reason == "职权取消"


def test_starting_a_new_draft_opens_it(admin_client):
    published = make_item()
    response = _act(admin_client, "start_draft_selected", published)
    draft = ItemVersion.objects.get(item=published.item, status=VersionStatus.DRAFT)
    assert draft.number == published.number + 1
    assert response.url == _change_url(draft)
    # A second start is refused for that row
    response = _act(admin_client, "start_draft_selected", published)
    assert any("already has a draft" in m for m in _messages(response))


def test_the_blocking_filter(admin_client):
    make_item(status=VersionStatus.DRAFT, name="有问题的事项", supervision_phone="")
    make_item(status=VersionStatus.DRAFT, name="没问题的事项")
    blocked = admin_client.get(CHANGELIST, {"blocking": "yes"}).content.decode()
    assert "有问题的事项" in blocked
    assert "没问题的事项" not in blocked
    clean = admin_client.get(CHANGELIST, {"blocking": "no"}).content.decode()
    assert "没问题的事项" in clean
    assert "有问题的事项" not in clean


# --- adding and discarding ---------------------------------------------------------------------


def test_adding_an_item_makes_a_draft_through_the_service(admin_client):
    department = DepartmentFactory()
    data = {
        "implementation_code": "not-a-code",
        "department": department.pk,
        "name": "排水许可",
        "item_type": "licence",
        "target": "enterprise",
    }
    # A bad code is refused on its field
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert "implementation_code" in response.context["adminform"].form.errors
    assert not ServiceItem.objects.exists()
    # A good one makes the item and its draft, whose page opens
    data["implementation_code"] = implementation_code(department)
    response = admin_client.post(ADD, data)
    version = ItemVersion.objects.get(item__implementation_code=data["implementation_code"])
    assert response.status_code == 302
    assert response.url == _change_url(version)
    assert (version.status, version.name, version.item.region) == (
        VersionStatus.DRAFT,
        "排水许可",
        department.region,
    )
    assert AuditEvent.objects.filter(action="catalog.item.create").exists()
    # and the new draft's findings are shown
    assert "No legal basis is given" in admin_client.get(response.url).content.decode()


def test_a_draft_is_discarded_and_a_published_version_is_not_deleted(admin_client):
    draft = make_item(status=VersionStatus.DRAFT)
    published = make_item()
    delete_url = reverse("admin:catalog_itemversion_delete", args=[published.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    delete_url = reverse("admin:catalog_itemversion_delete", args=[draft.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not ItemVersion.objects.filter(pk=draft.pk).exists()
    assert not ServiceItem.objects.filter(pk=draft.item_id).exists()
    assert AuditEvent.objects.filter(action="catalog.version.discard").exists()
    assert ItemVersion.objects.filter(pk=published.pk).exists()


# --- the library -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "part", "admin_name"),
    [
        (MaterialTypeFactory, "materials", "materialtype"),
        (FieldDefinitionFactory, "form_fields", "fielddefinition"),
    ],
)
def test_deleting_a_library_entry_in_use_is_refused(admin_client, factory, part, admin_name):
    entry = factory()
    key = "material_type" if part == "materials" else "field"
    make_item(**{part: [{key: entry}]})
    url = reverse(f"admin:catalog_{admin_name}_delete", args=[entry.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "protected" in response.content.decode()
    assert type(entry).objects.filter(pk=entry.pk).exists()


def test_a_department_admin_may_look_up_the_library_but_not_change_it(client):
    material_type = MaterialTypeFactory()
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=DepartmentFactory())
    client = _signed_in(client, user)
    assert client.get(reverse("admin:catalog_materialtype_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_materialtype_add")).status_code == 403
    url = reverse("admin:catalog_materialtype_change", args=[material_type.pk])
    assert client.post(url, {"code": "x", "name": "改名"}).status_code == 403
    assert MaterialType.objects.get(pk=material_type.pk).name == material_type.name


def test_dictionary_choices_are_edited_one_per_line(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_fielddefinition_add"),
        {
            "key": "marital",
            "label": "婚姻状况",
            "datatype": "choice",
            "choices": "未婚\n已婚\n\n",
            "holder_kind": "person",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    field = type(FieldDefinitionFactory()).objects.get(key="marital")
    assert field.choices == ["未婚", "已婚"]
    assert AuditEvent.objects.filter(action="admin.add", object_id=str(field.pk)).exists()


# --- themes ------------------------------------------------------------------------------------


def test_a_scenario_answer_picks_among_its_themes_items(admin_client):
    theme = Theme.objects.create(
        code="kaiban", name="开办企业", category="enterprise_access", target="enterprise"
    )
    other = Theme.objects.create(
        code="shuidian", name="水电气联办", category="joint", target="both"
    )
    licence = ThemeItem.objects.create(theme=theme, item=make_item(name="营业执照").item)
    ThemeItem.objects.create(theme=other, item=make_item(name="供水报装").item)
    question = ScenarioQuestion.objects.create(theme=theme, text="是否需要刻制公章？")
    response = admin_client.get(
        reverse("admin:catalog_scenarioquestion_change", args=[question.pk])
    )
    formset = response.context["inline_admin_formsets"][0].formset
    field = formset.empty_form.fields["theme_items"]
    assert list(field.queryset) == [licence]
    assert "营业执照" in field.label_from_instance(field.queryset.get())


def test_themes_pick_items_by_autocomplete_within_the_admins_scope(client):
    own = DepartmentFactory()
    make_item(department=own, name="社会保障卡申领")
    make_item(name="社会保障登记")
    user = grant(UserFactory(), Role.CATALOGUE_ADMIN, department=own)
    response = _signed_in(client, user).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "catalog",
            "model_name": "themeitem",
            "field_name": "item",
            "term": "社会保障",
        },
    )
    assert response.status_code == 200
    # Each choice names the item, not just its code.
    code = ServiceItem.objects.get(department=own).implementation_code
    assert [row["text"] for row in response.json()["results"]] == [f"社会保障卡申领 ({code})"]


def test_a_theme_is_built_with_its_stages_and_items_and_each_row_is_audited(admin_client):
    item = make_item(name="建设工程规划许可证核发").item
    add_url = reverse("admin:catalog_theme_add")
    data = _posted_back(admin_client.get(add_url))
    data.update(
        {
            "code": "gongcheng",
            "name": "工程建设项目审批",
            "category": "construction",
            "target": "enterprise",
            "order": 0,
            "stages-TOTAL_FORMS": 1,
            "stages-0-order": 1,
            "stages-0-name": "立项用地规划许可",
            "theme_items-TOTAL_FORMS": 1,
            "theme_items-0-item": item.pk,
            "theme_items-0-order": 1,
        }
    )
    response = admin_client.post(add_url, data)
    assert response.status_code == 302, response.context["errors"]
    theme = Theme.objects.get(code="gongcheng")
    assert [s.name for s in theme.stages.all()] == ["立项用地规划许可"]
    assert [t.item for t in theme.theme_items.all()] == [item]
    audited = set(
        AuditEvent.objects.filter(action="admin.add").values_list("object_type", flat=True)
    )
    assert {"catalog.theme", "catalog.themestage", "catalog.themeitem"} <= audited


def test_a_draft_whose_item_a_theme_names_is_not_discarded(admin_client):
    # Given a first draft whose item is already in a theme
    draft = make_item(status=VersionStatus.DRAFT)
    theme = Theme.objects.create(code="t", name="开办企业", category="joint", target="both")
    ThemeItem.objects.create(theme=theme, item=draft.item)
    # When it is deleted, the theme is named and nothing is deleted
    url = reverse("admin:catalog_itemversion_delete", args=[draft.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert f"开办企业 · {draft.name} ({draft.item.implementation_code})" in (
        response.content.decode()
    )
    assert ItemVersion.objects.filter(pk=draft.pk).exists()


def test_the_theme_page_names_its_items_in_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    # Given a theme with four stages and ten items
    theme = Theme.objects.create(
        code="gongcheng", name="工程建设项目审批", category="construction", target="enterprise"
    )
    stages = [ThemeStage.objects.create(theme=theme, order=n, name=f"阶段{n}") for n in range(4)]
    items = [make_item(name=f"工程事项{n}号").item for n in range(10)]
    for n, item in enumerate(items):
        ThemeItem.objects.create(theme=theme, stage=stages[n % 4], item=item, order=n)
    ScenarioQuestion.objects.create(theme=theme, text="是否涉及人防工程？")
    url = reverse("admin:catalog_theme_change", args=[theme.pk])
    # When its page is opened, the queries do not grow with its rows (one query per row
    # would exceed the budget)
    with django_assert_max_num_queries(16):
        response = admin_client.get(url)
    # Then each item is shown by its name, and each stage is offered
    assert response.status_code == 200
    content = response.content.decode()
    for item in items:
        name = ItemVersion.objects.get(item=item).name
        assert f"{name} ({item.implementation_code})</option>" in content
    for stage in stages:
        assert f"{stage}</option>" in content


def test_a_new_stage_and_item_are_saved_from_the_theme_page(admin_client):
    # Given a theme with a stage and an item
    theme = Theme.objects.create(code="t", name="开办企业", category="joint", target="both")
    stage = ThemeStage.objects.create(theme=theme, order=1, name="设立")
    ThemeItem.objects.create(theme=theme, stage=stage, item=make_item().item)
    url = reverse("admin:catalog_theme_change", args=[theme.pk])
    data = _posted_back(admin_client.get(url))
    # When an item not in the theme yet is added to the stage
    added = make_item(name="公章刻制备案").item
    data.update({"theme_items-TOTAL_FORMS": "2", "theme_items-1-stage": stage.pk})
    data.update({"theme_items-1-item": added.pk, "theme_items-1-order": "2"})
    response = admin_client.post(url, data)
    # Then it is saved in that stage
    assert response.status_code == 302, response.context["errors"]
    assert ThemeItem.objects.get(theme=theme, item=added).stage == stage
