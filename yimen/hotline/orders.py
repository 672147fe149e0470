"""Writes of 12345 work orders: intake, the answer or the dispatch, the units' work, the
center's review and callback, returns and extensions, supervision orders and cards, and
the sweep that issues cards when deadlines pass.

Every step locks the order, checks it against yimen.hotline.workflow and the actor against
yimen.hotline.permissions, saves with `update_fields` and writes one audit event
(`hotline.order.<step>`) in the same transaction; notices to units are rows written there
too. Deadlines are stored clocks (yimen.common.clocks): from the dispatch, one to sign, one
to reply and one to close, by the order's type × urgency (yimen.hotline.services.deadline_for).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, clocks, counters
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.identifiers import normalise_phone
from yimen.common.models import Clock
from yimen.org.choices import RegionLevel
from yimen.org.models import Department, Region

from . import permissions, workflow
from .choices import (
    Actor,
    AssignmentRole,
    CardColour,
    DeadlineUnit,
    NoticeKind,
    OrderChannel,
    OrderClock,
    OrderStatus,
    OrderType,
    RequestKind,
    RequestStatus,
    Resolution,
    Satisfaction,
    Urgency,
)
from .models import (
    Assignment,
    Card,
    Category,
    KnowledgeArticle,
    Notice,
    OrderCounter,
    OrderRequest,
    Supervision,
    WorkOrder,
)
from .permissions import in_force
from .selectors import ORDER_CLOCKS, order_clocks, overdue_clocks
from .services import deadline_for

S = OrderStatus
logger = logging.getLogger(__name__)
OBJECT_TYPE = WorkOrder._meta.label_lower
MAX_CONTENT = 4000
MAX_LEVEL = 2  # the center dispatches to a unit (1), which may pass it to a sub-unit (2)
PHONE = re.compile(r"^(?=.{5,20}$)\+?[0-9][0-9-]{4,19}$")  # fits caller_phone (20)


def reopen_limit() -> int:
    return settings.YIMEN_HOTLINE_REOPEN_LIMIT


# --- intake -----------------------------------------------------------------------------------


def order_register(
    *,
    actor,
    order_channel: str,
    data: Mapping[str, Any],
    caller_user=None,
    idempotency_key: str | None = None,
    channel: str = Channel.HOTLINE,
    source: str = "",
) -> WorkOrder:
    """Register an order (登记): by an agent on the phone, by a citizen on the web, by an app
    through Open311. `data` holds order_type, urgency, category (leaf or its code), title,
    content, district (region or its code), address, latitude, longitude, caller_name,
    caller_phone, confidential and media_url; every problem is reported by field. A resent
    request with the same idempotency key returns the first order (callers scope their keys
    to the user or client, so a key never finds someone else's order). `source` names the
    system that filed it (e.g. an Open311 client) in the audit event."""
    if idempotency_key:
        if len(idempotency_key) > WorkOrder._meta.get_field("idempotency_key").max_length:
            raise ValidationError({"idempotency_key": _("At most 64 characters.")})
        found = WorkOrder.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return found
    values = order_fields(data, order_channel=order_channel, caller_user=caller_user)
    now = timezone.now()
    try:
        with transaction.atomic():
            order = WorkOrder(
                **values,
                number=_next_number(now),
                caller_user=caller_user,
                received_at=now,
                registered_by=actor if permissions.is_agent(actor) else None,
                idempotency_key=idempotency_key or None,
                status=S.REGISTERED,
            )
            order.save()
            _record(
                order,
                action="register",
                actor=actor,
                channel=channel,
                from_state="",
                payload={"channel": order_channel, **({"source": source} if source else {})},
            )
    except IntegrityError:
        if idempotency_key:  # two resends raced: the other one made the order
            found = WorkOrder.objects.filter(idempotency_key=idempotency_key).first()
            if found is not None:
                return found
        raise
    return order


def order_fields(data: Mapping[str, Any], *, order_channel: str, caller_user=None) -> dict:
    """The checked fields of a new order, or a ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if order_channel not in OrderChannel.values:
        errors["channel"] = _("Choose one of the channels.")
    values["channel"] = order_channel
    values["order_type"] = _choice(data, "order_type", OrderType, errors, required=True)
    values["urgency"] = _choice(data, "urgency", Urgency, errors) or Urgency.NORMAL
    category = data.get("category")
    if category not in (None, ""):
        values["category"] = _leaf(category, errors)
    content = str(data.get("content") or "").strip()
    if not content:
        errors["content"] = _("Say what the caller asks or reports.")
    elif len(content) > MAX_CONTENT:
        errors["content"] = _("At most %(n)d characters.") % {"n": MAX_CONTENT}
    values["content"] = content
    title = str(data.get("title") or "").strip() or content[:30]
    if len(title) > WorkOrder._meta.get_field("title").max_length:
        errors["title"] = _("At most 100 characters.")
    values["title"] = title
    district = data.get("district")
    if district not in (None, ""):
        values["district"] = _district(district, errors)
    values["address"] = str(data.get("address") or "").strip()[:200]
    for name, bound in (("latitude", 90), ("longitude", 180)):
        values[name] = _coordinate(data.get(name), name, bound, errors)
    if (values["latitude"] is None) != (values["longitude"] is None) and not (
        {"latitude", "longitude"} & errors.keys()
    ):
        errors["longitude" if values["longitude"] is None else "latitude"] = _(
            "Give both the latitude and the longitude, or neither."
        )
    values["caller_name"] = str(data.get("caller_name") or "").strip()[:64]
    # One form per number, so the caller's history and duplicates find every order.
    phone = normalise_phone(data.get("caller_phone"))
    if not phone and caller_user is not None:
        phone = normalise_phone(getattr(caller_user, "phone", ""))
    if phone and not PHONE.match(phone):
        errors["caller_phone"] = _("Enter a phone number of digits (a + and - are allowed).")
    elif not phone and order_channel == OrderChannel.PHONE:
        errors["caller_phone"] = _("A phone order needs the caller's number.")
    values["caller_phone"] = phone
    values["confidential"] = _flag(data.get("confidential"))
    values["media_url"] = _media_url(data.get("media_url"), errors)
    for name in ("content", "title", "address", "caller_name"):
        if "\x00" in values[name]:  # PostgreSQL cannot store it; no form or API sends one
            errors[name] = _("Remove the NUL character.")
    if errors:
        raise ValidationError(errors)
    return values


def _flag(value) -> bool:
    """A checkbox, a JSON boolean or a form's "false"."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def _media_url(value, errors) -> str:
    url = str(value or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["media_url"] = _("Enter an http or https URL.")
        return ""
    if len(url) > WorkOrder._meta.get_field("media_url").max_length:
        errors["media_url"] = _("At most 500 characters.")
    return url


def _choice(data, name, choices, errors, *, required=False) -> str:
    value = str(data.get(name) or "")
    if not value:
        if required:
            errors[name] = _("This field is required.")
        return value
    if value not in choices.values:
        errors[name] = _("“%(value)s” is not one of the choices.") % {"value": value}
    return value


def _leaf(value, errors) -> Category | None:
    category = value if isinstance(value, Category) else None
    if category is None:
        category = Category.objects.filter(code=str(value)).first()
    if category is None or not category.is_active:
        errors["category"] = _("No active category “%(code)s”.") % {"code": value}
        return None
    if category.children.filter(is_active=True).exists():
        errors["category"] = _("Choose a category of the lowest level.")
        return None
    return category


def _district(value, errors) -> Region | None:
    region = value if isinstance(value, Region) else None
    if region is None:
        region = Region.objects.filter(code=str(value)).first()
    if region is None or region.level != RegionLevel.DISTRICT:
        errors["district"] = _("No district “%(code)s”.") % {"code": value}
        return None
    return region


def _coordinate(value, name, bound, errors) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():  # NaN passes quantize, then cannot compare
        errors[name] = _("Enter a number.")
        return None
    if not -bound <= number <= bound:
        errors[name] = _("Between -%(n)d and %(n)d.") % {"n": bound}
        return None
    return number


def _next_number(now) -> str:
    """GD + the local date + a 5-digit serial: GD2026120700042."""
    day = timezone.localdate(now)
    return f"GD{day:%Y%m%d}{counters.bump(OrderCounter, day=day):05d}"


# --- the step pattern -------------------------------------------------------------------------


@dataclass
class _State:
    order: WorkOrder
    from_state: str
    acting: set[str]
    fields: set[str] = field(default_factory=set)
    payload: dict[str, Any] = field(default_factory=dict)

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.order, name, value)
        self.fields.update(values)


@contextmanager
def _step(order: WorkOrder, action: str, *, actor, channel: str, reason: str = ""):
    """Lock, look up, check; yields the locked order to change; then saves and audits."""
    with transaction.atomic():
        locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
        found = workflow.step(action, locked.status)
        everyone = _acting(actor, locked)
        acting = everyone & found.actors
        if not acting:
            if Actor.LEAD in found.actors and _led_it(actor, locked):  # passed on, returned
                raise _conflict("status", _("Another unit holds this order now."))
            raise PermissionDenied(_("You may not do this on this order."))
        if found.needs_reason and not (reason or "").strip():
            raise ValidationError({"reason": _("Give the reason.")})
        state = _State(locked, locked.status, acting)
        yield state
        locked.save(update_fields=sorted({"status", *state.fields}))
        _record(
            locked,
            action=action,
            actor=actor,
            channel=channel,
            from_state=state.from_state,
            reason=(reason or "").strip(),
            payload=state.payload,
            acting=acting,
        )
        order.__dict__.update(locked.__dict__)


def _led_it(actor, order: WorkOrder) -> bool:
    """The actor's unit led the order once (a co-handler never did: it is refused, 403)."""
    units = permissions.handler_units(actor) if actor is not None else set()
    led = order.assignments.filter(role=AssignmentRole.LEAD, unit__in=units)
    return bool(units) and led.exists()


def _acting(actor, order: WorkOrder) -> set[str]:
    if actor is None:
        return {Actor.SYSTEM}
    return permissions.actors(actor, order)


def _record(order, *, action, actor, channel, from_state, reason="", payload=None, acting=()):
    audit.record(
        action=f"hotline.order.{action}",
        obj=order,
        actor=actor,
        role=",".join(sorted(acting)),
        channel=channel,
        from_state=from_state,
        to_state=order.status,
        reason=reason,
        payload=payload or None,
    )


def _notify(unit_id: int, order: WorkOrder, kind: str, detail: str = "") -> None:
    Notice.objects.create(
        unit_id=unit_id, order=order, kind=kind, detail=str(detail)[:300], created_at=timezone.now()
    )


def _conflict(field_name: str, message) -> StateConflict:
    return StateConflict({field_name: [message]})


# --- the center: answer, dispatch, link ------------------------------------------------------


def order_answer(
    *,
    order: WorkOrder,
    actor,
    answer: str,
    article: KnowledgeArticle | None = None,
    category: Category | str | None = None,
    channel: str = Channel.HOTLINE,
) -> WorkOrder:
    """即时答复: the agent answers on the spot, citing the knowledge article read out; the order
    closes."""
    answer = (answer or "").strip()
    errors: dict[str, str] = {}
    if not answer:
        errors["answer"] = _("Write the answer given to the caller.")
    if (
        article is not None
        and not KnowledgeArticle.objects.filter(in_force(), pk=article.pk).exists()
    ):
        errors["article"] = _("That article is not published and in force.")
    leaf = _classified(order, category, errors)
    if errors:
        raise ValidationError(errors)
    with _step(order, "answer", actor=actor, channel=channel) as state:
        now = timezone.now()
        state.set(
            status=S.CLOSED,
            resolution=Resolution.INSTANT,
            reply=answer,
            article=article,
            category=leaf,
            replied_at=now,
            closed_at=now,
        )
        state.payload = {"article": str(article.public_id) if article else None}
        _close_duplicates(state.order, actor=actor, channel=channel)
    return order


def _classified(order: WorkOrder, category, errors) -> Category | None:
    """The leaf the order is filed under: the one given now, else the one it has."""
    if category not in (None, ""):
        return _leaf(category, errors)
    if order.category_id is None:
        errors["category"] = _("File the order under a category first.")
    return order.category


def order_dispatch(
    *,
    order: WorkOrder,
    actor,
    lead: Department,
    co_units: Iterable[Department] = (),
    note: str = "",
    category: Category | str | None = None,
    channel: str = Channel.HOTLINE,
) -> WorkOrder:
    """派单: the lead unit (主办) and any co-handlers (协办); the three clocks start."""
    co_units = list(dict.fromkeys(co_units))
    errors: dict[str, str] = {}
    leaf = _classified(order, category, errors)
    if lead is None or not lead.is_active:
        errors["lead"] = _("Choose an active unit to lead.")
    if any(unit == lead for unit in co_units):
        errors["co_units"] = _("The lead unit cannot also be a co-handler.")
    elif any(not unit.is_active for unit in co_units):
        errors["co_units"] = _("Co-handlers must be active units.")
    if errors:
        raise ValidationError(errors)
    with _step(order, "dispatch", actor=actor, channel=channel) as state:
        now = timezone.now()
        order_ = state.order
        Assignment.objects.create(
            order=order_,
            unit=lead,
            role=AssignmentRole.LEAD,
            dispatched_at=now,
            dispatched_by=actor,
            note=note.strip(),
        )
        for unit in co_units:
            Assignment.objects.create(
                order=order_,
                unit=unit,
                role=AssignmentRole.CO,
                dispatched_at=now,
                dispatched_by=actor,
                note=note.strip(),
            )
        state.set(
            status=S.DISPATCHED,
            lead_unit=lead,
            category=leaf,
            dispatched_at=now,
            signed_at=None,
            **_start_clocks(order_, ORDER_CLOCKS, now),
        )
        state.payload = {"lead": lead.pk, "co_units": [unit.pk for unit in co_units]}
        for unit in [lead, *co_units]:
            _notify(unit.pk, order_, NoticeKind.DISPATCHED, note)
    return order


_CLOCK_FIELD = {
    OrderClock.SIGN: "sign_clock",
    OrderClock.REPLY: "reply_clock",
    OrderClock.CLOSE: "close_clock",
}
_RULE_LIMIT = {
    OrderClock.SIGN: "sign_limit",
    OrderClock.REPLY: "reply_limit",
    OrderClock.CLOSE: "close_limit",
}


def _start_clocks(order: WorkOrder, which: Iterable[str], now) -> dict[str, Clock]:
    """Stop the order's old clocks of these kinds and start new ones from `now`."""
    rule = deadline_for(order.order_type, order.urgency)
    started = {}
    for purpose in which:
        name = _CLOCK_FIELD[purpose]
        clocks.clock_stop_running(getattr(order, name), at=now)
        started[name] = clocks.clock_start(
            purpose=purpose,
            subject=order,
            unit=rule.unit,
            limit=getattr(rule, _RULE_LIMIT[purpose]),
            started_at=now,
        )
    return started


def _stop(*clocks_: Clock | None) -> None:
    clocks.clock_stop_running(*clocks_, at=timezone.now())


# While the center decides a unit's return, and while it reviews a reply and calls back, the
# unit's clocks pause: the center's time is not the unit's delay.
RETURN_PAUSE = "hotline.return"
REVIEW_PAUSE = "hotline.review"


def _pause(clock: Clock | None, kind: str, reason) -> None:
    if clock is not None and clock.status == Clock.Status.RUNNING:
        clocks.clock_pause(clock=clock, kind=kind, reason=str(reason).strip() or kind)


def _resume(clock: Clock | None) -> None:
    if clock is not None and clock.status == Clock.Status.PAUSED:
        clocks.clock_resume(clock=clock)


def order_link(
    *, order: WorkOrder, actor, master: WorkOrder, channel: str = Channel.HOTLINE
) -> WorkOrder:
    """A duplicate (重复件) is linked to its master: it follows it and is not dispatched."""
    master = _root(master)
    _check_master(order, master)
    with transaction.atomic():
        # Both rows locked, lower id first: two agents linking two orders to each other at
        # once wait for one another instead of deadlocking; then the master is checked again
        # (closed or linked meanwhile, it would not take this one along).
        WorkOrder.objects.select_for_update().filter(pk__in=[order.pk, master.pk]).order_by(
            "pk"
        ).exists()
        master.refresh_from_db()
        _check_master(order, master)
        with _step(order, "link", actor=actor, channel=channel) as state:
            state.set(status=S.LINKED, master=master)
            state.payload = {"master": master.number}
    return order


def _check_master(order: WorkOrder, master: WorkOrder) -> None:
    if master.pk == order.pk:
        raise ValidationError({"master": _("An order cannot be linked to itself.")})
    if master.status in (S.CLOSED, S.LINKED):
        raise _conflict(
            "master",
            _("%(number)s is closed or linked itself: handle this order on its own.")
            % {"number": master.number},
        )


def _root(order: WorkOrder) -> WorkOrder:
    seen = set()
    while order.master_id is not None and order.pk not in seen:
        seen.add(order.pk)
        order = order.master
    return order


def order_unlink(*, order: WorkOrder, actor, reason: str, channel: str = Channel.HOTLINE):
    with _step(order, "unlink", actor=actor, channel=channel, reason=reason) as state:
        state.payload = {"master": state.order.master.number}
        state.set(status=S.REGISTERED, master=None)
    return order


def _close_duplicates(master: WorkOrder, *, actor, channel: str) -> None:
    """The linked duplicates close with their master and carry its reply."""
    for duplicate in WorkOrder.objects.select_for_update().filter(master=master, status=S.LINKED):
        duplicate.status, duplicate.resolution = S.CLOSED, Resolution.FOLLOWED_MASTER
        duplicate.reply, duplicate.replied_at = master.reply, master.replied_at
        duplicate.closed_at = master.closed_at
        duplicate.save(update_fields=["status", "resolution", "reply", "replied_at", "closed_at"])
        _record(
            duplicate,
            action="follow_master",
            actor=actor,
            channel=channel,
            from_state=S.LINKED,
            payload={"master": master.number},
        )
        _close_duplicates(duplicate, actor=actor, channel=channel)  # linked to it earlier


# --- the units --------------------------------------------------------------------------------


def _lead_assignment(order: WorkOrder) -> Assignment:
    return (
        order.assignments.filter(role=AssignmentRole.LEAD, is_active=True, unit=order.lead_unit_id)
        .order_by("-level", "-pk")
        .first()
    )


def order_redispatch(
    *, order: WorkOrder, actor, unit: Department, note: str = "", channel: str = Channel.ONLINE
) -> WorkOrder:
    """转派: the lead unit passes the order to one of its sub-units (one level down at most);
    the clocks run on."""
    with _step(order, "redispatch", actor=actor, channel=channel) as state:
        current = _lead_assignment(state.order)
        if current is None or current.level >= MAX_LEVEL:
            raise ValidationError(
                {"unit": _("A sub-unit cannot pass the order further down: ask to return it.")}
            )
        if state.order.requests.filter(
            kind=RequestKind.RETURN, status=RequestStatus.PENDING
        ).exists():
            raise _conflict("unit", _("The return you asked for awaits the center's decision."))
        if unit is None or unit.parent_id != current.unit_id or not unit.is_active:
            raise ValidationError({"unit": _("Choose an active sub-unit of your unit.")})
        now = timezone.now()
        Assignment.objects.create(
            order=state.order,
            unit=unit,
            role=AssignmentRole.LEAD,
            level=current.level + 1,
            parent=current,
            dispatched_at=now,
            dispatched_by=actor,
            note=note.strip(),
        )
        # The sub-unit signs for it within the sign limit too (passing it on ends the parent's).
        state.set(
            status=S.DISPATCHED,
            lead_unit=unit,
            signed_at=None,
            **_start_clocks(state.order, [OrderClock.SIGN], now),
        )
        state.payload = {"from": current.unit_id, "to": unit.pk}
        _notify(unit.pk, state.order, NoticeKind.DISPATCHED, note)
    return order


def order_sign(*, order: WorkOrder, actor, channel: str = Channel.ONLINE) -> WorkOrder:
    """签收: the lead unit takes the order on; its sign clock stops."""
    with _step(order, "sign", actor=actor, channel=channel) as state:
        now = timezone.now()
        Assignment.objects.filter(pk=_lead_assignment(state.order).pk).update(signed_at=now)
        _stop(state.order.sign_clock)
        state.set(status=S.HANDLING, signed_at=now)
    return order


def order_co_opinion(
    *, order: WorkOrder, actor, opinion: str, channel: str = Channel.ONLINE
) -> WorkOrder:
    """A co-handler (协办) gives its part to the lead unit."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError({"opinion": _("Write the co-handler's opinion.")})
    with _step(order, "co_opinion", actor=actor, channel=channel) as state:
        mine = state.order.assignments.filter(
            role=AssignmentRole.CO, is_active=True, unit__in=permissions.handler_units(actor)
        )
        now = timezone.now()
        for assignment in mine:
            assignment.opinion, assignment.signed_at = opinion, assignment.signed_at or now
            assignment.save(update_fields=["opinion", "signed_at"])
        state.payload = {"units": [a.unit_id for a in mine]}
    return order


def order_reply(*, order: WorkOrder, actor, reply: str, channel: str = Channel.ONLINE):
    """回复: the lead unit reports what it did; the center reviews it."""
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": _("Write what was done and the answer to the caller.")})
    with _step(order, "reply", actor=actor, channel=channel) as state:
        waiting = state.order.requests.filter(status=RequestStatus.PENDING)
        if waiting.filter(kind=RequestKind.RETURN).exists():
            raise _conflict("reply", _("The return you asked for awaits the center's decision."))
        withdrawn = list(waiting.values_list("pk", flat=True))
        waiting.update(status=RequestStatus.WITHDRAWN, decided_at=timezone.now())
        _stop(state.order.reply_clock)
        _pause(state.order.close_clock, REVIEW_PAUSE, _("The center reviews the reply."))
        state.set(status=S.REPLIED, reply=reply, replied_at=timezone.now())
        if withdrawn:  # more time is moot once replied
            state.payload = {"withdrawn_requests": withdrawn}
    return order


# --- the center: review and callback ----------------------------------------------------------


def order_accept_reply(*, order: WorkOrder, actor, channel: str = Channel.HOTLINE) -> WorkOrder:
    with _step(order, "accept_reply", actor=actor, channel=channel) as state:
        state.set(status=S.CALLBACK)
    return order


def order_send_back(*, order: WorkOrder, actor, reason: str, channel: str = Channel.HOTLINE):
    """The reply is not good enough: the unit handles the order again, with a new reply
    deadline; its close deadline runs on from where the reply paused it."""
    with _step(order, "send_back", actor=actor, channel=channel, reason=reason) as state:
        _resume(state.order.close_clock)
        state.set(
            status=S.HANDLING, **_start_clocks(state.order, [OrderClock.REPLY], timezone.now())
        )
        _notify(state.order.lead_unit_id, state.order, NoticeKind.SENT_BACK, reason)
    return order


def order_callback(
    *,
    order: WorkOrder,
    actor,
    result: str,
    note: str = "",
    channel: str = Channel.HOTLINE,
) -> WorkOrder:
    """回访: the caller's verdict. 不满意 reopens the order for the unit to handle again, as
    long as it has been reopened fewer times than the limit; anything else closes it."""
    if result not in Satisfaction.values:
        raise ValidationError({"result": _("Choose the caller's verdict.")})
    with _step(order, "callback", actor=actor, channel=channel, reason=note) as state:
        order_ = state.order
        if result == Satisfaction.UNREACHABLE and Actor.AGENT not in state.acting:
            raise ValidationError({"result": _("Choose how satisfied you are.")})
        state.payload = {"result": result}
        now = timezone.now()
        if result == Satisfaction.UNSATISFIED and order_.reopen_count < reopen_limit():
            state.set(
                status=S.HANDLING,
                satisfaction=result,
                reopen_count=order_.reopen_count + 1,
                **_start_clocks(order_, (OrderClock.REPLY, OrderClock.CLOSE), now),
            )
            state.payload["reopened"] = order_.reopen_count
            _notify(order_.lead_unit_id, order_, NoticeKind.REOPENED, note)
        else:
            _stop(order_.close_clock)
            state.set(
                status=S.CLOSED, satisfaction=result, resolution=Resolution.HANDLED, closed_at=now
            )
            _close_duplicates(order_, actor=actor, channel=channel)
    return order


# --- returns and extensions -------------------------------------------------------------------


def order_request(
    *,
    order: WorkOrder,
    actor,
    kind: str,
    reason: str,
    amount: int | None = None,
    channel: str = Channel.ONLINE,
) -> OrderRequest:
    """退单 or 延期, asked by the lead unit; one of each kind may wait at a time. While a return
    waits, the unit's clocks pause: a late decision of the center is not the unit's delay."""
    if kind not in RequestKind.values:
        raise ValidationError({"kind": _("Ask for a return or an extension.")})
    action = "request_return" if kind == RequestKind.RETURN else "request_extension"
    if kind != RequestKind.EXTENSION:
        amount = None
    try:
        with _step(order, action, actor=actor, channel=channel, reason=reason) as state:
            if kind == RequestKind.EXTENSION:
                _check_extension(state.order, amount)
            request = OrderRequest.objects.create(
                order=state.order,
                kind=kind,
                unit_id=state.order.lead_unit_id,
                reason=reason.strip(),
                amount=amount,
                requested_at=timezone.now(),
                requested_by=actor,
            )
            state.payload = {"request": request.pk, "amount": amount}
            if kind == RequestKind.RETURN:
                _pause_for_return(state.order, reason)
    except IntegrityError:
        raise _conflict("kind", _("A request of this kind is already waiting.")) from None
    return request


def order_decide_request(
    *,
    request: OrderRequest,
    actor,
    approve: bool,
    note: str = "",
    channel: str = Channel.HOTLINE,
) -> OrderRequest:
    """The center approves or rejects a unit's request. An approved return takes the order
    back to be dispatched again (the unit's clocks stop); an approved extension moves the
    reply and close deadlines."""
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the request is rejected.")})
    with _step(request.order, "decide_request", actor=actor, channel=channel, reason=note) as state:
        locked = OrderRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.PENDING:
            raise _conflict("request", _("This request has been decided already."))
        order_ = state.order
        locked.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        locked.decided_at, locked.decided_by, locked.decision_note = timezone.now(), actor, note
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        state.payload = {"request": locked.pk, "kind": locked.kind, "approved": approve}
        _notify(
            locked.unit_id,
            order_,
            NoticeKind.DECISION,
            f"{locked.get_kind_display()}: {locked.get_status_display()} {note}",
        )
        if locked.kind == RequestKind.RETURN:
            if approve:
                _take_back(order_, state)
            else:
                _resume_after_return(order_)
        elif approve:
            for clock in (order_.reply_clock, order_.close_clock):
                if clock is not None and clock.status != Clock.Status.STOPPED:
                    clocks.clock_extend(
                        clock=clock, amount=locked.amount, reason=locked.reason, approved_by=actor
                    )
        request.__dict__.update(locked.__dict__)
    return request


def _check_extension(order: WorkOrder, amount) -> None:
    """At least 1, at most the close limit the order's clocks were started with."""
    close = order.close_clock
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= close.limit:
        unit = DeadlineUnit(close.unit).label
        raise ValidationError(
            {"amount": _("Between 1 and %(n)d (%(unit)s).") % {"n": close.limit, "unit": unit}}
        )


def _pause_for_return(order: WorkOrder, reason: str) -> None:
    for clock in (order.sign_clock, order.reply_clock, order.close_clock):
        _pause(clock, RETURN_PAUSE, reason)


def _resume_after_return(order: WorkOrder) -> None:
    for clock in (order.sign_clock, order.reply_clock, order.close_clock):
        _resume(clock)


def _take_back(order: WorkOrder, state: _State) -> None:
    """An approved return: every dispatch ends, the clocks stop (the open supervision orders'
    too), the order waits for the center to dispatch it again."""
    for assignment in order.assignments.filter(is_active=True).exclude(unit=order.lead_unit_id):
        _notify(assignment.unit_id, order, NoticeKind.RECALLED)
    order.assignments.filter(is_active=True).update(is_active=False)
    _stop(order.sign_clock, order.reply_clock, order.close_clock)
    # An open supervision order can no longer be answered (answer_supervision does not start
    # from registered): its clock ends too, or the unit would be carded for it.
    _stop(*(s.clock for s in order.supervisions.filter(answered_at=None).select_related("clock")))
    moot = order.requests.filter(status=RequestStatus.PENDING, kind=RequestKind.EXTENSION)
    state.payload["rejected_requests"] = list(moot.values_list("pk", flat=True))
    moot.update(
        status=RequestStatus.REJECTED,
        decided_at=timezone.now(),
        decision_note=str(_("The order was returned.")),
    )
    state.set(status=S.REGISTERED, lead_unit=None, signed_at=None, satisfaction="")


# --- supervision and cards --------------------------------------------------------------------


def order_supervise(
    *, order: WorkOrder, actor, instruction: str, channel: str = Channel.ADMIN
) -> Supervision:
    """督办: an instruction to the unit holding the order, with its own deadline to answer
    (hours for an urgent order, working days otherwise)."""
    with _step(order, "supervise", actor=actor, channel=channel, reason=instruction) as state:
        order_ = state.order
        if order_.supervisions.filter(
            unit_id=order_.lead_unit_id,
            instruction=instruction.strip(),
            answered_at__isnull=True,
            clock__status=Clock.Status.RUNNING,
        ).exists():  # a double click
            raise _conflict("reason", _("This supervision order has been issued already."))
        urgent = order_.urgency != Urgency.NORMAL
        supervision = Supervision.objects.create(
            order=order_,
            unit_id=order_.lead_unit_id,
            instruction=instruction.strip(),
            issued_at=timezone.now(),
            issued_by=actor,
        )
        supervision.clock = clocks.clock_start(
            purpose=OrderClock.SUPERVISION,
            subject=supervision,
            unit=Clock.Unit.HOURS if urgent else Clock.Unit.WORKDAYS,
            limit=settings.YIMEN_HOTLINE_SUPERVISION_HOURS
            if urgent
            else settings.YIMEN_HOTLINE_SUPERVISION_DAYS,
            started_at=supervision.issued_at,
        )
        supervision.save(update_fields=["clock"])
        state.payload = {"supervision": supervision.pk, "unit": supervision.unit_id}
        _notify(supervision.unit_id, order_, NoticeKind.SUPERVISION, instruction)
    return supervision


def order_answer_supervision(
    *, supervision: Supervision, actor, answer: str, channel: str = Channel.ONLINE
) -> Supervision:
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("Write the answer to the supervision order.")})
    if supervision.unit_id not in permissions.handler_units(actor):
        raise PermissionDenied(_("The supervision order is addressed to another unit."))
    with _step(supervision.order, "answer_supervision", actor=actor, channel=channel) as state:
        locked = Supervision.objects.select_for_update().get(pk=supervision.pk)
        if locked.answered_at is not None:
            raise _conflict("answer", _("This supervision order has been answered already."))
        if locked.clock is not None and locked.clock.status == Clock.Status.STOPPED:
            raise _conflict(
                "answer", _("This supervision order ended when the order was returned.")
            )
        locked.answer, locked.answered_at, locked.answered_by = answer, timezone.now(), actor
        locked.save(update_fields=["answer", "answered_at", "answered_by"])
        _stop(locked.clock)
        state.payload = {"supervision": locked.pk}
        supervision.__dict__.update(locked.__dict__)
    return supervision


def card_colour(order: WorkOrder, unit_id: int) -> str:
    """Yellow for a unit's first overdue deadlines on an order, red once it has had as many
    yellow cards on it as configured."""
    yellows = Card.objects.filter(order=order, unit_id=unit_id, colour=CardColour.YELLOW).count()
    if yellows >= settings.YIMEN_HOTLINE_YELLOWS_BEFORE_RED:
        return CardColour.RED
    return CardColour.YELLOW


def order_card(*, order: WorkOrder, actor, reason: str, channel: str = Channel.ADMIN) -> Card:
    """A supervisor's card for an overdue order now, rather than at the next sweep: for the
    deadline it missed, which is then not carded again."""
    with _step(order, "card", actor=actor, channel=channel, reason=reason) as state:
        missed = overdue_clocks(timezone.now()).filter(pk__in=order_clocks(state.order)).first()
        if missed is None:
            raise ValidationError({"reason": _("No deadline of this order is overdue.")})
        card = _issue_card(state.order, missed, actor=actor, reason=reason.strip())
        state.payload = {"card": card.pk, "colour": card.colour}
    return card


def _issue_card(order: WorkOrder, clock: Clock, *, actor, reason: str = "") -> Card:
    unit_id = _unit_for(order, clock)
    card = Card.objects.create(
        order=order,
        unit_id=unit_id,
        colour=card_colour(order, unit_id),
        deadline=clock.purpose,
        clock=clock,
        reason=reason,
        issued_at=timezone.now(),
        issued_by=actor,
    )
    _notify(
        unit_id,
        order,
        NoticeKind.CARD,
        f"{card.get_colour_display()} · {card.get_deadline_display()}",
    )
    return card


def _unit_for(order: WorkOrder, clock: Clock) -> int:
    """The unit that held the order when the deadline passed: the supervision's unit, else the
    lead unit then (the latest lead dispatch made before the deadline)."""
    if clock.purpose == OrderClock.SUPERVISION:
        return Supervision.objects.values_list("unit_id", flat=True).get(clock=clock)
    held = (
        order.assignments.filter(role=AssignmentRole.LEAD, dispatched_at__lte=clock.due_at)
        .order_by("-dispatched_at", "-pk")
        .values_list("unit_id", flat=True)
        .first()
    )
    return held or order.lead_unit_id


def sweep(now=None) -> dict[str, int]:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE) and `manage.py hotline_sweep`: a card for each
    deadline missed since the last sweep (yellow, then red), with a notice to the unit and an
    audit event. The order's row lock and the card's one-per-clock rule make a concurrent
    sweep issue nothing twice."""
    now = now or timezone.now()
    issued = {CardColour.YELLOW: 0, CardColour.RED: 0}
    for clock in list(overdue_clocks(now)[:SWEEP_BATCH]):
        order = _clock_order(clock)
        if order is None:
            continue
        try:
            card = _sweep_one(order, clock, now)
        except Exception:  # one bad row must not stop the cards of all the others
            logger.exception("Hotline sweep: clock %s of order %s", clock.pk, order.number)
            continue
        if card is not None:
            issued[card.colour] += 1
    return {"yellow_cards": issued[CardColour.YELLOW], "red_cards": issued[CardColour.RED]}


SWEEP_BATCH = 5000  # cards issued per run at most; the next run takes the rest


def _sweep_one(order: WorkOrder, clock: Clock, now) -> Card | None:
    """Card one missed deadline, judged again under the order's lock (an extension approved
    since the list was read, another sweep first)."""
    with transaction.atomic():
        locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
        if not overdue_clocks(now).filter(pk=clock.pk).exists():
            return None
        clock.refresh_from_db()
        card = _issue_card(locked, clock, actor=None, reason="")
        _record(
            locked,
            action="card",
            actor=None,
            channel=Channel.SYSTEM,
            from_state=locked.status,
            payload={"card": card.pk, "colour": card.colour, "deadline": clock.purpose},
        )
    return card


def _clock_order(clock: Clock) -> WorkOrder | None:
    if clock.purpose == OrderClock.SUPERVISION:
        return WorkOrder.objects.filter(supervisions__clock=clock).first()
    return WorkOrder.objects.filter(pk=clock.subject_id).first()


def notices_read(*, unit_ids: Iterable[int], order: WorkOrder | None = None) -> int:
    """Mark a unit's notices read (of one order, or all)."""
    qs = Notice.objects.filter(unit__in=list(unit_ids), read_at__isnull=True)
    if order is not None:
        qs = qs.filter(order=order)
    return qs.update(read_at=timezone.now())
