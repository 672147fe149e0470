"""Reads of the catalogue: which guides are in force, which items a theme's answers bring in,
and how much merging a theme's forms and materials saves."""

import pytest
from django.core.exceptions import ValidationError

from yimen.catalog import selectors, services
from yimen.catalog.choices import Requirement, Target, ThemeCategory, VersionStatus
from yimen.catalog.models import ScenarioOption, ScenarioQuestion, Theme, ThemeItem, ThemeStage
from yimen.common.choices import Channel

from .factories import FieldDefinitionFactory, MaterialTypeFactory, make_item

pytestmark = pytest.mark.django_db


def make_theme(**fields) -> Theme:
    defaults = {
        "code": "kai-ban-qi-ye",
        "name": "开办企业",
        "category": ThemeCategory.ENTERPRISE_ACCESS,
        "target": Target.ENTERPRISE,
    }
    return Theme.objects.create(**{**defaults, **fields})


def add_items(theme, *versions, stage=None) -> list[ThemeItem]:
    return [
        ThemeItem.objects.create(theme=theme, stage=stage, item=v.item, order=i)
        for i, v in enumerate(versions)
    ]


def option(question, text, *theme_items) -> ScenarioOption:
    created = ScenarioOption.objects.create(question=question, text=text)
    created.theme_items.set(theme_items)
    return created


# --- the guides in force ------------------------------------------------------------------------


def test_versions_in_force_are_the_published_ones():
    published = make_item()
    make_item(status=VersionStatus.DRAFT)
    make_item(status=VersionStatus.ARCHIVED)
    with_draft = make_item()
    services.draft_start(item=with_draft.item, actor=None, channel=Channel.SYSTEM)

    assert set(selectors.versions_in_force()) == {published, with_draft}
    assert selectors.version_in_force(with_draft.item) == with_draft


def test_an_item_without_a_published_version_has_none_in_force():
    draft = make_item(status=VersionStatus.DRAFT)
    assert selectors.version_in_force(draft.item) is None


def test_versions_in_force_load_a_page_in_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    for _ in range(3):
        make_item()
    with django_assert_num_queries(4):  # versions, materials, form fields, review steps
        shown = [
            (
                version.item.department.name,
                [m.material_type.name for m in version.materials.all()],
                [f.field.label for f in version.form_fields.all()],
                [s.name for s in version.review_steps.all()],
            )
            for version in selectors.versions_in_force()
        ]
    assert len(shown) == 3


def test_latest_versions_pick_each_items_newest():
    published = make_item()
    with_draft = make_item()
    draft = services.draft_start(item=with_draft.item, actor=None, channel=Channel.SYSTEM)
    archived = make_item(status=VersionStatus.ARCHIVED)
    only_draft = make_item(status=VersionStatus.DRAFT)

    assert set(selectors.latest_versions()) == {published, draft, archived, only_draft}


def test_status_counts():
    make_item()
    make_item()
    make_item(status=VersionStatus.DRAFT)
    assert selectors.status_counts() == {"draft": 1, "published": 2, "archived": 0}


def test_themes_in_force_leave_out_inactive_themes():
    active = make_theme()
    make_theme(code="old", is_active=False)
    assert list(selectors.themes_in_force()) == [active]


def test_themes_count_only_the_items_offered_at_present():
    # given a theme with a guide in force, a draft only, a withdrawn one and one under a draft
    theme = make_theme(order=2)
    under_a_draft = make_item()
    services.draft_start(item=under_a_draft.item, actor=None, channel=Channel.SYSTEM)
    add_items(
        theme,
        make_item(),
        make_item(status=VersionStatus.DRAFT),
        make_item(status=VersionStatus.ARCHIVED),
        under_a_draft,
    )
    empty = make_theme(code="a-first", order=1)
    make_theme(code="old", is_active=False)

    # when the themes are counted / then in their order, each with its offered items
    counted = selectors.themes_counted()

    assert [(t, t.item_count) for t in counted] == [(empty, 0), (theme, 2)]


# --- scenario answers ---------------------------------------------------------------------------


class TestItemsForAnswers:
    @pytest.fixture
    def theme(self):
        """开办企业: the licence always; social insurance when there are employees; invoices
        and a bank account when the business chooses them."""
        theme = make_theme()
        self.licence, self.insurance, self.invoice, self.bank = add_items(
            theme, *(make_item() for _ in range(4))
        )
        employees = ScenarioQuestion.objects.create(theme=theme, text="是否招用员工？")
        self.yes = option(employees, "是", self.insurance)
        self.no = option(employees, "否")
        needs = ScenarioQuestion.objects.create(theme=theme, text="还需要办理？", multiple=True)
        self.invoices = option(needs, "申领发票", self.invoice)
        self.account = option(needs, "银行开户", self.bank)
        self.employees, self.needs = employees, needs
        return selectors.theme_with_items(theme)

    def test_without_answers_every_item_applies(self, theme):
        assert selectors.items_for_answers(theme) == [
            self.licence,
            self.insurance,
            self.invoice,
            self.bank,
        ]

    def test_items_no_option_names_always_apply(self, theme):
        assert selectors.items_for_answers(theme, {}) == [self.licence]
        assert selectors.items_for_answers(theme, {self.employees.pk: [self.no.pk]}) == [
            self.licence
        ]

    def test_a_chosen_option_brings_in_its_items(self, theme):
        answers = {self.employees.pk: [self.yes.pk]}
        assert selectors.items_for_answers(theme, answers) == [self.licence, self.insurance]

    def test_several_answers_combine(self, theme):
        answers = {
            self.employees.pk: [self.yes.pk],
            self.needs.pk: [self.invoices.pk, str(self.account.pk)],
        }
        assert selectors.items_for_answers(theme, answers) == [
            self.licence,
            self.insurance,
            self.invoice,
            self.bank,
        ]

    def test_an_item_named_by_two_options_needs_only_one_of_them(self, theme):
        self.account.theme_items.add(self.insurance)
        theme = selectors.theme_with_items(theme)
        answers = {self.needs.pk: [self.account.pk]}
        assert selectors.items_for_answers(theme, answers) == [
            self.licence,
            self.insurance,
            self.bank,
        ]

    def test_the_theme_loads_in_a_fixed_number_of_queries(self, theme, django_assert_num_queries):
        with django_assert_num_queries(0):
            selectors.items_for_answers(theme, {self.employees.pk: [self.yes.pk]})

    def test_answers_given_as_option_ids_are_grouped_by_question(self, theme):
        given = [str(self.yes.pk), "", f" {self.account.pk} ", self.invoices.pk, self.account.pk]
        assert selectors.answers_given(theme, given) == {
            self.employees.pk: [self.yes.pk],
            self.needs.pk: [self.account.pk, self.invoices.pk],
        }
        assert selectors.answers_given(theme, [""]) == {}

    def test_an_option_of_another_theme_is_refused(self, theme):
        other = make_theme(code="other")
        elsewhere = option(ScenarioQuestion.objects.create(theme=other, text="？"), "是")
        for given in ([elsewhere.pk], ["abc"], ["-1"], ["²"], ["9" * 5000]):
            with pytest.raises(ValidationError) as raised:
                selectors.answers_given(theme, given)
            assert (
                "is not an answer to this theme's questions"
                in raised.value.message_dict["answer"][0]
            )

    def test_a_one_answer_question_takes_one_answer(self, theme):
        with pytest.raises(ValidationError) as raised:
            selectors.answers_given(theme, [self.yes.pk, self.no.pk])
        assert raised.value.message_dict == {"answer": ["“是否招用员工？” takes one answer."]}
        # the same answer twice is still one answer
        assert selectors.answers_given(theme, [self.yes.pk, self.yes.pk]) == {
            self.employees.pk: [self.yes.pk]
        }


# --- merging ------------------------------------------------------------------------------------


class TestMerge:
    def test_materials_merge_by_type_and_fields_by_key(self):
        id_card, lease, plan = (MaterialTypeFactory() for _ in range(3))
        name, address, capital = (FieldDefinitionFactory() for _ in range(3))
        first = make_item(
            materials=[
                {"material_type": id_card, "copies": 1},
                {
                    "material_type": lease,
                    "requirement": Requirement.CONDITIONAL,
                    "condition": "租赁",
                },
            ],
            form_fields=[{"field": name}, {"field": address, "required": False}],
        )
        second = make_item(
            materials=[
                {"material_type": id_card, "originals": 1, "copies": 2},
                {"material_type": lease},
                {"material_type": plan},
            ],
            form_fields=[{"field": name}, {"field": address}, {"field": capital}],
        )
        third = make_item(
            materials=[
                {
                    "material_type": lease,
                    "requirement": Requirement.CONDITIONAL,
                    "condition": "租赁",
                }
            ],
            form_fields=[{"field": address, "required": False}],
        )

        merged = selectors.merge(list(selectors.versions_in_force().order_by("pk")))

        assert (merged.materials_before, merged.materials_after) == (6, 3)
        assert merged.materials_cut == 50
        assert (merged.fields_before, merged.fields_after) == (6, 3)
        assert merged.fields_cut == 50
        by_type = {m.material_type: m for m in merged.materials}
        assert by_type[id_card].copies == 2 and by_type[id_card].originals == 1
        assert by_type[id_card].items == [first, second]
        assert by_type[lease].required  # the second item requires it outright
        assert [m.pk for m in by_type[lease].materials] == [
            m.pk
            for v in (first, second, third)
            for m in v.materials.all()
            if m.material_type == lease
        ]
        by_key = {f.field: f for f in merged.fields}
        assert by_key[address].required and by_key[name].required
        assert len(by_key[address].form_fields) == 3

    def test_a_merge_of_one_keeps_everything(self):
        version = make_item()
        merged = selectors.merge([selectors.version_in_force(version.item)])
        assert (merged.materials_before, merged.materials_after, merged.materials_cut) == (1, 1, 0)
        assert (merged.fields_before, merged.fields_after, merged.fields_cut) == (1, 1, 0)

    def test_an_empty_merge_cuts_nothing(self):
        merged = selectors.merge([])
        assert (merged.materials_before, merged.materials_after, merged.materials_cut) == (0, 0, 0)
        assert (merged.fields_before, merged.fields_after, merged.fields_cut) == (0, 0, 0)

    def test_cuts_are_rounded_to_whole_per_cent(self):
        shared = MaterialTypeFactory()
        for _ in range(3):
            make_item(materials=[{"material_type": shared}], form_fields=[])
        merged = selectors.merge(list(selectors.versions_in_force()))
        assert (merged.materials_before, merged.materials_after, merged.materials_cut) == (3, 1, 67)


# --- theme plans --------------------------------------------------------------------------------


class TestThemePlan:
    def test_a_staged_theme_is_planned_stage_by_stage_and_whole(self):
        theme = make_theme(code="gong-cheng", name="工程建设", category=ThemeCategory.CONSTRUCTION)
        planning, permit = (
            ThemeStage.objects.create(theme=theme, order=n, name=name)
            for n, name in ((1, "立项用地规划许可"), (2, "施工许可"))
        )
        land = MaterialTypeFactory()
        first = make_item(materials=[{"material_type": land}])
        second = make_item(
            materials=[{"material_type": land}, {"material_type": MaterialTypeFactory()}]
        )
        third = make_item()
        not_in_force = make_item(status=VersionStatus.DRAFT)
        in_planning = add_items(theme, first, second, stage=planning)
        in_permit = add_items(theme, third, not_in_force, stage=permit)

        plan = selectors.theme_plan(selectors.theme_with_items(theme))

        assert [p.stage for p in plan.stages] == [planning, permit]
        assert plan.stages[0].theme_items == in_planning
        assert (plan.stages[0].merge.materials_before, plan.stages[0].merge.materials_after) == (
            3,
            2,
        )
        assert plan.stages[0].merge.versions == [first, second]
        assert plan.stages[1].theme_items == in_permit
        assert plan.stages[1].merge.versions == [third]  # a draft is not offered yet
        assert plan.theme_items == in_planning + in_permit
        assert plan.whole.versions == [first, second, third]
        assert (plan.whole.materials_before, plan.whole.materials_after) == (4, 3)
        assert plan.guides == {v.item_id: v for v in (first, second, third)}

    def test_a_theme_without_stages_is_one_stage(self):
        theme = make_theme()
        items = add_items(theme, make_item(), make_item())

        plan = selectors.theme_plan(selectors.theme_with_items(theme))

        [stage] = plan.stages
        assert stage.stage is None and stage.theme_items == items
        assert len(stage.merge.versions) == 2 and plan.whole.versions == stage.merge.versions

    def test_answers_shape_the_stages_and_the_whole(self):
        theme = make_theme()
        shared = MaterialTypeFactory()
        licence, insurance = add_items(
            theme,
            make_item(materials=[{"material_type": shared}]),
            make_item(materials=[{"material_type": shared}]),
        )
        question = ScenarioQuestion.objects.create(theme=theme, text="是否招用员工？")
        yes = option(question, "是", insurance)
        theme = selectors.theme_with_items(theme)

        plan = selectors.theme_plan(theme, {question.pk: []})
        assert plan.theme_items == plan.stages[0].theme_items == [licence]
        assert plan.whole.materials_before == 1
        # every guide of the theme is still at hand, to name what an answer brings in
        assert set(plan.guides) == {licence.item_id, insurance.item_id}

        whole = selectors.theme_plan(theme, {question.pk: [yes.pk]}).whole
        assert (whole.materials_before, whole.materials_after, whole.materials_cut) == (2, 1, 50)
        assert selectors.theme_plan(theme, {question.pk: [yes.pk]}).whole.materials_cut == 50

    @pytest.mark.parametrize("answered", [False, True])
    def test_the_guides_take_one_query_and_its_prefetches(
        self, answered, django_assert_num_queries
    ):
        theme = make_theme()
        stage = ThemeStage.objects.create(theme=theme, order=1, name="设立")
        other = ThemeStage.objects.create(theme=theme, order=2, name="开业")
        add_items(theme, make_item(), make_item(), stage=stage)
        add_items(theme, make_item(), stage=other)
        theme = selectors.theme_with_items(theme)

        with django_assert_num_queries(4):  # versions, materials, form fields, review steps
            plan = selectors.theme_plan(theme, {} if answered else None)

        assert len(plan.whole.versions) == 3
