"""The documents of GeoReport v2 in its two formats. JSON: the data as is (a list or an
object). XML: a root element per document, one child element per field, lists as a
container of items (services › service, service_requests › request, errors › error,
attributes › attribute, values › value, endpoints › endpoint, formats › format); null is an
empty element, booleans are true/false. Both are UTF-8, with the XML declaration the spec
asks for."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

JSON, XML = "json", "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}
MEDIA_TYPES = ("text/xml", "application/json")  # as the discovery document lists them

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all (control characters typed into a text field).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item = ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def xml_bytes(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + ET.tostring(element, encoding="unicode").encode()
    )


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def document(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """The response of a document: `root` names the XML root element (JSON has none)."""
    body = xml_bytes(root, data) if fmt == XML else json_bytes(data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, messages: Iterable[str], *, status: int) -> HttpResponse:
    """The spec's error document: [{code, description}], the code being the HTTP status."""
    rows = [{"code": status, "description": str(message)} for message in messages]
    return document(fmt if fmt in FORMATS else XML, "errors", rows, status=status)
