"""Forms of the work-order pages: the filters of the order list, and one form per step taken
on an order page.

The forms parse; the services in yimen.hotline.orders decide. Field names follow the
services' error keys (or `rename` maps them), so a service's ValidationError lands on the
field it is about. Each step form runs its service with `perform(actor)`."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yimen.common.choices import Channel
from yimen.common.clock import Light
from yimen.common.clocks import clock_state
from yimen.common.forms import StyledFormMixin, set_service_errors
from yimen.common.models import Clock
from yimen.org.models import Department

from . import dispatch, duplicates, orders, permissions, search, selectors
from .choices import (
    Actor,
    DeadlineUnit,
    OrderChannel,
    OrderStatus,
    OrderType,
    RequestKind,
    RequestStatus,
    Satisfaction,
    Urgency,
)
from .forms import CategoryChoiceField, DepartmentChoiceField
from .models import Category, KnowledgeArticle, OrderRequest, Supervision, WorkOrder
from .services import deadline_for
from .stats import FIRST_YEAR, LAST_YEAR

ROWS = {"rows": 3}
TEXT_MAX = 2000
SEARCH_MAX = 100
ORDER_NUMBER = re.compile(r"^GD\d{1,13}$", re.IGNORECASE)
PHONE_QUERY = re.compile(r"^\+?\d[\d-]{6,19}$")
# Seven digits or more in a row (spaces and hyphens between them allowed): a phone or an ID
# number, or part of one.
NUMBER_QUERY = re.compile(r"\d(?:[\s-]*\d){6}")
# How far the light filter looks: at most this many running clocks, the most urgent first,
# have their light computed (as the API's filter).
LIGHT_SCAN_LIMIT = 2000

# The queues of the center's and the units' pages; the order list narrows to one of them.
CENTER_QUEUES = {
    "registered": _("To dispatch"),
    "replied": _("Replies to review"),
    "callback": _("Callbacks to make"),
    "requests": _("Requests to decide"),
}
UNIT_QUEUES = {
    "to_sign": _("To sign for"),
    "handling": _("Handling"),
    "co_handling": _("Co-handling"),
    "supervised": _("Supervision orders to answer"),
}
QUEUES = {**CENTER_QUEUES, **UNIT_QUEUES}


def queue_url(key: str) -> str:
    """The order list narrowed to one of the user's queues."""
    return f"{reverse('hotline:orders')}?{urlencode({'queue': key})}"


def looks_like_a_number(text: str) -> bool:
    """Whether a search looks like a phone or ID number (or part of one): a unit may not
    find orders by the digits it sees masked."""
    return NUMBER_QUERY.search(text) is not None


def _in_years(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def year_error() -> str:
    return _("Choose a year from %(first)d to %(last)d.") % {
        "first": FIRST_YEAR,
        "last": LAST_YEAR,
    }


def _units() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name", "pk")


def _text(label, *, required=True, help_text="", max_length=TEXT_MAX) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs=ROWS),
    )


# --- the order list's filters ------------------------------------------------------------------


def _any(choices, label) -> list:
    return [("", label), *choices]


class OrderFilterForm(StyledFormMixin, forms.Form):
    """What the order list is narrowed to. Every field is optional; a bad value is a 400
    with the field named."""

    LIGHTS = [(light.value, light.label) for light in (Light.GREEN, Light.YELLOW, Light.RED)]

    queue = forms.ChoiceField(label=_("Queue"), required=False)
    q = forms.CharField(
        label=_("Number or text"),
        max_length=SEARCH_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    order_type = forms.ChoiceField(label=_("Type"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    light = forms.ChoiceField(label=_("Light"), required=False)
    lead_unit = DepartmentChoiceField(
        label=_("Lead unit"), queryset=Department.objects.none(), required=False
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        help_text=_("A category includes its subcategories."),
    )
    received_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=_("Received to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["status"].choices = _any(OrderStatus.choices, _("Any status"))
        self.fields["order_type"].choices = _any(OrderType.choices, _("Any type"))
        self.fields["channel"].choices = _any(OrderChannel.choices, _("Any channel"))
        self.fields["urgency"].choices = _any(Urgency.choices, _("Any urgency"))
        self.fields["light"].choices = _any(self.LIGHTS, _("Any light"))
        self.fields["lead_unit"].queryset = _units()
        self.fields["lead_unit"].empty_label = _("Any unit")
        self.fields["category"].queryset = selectors.categories().order_by("level", "order", "code")
        self.fields["category"].empty_label = _("Any category")
        if queues := self._queues():
            self.fields["queue"].choices = _any(
                [(key, label) for key, label in QUEUES.items() if key in queues], _("Any order")
            )
        else:  # a supervisor has no queue
            del self.fields["queue"]

    def _queues(self) -> dict[str, QuerySet[WorkOrder]]:
        """The user's queues (the center's, a unit's), as their pages list them."""
        if not hasattr(self, "_queue_sets"):
            found: dict[str, QuerySet[WorkOrder]] = {}
            if self.user is not None and permissions.is_agent(self.user):
                found.update(selectors.center_queues(self.user))
            if self.user is not None and permissions.is_handler(self.user):
                found.update(selectors.unit_queues(self.user))
            self._queue_sets = found
        return self._queue_sets

    def clean_received_from(self):
        return self._day("received_from")

    def clean_received_to(self):
        return self._day("received_to")

    def _day(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not _in_years(day):
            raise ValidationError(year_error())
        return day

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end comes before the start."))
        return data

    def apply(self, qs: QuerySet[WorkOrder], *, now: dt.datetime | None = None):
        """`qs` narrowed to what the (valid) form asks for."""
        data = self.cleaned_data
        if queue := data.get("queue"):
            qs = qs.filter(pk__in=self._queues()[queue].order_by().values("pk"))
        for name in ("status", "order_type", "channel", "urgency"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("lead_unit"):
            qs = qs.filter(lead_unit=data["lead_unit"])
        if category := data.get("category"):
            qs = qs.filter(
                Q(category=category)
                | Q(category__parent=category)
                | Q(category__parent__parent=category)
            )
        zone = timezone.get_current_timezone()
        if start := data.get("received_from"):
            qs = qs.filter(received_at__gte=dt.datetime.combine(start, dt.time.min, zone))
        if end := data.get("received_to"):
            day_after = end + dt.timedelta(days=1)
            qs = qs.filter(received_at__lt=dt.datetime.combine(day_after, dt.time.min, zone))
        if text := (data.get("q") or "").strip():
            qs = qs.filter(self._matching(text))
        if light := data.get("light"):
            qs = with_light(qs, light, now=now)
        return qs

    def _matching(self, text: str) -> Q:
        if ORDER_NUMBER.match(text):
            return Q(number__istartswith=text)
        found = Q(number__icontains=text)
        center = self.user is not None and permissions.is_agent(self.user)
        # The text is masked for everyone but the center: digits that could be a phone or an
        # ID number are not looked for in it (they would confirm the masked ones).
        if center or not looks_like_a_number(text):
            found |= Q(title__icontains=text) | Q(content__icontains=text)
        # Only the center, which sees the full number, may find orders by the caller's phone.
        if center and PHONE_QUERY.match(text):
            found |= Q(caller_phone=text.replace("-", ""))
        return found


def governing(suffix: str, output_field) -> models.Case:
    """A field of the clock that judges each order in its state, in SQL, as
    selectors.governing_clock chooses it: the state's clock, or the next one still running
    when it stopped early (re-dispatched after signing, sent back after the reply).
    `suffix` is "_id" for the clock's id or "__due_at" for its deadline."""
    S = OrderStatus

    def clock(name):
        return F(f"{name}{suffix}")

    sign_done = Q(sign_clock__stopped_at__isnull=False)
    reply_done = Q(reply_clock__stopped_at__isnull=False)
    return models.Case(
        models.When(Q(status=S.DISPATCHED) & sign_done & reply_done, then=clock("close_clock")),
        models.When(Q(status=S.DISPATCHED) & sign_done, then=clock("reply_clock")),
        models.When(status=S.DISPATCHED, then=clock("sign_clock")),
        models.When(Q(status=S.HANDLING) & reply_done, then=clock("close_clock")),
        models.When(status=S.HANDLING, then=clock("reply_clock")),
        models.When(status__in=[S.REPLIED, S.CALLBACK, S.CLOSED], then=clock("close_clock")),
        default=None,
        output_field=output_field,
    )


def governing_clock_ref() -> models.Case:
    """The id of the clock that judges each order."""
    return governing("_id", models.BigIntegerField())


def with_light(qs: QuerySet[WorkOrder], light: str, *, now: dt.datetime | None = None):
    """The orders whose governing clock runs with `light`. Red is decided in the database;
    green and yellow need the calendar, so the running clocks not yet overdue are judged
    here (two queries, however many)."""
    now = now or timezone.now()
    qs = qs.annotate(clock_ref=governing_clock_ref())
    running = Clock.objects.filter(
        pk__in=qs.order_by().values("clock_ref"), status=Clock.Status.RUNNING
    )
    if light == Light.RED:
        return qs.filter(clock_ref__in=running.filter(due_at__lt=now).values("pk"))
    judged = (
        running.filter(due_at__gte=now)
        .order_by("due_at", "pk")
        .prefetch_related("pauses", "extensions")[:LIGHT_SCAN_LIMIT]
    )
    return qs.filter(clock_ref__in=[c.pk for c in judged if clock_state(c, now=now).light == light])


# --- the steps ---------------------------------------------------------------------------------


class OrderActionForm(StyledFormMixin, forms.Form):
    """The base of the step forms, and the form of a step with nothing to fill in (its
    button is the form). `rename` maps a service's error keys onto fields."""

    rename: dict[str, str] = {}

    def __init__(self, *args, order: WorkOrder, user, action: str, **kwargs):
        self.order, self.user, self.action = order, user, action
        kwargs.setdefault("auto_id", f"{action}-%s")  # many forms on one page: unique ids
        super().__init__(*args, **kwargs)

    def perform(self, actor):
        """Run the step's service with what the form collected."""
        raise NotImplementedError

    def set_errors(self, exc: ValidationError) -> None:
        set_service_errors(self, exc, rename=self.rename)


class ReasonForm(OrderActionForm):
    """A step that only needs a reason."""

    reason = _text(_("Reason"))


class AnswerForm(OrderActionForm):
    """即时答复: the answer given on the phone, and the knowledge article read out."""

    answer = _text(_("Answer given to the caller"), max_length=orders.MAX_CONTENT)
    article = forms.UUIDField(
        label=_("Knowledge article id"),
        required=False,
        help_text=_("The id of the published article the answer was read from, if any."),
    )
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.leaves()
        self.fields["category"].initial = self.order.category_id
        self.fields["category"].empty_label = _("Keep the order's category")
        self.suggestions = [] if self.is_bound else search.suggest(self.order.content)

    def clean_article(self):
        public_id = self.cleaned_data.get("article")
        if public_id is None:
            return None
        found = permissions.visible_articles(
            self.user, KnowledgeArticle.objects.filter(public_id=public_id)
        ).first()
        if found is None:
            raise ValidationError(_("No article you may read has this id."))
        return found

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_answer(
            order=self.order,
            actor=actor,
            answer=data["answer"],
            article=data.get("article"),
            category=data.get("category"),
        )


class DispatchForm(OrderActionForm):
    """派单: the lead unit (pre-filled with the assistant's first suggestion), co-handlers,
    instructions, and the category when the order has none yet."""

    lead = DepartmentChoiceField(label=_("Lead unit"), queryset=Department.objects.none())
    co_units = forms.ModelMultipleChoiceField(
        label=_("Co-handlers"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl to choose several."),
    )
    note = _text(_("Instructions to the units"), required=False)
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = _units()
        self.fields["lead"].queryset = units
        self.fields["co_units"].queryset = units
        self.fields["co_units"].label_from_instance = lambda unit: unit.name
        self.fields["category"].queryset = selectors.leaves()
        self.fields["category"].initial = self.order.category_id
        self.fields["category"].empty_label = _("Keep the order's category")
        self.suggestions = dispatch.suggest(
            text=dispatch.order_text(self.order.title, self.order.content, self.order.address),
            category=self.order.category,
            district=self.order.district,
        )
        if self.suggestions:
            self.fields["lead"].initial = self.suggestions[0].unit.pk
            self.fields["lead"].help_text = _("Suggested: %(units)s") % {
                "units": "、".join(s.unit.name for s in self.suggestions)
            }

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_dispatch(
            order=self.order,
            actor=actor,
            lead=data["lead"],
            co_units=list(data.get("co_units") or ()),
            note=data.get("note", ""),
            category=data.get("category"),
        )


class LinkForm(OrderActionForm):
    """A duplicate (重复件) follows its master; the likely masters are listed beside it."""

    master = forms.CharField(
        label=_("Master order number"),
        max_length=20,
        help_text=_("The earlier order this one repeats."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = self.order
        self.candidates = duplicates.candidates(
            content=order.content,
            phone=order.caller_phone,
            category_id=order.category_id,
            district_id=order.district_id,
            exclude=order,
        )

    def clean_master(self):
        number = self.cleaned_data["master"].strip().upper()
        found = selectors.order_by_number(self.user, number)
        if found is None:
            raise ValidationError(_("No order has this number."))
        return found

    def perform(self, actor):
        return orders.order_link(order=self.order, actor=actor, master=self.cleaned_data["master"])


class UnlinkForm(ReasonForm):
    def perform(self, actor):
        return orders.order_unlink(
            order=self.order, actor=actor, reason=self.cleaned_data["reason"]
        )


class RedispatchForm(OrderActionForm):
    """转派 to one of the lead unit's sub-units."""

    unit = DepartmentChoiceField(label=_("Sub-unit"), queryset=Department.objects.none())
    note = _text(_("Instructions to the sub-unit"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units().filter(parent=self.order.lead_unit_id)

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_redispatch(
            order=self.order, actor=actor, unit=data["unit"], note=data.get("note", "")
        )


class SignForm(OrderActionForm):
    def perform(self, actor):
        return orders.order_sign(order=self.order, actor=actor)


class CoOpinionForm(OrderActionForm):
    opinion = _text(_("Co-handler's opinion"))

    def perform(self, actor):
        return orders.order_co_opinion(
            order=self.order, actor=actor, opinion=self.cleaned_data["opinion"]
        )


class ReplyForm(OrderActionForm):
    reply = _text(
        _("Reply"),
        help_text=_("What was done, and the answer the caller is to be given."),
        max_length=orders.MAX_CONTENT,
    )

    def perform(self, actor):
        return orders.order_reply(order=self.order, actor=actor, reply=self.cleaned_data["reply"])


class AcceptReplyForm(OrderActionForm):
    def perform(self, actor):
        return orders.order_accept_reply(order=self.order, actor=actor)


class SendBackForm(ReasonForm):
    def perform(self, actor):
        return orders.order_send_back(
            order=self.order, actor=actor, reason=self.cleaned_data["reason"]
        )


class CallbackForm(OrderActionForm):
    """回访: the caller's verdict. The caller answering online chooses how satisfied they
    are; only the center records that the caller could not be reached."""

    result = forms.ChoiceField(label=pgettext_lazy("callback", "Verdict"), widget=forms.RadioSelect)
    note = _text(_("Note"), required=False)
    rename = {"reason": "note"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = Satisfaction.choices
        if not self._by_agent:
            choices = [c for c in choices if c[0] != Satisfaction.UNREACHABLE]
            self.fields["result"].label = _("How satisfied are you?")
            self.fields["note"].label = _("Anything to add")
        self.fields["result"].choices = choices

    @property
    def _by_agent(self) -> bool:
        return Actor.AGENT in permissions.actors(self.user, self.order)

    def perform(self, actor):
        return orders.order_callback(
            order=self.order,
            actor=actor,
            result=self.cleaned_data["result"],
            note=self.cleaned_data.get("note", ""),
            channel=Channel.HOTLINE if self._by_agent else Channel.ONLINE,
        )


class RequestReturnForm(ReasonForm):
    """退单: why the order is not the unit's."""

    def perform(self, actor):
        return orders.order_request(
            order=self.order,
            actor=actor,
            kind=RequestKind.RETURN,
            reason=self.cleaned_data["reason"],
        )


class RequestExtensionForm(OrderActionForm):
    """延期: how much more time, in the unit of the order's deadlines, and why."""

    amount = forms.IntegerField(label=_("Extension"), min_value=1)
    reason = _text(_("Reason"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = deadline_for(self.order.order_type, self.order.urgency)
        # The service judges the upper bound (and says it in its error).
        self.fields["amount"].widget.attrs["max"] = rule.close_limit
        self.fields["amount"].help_text = _("In %(unit)s, at most %(n)d.") % {
            "unit": DeadlineUnit(rule.unit).label.lower(),
            "n": rule.close_limit,
        }

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_request(
            order=self.order,
            actor=actor,
            kind=RequestKind.EXTENSION,
            amount=data["amount"],
            reason=data["reason"],
        )


class PendingChoiceField(forms.ModelChoiceField):
    """Offers the rows still waiting but accepts any row of its queryset, so a stale page
    reaches the service, which answers that the row was dealt with already (409)."""

    def __init__(self, *args, offered, label_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.choices = [(row.pk, label_of(row)) for row in offered]


def _request_label(request: OrderRequest) -> str:
    amount = f" +{request.amount}" if request.amount else ""
    return f"{request.get_kind_display()}{amount} · {request.reason}"


class DecideRequestForm(OrderActionForm):
    """The center approves or rejects a unit's return or extension request."""

    DECISIONS = [("approve", _("Approve")), ("reject", _("Reject"))]

    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    note = _text(_("Note"), required=False, help_text=_("Required to reject a request."))
    rename = {"reason": "note"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = self.order.requests.all()
        pending = [r for r in everything if r.status == RequestStatus.PENDING]
        field = PendingChoiceField(
            label=_("Request"),
            queryset=everything,
            offered=pending,
            label_of=_request_label,
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            initial=pending[0].pk if len(pending) == 1 else None,
        )
        self.fields = {"request": field, **self.fields}
        self.fields["decision"].choices = self.DECISIONS

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_decide_request(
            request=data["request"],
            actor=actor,
            approve=data["decision"] == "approve",
            note=data.get("note", ""),
        )


class SuperviseForm(OrderActionForm):
    instruction = _text(_("Instruction to the unit"))
    rename = {"reason": "instruction"}

    def perform(self, actor):
        return orders.order_supervise(
            order=self.order, actor=actor, instruction=self.cleaned_data["instruction"]
        )


def _supervision_label(supervision: Supervision) -> str:
    return f"{supervision.issued_at:%Y-%m-%d} · {supervision.instruction}"


class AnswerSupervisionForm(OrderActionForm):
    """A unit answers a supervision order addressed to it."""

    answer = _text(_("Answer to the supervision order"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mine = self.order.supervisions.filter(unit__in=permissions.handler_units(self.user))
        waiting = [s for s in mine if s.answered_at is None]
        field = PendingChoiceField(
            label=_("Supervision order"),
            queryset=mine,
            offered=waiting,
            label_of=_supervision_label,
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            initial=waiting[0].pk if len(waiting) == 1 else None,
        )
        self.fields = {"supervision": field, **self.fields}

    def perform(self, actor):
        data = self.cleaned_data
        return orders.order_answer_supervision(
            supervision=data["supervision"], actor=actor, answer=data["answer"]
        )


class CardForm(ReasonForm):
    """A card for the deadline the order missed (the sweep would issue it later)."""

    def perform(self, actor):
        return orders.order_card(order=self.order, actor=actor, reason=self.cleaned_data["reason"])


ACTION_FORMS: dict[str, type[OrderActionForm]] = {
    "answer": AnswerForm,
    "dispatch": DispatchForm,
    "link": LinkForm,
    "unlink": UnlinkForm,
    "redispatch": RedispatchForm,
    "sign": SignForm,
    "co_opinion": CoOpinionForm,
    "reply": ReplyForm,
    "accept_reply": AcceptReplyForm,
    "send_back": SendBackForm,
    "callback": CallbackForm,
    "request_return": RequestReturnForm,
    "request_extension": RequestExtensionForm,
    "decide_request": DecideRequestForm,
    "supervise": SuperviseForm,
    "answer_supervision": AnswerSupervisionForm,
    "card": CardForm,
}


def action_form(action: str, order: WorkOrder, user, data=None) -> OrderActionForm:
    return ACTION_FORMS[action](data, order=order, user=user, action=action)
