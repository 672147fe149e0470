"""National identifiers: validation with a clear reason, and check characters.

- Citizen ID number, GB 11643-1999: 17 digits + ISO 7064 MOD 11-2 check character.
- Unified social credit code, GB 32100-2015: 18 characters of 0-9A-HJ-NPQRTUWXY,
  the last a MOD 31 check character.
- Mainland mobile numbers: 11 digits starting 13-19.
- Phone numbers of any kind are stored in one form (normalise_phone), so the same caller
  is found however the number was typed.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB/T 2260 province-level codes (the first two digits of a division code).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_ID_CHECK = "10X98765432"  # index: weighted sum mod 11

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 …
_USCC_RE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


def citizen_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def citizen_id_error(value: str, *, today: datetime.date | None = None) -> str | None:
    """Why `value` is not a valid citizen ID number, or None when it is."""
    if not isinstance(value, str) or len(value) != 18:
        return _("An ID number has 18 characters.")
    # ASCII digits only: str.isdigit() also accepts full-width and superscript digits.
    if not _ID_RE.fullmatch(value):
        return _("An ID number is 17 digits followed by a digit or X.")
    if value[:2] not in PROVINCE_CODES:
        return _("The first six digits are not a region code.")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("Digits 7–14 are not a valid birth date.")
    if not datetime.date(1900, 1, 1) <= birth <= (today or datetime.date.today()):
        return _("The birth date in the ID number is out of range.")
    if citizen_id_check_char(value[:17]) != value[17]:
        return _("The check character does not match: please check the number.")
    return None


def normalize_citizen_id(value: str) -> str:
    """Strip spaces and upper-case the check character (people type a lower-case x)."""
    return (value or "").strip().replace(" ", "").upper()


def validate_citizen_id(value: str) -> None:
    if error := citizen_id_error(value):
        raise ValidationError(error, code="invalid_citizen_id")


def citizen_id_birth_date(value: str) -> datetime.date:
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def uscc_check_char(first17: str) -> str:
    """The GB 32100 MOD 31 check character of the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_error(value: str) -> str | None:
    """Why `value` is not a valid unified social credit code, or None when it is."""
    if not isinstance(value, str) or len(value) != 18:
        return _("A unified social credit code has 18 characters.")
    if not _USCC_RE.match(value):
        return _("Only digits and upper-case letters other than I, O, Z, S and V are allowed.")
    if not value[2:8].isdigit():
        return _("Characters 3–8 must be the region code (6 digits).")
    if uscc_check_char(value[:17]) != value[17]:
        return _("The check character does not match: please check the code.")
    return None


def normalize_uscc(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def validate_uscc(value: str) -> None:
    if error := uscc_error(value):
        raise ValidationError(error, code="invalid_uscc")


# Full-width digits and + become ASCII; the separators people type between the groups
# (spaces are dropped separately: any whitespace) go.
_PHONE_TABLE = str.maketrans(
    "０１２３４５６７８９＋",
    "0123456789+",
    "-‐‑‒–—―−－﹣()（）.．。",
)


def normalise_phone(value) -> str:
    """A phone number in the form it is stored and looked up in: ASCII digits with a leading
    + kept, no spaces, dashes, parentheses or dots (138-0000-1111 → 13800001111,
    (0757)8333 1234 → 075783331234, +86 138 1234 5678 → +8613812345678). Anything else
    stays, for the validation to refuse."""
    return "".join(str(value or "").translate(_PHONE_TABLE).split())


def validate_mobile(value: str) -> None:
    if value and not _MOBILE_RE.fullmatch(value):
        raise ValidationError(
            _("A mobile number is 11 digits starting with 13–19."), code="invalid_mobile"
        )


# --- licence identifiers (GB/T 36904 style) ------------------------------------------------------

LICENCE_ROOT = "1.2.156.3005.2"  # the OID arc of e-licence identifiers
_MOD37_36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LICENCE_RE = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{1,32})\.(?P<issuer>[0-9A-Z]{18})"
    r"\.(?P<serial>[0-9]{1,12})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)


def mod37_36_check_char(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character (0-9, A-Z) of a string of 0-9 and A-Z."""
    p = 36
    for char in text:
        s = (p + _MOD37_36.index(char)) % 36 or 36
        p = (s * 2) % 37
    return _MOD37_36[(37 - p) % 36]


def licence_identifier(*, type_code: str, issuer_uscc: str, serial: int, version: int = 1) -> str:
    """1.2.156.3005.2.{type}.{issuer USCC}.{serial}.{version}.{check}; the check character
    is computed over everything before it, without the dots."""
    body = f"{LICENCE_ROOT}.{type_code}.{issuer_uscc}.{serial:08d}.{version:03d}"
    return f"{body}.{mod37_36_check_char(body.replace('.', ''))}"


def licence_identifier_error(value: str) -> str | None:
    """Why `value` is not a well-formed licence identifier, or None when it is."""
    match = _LICENCE_RE.match(value or "")
    if match is None:
        return str(_("A licence identifier reads 1.2.156.3005.2.type.issuer.serial.version.check."))
    body, check = value.rsplit(".", 1)
    if mod37_36_check_char(body.replace(".", "")) != check:
        return str(_("The check character of the licence identifier is wrong."))
    if uscc_error(match["issuer"]):
        return str(_("The issuer in the licence identifier is not a valid credit code."))
    return None
