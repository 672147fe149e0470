"""Masking of personal data wherever it is shown or logged."""

from __future__ import annotations

import re


def mask_citizen_id(value: str | None) -> str:
    """4406**********123X: the province/city and the last four stay visible."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678 for a mobile; other numbers keep their first 3 and last 2 characters."""
    if not value:
        return ""
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[7:]
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_name(value: str | None) -> str:
    """张*三 / 李* : the surname stays, the given name is hidden but for its last character."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# Free text (log lines, hotline content): an 18-character ID number or an 11-digit mobile
# number standing on its own is masked. Word boundaries keep longer digit runs (case numbers,
# bank references) intact.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
# A mobile number may follow the country code: "+8613812345678".
_MOBILE_IN_TEXT = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d{9})(?!\d)")


def mask_text(text: str) -> str:
    text = _ID_IN_TEXT.sub(lambda m: mask_citizen_id(m.group(1)), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)), text)
