"""The work-order API of the 12345 hotline: serializers and thin views that parse, check
access and call yimen.hotline.orders (every write), yimen.hotline.selectors (every read) and
yimen.hotline.permissions (who sees and does what).

Every list and lookup goes through selectors.orders: an order the user may not see is a 404.
Each step of yimen.hotline.workflow.STEPS (but the system's) has its route,
`/api/v1/hotline/orders/<number>/<action>/`, with its own input; a step the order's status
no longer allows is a 409 Conflict, a user who may not take it gets 403, bad input 400 keyed
by field.

Who calls what:
- hotline agents (the center): every order; register for any channel, answer, dispatch,
  link, review replies, call back, decide the units' requests; look up duplicates and the
  dispatch assistant's suggestions;
- unit handlers: the orders dispatched to their units (lead or co-handler); sign, re-dispatch,
  reply, give the co-handler's opinion, ask to return or extend, answer supervision orders;
  their units' notices;
- supervisors: every order (of their district); supervision orders and cards;
- a signed-in citizen: files an order on the website and sees their own; gives the callback
  verdict;
- the phone is masked for all but the center and the caller; the units of a confidential
  order learn nothing of the caller (neither the name nor the phone).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from yimen.catalog.api.serializers import flat_errors
from yimen.common.api import BAD_INPUT, FORBIDDEN, YesNoFilter
from yimen.common.choices import Channel
from yimen.common.clock import ClockState, Light
from yimen.common.clocks import clock_state
from yimen.common.errors import StateConflict
from yimen.common.masking import mask_phone
from yimen.common.models import Clock
from yimen.common.ratelimit import over_limit
from yimen.org.models import Department, Region
from yimen.org.roles import is_staff_member

from .. import disclosure, dispatch, duplicates, permissions, selectors, workflow
from .. import orders as services
from ..choices import (
    Actor,
    AssignmentRole,
    CardColour,
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
from ..forms_orders import LIGHT_SCAN_LIMIT, looks_like_a_number
from ..models import Category, KnowledgeArticle, Notice, Supervision, WorkOrder
from ..stats import FIRST_YEAR, LAST_YEAR
from .serializers import CategoryRefSerializer, EnumField, enum
from .views import TAGS, HotlineView

S = OrderStatus
MAX_KEY = 64
FILINGS_PER_MINUTE = 5  # from one address, for citizens (agents take calls all day)
FILING_SCOPE = "hotline.file"  # the rate limit's scope, shared with the web report form
MAX_TEXT = 2000

NOT_FOUND = OpenApiResponse(description=_("No such order, or not one the user may see."))
CONFLICT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=_(
        "The order's state does not allow the step (any more): a stale page, a double click, "
        "a request or a supervision order already answered. Keyed by what is in the way."
    ),
)

# The steps a client may ask for (every step of the workflow: the system takes none of them).
ACTIONS = {name: s for name, s in workflow.STEPS.items() if s.actors - {Actor.SYSTEM}}
LIGHTS = [(light.value, light.label) for light in (Light.GREEN, Light.YELLOW, Light.RED,
                                                    Light.STOPPED)]  # fmt: skip


def channel_for(acting: set[str]) -> str:
    """The channel a step taken through the API is recorded with: the hotline for the center,
    the back office for a supervisor, online for a unit or the caller."""
    if Actor.AGENT in acting:
        return Channel.HOTLINE
    if Actor.SUPERVISOR in acting:
        return Channel.ADMIN
    return Channel.ONLINE


def _user(serializer: serializers.Serializer):
    return serializer.context["request"].user


# --- references ------------------------------------------------------------------------------


class OrderUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OrderRegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class OrderStepSerializer(serializers.Serializer):
    action = EnumField(
        [(name, s.label) for name, s in ACTIONS.items()],
        component="OrderAction",
        help_text=_("POST to /api/v1/hotline/orders/<number>/<action>/."),
    )
    label = serializers.CharField()
    needs_reason = serializers.BooleanField()


# --- an order in a list ----------------------------------------------------------------------


def current_state(order: WorkOrder) -> ClockState | None:
    """The state of the clock the order is judged by now (None: none runs); once per object."""
    if "_api_light" not in order.__dict__:
        order._api_light = selectors.light(order)
    return order._api_light


_moment = serializers.DateTimeField()


class OrderRowSerializer(serializers.ModelSerializer):
    """An order as lists show it: its light and due date, the caller as the user may see
    them."""

    channel = enum(OrderChannel)
    channel_label = serializers.CharField(source="get_channel_display")
    order_type = enum(OrderType)
    order_type_label = serializers.CharField(source="get_order_type_display")
    urgency = enum(Urgency)
    urgency_label = serializers.CharField(source="get_urgency_display")
    status = enum(OrderStatus)
    status_label = serializers.CharField(source="get_status_display")
    category = CategoryRefSerializer(allow_null=True)
    district = OrderRegionSerializer(allow_null=True)
    lead_unit = OrderUnitSerializer(
        allow_null=True, help_text=_("The unit that holds the order now (lead, 主办).")
    )
    title = serializers.SerializerMethodField(
        help_text=_("Mobile and ID numbers masked for all but the center and the caller.")
    )
    light = serializers.SerializerMethodField(
        help_text=_(
            "The light of the deadline the order is judged by now (to sign, to reply, then to "
            "close; `stopped` once closed); empty before the dispatch."
        )
    )
    due_at = serializers.SerializerMethodField(help_text=_("That deadline."))
    caller_name = serializers.SerializerMethodField(
        help_text=_("Empty for the units of a confidential order.")
    )
    caller_phone = serializers.SerializerMethodField(
        help_text=_(
            "In full for the center and the caller, masked for anyone else; empty for the "
            "units of a confidential order."
        )
    )

    class Meta:
        model = WorkOrder
        fields = [
            "number",
            "channel",
            "channel_label",
            "order_type",
            "order_type_label",
            "urgency",
            "urgency_label",
            "status",
            "status_label",
            "category",
            "title",
            "district",
            "address",
            "lead_unit",
            "received_at",
            "light",
            "due_at",
            "caller_name",
            "caller_phone",
            "confidential",
        ]
        read_only_fields = fields

    @extend_schema_field(enum(Light, allow_null=True))
    def get_light(self, order) -> str | None:
        state = current_state(order)
        return state.light.value if state else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, order) -> str | None:
        state = current_state(order)
        return _moment.to_representation(state.due_at) if state and state.due_at else None

    def get_title(self, order) -> str:
        return disclosure.title(_user(self), order)

    def get_caller_name(self, order) -> str:
        return order.caller_name if permissions.may_see_caller(_user(self), order) else ""

    def get_caller_phone(self, order) -> str:
        user = _user(self)
        if not permissions.may_see_caller(user, order):
            return ""
        if permissions.sees_full_phone(user, order):
            return order.caller_phone
        return mask_phone(order.caller_phone)


# --- the whole order -------------------------------------------------------------------------


class OrderClockSerializer(serializers.Serializer):
    purpose = enum(OrderClock)
    purpose_label = serializers.CharField()
    unit = EnumField(Clock.Unit.choices, component="ClockUnit")
    limit = serializers.IntegerField(help_text=_("The limit in the clock's unit."))
    light = enum(Light)
    due_at = serializers.DateTimeField(allow_null=True)
    remaining = serializers.IntegerField(
        help_text=_("What is left in the clock's unit (hours or days); negative when overdue.")
    )
    overdue = serializers.BooleanField()
    on_time = serializers.BooleanField(
        allow_null=True, help_text=_("Set once the clock has stopped.")
    )
    current = serializers.BooleanField(help_text=_("The deadline the order is judged by now."))


def _remaining(state: ClockState) -> int:
    left = state.remaining
    return left if isinstance(left, int) else int(left.total_seconds() // 3600)


def clocks_of(order: WorkOrder) -> list[dict]:
    governing = selectors.governing_clock(order)
    rows = []
    for clock in (order.sign_clock, order.reply_clock, order.close_clock):
        if clock is None:
            continue
        current = governing is not None and governing.pk == clock.pk
        state = current_state(order) if current else clock_state(clock)
        rows.append(
            {
                "purpose": clock.purpose,
                "purpose_label": OrderClock(clock.purpose).label,
                "unit": clock.unit,
                "limit": clock.limit,
                "light": state.light,
                "due_at": state.due_at,
                "remaining": _remaining(state),
                "overdue": state.overdue,
                "on_time": state.on_time,
                "current": current,
            }
        )
    return rows


class OrderDispatchSerializer(serializers.Serializer):
    """One dispatch (派单) of the order to a unit."""

    id = serializers.IntegerField()
    unit = OrderUnitSerializer()
    role = enum(AssignmentRole)
    role_label = serializers.CharField(source="get_role_display")
    level = serializers.IntegerField(
        help_text=_("1: by the center; 2: re-dispatched by a unit to its sub-unit.")
    )
    dispatched_at = serializers.DateTimeField()
    note = serializers.CharField(help_text=_("The instructions given with it."))
    signed_at = serializers.DateTimeField(allow_null=True)
    opinion = serializers.CharField(help_text=_("A co-handler's opinion."))
    is_active = serializers.BooleanField(
        help_text=_("False once the order was returned or passed on.")
    )


class OrderReturnExtensionSerializer(serializers.Serializer):
    """A unit's request to return the order (退单) or for more time (延期)."""

    id = serializers.IntegerField(help_text=_("Give it to decide_request."))
    kind = enum(RequestKind)
    kind_label = serializers.CharField(source="get_kind_display")
    unit = OrderUnitSerializer()
    reason = serializers.CharField()
    amount = serializers.IntegerField(
        allow_null=True, help_text=_("The extension, in the unit of the order's deadlines.")
    )
    status = enum(RequestStatus)
    status_label = serializers.CharField(source="get_status_display")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class OrderSupervisionSerializer(serializers.Serializer):
    """A supervision order (督办) and its own deadline."""

    id = serializers.IntegerField(help_text=_("Give it to answer_supervision."))
    unit = OrderUnitSerializer()
    instruction = serializers.CharField()
    issued_at = serializers.DateTimeField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    light = serializers.SerializerMethodField()
    due_at = serializers.SerializerMethodField()

    @extend_schema_field(enum(Light, allow_null=True))
    def get_light(self, supervision) -> str | None:
        clock = supervision.clock
        return clock_state(clock).light.value if clock else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, supervision) -> str | None:
        clock = supervision.clock
        return _moment.to_representation(clock.due_at) if clock and clock.due_at else None


class OrderCardSerializer(serializers.Serializer):
    """A yellow or red card (黄牌 / 红牌) to a unit for a deadline it missed."""

    id = serializers.IntegerField()
    unit = OrderUnitSerializer()
    colour = enum(CardColour)
    colour_label = serializers.CharField(source="get_colour_display")
    deadline = enum(OrderClock)
    deadline_label = serializers.CharField(source="get_deadline_display")
    reason = serializers.CharField()
    issued_at = serializers.DateTimeField()
    by_sweep = serializers.SerializerMethodField(
        help_text=_("Issued by the periodic sweep rather than by a supervisor.")
    )

    def get_by_sweep(self, card) -> bool:
        return card.issued_by_id is None


class OrderEventSerializer(serializers.Serializer):
    """One audit event of the order (the context gives the `order` and whether the viewer
    `shows_caller`)."""

    action = serializers.SerializerMethodField(help_text=_("The step (register, dispatch…)."))
    occurred_at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField(
        help_text=_(
            "Who took the step; empty for the system, “Caller” for the caller of a "
            "confidential order to those who may not know them."
        )
    )
    role = serializers.CharField(help_text=_("Who the actor was for the order (agent, lead…)."))
    channel = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()

    def get_action(self, event) -> str:
        return event.action.removeprefix("hotline.order.")

    def get_actor(self, event) -> str:
        return disclosure.event_actor(
            event, self.context["order"], shows_caller=self.context["shows_caller"]
        )


class OrderArticleSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()


class OrderDetailSerializer(OrderRowSerializer):
    """An order with its content, clocks, dispatches, requests, supervision orders, cards and
    audit trail (those for staff only), and the steps the user may take on it now."""

    content = serializers.SerializerMethodField(
        help_text=_("What the caller said (mobile and ID numbers masked for the units).")
    )
    master = serializers.CharField(
        source="master.number",
        allow_null=True,
        default=None,
        help_text=_("The order this one is linked to as a duplicate."),
    )
    article = OrderArticleSerializer(
        allow_null=True, help_text=_("The knowledge article an instant answer was given from.")
    )
    satisfaction = enum(Satisfaction, allow_null=True, help_text=_("The caller's verdict."))
    resolution = enum(Resolution, allow_null=True, help_text=_("How the closed order ended."))
    reply = serializers.SerializerMethodField(
        help_text=_(
            "The unit's reply: for the caller only once the center has accepted it (null before)."
        )
    )
    clocks = serializers.SerializerMethodField()
    linked = serializers.SerializerMethodField(
        help_text=_("The duplicates linked to this order (staff only).")
    )
    dispatches = serializers.SerializerMethodField(help_text=_("Staff only; empty otherwise."))
    requests = serializers.SerializerMethodField(help_text=_("Staff only; empty otherwise."))
    supervisions = serializers.SerializerMethodField(help_text=_("Staff only; empty otherwise."))
    cards = serializers.SerializerMethodField(help_text=_("Staff only; empty otherwise."))
    history = serializers.SerializerMethodField(help_text=_("Staff only; empty otherwise."))
    steps = serializers.SerializerMethodField(
        help_text=_("The steps the user may take on the order now.")
    )

    class Meta(OrderRowSerializer.Meta):
        fields = [
            *OrderRowSerializer.Meta.fields,
            "content",
            "latitude",
            "longitude",
            "master",
            "article",
            "dispatched_at",
            "signed_at",
            "reply",
            "replied_at",
            "satisfaction",
            "reopen_count",
            "resolution",
            "closed_at",
            "clocks",
            "linked",
            "dispatches",
            "requests",
            "supervisions",
            "cards",
            "history",
            "steps",
        ]
        read_only_fields = fields

    def to_representation(self, order):
        # Dispatches, requests, supervision orders, cards and the trail are for staff only.
        self._internal = permissions.sees_internal(_user(self), order)
        data = super().to_representation(order)
        data["satisfaction"] = data["satisfaction"] or None
        data["resolution"] = data["resolution"] or None
        return data

    def get_content(self, order) -> str:
        return disclosure.content(_user(self), order)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reply(self, order) -> str | None:
        if disclosure.reply_shown(_user(self), order, internal=self._internal):
            return order.reply
        return None

    @extend_schema_field(OrderClockSerializer(many=True))
    def get_clocks(self, order):
        return OrderClockSerializer(clocks_of(order), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_linked(self, order) -> list[str]:
        return [d.number for d in order.duplicates.all()] if self._internal else []

    @extend_schema_field(OrderDispatchSerializer(many=True))
    def get_dispatches(self, order):
        rows = order.assignments.all() if self._internal else []
        return OrderDispatchSerializer(rows, many=True).data

    @extend_schema_field(OrderReturnExtensionSerializer(many=True))
    def get_requests(self, order):
        rows = order.requests.all() if self._internal else []
        return OrderReturnExtensionSerializer(rows, many=True).data

    @extend_schema_field(OrderSupervisionSerializer(many=True))
    def get_supervisions(self, order):
        rows = order.supervisions.all() if self._internal else []
        return OrderSupervisionSerializer(rows, many=True).data

    @extend_schema_field(OrderCardSerializer(many=True))
    def get_cards(self, order):
        rows = order.cards.all() if self._internal else []
        return OrderCardSerializer(rows, many=True).data

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_history(self, order):
        if not self._internal:
            return []
        context = {
            "order": order,
            "shows_caller": permissions.may_see_caller(_user(self), order),
        }
        rows = selectors.history_events(order).select_related("actor")
        return OrderEventSerializer(rows, many=True, context=context).data

    @extend_schema_field(OrderStepSerializer(many=True))
    def get_steps(self, order):
        offered = selectors.offered_steps(_user(self), order)
        rows = [
            {"action": s.action, "label": s.label, "needs_reason": s.needs_reason}
            for s in offered
            if s.action in ACTIONS
        ]
        return OrderStepSerializer(rows, many=True).data


def detail_queryset(user) -> QuerySet[WorkOrder]:
    """The orders the user may see, with everything the detail shows."""
    clocked = ("clock__pauses", "clock__extensions")
    return (
        selectors.orders(user)
        .select_related("master", "article")
        .prefetch_related(
            "assignments__unit",
            "requests__unit",
            "cards__unit",
            Prefetch("duplicates", queryset=WorkOrder.objects.only("pk", "number", "master")),
            Prefetch(
                "supervisions",
                queryset=Supervision.objects.select_related("unit", "clock").prefetch_related(
                    *clocked
                ),
            ),
        )
    )


# --- inputs: registering ---------------------------------------------------------------------


class OrderRegisterSerializer(serializers.Serializer):
    """A new order. The service checks every value again and names each bad field."""

    channel = enum(
        OrderChannel,
        required=False,
        help_text=_("How it came in (agents; `phone` unless given). A citizen files on `web`."),
    )
    order_type = enum(OrderType)
    urgency = enum(
        Urgency,
        required=False,
        help_text=_("Agents only (`normal` unless given); a citizen's order is normal."),
    )
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text=_("The code of a leaf.")
    )
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_("The content's beginning unless given."),
    )
    content = serializers.CharField(max_length=services.MAX_CONTENT)
    district = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text=_("The region's code.")
    )
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    caller_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_("A citizen's own name unless given."),
    )
    caller_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_("Required for a phone order; a citizen's own phone unless given."),
    )
    confidential = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("The units are not told who the caller is (a report of wrongdoing)."),
    )


def caller_files(user) -> bool:
    """A citizen files their own order (rather than an agent registering one)."""
    return not permissions.may_register(user)


def may_file(user) -> bool:
    """Agents register orders for callers; citizens (signed in, no staff role) file their own.
    Other staff do neither through the API."""
    return permissions.may_register(user) or not is_staff_member(user)


def registrant(user, data: dict) -> tuple[str, Any]:
    """(channel, caller's account) of a new order: an agent registers an order of any channel
    for a caller; a citizen files their own on the website, as themselves unless they name
    someone (their name and phone fill what they leave empty)."""
    if permissions.may_register(user):
        return data.get("channel") or OrderChannel.PHONE, None
    if data.get("channel", OrderChannel.WEB) != OrderChannel.WEB:
        raise serializers.ValidationError({"channel": [_("You file an order on the website.")]})
    # An urgent order has deadlines of hours: the center judges the urgency.
    if data.get("urgency", Urgency.NORMAL) != Urgency.NORMAL:
        raise serializers.ValidationError(
            {"urgency": [_("The 12345 center sets the urgency: leave it out.")]}
        )
    data["caller_name"] = data.get("caller_name") or user.full_name
    data["caller_phone"] = data.get("caller_phone") or user.phone
    return OrderChannel.WEB, user


def stored_key(user, key: str) -> str:
    """The key as stored: a digest of the user and their key (64 hex characters, the column's
    width), so that one client's key never returns another's order."""
    return hashlib.sha256(f"hotline-api:{user.pk}:{key}".encode()).hexdigest()


# --- inputs: the steps -----------------------------------------------------------------------


def _text(help_text, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=MAX_TEXT, help_text=help_text, **kwargs)


def _note(help_text) -> serializers.CharField:
    return _text(help_text, required=False, allow_blank=True, default="")


def _unit(help_text) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), help_text=help_text
    )


class StepInput(serializers.Serializer):
    """The input of one step. `run` calls the step's service (`order_<action>` unless the
    step says otherwise) with the order, the actor, the channel and `arguments()`; `renamed`
    names a service's error field as the input names it."""

    renamed: ClassVar[dict[str, str]] = {}

    @property
    def order(self) -> WorkOrder:
        return self.context["order"]

    def arguments(self) -> dict:
        return dict(self.validated_data)

    def run(self, action: str, *, actor, channel: str) -> None:
        service = getattr(services, f"order_{action}")
        service(order=self.order, actor=actor, channel=channel, **self.arguments())

    def service_errors(self, exc: DjangoValidationError) -> DjangoValidationError:
        if not self.renamed or not hasattr(exc, "error_dict"):
            return exc
        errors = {self.renamed.get(k, k): v for k, v in exc.error_dict.items()}
        return StateConflict(errors) if isinstance(exc, StateConflict) else type(exc)(errors)


class OrderNoInputSerializer(StepInput):
    """A step that takes nothing but the order."""


class OrderReasonSerializer(StepInput):
    """A step that needs the reason."""

    reason = _text(_("Why."))


def _category(code: str) -> str | None:
    """A category code for the service (which checks it is an active leaf), None when
    empty."""
    return code or None


class OrderAnswerSerializer(StepInput):
    """即时答复: the answer given to the caller on the spot; the order closes."""

    answer = serializers.CharField(max_length=services.MAX_CONTENT)
    article = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("The public id of the knowledge article read out."),
    )
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_("The code of the leaf to file the order under (if not filed yet)."),
    )

    def validate_article(self, public_id):
        if public_id is None:
            return None
        found = KnowledgeArticle.objects.filter(public_id=public_id).first()
        if found is None:
            raise serializers.ValidationError(_("No such article."))
        return found

    def arguments(self) -> dict:
        data = self.validated_data
        return {
            "answer": data["answer"],
            "article": data.get("article"),
            "category": _category(data.get("category", "")),
        }


class OrderDispatchInputSerializer(StepInput):
    """派单: the lead unit and any co-handlers."""

    lead = _unit(_("The id of the lead unit (主办)."))
    co_units = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text=_("The ids of the co-handling units (协办)."),
    )
    note = _note(_("Instructions to the units."))
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_("The code of the leaf to file the order under (if not filed yet)."),
    )

    def arguments(self) -> dict:
        data = self.validated_data
        return {
            "lead": data["lead"],
            "co_units": data.get("co_units", []),
            "note": data.get("note", ""),
            "category": _category(data.get("category", "")),
        }


class OrderLinkSerializer(StepInput):
    """A duplicate (重复件) follows its master instead of being dispatched."""

    master = serializers.CharField(max_length=20, help_text=_("The number of the master order."))

    def validate_master(self, number):
        found = WorkOrder.objects.filter(number=number.strip().upper()).first()
        if found is None:
            raise serializers.ValidationError(_("No order has this number."))
        return found


class OrderRedispatchSerializer(StepInput):
    """转派: the lead unit passes the order to one of its sub-units."""

    unit = _unit(_("The id of the sub-unit."))
    note = _note(_("Instructions to the sub-unit."))


class OrderCoOpinionSerializer(StepInput):
    opinion = _text(_("The co-handler's part, for the lead unit."))


class OrderReplySerializer(StepInput):
    reply = serializers.CharField(
        max_length=services.MAX_CONTENT,
        help_text=_("What was done, and the answer to the caller."),
    )


class OrderCallbackSerializer(StepInput):
    """回访: the caller's verdict (the caller online; `unreachable` is the center's)."""

    result = enum(Satisfaction)
    note = _note(_("What the caller said."))


class OrderRequestReturnSerializer(StepInput):
    """退单: the order is not the unit's."""

    reason = _text(_("Why the order is not the unit's (and whose it is)."))

    def run(self, action, *, actor, channel) -> None:
        services.order_request(
            order=self.order,
            actor=actor,
            kind=RequestKind.RETURN,
            reason=self.validated_data["reason"],
            channel=channel,
        )


class OrderRequestExtensionSerializer(StepInput):
    """延期: more time to reply and to close."""

    reason = _text(_("Why more time is needed."))
    amount = serializers.IntegerField(
        min_value=1, help_text=_("How much more, in the unit of the order's deadlines.")
    )

    def run(self, action, *, actor, channel) -> None:
        services.order_request(
            order=self.order,
            actor=actor,
            kind=RequestKind.EXTENSION,
            channel=channel,
            **self.validated_data,
        )


class OrderDecideRequestSerializer(StepInput):
    """The center approves or rejects a unit's request (a rejection says why)."""

    request = serializers.IntegerField(help_text=_("The id of the request (see `requests`)."))
    approve = serializers.BooleanField()
    note = _note(_("Why; required to reject."))

    def validate_request(self, pk):
        found = self.order.requests.filter(pk=pk).first()
        if found is None:
            raise serializers.ValidationError(_("This order has no such request."))
        return found

    def run(self, action, *, actor, channel) -> None:
        services.order_decide_request(actor=actor, channel=channel, **self.validated_data)


class OrderSuperviseSerializer(StepInput):
    """督办: an instruction to the unit that holds the order, with its own deadline."""

    instruction = _text(_("What the unit must do."))
    renamed = {"reason": "instruction"}


class OrderAnswerSupervisionSerializer(StepInput):
    supervision = serializers.IntegerField(
        help_text=_("The id of the supervision order (see `supervisions`).")
    )
    answer = _text(_("What the unit did."))

    def validate_supervision(self, pk):
        found = self.order.supervisions.filter(pk=pk).first()
        if found is None:
            raise serializers.ValidationError(_("This order has no such supervision order."))
        return found

    def run(self, action, *, actor, channel) -> None:
        services.order_answer_supervision(actor=actor, channel=channel, **self.validated_data)


STEP_INPUTS: dict[str, type[StepInput]] = {
    "answer": OrderAnswerSerializer,
    "dispatch": OrderDispatchInputSerializer,
    "link": OrderLinkSerializer,
    "unlink": OrderReasonSerializer,
    "redispatch": OrderRedispatchSerializer,
    "sign": OrderNoInputSerializer,
    "co_opinion": OrderCoOpinionSerializer,
    "reply": OrderReplySerializer,
    "accept_reply": OrderNoInputSerializer,
    "send_back": OrderReasonSerializer,
    "callback": OrderCallbackSerializer,
    "request_return": OrderRequestReturnSerializer,
    "request_extension": OrderRequestExtensionSerializer,
    "decide_request": OrderDecideRequestSerializer,
    "supervise": OrderSuperviseSerializer,
    "answer_supervision": OrderAnswerSupervisionSerializer,
    "card": OrderReasonSerializer,
}


# --- inputs and outputs of the helpers -------------------------------------------------------


def _category_by_code(code: str) -> Category | None:
    if not code:
        return None
    found = Category.objects.select_related("default_unit").filter(code=code).first()
    if found is None:
        raise serializers.ValidationError(_("No category has this code."))
    return found


def _region_by_code(code: str) -> Region | None:
    if not code:
        return None
    found = Region.objects.filter(code=code).first()
    if found is None:
        raise serializers.ValidationError(_("No region has this code."))
    return found


class OrderDuplicateQuerySerializer(serializers.Serializer):
    content = serializers.CharField(
        max_length=services.MAX_CONTENT, help_text=_("What the caller says now.")
    )
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text=_("The caller's number.")
    )
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text=_("A category's code.")
    )
    district = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text=_("A region's code.")
    )
    exclude = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_("The number of the order looked at (left out of the answer)."),
    )

    def validate_phone(self, value):
        return "".join(value.split())

    def validate_category(self, code):
        return _category_by_code(code)

    def validate_district(self, code):
        return _region_by_code(code)

    def validate_exclude(self, number):
        if not number:
            return None
        found = WorkOrder.objects.filter(number=number.strip().upper()).first()
        if found is None:
            raise serializers.ValidationError(_("No order has this number."))
        return found


class OrderDuplicateSerializer(serializers.Serializer):
    """An open order of the last days that the new one probably repeats."""

    score = serializers.FloatField(help_text=_("0…1: word overlap, plus 0.5 for the same phone."))
    same_phone = serializers.BooleanField()
    similarity = serializers.FloatField(help_text=_("The content's word overlap (Jaccard)."))
    order = OrderRowSerializer()


class DispatchSuggestQuerySerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.MAX_CONTENT,
        help_text=_("The order's title and content."),
    )
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text=_("A category's code.")
    )
    district = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text=_("A region's code.")
    )

    def validate_category(self, code):
        return _category_by_code(code)

    def validate_district(self, code):
        return _region_by_code(code)


class DispatchSuggestionSerializer(serializers.Serializer):
    unit = OrderUnitSerializer()
    score = serializers.FloatField(help_text=_("0…1."))
    source = serializers.CharField(
        help_text=_("What suggested it: `model`, `category` or `district`.")
    )


class OrderNoticeSerializer(serializers.ModelSerializer):
    """A message in a unit's inbox."""

    unit = OrderUnitSerializer()
    order = serializers.CharField(source="order.number", help_text=_("The order's number."))
    order_title = serializers.SerializerMethodField(
        help_text=_("Mobile and ID numbers masked for all but the center.")
    )
    kind = enum(NoticeKind)
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Notice
        fields = [
            "id",
            "unit",
            "order",
            "order_title",
            "kind",
            "kind_label",
            "detail",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    def get_order_title(self, notice) -> str:
        return disclosure.title(_user(self), notice.order)


class OrderNoticesReadSerializer(serializers.Serializer):
    order = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_("The number of an order: only its notices; all of them unless given."),
    )


class OrderNoticesReadResultSerializer(serializers.Serializer):
    read = serializers.IntegerField(help_text=_("How many notices were marked read."))


# --- permissions -----------------------------------------------------------------------------


class IsAgent(BasePermission):
    message = _("Only hotline agents do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and permissions.is_agent(request.user))


class IsUnitHandler(BasePermission):
    message = _("Only unit handlers have notices.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and permissions.handler_units(request.user))


# --- the list and registering ----------------------------------------------------------------

# How far the light filter looks (LIGHT_SCAN_LIMIT, the pages' limit too): the orders whose
# deadline's stored due date fits the light asked for, at most this many (oldest first); each
# one's light is then computed.

# The clocks that may judge an order in each state (selectors.governing_clock picks one).
_CLOCKS_OF_STATE = {
    S.DISPATCHED: ("sign_clock",),
    S.HANDLING: ("reply_clock", "close_clock"),
    S.REPLIED: ("close_clock",),
    S.CALLBACK: ("close_clock",),
    S.CLOSED: ("close_clock",),
}


def _on_clock(**lookups) -> Q:
    """Orders with a clock that may judge them now matching the lookups."""
    found = Q(pk__in=[])
    for state, names in _CLOCKS_OF_STATE.items():
        for name in names:
            found |= Q(status=state, **{f"{name}__{key}": v for key, v in lookups.items()})
    return found


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment of a year the hotline can have orders in (a moment near year 1 or
    9999 cannot even be converted to UTC)."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise DjangoValidationError(
                _("Choose a year from %(first)d to %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return moment


class BoundedIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=OrderStatus.choices)
    order_type = filters.ChoiceFilter(choices=OrderType.choices)
    channel = filters.ChoiceFilter(choices=OrderChannel.choices)
    urgency = filters.ChoiceFilter(choices=Urgency.choices)
    lead_unit = filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Orders held by this unit (its id)")
    )
    category = filters.CharFilter(
        method="filter_category",
        label=_("Orders filed under the category with this code, or under its subcategories"),
    )
    received_after = BoundedIsoDateTimeFilter(
        field_name="received_at",
        lookup_expr="gte",
        label=_("Received at or after this moment (a date alone means its midnight)"),
    )
    received_before = BoundedIsoDateTimeFilter(
        field_name="received_at",
        lookup_expr="lt",
        label=_("Received before this moment (a date alone means its midnight)"),
    )
    q = filters.CharFilter(
        method="filter_q",
        label=_(
            "An order number, or words of the title, the content or the location (for all "
            "but the center, seven digits or more in a row are not looked for in the title "
            "and the content: their numbers are masked)"
        ),
    )
    # Last, so that it looks at what the other filters kept.
    light = filters.ChoiceFilter(
        choices=LIGHTS,
        method="filter_light",
        label=_(
            "The light of the deadline the order is judged by now. Computed, not stored: the "
            "orders whose deadline's stored date fits are taken oldest first, at most 2000, and "
            "each one's light is checked."
        ),
    )

    class Meta:
        model = WorkOrder
        fields = []

    def filter_category(self, queryset, name, value):
        code = value.strip()
        return queryset.filter(
            Q(category__code=code)
            | Q(category__parent__code=code)
            | Q(category__parent__parent__code=code)
        )

    def filter_q(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        center = permissions.is_agent(self.request.user)
        found = Q(number=text.upper()) | Q(address__icontains=text)
        # The text is masked for everyone but the center: digits that could be a phone or an
        # ID number are not looked for in it (they would confirm the masked ones).
        if center or not looks_like_a_number(text):
            found |= Q(title__icontains=text) | Q(content__icontains=text)
        if center:  # the phone is the center's to look up
            found |= Q(caller_phone="".join(text.split()))
        return queryset.filter(found)

    def filter_light(self, queryset, name, value):
        now = timezone.now()
        if value == Light.STOPPED:
            fits = _on_clock(status=Clock.Status.STOPPED)
        elif value == Light.RED:
            fits = _on_clock(status=Clock.Status.RUNNING, due_at__lt=now)
        else:
            fits = _on_clock(status=Clock.Status.RUNNING, due_at__gte=now)
        candidates = queryset.filter(fits).order_by("received_at", "pk")[:LIGHT_SCAN_LIMIT]
        keep = [o.pk for o in candidates if (s := current_state(o)) and s.light == value]
        return queryset.filter(pk__in=keep)


class OrderAccessMixin:
    """The order named in the URL among those the user may see."""

    def get_order(self) -> WorkOrder:
        return get_object_or_404(detail_queryset(self.request.user), number=self.kwargs["number"])

    def detail(self, order: WorkOrder, status_code=status.HTTP_200_OK, *, reload=True):
        """The order as the detail shows it, read again after a change."""
        if reload:
            order = detail_queryset(self.request.user).get(pk=order.pk)
        data = OrderDetailSerializer(order, context={"request": self.request}).data
        return Response(data, status=status_code)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("Any unique text (at most 64 characters) per intended order."),
)


@extend_schema_view(
    get=extend_schema(
        summary=_("Work orders"),
        description=_(
            "The orders the user may see (agents all, unit handlers those dispatched to their "
            "units, supervisors those of their district, a citizen their own), newest first, "
            "each with the light and the due date of the deadline it is judged by. The phone "
            "is masked for all but the center and the caller; the units of a confidential "
            "order see neither the caller's name nor the phone."
        ),
    ),
    post=extend_schema(
        summary=_("Register a work order"),
        description=_(
            "An agent registers an order of any channel for a caller (a phone order needs the "
            "caller's number); a signed-in citizen files their own on the website (their "
            "name and phone unless given; a few a minute from one address). Each bad field "
            "is named. Sending the same Idempotency-Key again returns the order that key "
            "created, with 200 instead of 201."
        ),
        request=OrderRegisterSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OrderDetailSerializer,
            200: OpenApiResponse(
                response=OrderDetailSerializer,
                description=_("The order this Idempotency-Key created before."),
            ),
            400: BAD_INPUT,
            403: FORBIDDEN,
            429: OpenApiResponse(
                description=_("A citizen filed too many orders from this address: wait a minute.")
            ),
        },
    ),
)
@extend_schema(tags=TAGS)
class OrderListView(OrderAccessMixin, generics.ListAPIView):
    """Work orders: the list the user may see, and registering a new one."""

    serializer_class = OrderRowSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkOrder.objects.none()
        return selectors.orders(self.request.user)

    def post(self, request, *args, **kwargs):
        user = request.user
        if not may_file(user):
            raise PermissionDenied(
                _("Hotline agents register orders; citizens file their own on the website.")
            )
        key = request.headers.get("Idempotency-Key", "").strip()[:MAX_KEY]
        stored = stored_key(user, key) if key else None
        if stored and (done := WorkOrder.objects.filter(idempotency_key=stored).first()):
            return self.detail(done)
        if caller_files(user) and over_limit(
            request, scope=FILING_SCOPE, per_minute=FILINGS_PER_MINUTE
        ):
            raise exceptions.Throttled(
                wait=60, detail=str(_("Too many orders from this address: wait a minute."))
            )
        form = OrderRegisterSerializer(data=request.data)
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        data = dict(form.validated_data)
        order_channel, caller_user = registrant(user, data)
        data.pop("channel", None)
        order = services.order_register(
            actor=user,
            order_channel=order_channel,
            data=data,
            caller_user=caller_user,
            idempotency_key=stored,
            channel=Channel.HOTLINE if caller_user is None else Channel.ONLINE,
        )
        return self.detail(order, status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS,
    summary=_("A work order"),
    description=_(
        "The order with its content and clocks; for staff also its dispatches, the units' "
        "requests, supervision orders, cards, linked duplicates and audit trail; and the "
        "steps the user may take on it now (each a POST to …/<number>/<action>/)."
    ),
    responses={200: OrderDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
)
class OrderDetailView(OrderAccessMixin, HotlineView):
    serializer_class = OrderDetailSerializer

    def get(self, request, *args, **kwargs):
        return self.detail(self.get_order(), reload=False)


# --- the steps -------------------------------------------------------------------------------


class OrderActionView(OrderAccessMixin, HotlineView):
    """One step of an order: checked in the order the service checks it (the state allows
    it, else 409; the user may take it, else 403; the input, else 400), then the service
    takes it under a row lock and checks again."""

    action_name = ""
    serializer_class = OrderNoInputSerializer

    def post(self, request, *args, **kwargs):
        order = self.get_order()
        step = workflow.step(self.action_name, order.status)
        acting = permissions.actors(request.user, order) & step.actors
        if not acting:
            raise PermissionDenied(_("You may not do this on this order."))
        form = self.get_serializer(data=request.data, context={"request": request, "order": order})
        if not form.is_valid():
            raise serializers.ValidationError(flat_errors(form.errors))
        try:
            form.run(self.action_name, actor=request.user, channel=channel_for(acting))
        except DjangoValidationError as exc:
            raise form.service_errors(exc) from exc
        return self.detail(order)


def _action_view(name: str, step: workflow.Step) -> type[OrderActionView]:
    """The view of one step, its schema naming its input."""
    form = STEP_INPUTS[name]
    view = type(
        f"Order{name.title().replace('_', '')}View",
        (OrderActionView,),
        {"action_name": name, "serializer_class": form, "__doc__": OrderActionView.__doc__},
    )
    return extend_schema(
        tags=TAGS,
        summary=step.label,
        description=format_lazy(
            _("From: {sources}. By: {actors}."),
            sources=", ".join(sorted(step.sources)),
            actors=", ".join(sorted(step.actors)),
        ),
        request=form if form().fields else None,
        responses={
            200: OrderDetailSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )(view)


ACTION_VIEWS = {name: _action_view(name, step) for name, step in ACTIONS.items()}


# --- the agent's helpers ---------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    summary=_("Possible duplicates"),
    description=_(
        "The open orders of the last days that an order with this content probably repeats "
        "(the same phone, or similar words in the same category or district), best first. "
        "Link a duplicate with the `link` step. For agents."
    ),
    parameters=[OrderDuplicateQuerySerializer],
    responses={200: OrderDuplicateSerializer(many=True), 400: BAD_INPUT, 403: FORBIDDEN},
)
class DuplicatesView(HotlineView):
    permission_classes = [IsAgent]
    serializer_class = OrderDuplicateSerializer

    def get(self, request):
        query = OrderDuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        category, district = data.get("category"), data.get("district")
        found = duplicates.candidates(
            content=data["content"],
            phone=data.get("phone", ""),
            category_id=category.pk if category else None,
            district_id=district.pk if district else None,
            exclude=data.get("exclude"),
        )
        # Read again as list rows (category path, unit, clocks) in a constant number of queries.
        rows = selectors.orders(request.user).in_bulk([c.order.pk for c in found])
        answer = [
            {
                "score": c.score,
                "same_phone": c.same_phone,
                "similarity": c.similarity,
                "order": rows[c.order.pk],
            }
            for c in found
            if c.order.pk in rows
        ]
        return Response(
            OrderDuplicateSerializer(answer, many=True, context={"request": request}).data
        )


@extend_schema(
    tags=TAGS,
    summary=_("Dispatch suggestions"),
    description=_(
        "The units most likely to handle an order with this text, category and district "
        "(智能派单), best first, at most three. For agents."
    ),
    parameters=[DispatchSuggestQuerySerializer],
    responses={200: DispatchSuggestionSerializer(many=True), 400: BAD_INPUT, 403: FORBIDDEN},
)
class DispatchSuggestView(HotlineView):
    permission_classes = [IsAgent]
    serializer_class = DispatchSuggestionSerializer

    def get(self, request):
        query = DispatchSuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = dispatch.suggest(
            text=data["text"], category=data.get("category"), district=data.get("district")
        )
        return Response(DispatchSuggestionSerializer(found, many=True).data)


# --- the units' notices ----------------------------------------------------------------------


class NoticeFilter(filters.FilterSet):
    unread = YesNoFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Only unread (true) or read (false)")
    )
    kind = filters.ChoiceFilter(choices=NoticeKind.choices)

    class Meta:
        model = Notice
        fields = []


@extend_schema(
    tags=TAGS,
    summary=_("Notices"),
    description=_(
        "The inbox of the user's units: orders dispatched to them, replies sent back, "
        "reopened orders, cards, supervision orders, decisions on their requests; newest "
        "first. For unit handlers."
    ),
)
class NoticeListView(generics.ListAPIView):
    permission_classes = [IsUnitHandler]
    serializer_class = OrderNoticeSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = NoticeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notice.objects.none()
        return selectors.notices(self.request.user)


@extend_schema(
    tags=TAGS,
    summary=_("Mark notices read"),
    description=_(
        "Marks the unread notices of the user's units read: those of one order, or all of "
        "them. For unit handlers."
    ),
    request=OrderNoticesReadSerializer,
    responses={200: OrderNoticesReadResultSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
)
class NoticesReadView(HotlineView):
    permission_classes = [IsUnitHandler]
    serializer_class = OrderNoticesReadSerializer

    def post(self, request):
        form = OrderNoticesReadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        number = form.validated_data.get("order", "").strip()
        order = None
        if number:
            order = selectors.order_by_number(request.user, number.upper())
            if order is None:
                raise serializers.ValidationError({"order": [_("No order has this number.")]})
        count = services.notices_read(unit_ids=permissions.handler_units(request.user), order=order)
        return Response(OrderNoticesReadResultSerializer({"read": count}).data)
