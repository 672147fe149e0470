"""The guide quality checker: the defects the service centres' own inspections list
(办事指南质量问题), each a rule with a code, a severity and a message.

A blocking finding stops publication; a warning is shown to catalogue admins. The services
run `check` after every change to a draft and store the result on the version as
[{"code", "detail"}]: messages are looked up when shown, in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import (
    HandlingType,
    HolderKind,
    LimitUnit,
    MaterialKind,
    OnlineDepth,
    Severity,
    Target,
)

# 「其他材料」「相关材料」「……等」: names that leave the applicant guessing.
CATCH_ALL = re.compile(
    r"(其他|其它|相关|有关)(材料|证明|文件|资料|证件)|等(材料|证明|文件|资料|证件)?[。.；;]?$"
)


@dataclass(frozen=True)
class Finding:
    code: str
    detail: str = ""

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def severity(self) -> str:
        return self.rule.severity

    @property
    def blocking(self) -> bool:
        return self.rule.severity == Severity.BLOCKING

    @property
    def message(self) -> str:
        if not self.detail:
            return str(self.rule.message)
        return _("%(rule)s: %(detail)s") % {"rule": self.rule.message, "detail": self.detail}

    def as_json(self) -> dict:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    message: str | Promise
    check: Callable[[object], Iterator[str]]  # yields one detail per defect ("" for none)


def _approx_natural_days(value: int, unit: str) -> float:
    """Working days in natural days, for comparing limits stated in different units."""
    return value * 7 / 5 if unit == LimitUnit.WORKDAYS else value


# --- the rules --------------------------------------------------------------------------------


def _no_legal_basis(v):
    if not [b for b in v.legal_basis or [] if str(b).strip()]:
        yield ""


def _no_time_limit(v):
    if v.statutory_limit is None:
        yield str(_("statutory limit"))
    if v.promised_limit is None:
        yield str(_("promised limit"))


def _promised_exceeds_statutory(v):
    if v.statutory_limit is None or v.promised_limit is None:
        return
    if v.statutory_unit == v.promised_unit:
        longer = v.promised_limit > v.statutory_limit
    else:
        longer = _approx_natural_days(v.promised_limit, v.promised_unit) > _approx_natural_days(
            v.statutory_limit, v.statutory_unit
        )
    if longer:
        yield f"{v.promised_limit} > {v.statutory_limit}"


def _catch_all_material(v):
    for material in v.materials.all():
        if CATCH_ALL.search(material.display_name):
            yield material.display_name


def _no_supervision_phone(v):
    if not v.supervision_phone.strip():
        yield ""


def _no_consultation_phone(v):
    if not v.consultation_phone.strip():
        yield ""


def _no_form_download(v):
    forms = [m for m in v.materials.all() if m.material_type.kind == MaterialKind.FORM]
    for material in forms:
        if not (material.material_type.template_file and material.material_type.sample_file):
            yield material.display_name


def _inconsistent_target(v):
    """A guide for persons that asks for a company's papers, or the other way round."""
    if v.target == Target.BOTH:
        return
    foreign = HolderKind.ENTERPRISE if v.target == Target.PERSON else HolderKind.PERSON
    for material in v.materials.all():
        if material.material_type.holder_kind == foreign:
            yield material.display_name
    for form_field in v.form_fields.all():
        if form_field.field.holder_kind == foreign:
            yield form_field.field.label


def _no_review_chain(v):
    if not v.review_steps.all():
        yield ""


def _no_materials(v):
    if not v.materials.all() and not v.zero_submission:
        yield ""


def _handling_type_mismatch(v):
    if v.promised_limit is None:
        return
    if v.handling_type == HandlingType.IMMEDIATE and v.promised_limit > 0:
        yield str(_("an immediate item is decided on the spot (promised limit 0)"))
    if v.handling_type == HandlingType.PROMISED and v.promised_limit == 0:
        yield str(_("a promised item decided on the spot is an immediate item"))


def _tags_contradict_guide(v):
    if v.zero_visit and v.visits > 0:
        yield str(_("zero visits, but the applicant must come to the hall"))
    if v.zero_visit and v.online_depth != OnlineDepth.FULL_ONLINE:
        yield str(_("zero visits, but the item is not handled fully online"))
    if v.online and v.online_depth == OnlineDepth.OFFLINE:
        yield str(_("done online, but the item is handled at the window only"))
    if v.one_visit and v.visits > 1:
        yield str(_("done in one visit, but the guide asks for two visits"))
    if v.online_depth == OnlineDepth.FULL_ONLINE and v.visits > 0:
        yield str(_("fully online, but the applicant must come to the hall"))
    if v.on_the_spot and v.handling_type != HandlingType.IMMEDIATE:
        yield str(_("done on the spot, but the item is not an immediate item"))


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("no-legal-basis", Severity.BLOCKING, _("No legal basis is given"), _no_legal_basis),
        Rule("no-time-limit", Severity.BLOCKING, _("No time limit is set"), _no_time_limit),
        Rule(
            "promised-exceeds-statutory",
            Severity.BLOCKING,
            _("The promised limit is longer than the statutory limit"),
            _promised_exceeds_statutory,
        ),
        Rule(
            "catch-all-material",
            Severity.BLOCKING,
            _("A material is named with a catch-all word (其他材料, 相关材料, 等)"),
            _catch_all_material,
        ),
        Rule(
            "no-supervision-phone",
            Severity.BLOCKING,
            _("No supervision phone is published"),
            _no_supervision_phone,
        ),
        Rule(
            "inconsistent-target",
            Severity.BLOCKING,
            _("The materials or form do not match who may apply"),
            _inconsistent_target,
        ),
        Rule(
            "no-review-chain",
            Severity.BLOCKING,
            _("No review step is configured"),
            _no_review_chain,
        ),
        Rule(
            "no-form-download",
            Severity.WARNING,
            _("A form has no blank form or sample to download"),
            _no_form_download,
        ),
        Rule(
            "no-consultation-phone",
            Severity.WARNING,
            _("No consultation phone is published"),
            _no_consultation_phone,
        ),
        Rule("no-materials", Severity.WARNING, _("No material is listed"), _no_materials),
        Rule(
            "handling-type-mismatch",
            Severity.WARNING,
            _("The handling type does not match the promised limit"),
            _handling_type_mismatch,
        ),
        Rule(
            "tags-contradict-guide",
            Severity.WARNING,
            _("A tag contradicts the guide"),
            _tags_contradict_guide,
        ),
    )
}


def check(version) -> list[Finding]:
    """Every finding of every rule on one version (prefetch its materials, form fields and
    review steps: see ItemVersion.objects.with_guide())."""
    return [Finding(code, detail) for code, rule in RULES.items() for detail in rule.check(version)]


def stored_findings(version) -> list[Finding]:
    """The findings stored on a version by the last check (rules removed since are skipped)."""
    return [Finding(f["code"], f.get("detail", "")) for f in version.findings if f["code"] in RULES]


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.blocking]
