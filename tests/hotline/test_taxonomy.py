"""The category taxonomy: written through the services (three levels at most, moves keep the
subtree within them, deactivation takes the subtree, every write audited, errors by field),
read through the selectors (leaves, the tree, without N+1), and exchanged as xlsx (errors by
row, nothing written when anything is wrong)."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.org.factories import DepartmentFactory
from yimen.common.models import AuditEvent
from yimen.hotline import selectors, services, xlsx
from yimen.hotline.models import Category
from yimen.org.choices import Role

from .factories import CategoryFactory, agent, branch

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return grant(UserFactory(username="hotline-admin"), Role.SYSTEM_ADMIN)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- services: create --------------------------------------------------------------------------


def test_an_admin_builds_three_levels_and_each_write_is_audited(admin_user):
    # Given a department
    unit = DepartmentFactory(name="市城管执法局")
    # When the admin creates 城乡建设 › 市政设施 › 路灯不亮 with the unit on the leaf
    top = services.category_create(actor=admin_user, code="01", name="城乡建设")
    mid = services.category_create(actor=admin_user, code="0101", name="市政设施", parent=top)
    leaf = services.category_create(
        actor=admin_user, code="010101", name=" 路灯不亮 ", parent=mid, default_unit=unit, order=3
    )
    # Then the levels follow the parents, the name is trimmed and the path reads down
    assert (top.level, mid.level, leaf.level) == (1, 2, 3)
    assert leaf.path == "城乡建设 › 市政设施 › 路灯不亮"
    assert leaf.default_unit == unit and leaf.order == 3
    # And the chain has one event per category, by the admin, in the admin channel
    created = events("hotline.category.create")
    assert [e.object_id for e in created] == [str(top.pk), str(mid.pk), str(leaf.pk)]
    assert created[-1].actor == admin_user and created[-1].channel == "admin"
    assert created[-1].payload["fields"]["default_unit"] == unit.pk


def test_a_fourth_level_is_refused_on_the_parent(admin_user):
    _top, _mid, leaf = branch()
    with pytest.raises(ValidationError) as exc:
        services.category_create(actor=admin_user, code="x", name="太深", parent=leaf)
    assert "three levels" in errors_of(exc)["parent"][0]
    assert not Category.objects.filter(code="x").exists()


@pytest.mark.parametrize(
    ("code", "name", "field"),
    [
        ("", "名称", "code"),
        ("has space", "名称", "code"),
        ("dup", "名称", "code"),  # the code exists
        ("new", "", "name"),
        ("new", "市政设施", "name"),  # a sibling has the name
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(admin_user, code, name, field):
    top, _mid, _leaf = branch()
    CategoryFactory(code="dup")
    count = Category.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.category_create(actor=admin_user, code=code, name=name, parent=top)
    assert field in errors_of(exc)
    assert Category.objects.count() == count
    assert not events("hotline.category.create")


def test_two_top_level_categories_cannot_share_a_name(admin_user):
    # (a unique constraint on (parent, name) does not hold where the parent is NULL)
    services.category_create(actor=admin_user, code="a", name="教育")
    with pytest.raises(ValidationError) as exc:
        services.category_create(actor=admin_user, code="b", name="教育")
    assert "name" in errors_of(exc)


def test_an_inactive_parent_or_unit_is_refused(admin_user):
    top = CategoryFactory(is_active=False)
    closed = DepartmentFactory(is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.category_create(
            actor=admin_user, code="c", name="子类", parent=top, default_unit=closed
        )
    assert set(errors_of(exc)) == {"parent", "default_unit"}


@pytest.mark.parametrize("who", ["agent", "catalogue_admin", "anonymous_like"])
def test_only_system_admins_keep_the_taxonomy(who):
    user = {
        "agent": lambda: agent(),
        "catalogue_admin": lambda: grant(UserFactory(), Role.CATALOGUE_ADMIN),
        "anonymous_like": lambda: UserFactory(),
    }[who]()
    with pytest.raises(PermissionDenied):
        services.category_create(actor=user, code="z", name="无权")
    assert not Category.objects.exists()


def test_the_system_itself_writes_in_the_system_channel():
    category = services.category_create(actor=None, code="s", name="系统")
    [event] = events("hotline.category.create")
    assert event.object_id == str(category.pk) and event.channel == "system"
    assert event.actor is None


# --- services: update, move, deactivate --------------------------------------------------------


def test_renaming_and_reassigning_the_unit_is_audited_with_the_difference(admin_user):
    _top, _mid, leaf = branch()
    unit = DepartmentFactory()
    services.category_update(category=leaf, actor=admin_user, name="路灯故障", default_unit=unit)
    leaf.refresh_from_db()
    assert (leaf.name, leaf.default_unit) == ("路灯故障", unit)
    [event] = events("hotline.category.update")
    assert event.payload["changes"]["name"] == ["路灯不亮", "路灯故障"]
    assert event.payload["changes"]["default_unit"] == [None, unit.pk]


def test_an_update_that_changes_nothing_writes_nothing(admin_user):
    _top, _mid, leaf = branch()
    services.category_update(category=leaf, actor=admin_user, name=leaf.name)
    assert not events("hotline.category.update")


def test_the_code_does_not_change(admin_user):
    _top, _mid, leaf = branch()
    with pytest.raises(ValidationError) as exc:
        services.category_update(category=leaf, actor=admin_user, code="other")
    assert "code" in errors_of(exc)


def test_moving_a_branch_up_relevels_its_subtree(admin_user):
    # Given 城乡建设 › 市政设施 › 路灯不亮 and another top-level category
    top, mid, leaf = branch()
    other = CategoryFactory(name="城市管理")
    # When 市政设施 moves under the other one (same level) and then becomes top-level
    services.category_update(category=mid, actor=admin_user, parent=other)
    leaf.refresh_from_db()
    assert leaf.path == "城市管理 › 市政设施 › 路灯不亮" and leaf.level == 3
    services.category_update(category=mid, actor=admin_user, parent=None)
    # Then the subtree's levels follow
    mid.refresh_from_db()
    leaf.refresh_from_db()
    assert (mid.level, leaf.level) == (1, 2)
    assert leaf.path == "市政设施 › 路灯不亮"
    assert top.children.count() == 0


def test_a_move_that_would_make_a_fourth_level_is_refused(admin_user):
    # Given a two-level branch and another three-level one
    _top, mid, _leaf = branch()
    _t2, _m2, other_leaf = branch(names=("交通出行", "公共交通", "地铁"))
    other_mid = other_leaf.parent
    # When 市政设施 (with its leaf) moves under another level-2 category
    with pytest.raises(ValidationError) as exc:
        services.category_update(category=mid, actor=admin_user, parent=other_mid)
    # Then it is refused on the parent, and nothing moved
    assert "subcategories" in errors_of(exc)["parent"][0]
    mid.refresh_from_db()
    assert mid.parent.name == "城乡建设"


def test_a_category_cannot_move_under_itself_or_its_subtree(admin_user):
    top, mid, _leaf = branch()
    for parent in (top, mid):
        with pytest.raises(ValidationError) as exc:
            services.category_update(category=top, actor=admin_user, parent=parent)
        assert "parent" in errors_of(exc)


def test_deactivating_takes_the_subtree_in_one_event(admin_user):
    top, mid, leaf = branch()
    sibling = CategoryFactory(name="房屋管理", parent=top)
    services.category_deactivate(category=mid, actor=admin_user)
    states = dict(Category.objects.values_list("pk", "is_active"))
    assert states == {top.pk: True, mid.pk: False, leaf.pk: False, sibling.pk: True}
    [event] = events("hotline.category.deactivate")
    assert event.payload["codes"] == [mid.code, leaf.code] and event.to_state == "inactive"
    # Deactivating again changes nothing and records nothing
    services.category_deactivate(category=mid, actor=admin_user)
    assert len(events("hotline.category.deactivate")) == 1


def test_is_active_false_through_update_deactivates_the_subtree(admin_user):
    top, mid, leaf = branch()
    services.category_update(category=top, actor=admin_user, is_active=False)
    assert not Category.objects.filter(pk__in=[top.pk, mid.pk, leaf.pk], is_active=True).exists()


def test_a_category_is_reactivated_only_under_an_active_parent(admin_user):
    top, mid, _leaf = branch()
    services.category_deactivate(category=top, actor=admin_user)
    with pytest.raises(ValidationError) as exc:
        services.category_update(category=mid, actor=admin_user, is_active=True)
    assert "parent" in errors_of(exc)
    services.category_update(category=top, actor=admin_user, is_active=True)
    services.category_update(category=mid, actor=admin_user, is_active=True)
    assert Category.objects.get(pk=mid.pk).is_active


# --- selectors ---------------------------------------------------------------------------------


def test_leaves_are_the_active_categories_without_active_children(django_assert_num_queries):
    # Given two branches, a level-2 category without children, and an inactive leaf
    _t, mid, leaf = branch()
    _t2, _m2, leaf2 = branch(names=("交通出行", "公共交通", "地铁"))
    lone = CategoryFactory(name="其他", parent=mid.parent)
    gone = CategoryFactory(name="旧分类", parent=mid, is_active=False)
    # When the leaves are listed, with their paths and units
    with django_assert_num_queries(1):
        found = list(selectors.leaves())
        paths = [c.path for c in found]
        units = [c.default_unit for c in found]
    # Then
    assert {c.pk for c in found} == {leaf.pk, leaf2.pk, lone.pk}
    assert gone.pk not in {c.pk for c in found}
    assert "城乡建设 › 市政设施 › 路灯不亮" in paths and len(units) == 3


def test_the_tree_is_one_query_and_nested_in_order(django_assert_num_queries):
    top, mid, leaf = branch()
    second = CategoryFactory(name="第二", parent=top, order=99)
    with django_assert_num_queries(1):
        roots = selectors.tree()
        assert [n.category.pk for n in roots] == [top.pk]
        assert [n.category.pk for n in roots[0].children] == [mid.pk, second.pk]
        assert roots[0].children[0].children[0].category.path == leaf.path
        assert [n.category.pk for n in selectors.walk(roots)] == [
            top.pk,
            mid.pk,
            leaf.pk,
            second.pk,
        ]


# --- xlsx ----------------------------------------------------------------------------------------


def workbook(rows, *, header=None) -> BytesIO:
    book = Workbook()
    ws = book.active
    ws.title = xlsx.SHEET
    ws.append(header or ["分类编码", "分类名称", "上级编码", "默认承办单位", "排序", "启用"])
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_export_then_import_round_trips(admin_user):
    # Given a taxonomy with a unit, exported
    unit = DepartmentFactory(name="市城管执法局")
    _top, mid, leaf = branch(unit=unit)
    buffer = BytesIO()
    assert xlsx.export_taxonomy(buffer) == 3
    buffer.seek(0)
    sheet = load_workbook(buffer)[xlsx.SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[3][:6] == (leaf.code, "路灯不亮", mid.code, unit.uscc, leaf.order, "是")
    # When the same file is imported
    buffer.seek(0)
    report = xlsx.import_taxonomy(buffer, actor=admin_user)
    # Then nothing changes
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


def test_import_creates_children_before_parents_and_resolves_units_by_name(admin_user):
    unit = DepartmentFactory(name="佛山市水务局", short_name="市水务局")
    existing = CategoryFactory(code="09", name="水电气")
    file = workbook(
        [
            ["090501", "内涝积水", "0905", "市水务局", 1, "是"],  # the child first
            ["0905", "排水防涝", "09", None, 5, None],  # under an existing category
            ["090502", "排水管道堵塞", "0905", unit.uscc, 2, "否"],
        ]
    )
    report = xlsx.import_taxonomy(file, actor=admin_user)
    assert report.created == 3
    flood = Category.objects.get(code="090501")
    assert flood.path == "水电气 › 排水防涝 › 内涝积水" and flood.default_unit == unit
    assert not Category.objects.get(code="090502").is_active
    assert Category.objects.get(code="0905").parent == existing
    assert len(events("hotline.category.create")) == 3


def test_import_lists_every_problem_by_row_and_writes_nothing(admin_user):
    DepartmentFactory(name="同名部门")
    DepartmentFactory(name="同名部门")
    _top, _mid, leaf = branch()
    file = workbook(
        [
            ["a", "甲", None, None, 1, "是"],  # row 2: fine
            ["b", "", "a", "不存在的部门", "x", "也许"],  # row 3: name, unit, order, active
            ["c", "丙", "nowhere", None, 1, None],  # row 4: unknown parent
            ["a", "重复", None, None, 1, None],  # row 5: the code again
            ["d", "丁", leaf.code, None, 1, None],  # row 6: a fourth level (the service says)
            ["e", "戊", None, "同名部门", 1, None],  # row 7: an ambiguous name
        ]
    )
    with pytest.raises(xlsx.ImportFailed) as exc:
        xlsx.import_taxonomy(file, actor=admin_user)
    problems = exc.value.errors
    assert xlsx.rows_of(problems) == [3, 4, 5, 6, 7]
    assert {p.column for p in problems if p.row == 3} == {
        "分类名称",
        "默认承办单位",
        "排序",
        "启用",
    }
    assert [p.column for p in problems if p.row == 6] == ["上级编码"]
    assert "three levels" in next(p.reason for p in problems if p.row == 6)
    assert "Row 4, 上级编码" in str(next(p for p in problems if p.row == 4))
    # And nothing was written, row 2 included
    assert not Category.objects.filter(code__in=["a", "e"]).exists()
    assert not events("hotline.category.create")


def test_a_loop_inside_the_file_is_an_error():
    file = workbook([["a", "甲", "b", None, 1, None], ["b", "乙", "a", None, 1, None]])
    with pytest.raises(xlsx.ImportFailed) as exc:
        xlsx.import_taxonomy(file, actor=None)
    assert xlsx.rows_of(exc.value.errors) == [2, 3]


def test_a_dry_run_counts_and_rolls_back(admin_user):
    file = workbook([["a", "甲", None, None, 1, None]])
    report = xlsx.import_taxonomy(file, actor=admin_user, dry_run=True)
    assert report.created == 1 and report.dry_run
    assert not Category.objects.exists()


def test_import_updates_known_codes(admin_user):
    _top, _mid, leaf = branch()
    unit = DepartmentFactory()
    file = workbook([[leaf.code, "路灯故障", leaf.parent.code, unit.uscc, 7, "是"]])
    report = xlsx.import_taxonomy(file, actor=admin_user)
    assert report.updated == 1
    leaf.refresh_from_db()
    assert (leaf.name, leaf.default_unit, leaf.order) == ("路灯故障", unit, 7)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a workbook", "not an xlsx workbook"),
        (None, "The column is missing"),
    ],
)
def test_a_wrong_file_is_one_clear_error(content, message):
    file = BytesIO(content) if content else workbook([], header=["分类编码", "分类名称"])
    with pytest.raises(xlsx.ImportFailed) as exc:
        xlsx.import_taxonomy(file, actor=None)
    assert message in " ".join(exc.value.messages)
