"""The documents of a case as PDFs (to those who may see the case), and the public verify
page a document's QR code leads to.

The verify page says whether a paper is genuine: the stored content still matches its SM3
digest. It shows what identifies the document (kind, numbers, item, department, date) and
the applicant's masked name, nothing more; lookups are rate-limited per address so the
codes cannot be guessed in bulk.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.validators import RegexValidator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yimen.common.forms import StyledFormMixin
from yimen.common.masking import mask_name
from yimen.common.ratelimit import over_limit
from yimen.joint.models import JointDocument

from . import pdf
from .documents import TITLES, is_genuine
from .models import Case, CaseDocument
from .permissions import may_open_files, visible_cases

VERIFY_LIMIT = 30  # lookups per address per minute


@require_GET
@login_required
def document_pdf(request, number, code):
    """One document of a case the user may see; any other is not found."""
    case = get_object_or_404(visible_cases(request.user, Case.objects.all()), number=number)
    document = get_object_or_404(case.documents.all(), code=code)
    response = HttpResponse(pdf.render(document), content_type="application/pdf")
    title = document.content.get("title") or TITLES[document.kind]
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=f"{title}-{case.number}.pdf"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@login_required
def material_file(request, number, pk):
    """An uploaded material, to the applicant and the staff who work on the case (never a
    public storage URL: these are personal papers)."""
    case = get_object_or_404(visible_cases(request.user, Case.objects.all()), number=number)
    if not may_open_files(request.user, case):
        raise Http404
    material = get_object_or_404(case.materials.exclude(file=""), pk=pk)
    response = FileResponse(material.file.open("rb"), filename=material.file_name)
    patch_cache_control(response, private=True, no_store=True)
    return response


class VerifyForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=32,
        help_text=_("The code printed under the QR code of the document."),
        validators=[
            RegexValidator(
                r"^[-a-zA-Z0-9_]+$", _("A verification code has letters, digits, - and _ only.")
            )
        ],
    )


@require_GET
def verify_search(request):
    """Type the code of a paper document (when its QR code cannot be scanned)."""
    form = VerifyForm(request.GET or None)
    if form.is_valid():
        return redirect("case_documents:verify", code=form.cleaned_data["code"])
    status = 400 if form.is_bound else 200
    return render(request, "cases/verify.html", {"form": form, "result": None}, status=status)


@require_GET
def verify(request, code):
    """Genuine, not genuine (the stored content no longer matches its digest), or unknown."""
    form = VerifyForm(initial={"code": code})
    if over_limit(request, scope="verify", per_minute=VERIFY_LIMIT):
        response = render(
            request, "cases/verify.html", {"form": form, "result": "limited"}, status=429
        )
        response["Retry-After"] = "60"
        return response
    document = (
        CaseDocument.objects.filter(code=code).first()
        or JointDocument.objects.filter(code=code).first()
    )
    if document is None:
        context = {"form": form, "result": "unknown", "code": code}
        return render(request, "cases/verify.html", context, status=404)
    if not is_genuine(document):
        context = {"form": form, "result": "tampered", "code": code}
        return render(request, "cases/verify.html", context)
    content = document.content
    context = {
        "form": form,
        "result": "genuine",
        "code": code,
        "title": content.get("title") or TITLES[document.kind],
        "kind": document.get_kind_display(),
        "number": content.get("number", ""),
        "case_number": content.get("case_number", ""),
        "item": content.get("item", ""),
        "item_code": content.get("item_code", ""),
        "department": content.get("department", ""),
        "issued": pdf.date_text(content.get("issued_at")),
        "applicant": mask_name(content.get("applicant", "")),
    }
    return render(request, "cases/verify.html", context)
