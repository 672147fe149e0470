"""The public face of e-licences: the verify page a licence's QR code leads to (or where its
identifier is typed), and the printable licence for its holder and the issuing department.

The verify page answers valid / expired / revoked / replaced / not genuine / unknown. For a
genuine licence it shows what identifies it (type, issuer, dates, the successor of a
replaced one) and the holder's masked name, nothing more; a record that no longer matches
its signature shows nothing of itself. Look-ups are rate-limited per address so that
identifiers cannot be tried in bulk.

Status codes: 200 for a verdict on a licence, 404 for a well-formed identifier no licence
has, 400 for a malformed one (the page then explains the format), 429 past the limit.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yimen.common.forms import StyledFormMixin
from yimen.common.identifiers import licence_identifier_error
from yimen.common.ratelimit import over_limit
from yimen.org.choices import Role
from yimen.org.roles import departments_for, is_system_admin

from . import pdf, selectors, services
from .choices import Verdict
from .models import Licence

VERIFY_LIMIT = 30  # look-ups per address per minute
EXAMPLE = "1.2.156.3005.2.{type}.{issuer}.{serial}.{version}.{check}"

# The colour of each verdict (Bootstrap's contextual classes); the text says it too.
VERDICT_TONES = {
    Verdict.VALID: "success",
    Verdict.EXPIRED: "warning",
    Verdict.REPLACED: "warning",
    Verdict.REVOKED: "danger",
    Verdict.NOT_GENUINE: "danger",
    Verdict.UNKNOWN: "secondary",
}
# Verdicts on a licence whose record still matches its signature: its facts may be shown.
GENUINE = (Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED, Verdict.REPLACED)


class VerifyForm(StyledFormMixin, forms.Form):
    id = forms.CharField(
        label=_("Licence identifier"),
        max_length=120,
        help_text=_("Printed on the licence under its QR code, e.g. 1.2.156.3005.2.…"),
    )

    def clean_id(self):
        identifier = "".join(self.cleaned_data["id"].split()).upper()
        error = licence_identifier_error(identifier)
        if error:
            raise ValidationError(error, code="malformed")
        return identifier


def _page(request, context, status=200):
    response = render(request, "licences/verify.html", context, status=status)
    add_never_cache_headers(response)  # a verdict is today's: a licence may be revoked
    return response


@require_GET
def verify(request):
    """The form; with `?id=` the verdict on the identifier typed or pasted."""
    raw = request.GET.get("id", "")
    if not raw.strip():
        return _page(request, {"form": VerifyForm(), "verdict": None})
    return _verdict(request, raw)


@require_GET
def verify_identifier(request, identifier):
    """The verdict on the identifier a licence's QR code holds."""
    return _verdict(request, identifier)


def _verdict(request, raw: str):
    form = VerifyForm({"id": raw})
    if over_limit(request, scope="licence_verify", per_minute=VERIFY_LIMIT):
        response = _page(
            request, {"form": VerifyForm(initial={"id": raw}), "limited": True}, status=429
        )
        response["Retry-After"] = "60"
        return response
    if not form.is_valid():
        # The verdict says what is wrong; the form below is offered again to correct it.
        context = {
            "form": VerifyForm(initial={"id": raw.strip()[:120]}),
            "verdict": Verdict.UNKNOWN,
            "verdict_label": Verdict.UNKNOWN.label,
            "tone": VERDICT_TONES[Verdict.UNKNOWN],
            "identifier": raw.strip()[:120],
            "malformed": form.errors["id"],
            "example": EXAMPLE,
        }
        return _page(request, context, status=400)
    verification = selectors.verify(form.cleaned_data["id"])
    context = {
        "form": VerifyForm(initial={"id": verification.identifier}),
        "verdict": verification.verdict,
        "verdict_label": verification.verdict_label,
        "tone": VERDICT_TONES[verification.verdict],
        "identifier": verification.identifier,
        "facts": _facts(verification) if verification.verdict in GENUINE else None,
    }
    return _page(request, context, status=404 if verification.verdict == Verdict.UNKNOWN else 200)


def _facts(verification: selectors.Verification) -> dict:
    """What the page shows of a genuine licence: nothing personal beyond the masked name."""
    licence = verification.licence
    successor = ""
    if verification.verdict == Verdict.REPLACED:
        successor = (
            Licence.objects.filter(previous=licence).values_list("identifier", flat=True).first()
            or ""
        )
    return {
        "licence_type": licence.licence_type.name,
        "issuer": licence.issuer.name,
        "issued_on": licence.issued_on,
        "valid_until": licence.valid_until,
        "holder": verification.masked_holder,
        "successor": successor,
    }


# --- the printable licence --------------------------------------------------------------------


def printable_licences(user):
    """The licences `user` may print: their own (an enterprise account: the enterprise's),
    those their department issued (its reviewers and heads), every one for system admins."""
    licences = Licence.objects.select_related("licence_type", "holder", "issuer", "signing_key")
    if is_system_admin(user):
        return licences
    seen = Q(holder__user=user)
    departments = departments_for(user, Role.REVIEWER, Role.DEPARTMENT_HEAD)
    if departments:
        seen |= Q(issuer__in=departments)
    return licences.filter(seen)


@require_GET
@login_required
def licence_pdf(request, public_id):
    """The licence as a PDF, stamped when it is no longer valid; any other is not found."""
    found = printable_licences(request.user).filter(public_id=public_id)
    services.expire_due(among=found)  # the stamp is today's
    licence = get_object_or_404(found)
    response = HttpResponse(pdf.render(licence), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=f"{licence.licence_type.name}-{licence.identifier}.pdf"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
