"""我的空间: an applicant's own page: their licences (with the printable PDF), their latest
cases, their latest theme applications (主题联办, each with its project) and their reusable
materials (files of earlier cases still valid, downloadable).

The applicant is the profile linked to the signed-in account: a person's own, or for an
enterprise account the enterprise's. A staff account without a profile gets a 403 that
says how to become an applicant. The page reads in a fixed number of queries.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from yimen.cases import selectors as case_selectors
from yimen.joint import selectors as joint_selectors

from . import selectors
from .choices import LicenceStatus

LATEST_CASES = 10

# The colour of each status badge (Bootstrap's contextual classes); the text says it too.
STATUS_TONES = {
    LicenceStatus.VALID: "success",
    LicenceStatus.EXPIRED: "warning",
    LicenceStatus.REVOKED: "danger",
    LicenceStatus.REPLACED: "secondary",
}


def _applicant(user):
    """The applicant profile of the signed-in user (None for staff-only accounts)."""
    return getattr(user, "applicant", None)


@never_cache
@require_GET
@login_required
def space(request):
    applicant = _applicant(request.user)
    if applicant is None:
        return render(request, "licences/space.html", {"applicant": None}, status=403)
    licences = [
        (licence, STATUS_TONES.get(licence.status, "secondary"))
        for licence in selectors.licences_of(applicant)
    ]
    cases = list(case_selectors.applicant_cases(applicant=applicant)[: LATEST_CASES + 1])
    joints = list(joint_selectors.applications_of(applicant)[: LATEST_CASES + 1])
    reusable = [
        (
            reusable,
            reverse("case_documents:material", args=[reusable.row.case.number, reusable.row.pk]),
        )
        for reusable in case_selectors.reusable_materials(applicant=applicant)
    ]
    context = {
        "applicant": applicant,
        "licences": licences,
        "case_rows": [(case, case_selectors.running_state(case)) for case in cases[:LATEST_CASES]],
        "more_cases": len(cases) > LATEST_CASES,
        "reusable": reusable,
        "joint_rows": [(j, joint_selectors.running_state(j)) for j in joints[:LATEST_CASES]],
        "more_joints": len(joints) > LATEST_CASES,
    }
    return render(request, "licences/space.html", context)
