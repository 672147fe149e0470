"""The intake pages of the 12345 hotline: the agent's console (one screen for a phone call,
with the caller's history, knowledge-base answers, possible duplicates and the units to
dispatch to in a side panel that follows the typing by htmx), the citizen's web report and
the citizen's own orders.

Thin: yimen.hotline.orders writes, the selectors and the suggesters read. On the console
the order is registered and its first step (answer, dispatch or link) taken in one
transaction, so a refused step leaves no order behind. A service's ValidationError goes back
on the form with status 400, a stale state with 409; a page the user may not use is a 403.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.forms import set_service_errors
from yimen.common.ratelimit import over_limit

from . import dispatch, duplicates, orders, permissions, search, selectors
from .api.orders import FILING_SCOPE, FILINGS_PER_MINUTE
from .choices import OrderChannel, OrderStatus
from .consoles import render_console, require
from .forms_intake import IntakeForm, ReportForm, SuggestForm
from .models import WorkOrder
from .views import hit_rows

PAGE_SIZE = 20
HISTORY_LIMIT = 10  # the caller's latest orders in the side panel
MIN_PHONE_DIGITS = 5  # typed before the history is looked up
ANSWER_LIMIT = 5
DUPLICATE_LIMIT = 5
UNIT_LIMIT = 3

SOURCES = {
    "model": gettext_lazy("Learned from past orders"),
    "category": gettext_lazy("Default unit of the category"),
    "district": gettext_lazy("Government of the district"),
}

# The console's access keys, as the page lists them (the widgets carry them).
ACCESS_KEYS = [
    ("P", gettext_lazy("Caller's phone")),
    ("N", gettext_lazy("Caller's name")),
    ("T", gettext_lazy("Type")),
    ("U", gettext_lazy("Urgency")),
    ("C", gettext_lazy("Category")),
    ("R", gettext_lazy("District")),
    ("A", gettext_lazy("Location")),
    ("I", gettext_lazy("Title")),
    ("X", gettext_lazy("Content")),
    ("1–4", gettext_lazy("Register / answer / dispatch / link")),
    ("W", gettext_lazy("Answer")),
    ("L", gettext_lazy("Lead unit")),
    ("M", gettext_lazy("Master order number")),
    ("S", gettext_lazy("Save")),
    ("G", gettext_lazy("Go to the side panel")),
]


# --- the side panel ---------------------------------------------------------------------------


def history_context(phone: str) -> dict:
    """The caller's latest orders, once enough of the number is typed."""
    digits = sum(ch.isdigit() for ch in phone)
    short = digits < MIN_PHONE_DIGITS
    rows = [] if short else list(selectors.caller_history(phone, limit=HISTORY_LIMIT))
    return {"phone": phone, "short": short, "history": rows}


def suggestions_context(user, data: dict) -> dict:
    """What the typed content suggests: answers from the knowledge base, open orders it may
    repeat (with why), and the units to dispatch to (with the score and where it comes
    from)."""
    content, phone = data.get("content") or "", data.get("caller_phone") or ""
    category, district = data.get("category"), data.get("district")
    rows = []
    if content:
        today = timezone.localdate()
        rows = hit_rows(user, search.suggest(content, limit=ANSWER_LIMIT), today=today)
    found = []
    if content or phone:
        found = duplicates.candidates(
            content=content,
            phone=phone,
            category_id=category.pk if category else None,
            district_id=district.pk if district else None,
            limit=DUPLICATE_LIMIT,
        )
    units = []
    if content or category or district:
        units = [
            {
                "unit": s.unit,
                "score": s.score,
                "source": SOURCES.get(s.source, s.source),
            }
            for s in dispatch.suggest(
                text=dispatch.order_text(
                    data.get("title") or "", content, data.get("address") or ""
                ),
                category=category,
                district=district,
                limit=UNIT_LIMIT,
            )
        ]
    return {
        "asked": bool(content or phone or category or district),
        "query": content,
        "rows": rows,
        "duplicates": found,
        "units": units,
    }


def _query(request) -> SuggestForm | None:
    form = SuggestForm(request.GET)
    return form if form.is_valid() else None


def panel(view):
    """A side-panel endpoint, fetched by htmx: for a user signed out meanwhile (the session
    expired) the whole page goes to the login page (HX-Redirect), and back to the console
    after, instead of the login page landing inside the panel."""

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                back = request.htmx.current_url_abs_path or reverse("hotline:console")
                return HttpResponseClientRedirect(redirect_to_login(back).url)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return inner


@panel
@require_GET
def console_history(request):
    """The caller's history, as the agent types the phone number (htmx)."""
    require(permissions.may_register, request.user)
    query = _query(request)
    if query is None:
        return render(request, "hotline/intake/_refused.html", status=400)
    context = history_context(query.cleaned_data["caller_phone"])
    return render(request, "hotline/intake/_history.html", context)


@panel
@require_GET
def console_suggestions(request):
    """Answers, duplicates and units for the content typed so far (htmx), with a short
    summary of them for the page's status line (an out-of-band swap)."""
    require(permissions.may_register, request.user)
    query = _query(request)
    if query is None:
        return render(request, "hotline/intake/_refused.html", status=400)
    context = suggestions_context(request.user, query.cleaned_data)
    context["oob"] = True
    return render(request, "hotline/intake/_suggestions.html", context)


# --- the console ------------------------------------------------------------------------------


def _render_console(request, form: IntakeForm, *, status: int = 200):
    context = {"form": form, "access_keys": ACCESS_KEYS, "chosen_article": None}
    if form.is_bound:
        context["chosen_article"] = form.chosen_article()
        query = SuggestForm(request.POST)
        data = query.cleaned_data if query.is_valid() else {}
        context.update(history_context(data.get("caller_phone", "")))
        context.update(suggestions_context(request.user, data))
    else:
        context.update(history_context(form.initial.get("caller_phone", "")))
    return render_console(request, "hotline/intake/console.html", context, status=status)


def _take_step(form: IntakeForm, order, actor) -> str:
    """The step chosen on the form; returns the message that tells it was done."""
    data = form.cleaned_data
    if form.step == IntakeForm.ANSWER:
        orders.order_answer(
            order=order, actor=actor, answer=data["answer"], article=data["article"]
        )
        return _("Order %(number)s was answered and closed.") % {"number": order.number}
    if form.step == IntakeForm.DISPATCH:
        orders.order_dispatch(
            order=order,
            actor=actor,
            lead=data["lead"],
            co_units=data["co_units"],
            note=data["note"],
        )
        return _("Order %(number)s was dispatched to %(unit)s.") % {
            "number": order.number,
            "unit": data["lead"].name,
        }
    if form.step == IntakeForm.LINK:
        orders.order_link(order=order, actor=actor, master=data["master"])
        return _("Order %(number)s was linked to %(master)s.") % {
            "number": order.number,
            "master": order.master.number,
        }
    return _("Order %(number)s was registered.") % {"number": order.number}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def console(request):
    """The agent's intake of a call. `?caller_phone=` pre-fills the number (a telephony
    system opening the page on an incoming call)."""
    require(permissions.may_register, request.user)
    if request.method == "GET":
        phone = "".join(request.GET.get("caller_phone", "").split())[:20]
        return _render_console(
            request, IntakeForm(user=request.user, initial={"caller_phone": phone})
        )
    form = IntakeForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_console(request, form, status=400)
    # Keyed by the agent too: a key can only ever find the agent's own earlier submit.
    key = f"console:{request.user.pk}:{form.cleaned_data['idempotency_key']}"
    try:
        with transaction.atomic():
            order = orders.order_register(
                actor=request.user,
                order_channel=form.cleaned_data["channel"],
                data=form.order_data(),
                idempotency_key=key,
                channel=Channel.HOTLINE,
            )
            if order.status == OrderStatus.REGISTERED:
                done = _take_step(form, order, request.user)
            else:  # the same form sent again after its step was taken
                done = _("This form was sent already: here is order %(number)s.") % {
                    "number": order.number
                }
    except StateConflict as exc:
        set_service_errors(form, exc)
        return _render_console(request, form, status=409)
    except ValidationError as exc:
        set_service_errors(form, exc)
        return _render_console(request, form, status=400)
    messages.success(request, done)
    return redirect(order)


# --- the citizen ------------------------------------------------------------------------------


def _account_phone(user) -> str:
    """The phone on the account (or the applicant profile), to pre-fill the report."""
    phone = getattr(user, "mobile", "") or getattr(user, "phone", "")
    if not phone:
        applicant = getattr(user, "applicant", None)
        phone = getattr(applicant, "phone", "") or ""
    return phone


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    """A citizen asks or reports on the web. Sent twice (a double click, a resent page), it
    makes one order: the form carries an idempotency key."""
    if request.method == "GET":
        form = ReportForm(initial={"caller_phone": _account_phone(request.user)})
        return render(request, "hotline/intake/report.html", {"form": form})
    form = ReportForm(request.POST)
    if form.is_valid():
        data = form.order_data()
        data["caller_name"] = getattr(request.user, "full_name", "") or ""
        key = f"web:{request.user.pk}:{form.cleaned_data['idempotency_key']}"
        # A resent form finds its order; a new one counts against the address's filings
        # (the API's limit: one budget per address, whichever way the citizen files).
        resent = WorkOrder.objects.filter(idempotency_key=key).exists()
        if not resent and over_limit(request, scope=FILING_SCOPE, per_minute=FILINGS_PER_MINUTE):
            form.add_error(None, _("Too many orders from this address: wait a minute."))
            return render(request, "hotline/intake/report.html", {"form": form}, status=429)
        try:
            order = orders.order_register(
                actor=request.user,
                order_channel=OrderChannel.WEB,
                data=data,
                caller_user=request.user,
                idempotency_key=key,
                channel=Channel.ONLINE,
            )
        except ValidationError as exc:
            set_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Thank you. Your message was received as order %(number)s; the 12345 "
                    "center will answer you."
                )
                % {"number": order.number},
            )
            return redirect(order)
    return render(request, "hotline/intake/report.html", {"form": form}, status=400)


@never_cache
@login_required
@require_GET
def mine(request):
    """The orders the signed-in user filed from their account, newest first."""
    own = (
        selectors.orders(request.user)
        .filter(caller_user=request.user)
        .order_by("-received_at", "-pk")
    )
    page = Paginator(own, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "rows": [(order, selectors.light(order)) for order in page],
    }
    return render(request, "hotline/intake/mine.html", context)
