"""Citizen ID numbers, unified social credit codes and mobile numbers."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import example, given
from hypothesis import strategies as st

from yimen.common.identifiers import (
    PROVINCE_CODES,
    USCC_ALPHABET,
    citizen_id_birth_date,
    citizen_id_check_char,
    citizen_id_error,
    normalize_citizen_id,
    normalize_uscc,
    uscc_check_char,
    uscc_error,
    validate_citizen_id,
    validate_mobile,
    validate_uscc,
)

TODAY = datetime.date(2026, 11, 23)
DIGITS = "0123456789"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def error_text(error):
    return None if error is None else str(error)


# --- strategies ----------------------------------------------------------------------


@st.composite
def citizen_id_bodies(draw):
    """17 digits: a real province prefix, any rest of the region, a valid birth date,
    a sequence number."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    region = draw(st.text(DIGITS, min_size=4, max_size=4))
    birth = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(DIGITS, min_size=3, max_size=3))
    return f"{province}{region}{birth:%Y%m%d}{sequence}"


@st.composite
def uscc_bodies(draw):
    """17 characters: registration authority, organisation type, a 6-digit region code,
    then a 9-character organisation code from the USCC alphabet."""
    head = draw(st.text(USCC_ALPHABET, min_size=2, max_size=2))
    region = draw(st.text(DIGITS, min_size=6, max_size=6))
    body = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    return head + region + body


# --- citizen ID: properties ----------------------------------------------------------


@given(citizen_id_bodies())
def test_a_citizen_id_with_its_check_char_is_valid(body):
    number = body + citizen_id_check_char(body)
    assert citizen_id_error(number, today=TODAY) is None
    assert citizen_id_birth_date(number) == datetime.date(
        int(body[6:10]), int(body[10:12]), int(body[12:14])
    )


@given(citizen_id_bodies(), st.integers(0, 17), st.data())
def test_any_single_character_change_invalidates_a_citizen_id(body, position, data):
    number = body + citizen_id_check_char(body)
    alphabet = DIGITS + "X" if position == 17 else DIGITS
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert citizen_id_error(changed, today=TODAY) is not None
    with pytest.raises(ValidationError):
        validate_citizen_id(changed)


@given(st.text(max_size=20))
@example("44²604199001011234")
@example("４４０６０４１９９００１０１１２３Ｘ")
def test_citizen_id_check_never_crashes(value):
    error = citizen_id_error(value, today=TODAY)
    assert error is None or isinstance(error_text(error), str)


# --- citizen ID: examples and reasons ------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the example of GB 11643-1999
        "44060419900101000X",
        "44060420000229007X",  # born on a 29 February
        "65010220121231001X",
        "81000019850615008X",  # Hong Kong residence permit prefix
        "440604199001010018",
    ],
)
def test_valid_citizen_ids(number):
    assert citizen_id_error(number, today=TODAY) is None
    validate_citizen_id(number)


def test_x_check_char_examples_are_x():
    assert citizen_id_check_char("11010519491231002") == "X"
    assert citizen_id_check_char("44060419900101001") == "8"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "An ID number has 18 characters."),
        ("11010519491231002", "An ID number has 18 characters."),
        ("11010519491231002X1", "An ID number has 18 characters."),
        (None, "An ID number has 18 characters."),
        ("1101051949123100XX", "An ID number is 17 digits followed by a digit or X."),
        ("11010519491231002x", "An ID number is 17 digits followed by a digit or X."),
        ("11010519491231002Y", "An ID number is 17 digits followed by a digit or X."),
        ("1101051949 231002X", "An ID number is 17 digits followed by a digit or X."),
        (
            "４４０６０４１９９００１０１０００Ｘ",
            "An ID number is 17 digits followed by a digit or X.",
        ),
        ("44²604199001010015", "An ID number is 17 digits followed by a digit or X."),
        ("000105194912310021", "The first six digits are not a region code."),
        ("991234199001010015", "The first six digits are not a region code."),
        ("110105199002300012", "Digits 7–14 are not a valid birth date."),  # 30 February
        ("110105190102290012", "Digits 7–14 are not a valid birth date."),  # 1901 not leap
        ("110105199013010012", "Digits 7–14 are not a valid birth date."),  # month 13
        ("110105202611240012", "The birth date in the ID number is out of range."),  # tomorrow
        ("110105209901010012", "The birth date in the ID number is out of range."),
        ("440524188001010014", "The birth date in the ID number is out of range."),  # 1880
        ("110105194912310021", "The check character does not match: please check the number."),
        ("110105194912310028", "The check character does not match: please check the number."),
    ],
)
def test_each_citizen_id_error_has_its_reason(value, reason):
    assert error_text(citizen_id_error(value, today=TODAY)) == reason


def test_a_birth_date_in_the_future_uses_today_by_default():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    body = f"110105{tomorrow:%Y%m%d}001"
    with pytest.raises(ValidationError) as caught:
        validate_citizen_id(body + citizen_id_check_char(body))
    assert caught.value.code == "invalid_citizen_id"
    assert caught.value.messages == ["The birth date in the ID number is out of range."]

    today_body = f"110105{datetime.date.today():%Y%m%d}001"
    validate_citizen_id(today_body + citizen_id_check_char(today_body))


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (" 11010519491231002X ", "11010519491231002X"),
        ("110105 19491231 002x", "11010519491231002X"),
        ("\u300011010519491231002x\u3000", "11010519491231002X"),  # ideographic spaces
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_citizen_id(typed, normalised):
    assert normalize_citizen_id(typed) == normalised


def test_a_lower_case_x_is_valid_after_normalisation():
    assert citizen_id_error("11010519491231002x", today=TODAY) is not None
    assert citizen_id_error(normalize_citizen_id("11010519491231002x"), today=TODAY) is None


# --- USCC ----------------------------------------------------------------------------


def test_uscc_alphabet_leaves_out_i_o_z_s_v():
    assert len(USCC_ALPHABET) == 31
    assert not set("IOZSV") & set(USCC_ALPHABET)


@given(uscc_bodies())
def test_a_uscc_with_its_check_char_is_valid(body):
    assert uscc_error(body + uscc_check_char(body)) is None


@given(uscc_bodies(), st.integers(0, 17), st.data())
def test_any_single_character_substitution_invalidates_a_uscc(body, position, data):
    code = body + uscc_check_char(body)
    replacement = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    assert uscc_error(changed) is not None
    with pytest.raises(ValidationError):
        validate_uscc(changed)


@pytest.mark.parametrize("code", ["91350100M000100Y43"])
def test_published_uscc(code):
    assert uscc_check_char(code[:17]) == code[17]
    assert uscc_error(code) is None
    validate_uscc(code)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "A unified social credit code has 18 characters."),
        ("91350100M000100Y4", "A unified social credit code has 18 characters."),
        (None, "A unified social credit code has 18 characters."),
        (
            "91350100M000100Y4I",
            "Only digits and upper-case letters other than I, O, Z, S and V are allowed.",
        ),
        (
            "91350100m000100y43",
            "Only digits and upper-case letters other than I, O, Z, S and V are allowed.",
        ),
        (
            "9135O100M000100Y43",
            "Only digits and upper-case letters other than I, O, Z, S and V are allowed.",
        ),
        ("913A0100M000100Y43", "Characters 3–8 must be the region code (6 digits)."),
        ("91350100M000100Y44", "The check character does not match: please check the code."),
        ("91350100M000100Y34", "The check character does not match: please check the code."),
    ],
)
def test_each_uscc_error_has_its_reason(value, reason):
    assert error_text(uscc_error(value)) == reason


def test_uscc_validation_error_code():
    with pytest.raises(ValidationError) as caught:
        validate_uscc("91350100M000100Y44")
    assert caught.value.code == "invalid_uscc"


def test_normalize_uscc():
    assert normalize_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert normalize_uscc("9135 0100 M000 100Y 43") == "91350100M000100Y43"
    assert normalize_uscc(None) == ""
    assert uscc_error(normalize_uscc("91350100m000100y43")) is None


# --- mobile numbers ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["13800138000", "15912345678", "19912345678", ""])
def test_valid_mobiles(number):
    validate_mobile(number)


@pytest.mark.parametrize(
    "number",
    [
        "12800138000",  # no 12x block
        "10086000000",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "23800138000",
        "+8613800138000",
        "138-0013-8000",
        "138 0013 8000",
        "13800138000\n",
        "１３８００１３８０００",  # full-width digits
        "1380013800x",
    ],
)
def test_invalid_mobiles(number):
    with pytest.raises(ValidationError) as caught:
        validate_mobile(number)
    assert caught.value.code == "invalid_mobile"
    assert caught.value.messages == ["A mobile number is 11 digits starting with 13–19."]


@given(st.sampled_from("3456789"), st.text(DIGITS, min_size=9, max_size=9))
def test_any_11_digit_mobile_from_13_to_19_is_valid(second, rest):
    validate_mobile(f"1{second}{rest}")
