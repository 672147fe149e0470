"""The hotline admin: system admins keep the taxonomy (through the services: audited, the
same rules, never deleted), import and export it as xlsx, set the deadline rules, and look
at the knowledge articles (read-only) to publish or send back those awaiting review through
the knowledge services; other roles get nothing or look only."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.accounts.factories import UserFactory
from tests.conftest import grant
from tests.org.factories import DepartmentFactory
from yimen.common.models import AuditEvent
from yimen.hotline import xlsx
from yimen.hotline.choices import ArticleStatus, OrderType, Urgency
from yimen.hotline.models import Category, DeadlineRule, KnowledgeArticle
from yimen.org.choices import Role

from .factories import agent, article, branch, reviewer

pytestmark = pytest.mark.django_db

CATEGORIES = reverse("admin:hotline_category_changelist")
CATEGORY_ADD = reverse("admin:hotline_category_add")
EXPORT = reverse("admin:hotline_category_export")
IMPORT = reverse("admin:hotline_category_import")
RULES = reverse("admin:hotline_deadlinerule_changelist")
RULE_ADD = reverse("admin:hotline_deadlinerule_add")
ARTICLES = reverse("admin:hotline_knowledgearticle_changelist")


def login(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_user():
    return grant(UserFactory(username="hotline-sysadmin"), Role.SYSTEM_ADMIN)


@pytest.fixture
def admin_client(client, admin_user):
    return login(client, admin_user)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def form_errors(response):
    return response.context["adminform"].form.errors


def category_data(*, active=True, **values):
    data = {"code": "", "name": "", "parent": "", "default_unit": "", "order": 0, **values}
    return {**data, "is_active": "on"} if active else data


# --- who gets in -------------------------------------------------------------------------------

PEOPLE = {
    "system admin": lambda: grant(UserFactory(), Role.SYSTEM_ADMIN),
    "superuser": lambda: UserFactory(is_superuser=True),
    "supervisor": lambda: grant(UserFactory(), Role.SUPERVISOR),
    "catalogue admin": lambda: grant(UserFactory(), Role.CATALOGUE_ADMIN),
    "agent": lambda: agent(),
    "unit handler": lambda: grant(UserFactory(), Role.UNIT_HANDLER, department=DepartmentFactory()),
}
# What each one gets on the categories, the import page, the rules and the articles.
EXPECTED = {
    "system admin": (200, 200, 200, 200),
    "superuser": (200, 200, 200, 200),
    "supervisor": (302, 302, 302, 302),  # not an admin-site role: sent to log in
    "catalogue admin": (403, 403, 403, 403),
    "agent": (302, 302, 302, 302),
    "unit handler": (302, 302, 302, 302),
}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_each_role_on_each_admin_page(client, who):
    branch()
    login(client, PEOPLE[who]())
    got = tuple(client.get(url).status_code for url in (CATEGORIES, IMPORT, RULES, ARTICLES))
    assert got == EXPECTED[who]


def test_a_staff_supervisor_may_look_at_the_rules_but_not_change_them(client):
    # Given a supervisor let into the admin site (Django's staff flag)
    user = grant(UserFactory(is_staff=True), Role.SUPERVISOR)
    DeadlineRule.objects.create(
        order_type="complaint", urgency="normal", unit="workdays", sign_limit=1,
        reply_limit=5, close_limit=15,
    )  # fmt: skip
    login(client, user)
    # Then the list opens, but adding and changing do not
    assert client.get(RULES).status_code == 200
    assert client.get(RULE_ADD).status_code == 403
    rule = DeadlineRule.objects.get()
    response = client.post(
        reverse("admin:hotline_deadlinerule_change", args=[rule.pk]),
        {"unit": "workdays", "sign_limit": 2, "reply_limit": 5, "close_limit": 15},
    )
    assert response.status_code == 403
    assert client.get(CATEGORIES).status_code == 403


# --- categories --------------------------------------------------------------------------------


def test_the_category_list_shows_paths_in_constant_queries(admin_client):
    branch()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(CATEGORIES)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    count()  # the first page of a session loads more (the session, the user)
    few = count()
    for n in range(4):
        branch(names=(f"顶级{n}", f"中级{n}", f"末级{n}"), unit=DepartmentFactory())
    assert count() == few
    assert "城乡建设 › 市政设施 › 路灯不亮" in admin_client.get(CATEGORIES).content.decode()


def test_adding_a_category_goes_through_the_service(admin_client, admin_user):
    _top, mid, _leaf = branch()
    unit = DepartmentFactory()
    response = admin_client.post(
        CATEGORY_ADD,
        category_data(code="010102", name="井盖缺失", parent=mid.pk, default_unit=unit.pk),
    )
    assert response.status_code == 302, form_errors(response)
    added = Category.objects.get(code="010102")
    assert (added.level, added.default_unit, added.is_active) == (3, unit, True)
    # The service's event, not the generic admin one
    [event] = events("hotline.category.create")
    assert event.object_id == str(added.pk) and event.actor == admin_user
    assert event.channel == "admin"
    assert not events("admin.add")


def test_a_fourth_level_is_a_form_error(admin_client):
    _top, _mid, leaf = branch()
    response = admin_client.post(CATEGORY_ADD, category_data(code="x", name="太深", parent=leaf.pk))
    assert response.status_code == 200
    assert "three levels" in form_errors(response)["parent"][0]
    assert not Category.objects.filter(code="x").exists()


def test_a_sibling_name_is_a_form_error(admin_client):
    top, _mid, _leaf = branch()
    response = admin_client.post(
        CATEGORY_ADD, category_data(code="dup", name="市政设施", parent=top.pk)
    )
    assert response.status_code == 200
    assert "name" in form_errors(response)


def test_changing_a_category_is_audited_and_the_code_stays(admin_client):
    _top, mid, leaf = branch()
    response = admin_client.post(
        reverse("admin:hotline_category_change", args=[leaf.pk]),
        category_data(code="hacked", name="路灯故障", parent=mid.pk, order=4),
    )
    assert response.status_code == 302, form_errors(response)
    leaf.refresh_from_db()
    assert (leaf.name, leaf.order) == ("路灯故障", 4) and leaf.code != "hacked"
    [event] = events("hotline.category.update")
    assert set(event.payload["changes"]) == {"name", "order"}


def test_moving_a_branch_too_deep_is_a_form_error(admin_client):
    _top, mid, _leaf = branch()
    other_mid = branch(names=("交通出行", "公共交通", "地铁"))[1]
    response = admin_client.post(
        reverse("admin:hotline_category_change", args=[mid.pk]),
        category_data(name=mid.name, parent=other_mid.pk),
    )
    assert response.status_code == 200
    assert "subcategories" in form_errors(response)["parent"][0]
    mid.refresh_from_db()
    assert mid.parent.name == "城乡建设"


def test_unticking_active_deactivates_the_subtree(admin_client):
    top, mid, leaf = branch()
    response = admin_client.post(
        reverse("admin:hotline_category_change", args=[top.pk]),
        category_data(name=top.name, active=False),
    )
    assert response.status_code == 302, form_errors(response)
    assert not Category.objects.filter(is_active=True).exists()
    [event] = events("hotline.category.deactivate")
    assert event.payload["codes"] == [top.code, mid.code, leaf.code]


def test_the_deactivate_action_and_no_deleting(admin_client):
    _top, mid, leaf = branch()
    response = admin_client.post(
        CATEGORIES, {"action": "deactivate_selected", "_selected_action": [mid.pk]}
    )
    assert response.status_code == 302
    assert set(Category.objects.filter(is_active=False).values_list("pk", flat=True)) == {
        mid.pk,
        leaf.pk,
    }
    delete = reverse("admin:hotline_category_delete", args=[leaf.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=leaf.pk).exists()


def test_the_parent_picker_offers_levels_one_and_two_only(admin_client):
    top, mid, _leaf = branch()
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "hotline",
            "model_name": "category",
            "field_name": "parent",
            "term": "",
        },
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert ids == {top.pk, mid.pk}


# --- xlsx in the admin -------------------------------------------------------------------------


def test_export_downloads_the_taxonomy(admin_client):
    branch(unit=DepartmentFactory())
    response = admin_client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="hotline-categories-')
    sheet = load_workbook(BytesIO(response.content))[xlsx.SHEET]
    assert sheet.max_row == 4


def upload(rows) -> BytesIO:
    book = Workbook()
    ws = book.active
    ws.title = xlsx.SHEET
    ws.append(["分类编码", "分类名称", "上级编码", "默认承办单位", "排序"])
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "categories.xlsx"
    return buffer


def test_an_import_with_errors_lists_them_by_row(admin_client):
    response = admin_client.post(
        IMPORT, {"file": upload([["a", "甲", None, None, 1], ["b", "", "zz", None, 1]])}
    )
    assert response.status_code == 400
    problems = [str(p) for p in response.context["problems"]]
    assert problems == [
        "Row 3, 分类名称: This cell must not be empty.",
        "Row 3, 上级编码: No category has this code, in the file or in the system.",
    ]
    assert not Category.objects.exists()


def test_a_correct_import_is_written_and_a_dry_run_is_not(admin_client):
    rows = [["a", "甲", None, None, 1], ["a1", "甲一", "a", None, 1]]
    response = admin_client.post(IMPORT, {"file": upload(rows), "dry_run": "on"})
    assert response.status_code == 200 and not Category.objects.exists()
    response = admin_client.post(IMPORT, {"file": upload(rows)})
    assert response.status_code == 302
    assert Category.objects.get(code="a1").path == "甲 › 甲一"
    assert len(events("hotline.category.create")) == 2


# --- deadline rules ----------------------------------------------------------------------------


def rule_data(**values):
    return {
        "order_type": OrderType.COMPLAINT,
        "urgency": Urgency.NORMAL,
        "unit": "workdays",
        "sign_limit": 1,
        "reply_limit": 5,
        "close_limit": 15,
        **values,
    }


def test_adding_a_rule_goes_through_the_service(admin_client, admin_user):
    response = admin_client.post(RULE_ADD, rule_data())
    assert response.status_code == 302, form_errors(response)
    rule = DeadlineRule.objects.get()
    [event] = events("hotline.deadline.set")
    assert event.object_id == str(rule.pk) and event.actor == admin_user
    assert not events("admin.add")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sign_limit": 6}, "reply_limit"),
        ({"close_limit": 3}, "close_limit"),
        ({"sign_limit": 0}, "sign_limit"),
    ],
)
def test_limits_out_of_order_are_form_errors(admin_client, values, field):
    response = admin_client.post(RULE_ADD, rule_data(**values))
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not DeadlineRule.objects.exists()


def test_a_second_rule_for_the_same_pair_is_refused(admin_client):
    admin_client.post(RULE_ADD, rule_data())
    response = admin_client.post(RULE_ADD, rule_data(sign_limit=2))
    assert response.status_code == 200
    assert "urgency" in form_errors(response)
    assert DeadlineRule.objects.get().sign_limit == 1


def test_changing_a_rule_keeps_its_pair(admin_client):
    admin_client.post(RULE_ADD, rule_data())
    rule = DeadlineRule.objects.get()
    response = admin_client.post(
        reverse("admin:hotline_deadlinerule_change", args=[rule.pk]),
        rule_data(order_type=OrderType.PRAISE, urgency=Urgency.URGENT, reply_limit=3),
    )
    assert response.status_code == 302, form_errors(response)
    rule.refresh_from_db()
    assert (rule.order_type, rule.urgency, rule.reply_limit) == ("complaint", "normal", 3)
    assert len(events("hotline.deadline.set")) == 2


def test_the_fill_defaults_action(admin_client):
    admin_client.post(RULE_ADD, rule_data())
    rule = DeadlineRule.objects.get()
    response = admin_client.post(RULES, {"action": "fill_defaults", "_selected_action": [rule.pk]})
    assert response.status_code == 302
    assert DeadlineRule.objects.count() == len(OrderType.values) * len(Urgency.values)


# --- knowledge articles ------------------------------------------------------------------------


def test_the_article_list_is_read_only_in_constant_queries(admin_client):
    article()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(ARTICLES)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    count()  # the first page of a session loads more (the session, the user)
    few = count()
    leaf = branch()[-1]
    for n in range(4):
        article(title=f"文章{n}", department=DepartmentFactory(), category=leaf)
    assert count() == few
    one = KnowledgeArticle.objects.first()
    page = admin_client.get(reverse("admin:hotline_knowledgearticle_change", args=[one.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert admin_client.get(reverse("admin:hotline_knowledgearticle_add")).status_code == 403


def test_the_list_links_to_the_review_page(admin_client):
    pending = article(status=ArticleStatus.PENDING)
    content = admin_client.get(ARTICLES).content.decode()
    assert reverse("hotline:review_article", args=[pending.public_id]) in content


def test_a_reviewer_publishes_pending_articles_from_the_list(admin_client, admin_user):
    pending = article(status=ArticleStatus.PENDING)
    draft = article(status=ArticleStatus.DRAFT, title="草稿")
    response = admin_client.post(
        ARTICLES,
        {"action": "publish_selected", "_selected_action": [pending.pk, draft.pk]},
        follow=True,
    )
    pending.refresh_from_db()
    draft.refresh_from_db()
    assert (pending.status, pending.reviewed_by) == (ArticleStatus.PUBLISHED, admin_user)
    assert draft.status == ArticleStatus.DRAFT
    text = " ".join(str(m) for m in response.context["messages"])
    assert "1 article published." in text and "not awaiting review" in text


def test_a_reviewer_cannot_publish_their_own_edit(client):
    me = reviewer()
    mine = article(status=ArticleStatus.PENDING, author=me)
    login(client, me)
    response = client.post(
        ARTICLES, {"action": "publish_selected", "_selected_action": [mine.pk]}, follow=True
    )
    mine.refresh_from_db()
    assert mine.status == ArticleStatus.PENDING
    assert "another reviewer" in " ".join(str(m) for m in response.context["messages"])


def test_sending_back_asks_for_a_note_then_returns_the_draft(admin_client):
    pending = article(status=ArticleStatus.PENDING)
    data = {"action": "send_back_selected", "_selected_action": [pending.pk]}
    page = admin_client.post(ARTICLES, data)
    assert page.status_code == 200 and "note" in page.context["form"].fields
    response = admin_client.post(ARTICLES, {**data, "apply": "1", "note": "请补充办理时限。"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.review_note) == (ArticleStatus.DRAFT, "请补充办理时限。")


def test_supervisors_in_the_admin_cannot_review(client):
    user = grant(UserFactory(is_staff=True), Role.SUPERVISOR)
    login(client, user)
    assert client.get(ARTICLES).status_code == 403


def test_the_pages_render(admin_client):
    _top, _mid, leaf = branch(unit=DepartmentFactory())
    admin_client.post(RULE_ADD, rule_data())
    rule = DeadlineRule.objects.get()
    one = article(status=ArticleStatus.PENDING)
    for url in (
        reverse("admin:hotline_category_change", args=[leaf.pk]),
        CATEGORY_ADD,
        CATEGORIES + "?level__exact=3&q=路灯",
        reverse("admin:hotline_deadlinerule_change", args=[rule.pk]),
        RULE_ADD,
        reverse("admin:hotline_knowledgearticle_change", args=[one.pk]),
        ARTICLES + "?status__exact=pending",
        reverse("admin:index"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    page = admin_client.get(reverse("admin:hotline_category_change", args=[leaf.pk]))
    assert "城乡建设 › 市政设施 › 路灯不亮" in page.content.decode()
    assert "Export to xlsx" in admin_client.get(CATEGORIES).content.decode()


# --- work orders, cards, Open311 clients ---------------------------------------------------------

ORDERS = reverse("admin:hotline_workorder_changelist")
CARDS = reverse("admin:hotline_card_changelist")
CLIENTS = reverse("admin:hotline_open311client_changelist")


def _rows(response) -> set[str]:
    import re

    return set(re.findall(r"GD\d{13}", response.content.decode()))


@pytest.fixture
def two_districts():
    """An order (with a card) in each of two districts, and the supervisors: one limited to
    the first district, one for the whole city."""
    from django.utils import timezone

    from tests.hotline.factories import OrderScene
    from yimen.hotline.models import Card

    scene = OrderScene()
    here = scene.register(title="回电13912345678路灯不亮")
    there = scene.register(district=scene.other_district)
    for order in (here, there):
        Card.objects.create(
            order=order,
            unit=scene.unit,
            colour="yellow",
            deadline="hotline.sign",
            issued_at=timezone.now(),
        )
    for user in (scene.district_supervisor, scene.supervisor):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return scene, here, there


def test_a_supervisor_limited_to_a_district_sees_its_orders_and_cards(client, two_districts):
    scene, here, there = two_districts
    login(client, scene.district_supervisor)
    assert _rows(client.get(ORDERS)) == {here.number}
    assert _rows(client.get(CARDS)) == {here.number}
    change = reverse("admin:hotline_workorder_change", args=[there.pk])
    assert client.get(change).status_code in (302, 404)  # not theirs: not found
    # a supervisor of the whole city sees both
    login(client, scene.supervisor)
    assert _rows(client.get(ORDERS)) == {here.number, there.number}
    assert _rows(client.get(CARDS)) == {here.number, there.number}


def test_the_admin_masks_numbers_in_the_title(client, two_districts):
    scene, here, _there = two_districts
    login(client, scene.supervisor)
    for url in (ORDERS, reverse("admin:hotline_workorder_change", args=[here.pk]), CARDS):
        page = client.get(url).content.decode()
        assert "13912345678" not in page, url
    assert "回电139****5678路灯不亮" in client.get(ORDERS).content.decode()
    # and digits are not looked for in the title (they would confirm the masked ones)
    assert _rows(client.get(ORDERS, {"q": "13912345678"})) == set()
    assert _rows(client.get(ORDERS, {"q": "回电"})) == {here.number}
    assert _rows(client.get(ORDERS, {"q": here.number})) == {here.number}


def test_revoking_keys_says_how_many(admin_client):
    from yimen.hotline.choices import OrderChannel
    from yimen.hotline.open311 import keys

    made = [keys.make_key(f"App {n}", OrderChannel.APP)[0] for n in range(3)]
    keys.revoke_key(made[2])
    data = {"action": "revoke_selected", "_selected_action": [c.pk for c in made]}
    response = admin_client.post(CLIENTS, data, follow=True)
    assert "2 keys revoked." in response.content.decode()
    response = admin_client.post(CLIENTS, data, follow=True)
    assert "None of the selected keys was active." in response.content.decode()


def test_an_exported_name_that_looks_like_a_formula_stays_text(admin_client):
    import zipfile

    branch(unit=DepartmentFactory(name="+SUM(1)"), names=("=1+1", "-2", "@cmd"))
    response = admin_client.get(EXPORT)
    with zipfile.ZipFile(BytesIO(response.content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(name) for name in sheets)
    sheet = load_workbook(BytesIO(response.content))[xlsx.SHEET]
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["=1+1", "-2", "@cmd"]
    assert {row[1].data_type for row in sheet.iter_rows(min_row=2)} == {"s"}
