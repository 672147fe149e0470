"""The rules the catalogue's models enforce themselves: codes, parts, the field dictionary,
a version's own fields, and the database constraints behind the one-draft / one-in-force
promise."""

import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from yimen.catalog.choices import FieldType, Node, Requirement, VersionStatus
from yimen.catalog.models import (
    FieldDefinition,
    FrozenVersion,
    ItemVersion,
    Material,
    ServiceItem,
    implementation_code_error,
)
from yimen.common.identifiers import uscc_check_char

from ..accounts.factories import citizen_id, uscc
from ..org.factories import DepartmentFactory, make_uscc
from .factories import MaterialTypeFactory, good_guide, make_item

USCC = make_uscc("440604000000", 7)


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# --- codes -------------------------------------------------------------------------------------


class TestImplementationCode:
    @pytest.mark.parametrize(
        "code",
        [
            f"{USCC}1440604000010",  # statutory authority, plain basic code
            f"{USCC}2440604000010",  # authorised organisation
            f"{USCC}344060400001Y",  # entrusted; an item with sub-items ends in Y
            f"{USCC}144060400001001",  # with a 2-digit business suffix
        ],
    )
    def test_good_codes(self, code):
        assert implementation_code_error(code) is None

    @pytest.mark.parametrize(
        "code, reason",
        [
            (f"{USCC}144060400001", "31 or 33 characters"),  # 30 characters
            (f"{USCC}14406040000100", "31 or 33 characters"),  # 32 characters
            (f"{USCC}1440604000010000", "31 or 33 characters"),  # 34 characters
            (f"{USCC}0440604000010", "31 or 33 characters"),  # nature 0
            (f"{USCC}4440604000010", "31 or 33 characters"),  # nature 4
            (f"{USCC}1440604000010A1", "31 or 33 characters"),  # suffix is not 2 digits
            (f"{USCC[:17]}{'0' if USCC[17] != '0' else '1'}1440604000010", "credit code"),
            (f"{USCC}1440Y04000010", "basic code"),  # Y anywhere but the end
            (f"{USCC}144060400001y", "basic code"),  # a lower-case y
            (f"{USCC}14406040000A0", "basic code"),
        ],
    )
    def test_bad_codes_say_why(self, code, reason):
        assert reason in implementation_code_error(code)

    def test_the_check_character_of_the_credit_code_is_verified(self):
        first17 = USCC[:17]
        wrong = next(c for c in "0123456789" if c != uscc_check_char(first17))
        error = implementation_code_error(f"{first17}{wrong}1440604000010")
        assert "check character" in error


@pytest.mark.django_db
class TestServiceItem:
    def test_basic_code_is_taken_from_the_implementation_code(self):
        department = DepartmentFactory()
        item = ServiceItem.objects.create(
            implementation_code=f"{department.uscc}144060400001Y01",
            department=department,
            region=department.region,
        )
        item.refresh_from_db()
        assert item.basic_code == "44060400001Y"

    def test_the_code_must_begin_with_the_departments_credit_code(self):
        department, other = DepartmentFactory(), DepartmentFactory()
        item = ServiceItem(
            implementation_code=f"{other.uscc}1440604000010",
            department=department,
            region=department.region,
        )
        with pytest.raises(ValidationError) as excinfo:
            item.full_clean()
        assert error_fields(excinfo) == {"implementation_code"}
        assert department.uscc in excinfo.value.message_dict["implementation_code"][0]

        item.implementation_code = f"{department.uscc}1440604000010"
        item.full_clean()

    def test_a_bad_code_is_reported_once_by_its_validator(self):
        department = DepartmentFactory()
        item = ServiceItem(
            implementation_code="123", department=department, region=department.region
        )
        with pytest.raises(ValidationError) as excinfo:
            item.full_clean()
        assert len(excinfo.value.message_dict["implementation_code"]) == 1


# --- materials ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestMaterial:
    @pytest.fixture
    def draft(self):
        return make_item(status=VersionStatus.DRAFT)

    def material(self, version, **fields):
        return Material(version=version, material_type=MaterialTypeFactory(), **fields)

    def test_a_plain_required_material_is_valid(self, draft):
        self.material(draft).full_clean()

    def test_a_conditional_material_states_its_condition(self, draft):
        with pytest.raises(ValidationError) as excinfo:
            self.material(draft, requirement=Requirement.CONDITIONAL).full_clean()
        assert error_fields(excinfo) == {"condition"}

        self.material(
            draft, requirement=Requirement.CONDITIONAL, condition="委托他人办理的"
        ).full_clean()

    def test_a_required_material_has_no_condition(self, draft):
        with pytest.raises(ValidationError) as excinfo:
            self.material(draft, condition="委托他人办理的").full_clean()
        assert error_fields(excinfo) == {"condition"}

    def test_a_tolerable_material_says_how_and_when_it_is_supplied(self, draft):
        with pytest.raises(ValidationError) as excinfo:
            self.material(draft, tolerable=True).full_clean()
        assert error_fields(excinfo) == {"tolerance_days", "tolerance_method"}

        self.material(
            draft, tolerable=True, tolerance_days=5, tolerance_method="邮寄或窗口补交"
        ).full_clean()

    def test_only_a_tolerable_material_has_a_later_supply(self, draft):
        with pytest.raises(ValidationError) as excinfo:
            self.material(draft, tolerance_days=5).full_clean()
        assert error_fields(excinfo) == {"tolerable"}

    def test_a_material_asks_for_something(self, draft):
        with pytest.raises(ValidationError) as excinfo:
            self.material(draft, originals=0, copies=0, electronic_accepted=False).full_clean()
        assert error_fields(excinfo) == {"originals"}

        self.material(draft, originals=0, copies=1, electronic_accepted=False).full_clean()

    def test_a_part_of_a_published_version_cannot_be_changed(self):
        published = make_item()
        material = published.materials.get()
        material.copies = 2
        with pytest.raises(ValidationError, match="Only a draft can be changed"):
            material.full_clean()


# --- the field dictionary -----------------------------------------------------------------------


@pytest.mark.django_db
class TestFieldDefinitionClean:
    def definition(self, **fields):
        return FieldDefinition(key="business_scope", label="经营范围", **fields)

    @pytest.mark.parametrize("datatype", [FieldType.CHOICE, FieldType.MULTICHOICE])
    @pytest.mark.parametrize("choices", [[], ["个人经营", ""], [1, 2]])
    def test_a_list_field_needs_its_options(self, datatype, choices):
        with pytest.raises(ValidationError) as excinfo:
            self.definition(datatype=datatype, choices=choices).full_clean()
        assert error_fields(excinfo) == {"choices"}

    def test_options_do_not_repeat(self):
        with pytest.raises(ValidationError, match="repeat"):
            self.definition(
                datatype=FieldType.CHOICE, choices=["个人经营", "家庭经营", "个人经营"]
            ).full_clean()

    def test_only_a_list_field_has_options(self):
        with pytest.raises(ValidationError) as excinfo:
            self.definition(datatype=FieldType.TEXT, choices=["a"]).full_clean()
        assert error_fields(excinfo) == {"choices"}

    def test_a_pattern_must_compile(self):
        with pytest.raises(ValidationError) as excinfo:
            self.definition(datatype=FieldType.TEXT, pattern="^[A-Z").full_clean()
        assert error_fields(excinfo) == {"pattern"}

    def test_the_minimum_is_not_above_the_maximum(self):
        with pytest.raises(ValidationError) as excinfo:
            self.definition(datatype=FieldType.INTEGER, min_value=10, max_value=1).full_clean()
        assert error_fields(excinfo) == {"max_value"}

        self.definition(datatype=FieldType.INTEGER, min_value=1, max_value=1).full_clean()

    def test_a_good_list_field_is_valid(self):
        self.definition(datatype=FieldType.CHOICE, choices=["个人经营", "家庭经营"]).full_clean()


def asked(definition: FieldDefinition, value, *, required: bool = True):
    """Run one value through the dictionary's form field: (valid, cleaned or errors)."""
    form_class = type("F", (forms.Form,), {"value": definition.formfield(required=required)})
    form = form_class(data={} if value is None else {"value": value})
    if form.is_valid():
        return True, form.cleaned_data["value"]
    return False, form.errors["value"]


class TestFormfield:
    def test_every_datatype_has_a_form_field(self):
        for datatype in FieldType:
            choices = ["是"] if datatype in FieldDefinition.LIST_TYPES else []
            field = FieldDefinition(label="x", datatype=datatype, choices=choices).formfield()
            assert isinstance(field, forms.Field), datatype

    def test_label_help_and_required_come_from_the_definition(self):
        definition = FieldDefinition(label="经营场所", datatype=FieldType.TEXT, help_text="门牌号")
        field = definition.formfield(required=False)
        assert (field.label, field.help_text, field.required) == ("经营场所", "门牌号", False)
        assert asked(definition, None, required=False) == (True, "")
        assert asked(definition, None)[0] is False

    def test_citizen_id_is_validated(self):
        definition = FieldDefinition(label="身份证号", datatype=FieldType.CITIZEN_ID)
        good = citizen_id(1)
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        assert asked(definition, good) == (True, good)
        valid, errors = asked(definition, bad)
        assert not valid and "check character" in errors[0]

    def test_uscc_is_validated(self):
        definition = FieldDefinition(label="统一社会信用代码", datatype=FieldType.USCC)
        good = uscc(3)
        assert asked(definition, good) == (True, good)
        assert asked(definition, good[:17] + "I")[0] is False

    @pytest.mark.parametrize("value, valid", [("13800138000", True), ("12800138000", False)])
    def test_mobile_is_validated(self, value, valid):
        definition = FieldDefinition(label="手机号码", datatype=FieldType.MOBILE)
        assert asked(definition, value)[0] is valid

    def test_choice_offers_the_options_only(self):
        definition = FieldDefinition(
            label="组成形式", datatype=FieldType.CHOICE, choices=["个人经营", "家庭经营"]
        )
        field = definition.formfield()
        assert [value for value, _label in field.choices] == ["", "个人经营", "家庭经营"]
        assert asked(definition, "家庭经营") == (True, "家庭经营")
        assert asked(definition, "合伙经营")[0] is False

    def test_multichoice_takes_several_options(self):
        definition = FieldDefinition(
            label="经营方式", datatype=FieldType.MULTICHOICE, choices=["零售", "批发", "网售"]
        )
        form_class = type("F", (forms.Form,), {"value": definition.formfield()})
        form = form_class(data={"value": ["零售", "网售"]})
        assert form.is_valid() and form.cleaned_data["value"] == ["零售", "网售"]
        assert not form_class(data={"value": ["零售", "进口"]}).is_valid()

    def test_pattern_applies_with_its_message(self):
        definition = FieldDefinition(
            label="车牌号",
            datatype=FieldType.TEXT,
            pattern=r"^粤[A-Z][A-Z0-9]{5}$",
            pattern_message="车牌号格式不对",
        )
        assert asked(definition, "粤E12345") == (True, "粤E12345")
        assert asked(definition, "京A12345") == (False, ["车牌号格式不对"])

    def test_pattern_also_applies_to_the_special_types(self):
        definition = FieldDefinition(
            label="本市户籍身份证号", datatype=FieldType.CITIZEN_ID, pattern=r"^4406"
        )
        assert asked(definition, citizen_id(1, region="440604"))[0] is True
        assert asked(definition, citizen_id(1, region="110101"))[0] is False

    def test_numbers_keep_their_bounds(self):
        definition = FieldDefinition(
            label="从业人数", datatype=FieldType.INTEGER, min_value=1, max_value=500
        )
        assert asked(definition, "12") == (True, 12)
        assert asked(definition, "0")[0] is False
        assert asked(definition, "501")[0] is False

    def test_text_keeps_its_maximum_length(self):
        definition = FieldDefinition(label="字号", datatype=FieldType.TEXT, max_length=4)
        assert asked(definition, "四个字符")[0] is True
        assert asked(definition, "五个字符了")[0] is False

    def test_date_is_parsed(self):
        definition = FieldDefinition(label="成立日期", datatype=FieldType.DATE)
        assert asked(definition, "2024-05-01") == (True, datetime.date(2024, 5, 1))

    def test_a_required_yes_no_question_accepts_no(self):
        definition = FieldDefinition(label="是否有从业人员", datatype=FieldType.BOOLEAN)
        assert asked(definition, "on") == (True, True)
        assert asked(definition, None) == (True, False)


# --- versions -----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestItemVersionClean:
    @pytest.fixture
    def item(self):
        department = DepartmentFactory()
        return ServiceItem.objects.create(
            implementation_code=f"{department.uscc}1440604000010",
            department=department,
            region=department.region,
        )

    def clean(self, item, **overrides):
        version = ItemVersion(item=item, number=1, **good_guide(**overrides))
        version.full_clean()
        return version

    def errors(self, item, **overrides) -> dict[str, list[str]]:
        with pytest.raises(ValidationError) as excinfo:
            self.clean(item, **overrides)
        return excinfo.value.message_dict

    def test_a_good_guide_is_valid(self, item):
        self.clean(item)

    @pytest.mark.parametrize(
        "legal_basis", ["《行政许可法》", ["《行政许可法》", ""], ["   "], [{"law": "x"}]]
    )
    def test_the_legal_basis_is_a_list_of_texts(self, item, legal_basis):
        assert set(self.errors(item, legal_basis=legal_basis)) == {"legal_basis"}

    def test_an_empty_legal_basis_is_left_to_the_quality_checker(self, item):
        self.clean(item, legal_basis=[])

    def test_a_charged_item_states_its_fee_basis(self, item):
        assert set(self.errors(item, is_free=False, fee_amount=50)) == {"fee_basis"}
        self.clean(item, is_free=False, fee_amount=50, fee_basis="粤价〔2019〕12号")
        self.clean(item, is_free=False, fee_amount=None, fee_basis="按面积计收，见附表")

    def test_a_free_item_has_no_fee(self, item):
        assert set(self.errors(item, is_free=True, fee_amount=10)) == {"fee_amount"}

    def test_a_fee_is_not_negative(self, item):
        errors = self.errors(item, is_free=False, fee_amount=-5, fee_basis="粤价〔2019〕12号")
        assert set(errors) == {"fee_amount"}

    def test_optional_nodes_may_be_switched_off(self, item):
        nodes = [n for n in Node.values if n not in (Node.APPOINTMENT, Node.FEES)]
        assert self.clean(item, nodes=nodes).nodes == nodes

    def test_mandatory_nodes_cannot_be_switched_off(self, item):
        nodes = [n for n in Node.values if n not in (Node.ACCEPTANCE, Node.DELIVERY)]
        [message] = self.errors(item, nodes=nodes)["nodes"]
        assert str(Node.ACCEPTANCE.label) in message and str(Node.DELIVERY.label) in message
        assert str(Node.REVIEW.label) not in message

    @pytest.mark.parametrize("nodes", [[*Node.values, 14], "1,2,3", [[1], 2], [{"n": 1}]])
    def test_nodes_are_node_numbers(self, item, nodes):
        assert set(self.errors(item, nodes=nodes)) == {"nodes"}

    def test_phones_are_checked(self, item):
        assert set(self.errors(item, supervision_phone="call us")) == {"supervision_phone"}


@pytest.mark.django_db
class TestOneDraftOnePublished:
    """The services keep these rules; the database enforces them even against a concurrent
    writer or a direct insert."""

    def add_version(self, version, *, number, status):
        guide = {name: getattr(version, name) for name in ItemVersion.GUIDE_FIELDS}
        return ItemVersion.objects.create(item=version.item, number=number, status=status, **guide)

    def test_two_drafts_of_one_item_are_impossible(self):
        draft = make_item(status=VersionStatus.DRAFT)
        with pytest.raises(IntegrityError), transaction.atomic():
            self.add_version(draft, number=2, status=VersionStatus.DRAFT)
        assert draft.item.versions.count() == 1

    def test_two_published_versions_of_one_item_are_impossible(self):
        published = make_item()
        with pytest.raises(IntegrityError), transaction.atomic():
            self.add_version(published, number=2, status=VersionStatus.PUBLISHED)

    def test_a_version_number_is_used_once(self):
        published = make_item()
        with pytest.raises(IntegrityError), transaction.atomic():
            self.add_version(published, number=1, status=VersionStatus.ARCHIVED)

    def test_many_archived_versions_and_one_of_each_other_state_are_fine(self):
        published = make_item()
        for number in (2, 3):
            self.add_version(published, number=number, status=VersionStatus.ARCHIVED)
        self.add_version(published, number=4, status=VersionStatus.DRAFT)
        assert published.item.versions.count() == 4

    def test_a_material_type_is_listed_once_per_version(self):
        draft = make_item(status=VersionStatus.DRAFT)
        material = draft.materials.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            Material.objects.create(version=draft, material_type=material.material_type)


@pytest.mark.django_db
def test_tags_are_listed_by_label():
    version = make_item(zero_visit=True, online=True, tongban="citywide")
    assert version.tags == ["zero visits", "done online", "Anywhere in the city"]


# --- a published guide is frozen ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_published_guide_cannot_be_saved_with_a_changed_guide():
    # Given a published version, loaded fresh as any module would load it
    version = ItemVersion.objects.get(pk=make_item().pk)
    version.name = "改过的名称"
    # Then neither a full save nor a save of guide fields gets through
    with pytest.raises(FrozenVersion):
        version.save()
    with pytest.raises(FrozenVersion):
        version.save(update_fields=["name"])
    assert ItemVersion.objects.get(pk=version.pk).name != "改过的名称"


@pytest.mark.django_db
def test_state_and_derived_data_of_a_published_guide_may_still_be_written():
    version = ItemVersion.objects.get(pk=make_item().pk)
    version.findings = []
    version.save(update_fields=["findings", "search_text"])


@pytest.mark.django_db
def test_the_parts_of_a_published_guide_cannot_be_saved():
    version = make_item()
    material = version.materials.get()
    material.copies = 5
    with pytest.raises(FrozenVersion):
        material.save()
    assert version.materials.get().copies != 5
