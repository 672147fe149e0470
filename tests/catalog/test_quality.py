"""The guide quality checker: each rule catches its defect and only that, with the severity
it declares; findings are stored and read back; `catalog_check` runs it over the catalogue."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yimen.catalog import quality, services
from yimen.catalog.choices import (
    HandlingType,
    HolderKind,
    LimitUnit,
    MaterialKind,
    OnlineDepth,
    Severity,
    Target,
    VersionStatus,
)
from yimen.catalog.management.commands.catalog_check import Command as CatalogCheck
from yimen.catalog.models import ItemVersion

from .factories import FieldDefinitionFactory, MaterialTypeFactory, make_item

pytestmark = pytest.mark.django_db

BLOCKING, WARNING = Severity.BLOCKING, Severity.WARNING


def codes(version) -> set[str]:
    return {f.code for f in quality.check(ItemVersion.objects.with_guide().get(pk=version.pk))}


def draft(**overrides) -> ItemVersion:
    return make_item(status=VersionStatus.DRAFT, **overrides)


def materials(**type_fields) -> list[dict]:
    return [{"material_type": MaterialTypeFactory(**type_fields)}]


# How to break each rule, and the severity it declares. A rule added to quality.RULES without
# an entry here fails test_every_rule_has_a_test.
BREAKS = {
    "no-legal-basis": (BLOCKING, lambda: {"legal_basis": []}),
    "no-time-limit": (BLOCKING, lambda: {"statutory_limit": None}),
    "promised-exceeds-statutory": (
        BLOCKING,
        lambda: {"statutory_limit": 10, "promised_limit": 12},
    ),
    "catch-all-material": (BLOCKING, lambda: {"materials": materials(name="其他材料")}),
    "no-supervision-phone": (BLOCKING, lambda: {"supervision_phone": ""}),
    "inconsistent-target": (
        BLOCKING,
        lambda: {
            "target": Target.PERSON,
            "materials": materials(holder_kind=HolderKind.ENTERPRISE),
        },
    ),
    "no-review-chain": (BLOCKING, lambda: {"review_steps": []}),
    "no-form-download": (WARNING, lambda: {"materials": materials(kind=MaterialKind.FORM)}),
    "no-consultation-phone": (WARNING, lambda: {"consultation_phone": ""}),
    "no-materials": (WARNING, lambda: {"materials": []}),
    "handling-type-mismatch": (
        WARNING,
        lambda: {"handling_type": HandlingType.IMMEDIATE, "promised_limit": 3},
    ),
    "tags-contradict-guide": (WARNING, lambda: {"zero_visit": True, "visits": 1}),
}


def test_every_rule_has_a_test():
    assert set(quality.RULES) == set(BREAKS)


def test_a_clean_guide_has_no_finding():
    assert codes(draft()) == set()


@pytest.mark.parametrize("code", sorted(BREAKS))
def test_each_rule_flags_its_defect_and_only_it(code):
    severity, overrides = BREAKS[code]
    version = draft(**overrides())

    findings = quality.check(ItemVersion.objects.with_guide().get(pk=version.pk))

    assert {f.code for f in findings} == {code}
    assert quality.RULES[code].severity == severity
    for finding in findings:
        assert finding.severity == severity
        assert finding.blocking is (severity == BLOCKING)
        assert finding.message.startswith(str(quality.RULES[code].message))
    assert quality.blocking(findings) == (findings if severity == BLOCKING else [])


# --- the rules in detail ------------------------------------------------------------------------


def test_each_missing_limit_is_named():
    version = draft(statutory_limit=None, promised_limit=None)
    details = [f.detail for f in quality.check(version)]
    assert details == ["statutory limit", "promised limit"]


@pytest.mark.parametrize(
    "name",
    [
        "其他材料",
        "其它材料",
        "相关材料",
        "有关材料",
        "其他证明",
        "规划审批相关证明",
        "身份证、户口簿等",
        "营业执照等证明",
        "土地权属等材料",
        "立项批复等文件",
        "其它证明",
        "相关证件",
        "有关文件",
        "其他资料",
        "身份证等。",
    ],
)
def test_catch_all_names_are_flagged(name):
    version = draft(materials=[{"material_type": MaterialTypeFactory(), "name": name}])
    [finding] = quality.check(version)
    assert (finding.code, finding.detail) == ("catch-all-material", name)


@pytest.mark.parametrize(
    "name", ["居民身份证", "中等职业学校毕业证书", "等级证书", "消防安全检查合格证", "平面图"]
)
def test_precise_names_are_not_flagged(name):
    version = draft(materials=[{"material_type": MaterialTypeFactory(name=name)}])
    assert codes(version) == set()


def test_the_material_types_name_is_checked_when_the_guide_gives_none():
    version = draft(materials=[{"material_type": MaterialTypeFactory(name="其他相关材料")}])
    assert codes(version) == {"catch-all-material"}


@pytest.mark.parametrize(
    "statutory, promised, longer",
    [
        ((20, LimitUnit.WORKDAYS), (25, LimitUnit.DAYS), False),  # 20 working days ≈ 28 days
        ((20, LimitUnit.WORKDAYS), (30, LimitUnit.DAYS), True),
        ((30, LimitUnit.DAYS), (21, LimitUnit.WORKDAYS), False),  # ≈ 29.4 days
        ((30, LimitUnit.DAYS), (22, LimitUnit.WORKDAYS), True),  # ≈ 30.8 days
        ((5, LimitUnit.WORKDAYS), (7, LimitUnit.DAYS), False),  # the same week
        ((20, LimitUnit.DAYS), (20, LimitUnit.DAYS), False),
        ((20, LimitUnit.DAYS), (21, LimitUnit.DAYS), True),
    ],
)
def test_limits_in_different_units_are_compared_in_days(statutory, promised, longer):
    version = draft(
        statutory_limit=statutory[0],
        statutory_unit=statutory[1],
        promised_limit=promised[0],
        promised_unit=promised[1],
    )
    assert ("promised-exceeds-statutory" in codes(version)) is longer


def test_a_form_needs_both_its_blank_form_and_its_sample():
    def form(**files):
        return draft(materials=materials(kind=MaterialKind.FORM, **files))

    assert codes(form(template_file="catalog/forms/a.pdf")) == {"no-form-download"}
    assert codes(form(sample_file="catalog/samples/a.pdf")) == {"no-form-download"}
    assert (
        codes(form(template_file="catalog/forms/b.pdf", sample_file="catalog/samples/b.pdf"))
        == set()
    )


@pytest.mark.parametrize(
    "target, holder, flagged",
    [
        (Target.PERSON, HolderKind.ENTERPRISE, True),
        (Target.ENTERPRISE, HolderKind.PERSON, True),
        (Target.PERSON, HolderKind.PERSON, False),
        (Target.ENTERPRISE, HolderKind.ENTERPRISE, False),
        (Target.BOTH, HolderKind.ENTERPRISE, False),
        (Target.BOTH, HolderKind.PERSON, False),
    ],
)
def test_a_form_field_for_the_other_kind_of_applicant_is_flagged(target, holder, flagged):
    field = FieldDefinitionFactory(holder_kind=holder, label="法定代表人")
    version = draft(target=target, form_fields=[{"field": field}])
    findings = quality.check(version)
    assert [(f.code, f.detail) for f in findings] == (
        [("inconsistent-target", "法定代表人")] if flagged else []
    )


def test_a_paperless_item_needs_no_materials():
    assert codes(draft(materials=[], zero_submission=True)) == set()


@pytest.mark.parametrize(
    "handling, promised, flagged",
    [
        (HandlingType.IMMEDIATE, 0, False),
        (HandlingType.IMMEDIATE, 1, True),
        (HandlingType.PROMISED, 1, False),
        (HandlingType.PROMISED, 0, True),
    ],
)
def test_handling_type_and_promised_limit_agree(handling, promised, flagged):
    version = draft(handling_type=handling, promised_limit=promised)
    assert codes(version) == ({"handling-type-mismatch"} if flagged else set())


@pytest.mark.parametrize(
    "overrides",
    [
        {"zero_visit": True, "visits": 0, "online_depth": OnlineDepth.ONLINE_PREREVIEW},
        {"online": True, "online_depth": OnlineDepth.OFFLINE, "visits": 1},
        {"one_visit": True, "visits": 2, "online_depth": OnlineDepth.OFFLINE, "online": False},
        {"visits": 1, "online_depth": OnlineDepth.FULL_ONLINE},
        {"on_the_spot": True, "handling_type": HandlingType.PROMISED},
    ],
)
def test_each_contradicting_tag_is_flagged(overrides):
    assert codes(draft(**overrides)) == {"tags-contradict-guide"}


def test_tags_that_fit_the_guide_pass():
    version = draft(
        zero_visit=True,
        zero_submission=True,
        online=True,
        one_visit=True,
        on_the_spot=True,
        handling_type=HandlingType.IMMEDIATE,
        promised_limit=0,
        materials=[],
    )
    assert codes(version) == set()


# --- stored findings ----------------------------------------------------------------------------


def test_findings_are_stored_and_read_back():
    version = draft(supervision_phone="", materials=materials(name="相关材料"))

    stored = quality.stored_findings(ItemVersion.objects.get(pk=version.pk))

    assert version.findings == [
        {"code": "catch-all-material", "detail": "相关材料"},
        {"code": "no-supervision-phone", "detail": ""},
    ]
    assert stored == quality.check(version)
    assert [f.message for f in stored] == [
        "A material is named with a catch-all word (其他材料, 相关材料, 等): 相关材料",
        "No supervision phone is published",
    ]
    assert quality.blocking(stored) == stored


def test_a_finding_of_a_rule_since_removed_is_skipped():
    version = draft()
    ItemVersion.objects.filter(pk=version.pk).update(
        findings=[{"code": "retired-rule", "detail": ""}, {"code": "no-time-limit"}]
    )
    version.refresh_from_db()
    assert quality.stored_findings(version) == [quality.Finding("no-time-limit")]


def test_refresh_derived_replaces_stale_findings():
    version = draft()
    ItemVersion.objects.filter(pk=version.pk).update(
        findings=[{"code": "no-legal-basis", "detail": ""}], consultation_phone=""
    )

    findings = services.refresh_derived(version)

    version.refresh_from_db()
    assert [f.code for f in findings] == ["no-consultation-phone"]
    assert version.findings == [{"code": "no-consultation-phone", "detail": ""}]


# --- catalog_check ------------------------------------------------------------------------------


def run_check(*args) -> str:
    out = io.StringIO()
    call_command("catalog_check", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_catalog_check_on_a_clean_catalogue():
    make_item()
    make_item(status=VersionStatus.DRAFT)

    output = run_check()

    assert "2 versions checked." in output
    assert "No published version has a blocking finding." in output
    for code in quality.RULES:
        assert f"{code}: 0" in output


def test_catalog_check_fails_on_a_published_version_that_a_rule_now_blocks():
    """Rules change after publication: a published guide may fail one today."""
    broken = make_item(name="食品经营许可")
    make_item(name="出生登记")
    make_item(status=VersionStatus.DRAFT, legal_basis=[])  # a draft may be unfinished
    make_item(consultation_phone="")  # a warning is no failure
    ItemVersion.objects.filter(pk=broken.pk).update(supervision_phone="", legal_basis=[])
    assert broken.findings == []  # stored before the "change of rules"

    with pytest.raises(CommandError) as caught:
        run_check()

    assert caught.value.returncode == 1
    assert "1 published version has a blocking finding." in str(caught.value)
    broken.refresh_from_db()
    assert {f["code"] for f in broken.findings} == {"no-legal-basis", "no-supervision-phone"}


def test_catalog_check_lists_the_counts_and_the_blocked_published_versions():
    broken = make_item(name="食品经营许可")
    make_item(status=VersionStatus.DRAFT, legal_basis=[])
    make_item(consultation_phone="")
    ItemVersion.objects.filter(pk=broken.pk).update(supervision_phone="", legal_basis=[])
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("catalog_check", "--no-progress", stdout=out, stderr=io.StringIO())

    output = out.getvalue()
    assert "3 versions checked." in output
    assert "no-legal-basis: 2" in output  # the draft and the published version
    assert "no-supervision-phone: 1" in output
    assert "no-consultation-phone: 1" in output
    assert "no-time-limit: 0" in output
    listed = output.split("Published versions with blocking findings:")[1]
    assert f"食品经营许可 ({broken.item.implementation_code}, version 1)" in listed
    assert "No legal basis is given" in listed and "No supervision phone is published" in listed
    assert "No consultation phone" not in listed


def test_catalog_check_blocking_only_leaves_out_the_warnings():
    make_item(consultation_phone="")
    output = run_check("--blocking-only")
    assert "no-legal-basis: 0" in output
    assert "no-consultation-phone" not in output
    warnings = [code for code, rule in quality.RULES.items() if rule.severity == WARNING]
    assert warnings and all(f"{code}:" not in output for code in warnings)


def test_catalog_check_archived_versions_do_not_fail_it():
    archived = make_item(status=VersionStatus.ARCHIVED)
    ItemVersion.objects.filter(pk=archived.pk).update(legal_basis=[])
    output = run_check()
    assert "no-legal-basis: 1" in output
    assert "No published version has a blocking finding." in output


def test_catalog_check_exit_status():
    published = make_item()
    out = io.StringIO()
    call_command("catalog_check", "--no-progress", stdout=out)
    assert "1 version checked." in out.getvalue()

    ItemVersion.objects.filter(pk=published.pk).update(supervision_phone="")
    with pytest.raises(CommandError) as failed:
        call_command("catalog_check", "--no-progress", stdout=io.StringIO())
    assert failed.value.returncode == 1
    assert "1 published version has a blocking finding." in str(failed.value)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_catalog_check_draws_a_progress_bar_on_a_terminal_only():
    make_item()
    make_item()
    for args, drawn in (((), True), (("--no-progress",), False)):
        terminal = FakeTerminal()
        call_command("catalog_check", *args, stdout=io.StringIO(), stderr=terminal)
        assert ("2/2" in terminal.getvalue()) is drawn


def test_catalog_check_help_is_formatted():
    text = CatalogCheck().create_parser("manage.py", "catalog_check").format_help()
    assert "--blocking-only" in text and "Exits with status 1" in text
