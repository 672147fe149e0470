"""The pages for working on 12345 work orders: an order with its deadlines, dispatches,
requests, supervision orders, cards and history, and the steps the user may take on it; the
list of the orders the user may see, with filters; the center's queues; a unit's inbox.

Thin: yimen.hotline.selectors reads, yimen.hotline.orders decides and writes,
yimen.hotline.permissions says who sees what. An order the user may not see is not found
(404), a page of a role the user lacks is a 403, a service's ValidationError goes back on
its form (400), PermissionDenied is a 403 and a step someone else took first is a 409 page
that says what the order is now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from yimen.common.clocks import clock_state
from yimen.common.errors import StateConflict
from yimen.common.masking import mask_phone

from . import disclosure, orders, permissions, selectors, workflow
from .choices import Actor, OrderStatus, RequestStatus
from .consoles import render_console, require
from .forms_orders import (
    ACTION_FORMS,
    QUEUES,
    OrderFilterForm,
    action_form,
    governing,
    queue_url,
)
from .models import OrderRequest, WorkOrder

PAGE_SIZE = 25
QUEUE_ROWS = 50  # each queue shows its most urgent rows; the order list has them all
NOTICE_ROWS = 50
# Steps that end, refuse or punish: their buttons look it.
SEVERE = frozenset({"send_back", "request_return", "card"})


def _visible(request, number) -> WorkOrder:
    order = selectors.order_by_number(request.user, number)
    if order is None:
        raise Http404(_("No order you may see has this number."))
    # permissions.actors reads the dispatches, several times per page: once here.
    prefetch_related_objects([order], "assignments")
    return order


def _rows(orders_, user) -> list[tuple[WorkOrder, object]]:
    """(order, the state of its governing clock) for each order of a list; each order's
    `shown_title` is its title as `user` may read it."""
    rows = []
    for order in orders_:
        order.shown_title = disclosure.title(user, order)
        rows.append((order, selectors.light(order)))
    return rows


def _titled(order: WorkOrder, user) -> WorkOrder:
    order.shown_title = disclosure.title(user, order)
    return order


def most_urgent_first(qs: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """Sorted by the due date of the clock that governs each order (none: last)."""
    due = governing("__due_at", models.DateTimeField())
    return qs.annotate(due=due).order_by(F("due").asc(nulls_last=True), "received_at", "pk")


# --- the order page ---------------------------------------------------------------------------

_EVENT_LABELS = {
    "register": gettext_lazy("Order registered"),
    "follow_master": gettext_lazy("Closed with its master order"),
}
DEADLINES = (
    ("sign_clock", gettext_lazy("To sign")),
    ("reply_clock", gettext_lazy("To reply")),
    ("close_clock", gettext_lazy("To close")),
)


def _history(order: WorkOrder, *, shows_caller: bool) -> list[dict]:
    """The order's audit events, oldest first, as the page shows them. A caller the viewer
    may not know shows as “Caller”."""
    rows = []
    for event in selectors.history_events(order).select_related("actor"):
        name = event.action.removeprefix("hotline.order.")
        step = workflow.STEPS.get(name)
        who = disclosure.event_actor(event, order, shows_caller=shows_caller) or _("System")
        status = event.to_state
        rows.append(
            {
                "at": event.occurred_at,
                "label": step.label if step else _EVENT_LABELS.get(name, event.action),
                "who": who,
                "reason": event.reason,
                "status": OrderStatus(status).label if status in OrderStatus.values else "",
            }
        )
    return rows


def _deadlines(order: WorkOrder, governing) -> list[dict]:
    rows = []
    for name, label in DEADLINES:
        clock = getattr(order, name)
        rows.append(
            {
                "label": label,
                "clock": clock,
                "state": clock_state(clock) if clock is not None else None,
                "governs": clock is not None and clock == governing,
            }
        )
    return rows


def _entries(request, order: WorkOrder, bound) -> list[dict]:
    """The steps offered, each with its form (the failed one with its errors)."""
    entries = []
    for step in selectors.offered_steps(request.user, order):
        if step.action not in ACTION_FORMS:
            continue
        if bound is not None and bound[0] == step.action:
            form = bound[1]
        else:
            form = action_form(step.action, order, request.user)
        entries.append(_entry(step, form))
    if bound is not None and bound[0] not in {e["action"] for e in entries}:
        entries.append(_entry(workflow.STEPS[bound[0]], bound[1]))
    return entries


def _entry(step, form) -> dict:
    return {"action": step.action, "step": step, "form": form, "severe": step.action in SEVERE}


def _render_order(request, order: WorkOrder, *, bound=None, status=200):
    user = request.user
    internal = permissions.sees_internal(user, order)
    shows_caller = permissions.may_see_caller(user, order)
    full_phone = permissions.sees_full_phone(user, order)
    is_caller = Actor.CALLER in permissions.actors(user, order)
    governing = selectors.governing_clock(order)
    context = {
        "order": order,
        "state": clock_state(governing) if governing is not None else None,
        "deadlines": _deadlines(order, governing),
        "internal": internal,
        "is_caller": is_caller,
        "shows_caller": shows_caller,
        "caller_phone": order.caller_phone if full_phone else mask_phone(order.caller_phone),
        # A number written into the text is masked like the caller's own.
        "title": disclosure.title(user, order),
        "content": disclosure.content(user, order),
        "shows_reply": bool(order.reply) and disclosure.reply_shown(user, order, internal=internal),
        "reads_knowledge": permissions.may_search(user),
        "actions": _entries(request, order, bound),
    }
    if order.master_id is not None:
        master = order.master
        context["master"] = master
        context["master_visible"] = (
            internal and selectors.order_by_number(user, master.number) is not None
        )
    if internal:
        context.update(
            assignments=list(
                order.assignments.select_related("unit", "dispatched_by", "parent__unit")
            ),
            duplicates=[
                _titled(duplicate, user)
                for duplicate in order.duplicates.order_by("received_at", "pk")
            ],
            requests=list(order.requests.select_related("unit", "requested_by", "decided_by")),
            supervisions=[
                (s, clock_state(s.clock) if s.clock is not None else None)
                for s in order.supervisions.select_related(
                    "unit", "issued_by", "answered_by", "clock"
                ).prefetch_related("clock__pauses", "clock__extensions")
            ],
            cards=list(order.cards.select_related("unit", "issued_by")),
            history=_history(order, shows_caller=shows_caller),
        )
    return render_console(request, "hotline/orders/order.html", context, status=status)


@never_cache
@login_required
@require_GET
def order(request, number):
    """An order; opening it marks the notices of it in the user's units read."""
    found = _visible(request, number)
    if units := permissions.handler_units(request.user):
        orders.notices_read(unit_ids=units, order=found)
    return _render_order(request, found)


def _conflict(request, order: WorkOrder, exc: StateConflict):
    """409: the step is no longer possible; say where the order stands now."""
    order.refresh_from_db()
    context = {"order": order, "problems": exc.messages}
    return render_console(request, "hotline/orders/conflict.html", context, status=409)


@login_required
@require_POST
def act(request, number, action):
    """One step on the order, through its service: the state and the actor are checked first
    (409 and 403, as the service would), then the form (400), then the service."""
    step = workflow.STEPS.get(action)
    if step is None or action not in ACTION_FORMS:
        raise Http404
    found = _visible(request, number)
    if found.status not in step.sources:
        return _conflict(request, found, workflow.StepRefused(action, found.status))
    if not permissions.actors(request.user, found) & step.actors:
        raise PermissionDenied
    form = action_form(action, found, request.user, request.POST)
    if form.is_valid():
        try:
            form.perform(request.user)
        except StateConflict as exc:  # before ValidationError: it is one
            return _conflict(request, found, exc)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            found.refresh_from_db(fields=["status"])
            messages.success(
                request,
                _("Done: %(action)s. The order is now “%(status)s”.")
                % {"action": step.label, "status": found.get_status_display()},
            )
            return redirect(found)
    return _render_order(request, found, bound=(action, form), status=400)


# --- the order list ---------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def order_list(request):
    """The orders the user may see, newest first, narrowed by the filters. A citizen's own
    orders are on their own page."""
    if not permissions.sees_order_list(request.user):
        return redirect("hotline:mine")
    form = OrderFilterForm(request.GET or None, user=request.user)
    context = {"form": form, "page": None}
    if form.is_bound and not form.is_valid():
        return render_console(request, "hotline/orders/list.html", context, status=400)
    found = selectors.orders(request.user)
    if form.is_bound:
        found = form.apply(found)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        page=page,
        rows=_rows(page.object_list, request.user),
        page_range=page.paginator.get_elided_page_range(page.number),
    )
    return render_console(request, "hotline/orders/list.html", context)


# --- the center's queues and a unit's inbox ---------------------------------------------------


def _queue(user, key, intro, qs) -> dict:
    """A queue: its most urgent rows, how many there are, and the order list narrowed to it
    (where they all are)."""
    return {
        "key": key,
        "title": QUEUES[key],
        "intro": intro,
        "rows": _rows(qs[:QUEUE_ROWS], user),
        "total": qs.count(),
        "url": queue_url(key),
    }


@never_cache
@login_required
@require_GET
def center(request):
    """The center's work: orders to dispatch, replies to review, callbacks to make and the
    units' requests to decide."""
    require(permissions.is_agent, request.user)
    found = selectors.center_queues(request.user)
    pending = Prefetch(
        "requests",
        queryset=OrderRequest.objects.filter(status=RequestStatus.PENDING).select_related("unit"),
        to_attr="pending_requests",
    )
    queues = [
        _queue(
            request.user,
            "registered",
            _("New orders to answer, dispatch or link, oldest first."),
            found["registered"],
        ),
        _queue(
            request.user,
            "replied",
            _("The units' replies to accept or send back."),
            found["replied"],
        ),
        _queue(
            request.user,
            "callback",
            _("Accepted replies: call the caller back for their verdict."),
            found["callback"],
        ),
        _queue(
            request.user,
            "requests",
            _("Units asking to return an order or for more time."),
            most_urgent_first(found["requests"].prefetch_related(pending)),
        ),
    ]
    return render_console(request, "hotline/orders/center.html", {"queues": queues})


@never_cache
@login_required
@require_GET
def unit(request):
    """A unit handler's work, the most urgent first, and the notices to their units."""
    require(permissions.is_handler, request.user)
    found = selectors.unit_queues(request.user)
    queues = [
        _queue(
            request.user,
            "to_sign",
            _("Orders dispatched to your unit: sign for them, or ask to return them."),
            most_urgent_first(found["to_sign"]),
        ),
        _queue(
            request.user,
            "handling",
            _("Orders your unit is handling: reply before the deadline."),
            most_urgent_first(found["handling"]),
        ),
        _queue(
            request.user,
            "co_handling",
            _("Orders on which your unit is to give its opinion to the lead unit."),
            most_urgent_first(found["co_handling"]),
        ),
        _queue(
            request.user,
            "supervised",
            _("The center asks what your unit is doing about these orders."),
            most_urgent_first(found["supervised"]),
        ),
    ]
    notices = selectors.notices(request.user)
    context = {
        "queues": queues,
        "notices": list(notices[:NOTICE_ROWS]),
        "unread": notices.filter(read_at__isnull=True).count(),
    }
    return render_console(request, "hotline/orders/unit.html", context)


@login_required
@require_POST
def notices_read(request):
    """Mark every notice of the user's units read."""
    require(permissions.is_handler, request.user)
    count = orders.notices_read(unit_ids=permissions.handler_units(request.user))
    messages.success(
        request,
        ngettext("%(n)d notice marked read.", "%(n)d notices marked read.", count) % {"n": count},
    )
    return redirect("hotline:unit")
