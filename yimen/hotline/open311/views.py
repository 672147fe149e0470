"""The Open311 GeoReport v2 endpoints. Anyone may read; filing a request takes an api_key
(yimen.hotline.open311.keys). Every answer is JSON or XML by the URL's extension (another
extension is a 404); every error is the spec's error document with the HTTP status as its
code: 400 naming the parameter, 403 for a missing or wrong api_key, 404, 405, 429.

Answers follow the client's language (Accept-Language, else the language cookie), as the
/api/ endpoints do."""

from __future__ import annotations

import functools
import uuid

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from yimen.common import ratelimit

from . import feed, intake, keys, render

POSTS_PER_MINUTE = 60  # per address: a client filing more is a runaway loop


def endpoint(*methods: str):
    """An Open311 view: checks the format and the method, speaks the client's language;
    CSRF-exempt (a POST carries an api_key, not a session)."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def inner(request, fmt: str, **kwargs):
            language = translation.get_language_from_request(request)
            with translation.override(language):
                if fmt not in render.FORMATS:
                    message = _("No format “%(fmt)s”: use json or xml.") % {"fmt": fmt}
                    return render.errors(render.XML, [message], status=404)
                allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
                if request.method not in allowed:
                    response = render.errors(
                        fmt, [_("Use %(methods)s.") % {"methods": ", ".join(methods)}], status=405
                    )
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                response = view(request, fmt, **kwargs)
                response["Content-Language"] = language
                return response

        return inner

    return wrap


def _bad(fmt: str, error: ValidationError):
    messages = [
        f"{name}: {' '.join(str(m) for m in texts)}" for name, texts in error.message_dict.items()
    ]
    return render.errors(fmt, messages, status=400)


def _not_found(fmt: str, message: str):
    return render.errors(fmt, [message], status=404)


@csrf_exempt
def unknown(request, path):
    """No such resource: a 404 as the error document, in the format the path's extension
    names (XML unless it names JSON)."""
    fmt = render.JSON if path.lower().endswith("." + render.JSON) else render.XML
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = _not_found(fmt, _("No such resource: see discovery.xml."))
    response["Content-Language"] = language
    return response


@endpoint("GET")
def discovery(request, fmt):
    return render.document(fmt, "discovery", feed.discovery())


@endpoint("GET")
def services(request, fmt):
    return render.document(fmt, "services", feed.services())


@endpoint("GET")
def service_definition(request, fmt, service_code):
    category = feed.service_leaf(service_code)
    if category is None:
        return _not_found(fmt, _("service_code: No service “%(code)s”.") % {"code": service_code})
    return render.document(fmt, "service_definition", feed.definition(category))


@endpoint("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    try:
        found = feed.query(request.GET)
    except ValidationError as error:
        return _bad(fmt, error)
    return render.document(fmt, "service_requests", feed.service_requests(found))


def _create(request, fmt):
    try:
        data = intake.body(request)
    except intake.BadBody as error:
        return render.errors(fmt, [str(error)], status=400)
    client = keys.authenticate(data.get("api_key") if isinstance(data.get("api_key"), str) else "")
    if client is None:
        return render.errors(fmt, [_("api_key: Missing, wrong or revoked.")], status=403)
    if ratelimit.over_limit(request, scope="open311.post", per_minute=POSTS_PER_MINUTE):
        return render.errors(fmt, [_("Too many requests: wait a minute.")], status=429)
    try:
        order = intake.submit(
            client=client, data=data, idempotency_key=request.headers.get("Idempotency-Key")
        )
    except ValidationError as error:
        return _bad(fmt, error)
    rules = feed.Rules()
    row = {
        "service_request_id": order.number,
        "service_notice": rules.notice(order),
        "account_id": None,
    }
    return render.document(fmt, "service_requests", [row])


@endpoint("GET")
def request_detail(request, fmt, service_request_id):
    order = feed.public_orders().filter(number=service_request_id).first()
    if order is None:
        return _not_found(
            fmt,
            _("service_request_id: No request “%(id)s”.") % {"id": service_request_id},
        )
    return render.document(fmt, "service_requests", feed.service_requests([order]))


@endpoint("GET")
def token(request, fmt, token):
    try:
        public_id = uuid.UUID(token)
    except ValueError:
        public_id = None
    number = (
        feed.public_orders().filter(public_id=public_id).values_list("number", flat=True).first()
        if public_id
        else None
    )
    if number is None:
        return _not_found(fmt, _("token: No request for “%(token)s”.") % {"token": token})
    return render.document(
        fmt, "service_requests", [{"service_request_id": number, "token": str(public_id)}]
    )
