"""Masking of personal data wherever it is shown or logged.

Numbers are recognised as people type them: with spaces or dashes between the groups,
behind a +86 country code, in full-width digits, landlines with or without the area code
in parentheses. What stays readable is the same whatever the format: a mobile keeps its
first 3 and last 4 digits (138****5678), an ID number its first and last 4 characters,
a landline its area code and all but the first 4 digits of the local number
(0757-****1234). Separators and the typed digits are kept as they were.
"""

from __future__ import annotations

import re

# Digits and separators as typed, half or full width (an IME types ０-９, －, （）, ＋ and the
# ideographic space): matching both keeps the text as it is, with no translated copy.
_D = "[0-9０-９]"
_SEP = "[ \u3000\\-－]"
_NUMBER_CHARS = frozenset("0123456789０１２３４５６７８９XxＸｘ")

_MOBILE = rf"[1１][3-9３-９]{_D}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}}"
_AREA = rf"[0０](?:[1１][0０]|[2２]{_D}|[3-9３-９]{_D}{{2}})"  # 010, 02x, or 0 + three digits
_LANDLINE = (
    rf"(?:[(（](?P<paren_area>{_AREA})[)）]|(?P<area>{_AREA}))"  # (0757) or 0757
    rf"{_SEP}?[2-9２-９]{_D}{{2,3}}{_SEP}?{_D}{{4}}"  # a local number of 7 or 8 digits
)
# 18 characters written whole, 6-8-4 or 6-4-4-4 (optional spaces after 6, 10 and 14
# characters), or 4-4-4-4-2 when no digit group comes just before or after (a bank card
# written in fours is not an ID number).
_SPACE = "[ \u3000]"
_CHECK = "[0-9０-９XxＸｘ]"
_ID = (
    rf"{_D}{{6}}{_SPACE}?{_D}{{4}}{_SPACE}?{_D}{{4}}{_SPACE}?{_D}{{3}}{_CHECK}"
    rf"|(?<!{_D}{_SPACE}){_D}{{4}}(?:{_SPACE}{_D}{{4}}){{3}}{_SPACE}{_D}{_CHECK}"
    rf"(?!{_SPACE}{_D})"
)
_WORD = "[0-9０-９A-Za-zＡ-Ｚａ-ｚ]"

# Free text (log lines, hotline content). Letters and digits around an ID number or a
# landline mean it is part of something else (an order number, a bank reference); a mobile
# only needs to stand apart from other digits, and may follow +86 or 0086. The lookahead
# up front lets the scan skip all but digits and parentheses quickly.
_NUMBER_IN_TEXT = re.compile(
    rf"(?=[0-9０-９(（])(?:"
    rf"(?<!{_WORD})(?P<id>{_ID})(?!{_WORD})"
    rf"|(?:(?<=[+＋][8８][6６])|(?<=[0０]{{2}}[8８][6６])|(?<!{_D}))(?P<mobile>{_MOBILE})(?!{_D})"
    rf"|(?<!{_WORD})(?P<landline>{_LANDLINE})(?!{_WORD})"
    rf")"
)
_PHONE = re.compile(rf"(?P<mobile>{_MOBILE})|(?P<landline>{_LANDLINE})")
_COUNTRY_CODE = re.compile(
    rf"(?:[+＋]|[0０]{{2}})[8８][6６]{_SEP}?|[(（][+＋][8８][6６][)）]{_SEP}?"
)


def _hide(number: str, head: int, tail: int) -> str:
    """Star the digits of the number but the first `head` and the last `tail`."""
    total = sum(char in _NUMBER_CHARS for char in number)
    out, seen = [], 0
    for char in number:
        if char in _NUMBER_CHARS:
            out.append("*" if head <= seen < total - tail else char)
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def _masked(match: re.Match) -> str:
    """The matched number with the hidden digits starred."""
    number = match.group()
    if match["mobile"]:
        return _hide(number, 3, 4)
    if match["landline"]:
        area = len(match["area"] or match["paren_area"])
        local = sum(char in _NUMBER_CHARS for char in number) - area
        return _hide(number, area, local - 4)
    return _hide(number, 4, 4)


def mask_citizen_id(value: str | None) -> str:
    """4406**********123X: the province/city and the last four stay visible."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678 for a mobile, 0757-****1234 for a landline, however they are written
    (+86 138 1234 5678 → +86 138 **** 5678); any other number keeps its first 3 and last 2
    characters."""
    if not value:
        return ""
    code = _COUNTRY_CODE.match(value)
    start = code.end() if code else 0
    if match := _PHONE.fullmatch(value, start):
        return value[:start] + _masked(match)
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


def mask_text(text: str) -> str:
    """The text with every ID number, mobile and landline in it masked; dates, amounts,
    times, house and order numbers stay as they are."""
    if not text:
        return text
    pieces, done = [], 0
    for match in _NUMBER_IN_TEXT.finditer(text):
        start, end = match.span()
        pieces += (text[done:start], _masked(match))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)
