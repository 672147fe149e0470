"""A POSTed service request, checked field by field and registered as a work order through
yimen.hotline.orders.order_register (no user: the client's channel, the API as the
carrier). Every problem is reported under the spec's parameter name (lat, long,
service_code, attribute[order_type], …).

What an order has no field for is not kept: email, device_id and account_id."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yimen.common.choices import Channel

from .. import orders
from ..models import Open311Client, WorkOrder
from . import feed

TITLE_LENGTH = 30
# order_register's field → the Open311 parameter it comes from.
PARAMETER = {
    "category": "service_code",
    "content": "description",
    "title": "description",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "caller_name": "first_name",
    "caller_phone": "phone",
    "order_type": "attribute[order_type]",
    "district": "attribute[district]",
    "confidential": "attribute[confidential]",
    "channel": "api_key",
}
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


class BadBody(ValueError):
    """The body is not a form or a JSON object."""


def body(request) -> dict[str, Any]:
    """The POSTed parameters: a form (the spec's way) or a JSON object; each a string, an
    attribute of several values a list. The query string's api_key counts too."""
    if request.content_type == "application/json":
        try:
            raw = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise BadBody(_("The body is not valid JSON.")) from error
        if not isinstance(raw, dict):
            raise BadBody(_("The body must be a JSON object."))
        data = {}
        for name, value in raw.items():
            if name == "attribute" and isinstance(value, Mapping):
                for code, item in value.items():
                    data[f"attribute[{code}]"] = _plain(item)
            else:
                data[str(name)] = _plain(value)
    else:
        data = {
            name: values if name.endswith("[]") else values[-1]
            for name, values in request.POST.lists()
        }
    if not data.get("api_key") and request.GET.get("api_key"):
        data["api_key"] = request.GET["api_key"]
    return data


def _plain(value):
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(data, name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def title_from(description: str) -> str:
    """The first words of the description's first line."""
    line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[:TITLE_LENGTH]
    space = cut.rfind(" ")
    if space > TITLE_LENGTH // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：、") + "…"


def caller_name(first: str, last: str) -> str:
    """陈 + 小明 → 陈小明 (a Chinese name: family name first, no space); Ann + Lee → Ann Lee."""
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def _attributes(data, errors) -> dict[str, str]:
    """The attribute[code] values, checked against the service definition."""
    known = {item.code: item for item in feed.attributes()}
    chosen: dict[str, str] = {}
    for name, value in data.items():
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code, parameter = match.group(1), f"attribute[{match.group(1)}]"
        item = known.get(code)
        if item is None:
            errors[parameter] = _("This service has no attribute “%(code)s”.") % {"code": code}
            continue
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if str(v).strip()]
        if len(values) > 1:
            errors[parameter] = _("Choose one value.")
        elif values and values[0] not in item.values:
            errors[parameter] = _("“%(value)s” is not one of the values: %(keys)s.") % {
                "value": values[0],
                "keys": ", ".join(item.values),
            }
        elif values:
            chosen[code] = values[0]
    for item in known.values():
        if item.required and item.code not in chosen:
            errors.setdefault(f"attribute[{item.code}]", _("This attribute is required."))
    return chosen


def order_data(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The order_register data of a request, and the problems found (by parameter)."""
    errors: dict[str, str] = {}
    code = _text(data, "service_code")
    category = feed.service_leaf(code) if code else None
    if not code:
        errors["service_code"] = _("This field is required.")
    elif category is None:
        errors["service_code"] = _("No service “%(code)s”.") % {"code": code}
    chosen = _attributes(data, errors)
    lat, long, address = _text(data, "lat"), _text(data, "long"), _text(data, "address_string")
    if not (lat or long or address):
        if _text(data, "address_id"):
            errors["address_id"] = _("Not known here: give lat and long, or address_string.")
        else:
            errors["lat"] = _("Give the location: lat and long, or address_string.")
    description = _text(data, "description")
    values = {
        "order_type": chosen.get("order_type", ""),
        "district": chosen.get("district", ""),
        "confidential": chosen.get("confidential") == "true",
        "category": category,
        "title": title_from(description),
        "content": description,
        "media_url": _text(data, "media_url"),
        "address": address,
        "latitude": lat,
        "longitude": long,
        "caller_name": caller_name(_text(data, "first_name"), _text(data, "last_name")),
        "caller_phone": _text(data, "phone"),
    }
    return values, errors


def _by_parameter(error: ValidationError) -> dict[str, str]:
    found = {}
    for name, messages in error.message_dict.items():
        found.setdefault(PARAMETER.get(name, name), " ".join(str(m) for m in messages))
    return found


def idempotency(client: Open311Client, key: str | None) -> str | None:
    """The order's idempotency key for a client's own key (each client has its own space)."""
    if not key:
        return None
    digest = hashlib.sha256(f"{client.pk}:{key}".encode()).hexdigest()
    return f"open311-{digest[:56]}"


def submit(
    *, client: Open311Client, data: Mapping[str, Any], idempotency_key: str | None = None
) -> WorkOrder:
    """Register the request as a work order, or raise a ValidationError keyed by parameter.
    A request resent with the same Idempotency-Key returns the first order."""
    values, errors = order_data(data)
    try:
        orders.order_fields(values, order_channel=client.channel)
    except ValidationError as error:
        for name, message in _by_parameter(error).items():
            errors.setdefault(name, message)
    if errors:
        raise ValidationError(errors)
    key = idempotency(client, idempotency_key)
    if key and (found := WorkOrder.objects.filter(idempotency_key=key).first()):
        return found
    with transaction.atomic():
        try:
            order = orders.order_register(
                actor=None,
                order_channel=client.channel,
                data=values,
                idempotency_key=key,
                channel=Channel.API,
                source=f"open311:{client.name}",
            )
        except ValidationError as error:
            raise ValidationError(_by_parameter(error)) from error
    return order
