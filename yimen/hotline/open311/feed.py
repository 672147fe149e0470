"""The reads of Open311: the services (the active leaves of the taxonomy), their definition
(the attributes a request of them takes), the discovery document, and the work orders as
the public sees them (service requests).

A service request says nothing about the caller: never the name, phone or account; the
description is the order's content with the caller's name and phone, any mobile or ID
number and any e-mail address masked; a confidential order (a report whose caller the units
are not told) shows neither its description nor its location nor its media. Orders not yet
filed under a category are not service requests (GeoReport needs a service_code)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yimen.common.masking import mask_name, mask_phone, mask_text
from yimen.common.models import AuditEvent
from yimen.org.choices import RegionLevel
from yimen.org.models import Region

from .. import selectors
from ..choices import DeadlineUnit, OrderStatus, OrderType
from ..models import Category, DeadlineRule, WorkOrder
from ..services import default_rule
from ..stats import FIRST_YEAR, LAST_YEAR
from . import render

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the taxonomy has no recorded change yet, its changeset is this moment.
FIRST_CHANGESET = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MAX_REQUESTS = 1000  # the spec's default limit …
MAX_IDS = 1000  # service_request_id values asked for at once
SPAN = dt.timedelta(days=90)  # … and its default (and longest) span
OPEN, CLOSED = "open", "closed"
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
# An order number or a service code: what a listed value can be (nothing else matches).
_TOKEN = re.compile(r"^[-\w]{1,40}$")


def iso(moment: dt.datetime | None) -> str | None:
    """A W3C datetime with its offset, in the local time zone: 2026-03-02T09:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- discovery --------------------------------------------------------------------------------


def changeset() -> dt.datetime:
    """When the service list or a definition last changed (the taxonomy's last event)."""
    last = (
        AuditEvent.objects.filter(action__startswith="hotline.category.")
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return last or FIRST_CHANGESET


def base_url() -> str:
    """The endpoint's URL, to which `/services.xml` and the others are appended."""
    path = reverse("open311:discovery", kwargs={"fmt": render.JSON}).rsplit("/", 1)[0]
    return settings.YIMEN_PUBLIC_URL.rstrip("/") + path


def discovery() -> dict:
    moment = iso(changeset())
    return {
        "changeset": moment,
        "contact": str(
            settings.YIMEN_OPEN311_CONTACT or _("The 12345 hotline center: call 12345.")
        ),
        "key_service": str(
            settings.YIMEN_OPEN311_KEY_SERVICE
            or _("Ask the 12345 hotline center for an api_key to file service requests.")
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url(),
                "changeset": moment,
                "type": "production",
                "formats": list(render.MEDIA_TYPES),
            }
        ],
    }


# --- services ---------------------------------------------------------------------------------


def _ancestry(category: Category) -> list[Category]:
    """The category's path from the top level (parents come select_related)."""
    nodes = []
    node = category
    while node is not None:
        nodes.append(node)
        node = node.parent
    return nodes[::-1]


def service_leaves() -> QuerySet[Category]:
    """The categories a request can be filed under, in the taxonomy's order."""
    return selectors.leaves(active_only=True)


def service_leaf(code: str) -> Category | None:
    return service_leaves().filter(code=code).first()


def service(category: Category) -> dict:
    path = _ancestry(category)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.path,
        "metadata": True,  # every service takes the attributes of `definition`
        "type": "realtime",  # the order number is known as soon as the request is filed
        "keywords": ", ".join(node.name for node in path),
        "group": path[0].name,
    }


def services() -> list[dict]:
    return [service(category) for category in service_leaves()]


def districts() -> QuerySet[Region]:
    return Region.objects.filter(level=RegionLevel.DISTRICT).order_by("code")


@dataclass(frozen=True)
class Attribute:
    """An attribute of the service definition: its code, whether it is required, and its
    values (key → name)."""

    code: str
    required: bool
    description: str
    values: dict[str, str]

    def as_dict(self, order: int) -> dict:
        return {
            "variable": True,
            "code": self.code,
            "datatype": "singlevaluelist",
            "required": self.required,
            "datatype_description": None,
            "order": order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values.items()],
        }


def attributes() -> list[Attribute]:
    """What a request says besides its description and location (the same for every
    service): its type (required), its district and whether it is confidential. Not its
    urgency: the center judges that (an urgent order's deadlines are hours)."""
    found = [
        Attribute(
            "order_type",
            True,
            _("What is it: a question, a request for help, a complaint, a report…?"),
            {choice.value: str(choice.label) for choice in OrderType},
        ),
    ]
    regions = {region.code: region.name for region in districts()}
    if regions:
        found.append(Attribute("district", False, _("The district where it is."), regions))
    found.append(
        Attribute(
            "confidential",
            False,
            _(
                "Keep it confidential: the units handling it are not told who you are, and "
                "its description and location are not published."
            ),
            {"false": _("No"), "true": _("Yes")},
        )
    )
    return found


def definition(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [item.as_dict(n) for n, item in enumerate(attributes(), start=1)],
    }


# --- service requests -------------------------------------------------------------------------


def public_orders() -> QuerySet[WorkOrder]:
    """The orders that are service requests, with what a request shows, in one query (the
    last audited change gives updated_datetime)."""
    last_change = (
        AuditEvent.objects.filter(
            object_type=WorkOrder._meta.label_lower,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        WorkOrder.objects.filter(category__isnull=False)
        .select_related("category", "lead_unit", "district", "close_clock", "master")
        .annotate(last_change=Subquery(last_change))
        .order_by("-received_at", "-pk")
    )


def states_of(status: str) -> list[str]:
    """The order states of an Open311 status: closed is closed; everything else (a linked
    duplicate too: it closes with its master) is open."""
    if status == CLOSED:
        return [OrderStatus.CLOSED]
    return [value for value in OrderStatus.values if value != OrderStatus.CLOSED]


def status_of(order: WorkOrder) -> str:
    return CLOSED if order.status == OrderStatus.CLOSED else OPEN


def labelled(label: str, value: str) -> str:
    """“label: value” with the colon of the language answered in (办结：已解决)."""
    if (translation.get_language() or "").startswith("zh"):
        return f"{label}：{value}"
    return f"{label}: {value}"


def status_notes(order: WorkOrder) -> str:
    if order.status == OrderStatus.CLOSED and order.resolution:
        return labelled(order.get_status_display(), order.get_resolution_display())
    if order.status == OrderStatus.LINKED and order.master is not None:
        return _("Handled together with %(number)s.") % {"number": order.master.number}
    return order.get_status_display()


class Rules:
    """The deadline rule of every type × urgency, read once per response."""

    def __init__(self):
        self.rows = {(rule.order_type, rule.urgency): rule for rule in DeadlineRule.objects.all()}

    def notice(self, order: WorkOrder) -> str | None:
        """What to expect of an open order: the deadlines of its type and urgency."""
        if order.status in (OrderStatus.CLOSED, OrderStatus.LINKED):
            return None
        key = (order.order_type, order.urgency)
        rule = self.rows.get(key) or default_rule(*key)
        return _(
            "Once dispatched, the responsible unit signs for it within %(sign)s, replies "
            "within %(reply)s and closes it within %(close)s."
        ) % {
            "sign": _span(rule.unit, rule.sign_limit),
            "reply": _span(rule.unit, rule.reply_limit),
            "close": _span(rule.unit, rule.close_limit),
        }


def _span(unit: str, n: int) -> str:
    if unit == DeadlineUnit.HOURS:
        return ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
    return ngettext("%(n)d working day", "%(n)d working days", n) % {"n": n}


def public_text(order: WorkOrder, text: str) -> str:
    """The text with the caller's name and phone, mobile and ID numbers and e-mail addresses
    masked."""
    for secret, masked in (
        (order.caller_name, mask_name(order.caller_name)),
        (order.caller_phone, mask_phone(order.caller_phone)),
    ):
        if secret and len(secret) > 1:
            text = text.replace(secret, masked)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return mask_text(text)


def _coordinate(value) -> float | None:
    return None if value is None else float(value)


def service_request(order: WorkOrder, rules: Rules) -> dict:
    """One order as a service request (its fields in the spec's order)."""
    content, media_url = order.content, order.media_url or None
    address = ", ".join(filter(None, (order.address, order.district and order.district.name)))
    hidden = order.confidential
    return {
        "service_request_id": order.number,
        "status": status_of(order),
        "status_notes": status_notes(order),
        "service_name": order.category.name,
        "service_code": order.category.code,
        "description": None if hidden else public_text(order, content),
        "agency_responsible": order.lead_unit.name if order.lead_unit else None,
        "service_notice": rules.notice(order),
        "requested_datetime": iso(order.received_at),
        "updated_datetime": iso(getattr(order, "last_change", None) or order.received_at),
        "expected_datetime": iso(order.close_clock.due_at if order.close_clock else None),
        "address": None if hidden or not address else address,
        "lat": None if hidden else _coordinate(order.latitude),
        "long": None if hidden else _coordinate(order.longitude),
        "media_url": None if hidden else media_url,
    }


def service_requests(orders: Iterable[WorkOrder]) -> list[dict]:
    rules = Rules()
    return [service_request(order, rules) for order in orders]


# --- the query of GET requests ----------------------------------------------------------------


def _moment(value: str, *, end: bool) -> dt.datetime | None:
    """A W3C datetime (a date alone: its first moment, or for an end its last); a time
    without an offset is local time. None when it is not one."""
    value = value.strip()
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _tokens(params, name: str, errors: dict[str, str]) -> list[str]:
    """The comma-separated order numbers or codes of a parameter; a value that cannot be one
    is an error (never sent to the database)."""
    values = _listed(params.get(name, ""))
    if any(not _TOKEN.match(value) for value in values):
        errors[name] = _("Give values of letters, digits, - and _, comma-separated.")
        return []
    return values


def query(params, *, now: dt.datetime | None = None) -> QuerySet[WorkOrder]:
    """The requests GET requests asks for (at most MAX_REQUESTS, newest first), or a
    ValidationError naming each bad parameter. service_request_id (comma-separated order
    numbers, at most MAX_IDS) overrides every other parameter; otherwise the requests of
    the service codes (comma-separated), of the statuses (open, closed; comma-separated),
    requested between start_date and end_date (years FIRST_YEAR to LAST_YEAR): 90 days at
    most, the last 90 days when neither is given."""
    orders = public_orders()
    errors: dict[str, str] = {}
    numbers = _tokens(params, "service_request_id", errors)
    if len(numbers) > MAX_IDS:
        errors["service_request_id"] = _("Ask for at most %(n)d requests at once.") % {"n": MAX_IDS}
    if errors:
        raise ValidationError(errors)
    if numbers:
        return orders.filter(number__in=numbers)[:MAX_REQUESTS]
    codes = _tokens(params, "service_code", errors)
    if codes:
        orders = orders.filter(category__code__in=codes)
    statuses = _listed(params.get("status", "").lower())
    if any(status not in (OPEN, CLOSED) for status in statuses):
        errors["status"] = _("Give open, closed or both, comma-separated.")
    elif statuses and set(statuses) != {OPEN, CLOSED}:
        orders = orders.filter(status__in=states_of(statuses[0]))
    bounds = {}
    for name in ("start_date", "end_date"):
        raw = params.get(name, "")
        if raw.strip():
            bounds[name] = _moment(raw, end=name == "end_date")
            if bounds[name] is None:
                errors[name] = _(
                    "Give a W3C datetime with its offset, e.g. 2026-03-02T09:30:00+08:00."
                )
            elif not FIRST_YEAR <= bounds[name].year <= LAST_YEAR:
                errors[name] = _("Choose a year from %(first)d to %(last)d.") % {
                    "first": FIRST_YEAR,
                    "last": LAST_YEAR,
                }
    if errors:
        raise ValidationError(errors)
    start, end = bounds.get("start_date"), bounds.get("end_date")
    if start and end:
        if end < start:
            errors["end_date"] = _("The end comes before the start.")
        elif end - start > SPAN:
            errors["end_date"] = _("The dates may not span more than 90 days.")
    elif start:
        end = start + SPAN
    elif end:
        start = end - SPAN
    else:
        start = (now or timezone.now()) - SPAN
    if errors:
        raise ValidationError(errors)
    orders = orders.filter(received_at__gte=start)
    if end is not None:
        orders = orders.filter(received_at__lte=end)
    return orders[:MAX_REQUESTS]
