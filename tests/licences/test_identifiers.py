"""Licence identifiers (yimen.common.identifiers): 1.2.156.3005.2.{type}.{issuer USCC}.
{serial}.{version}.{check}, the check character ISO/IEC 7064 MOD 37,36 over everything
before it without the dots. The check is re-derived here with the standard's own
validation rule, not with the function under test."""

import itertools

import pytest

from yimen.common.identifiers import (
    licence_identifier,
    licence_identifier_error,
    mod37_36_check_char,
    uscc_check_char,
    uscc_error,
)

from ..accounts.factories import uscc
from ..org.factories import make_uscc

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ISSUER = make_uscc("440604000000", 7)  # a government organ: digits only
LETTERED_ISSUER = uscc(42)  # 91440604TEMP00042…: with letters
FORMAT = "A licence identifier reads 1.2.156.3005.2.type.issuer.serial.version.check."
WRONG_CHECK = "The check character of the licence identifier is wrong."
BAD_ISSUER = "The issuer in the licence identifier is not a valid credit code."


def hybrid_residue(text: str) -> int:
    """ISO/IEC 7064 hybrid system M = 36: P₀ = M; Sⱼ = (Pⱼ₋₁ + aⱼ) mod M (0 read as M);
    Pⱼ = 2·Sⱼ mod (M + 1). A string with its check character is valid when the last S is 1."""
    p, s = 36, None
    for char in text:
        s = (p + ALPHABET.index(char)) % 36 or 36
        p = 2 * s % 37
    return s


def is_valid(identifier: str) -> bool:
    return hybrid_residue(identifier.replace(".", "")) == 1


def test_the_check_character_matches_the_published_example():
    # python-stdnum's ISO 7064 MOD 37,36 example.
    assert mod37_36_check_char("A12425GABC1234002") == "M"
    assert hybrid_residue("A12425GABC1234002M") == 1


@pytest.mark.parametrize(
    "text", ["0", "Z", "00000000", "ZZZZZZZZ", "12156300520JYXK", "1215630052LT0001" + ISSUER]
)
def test_the_check_character_validates_under_the_hybrid_rule(text):
    check = mod37_36_check_char(text)
    assert check in ALPHABET and len(check) == 1
    assert hybrid_residue(text + check) == 1
    # and it is the only character that does
    assert [c for c in ALPHABET if hybrid_residue(text + c) == 1] == [check]


def test_an_identifier_has_the_documented_shape():
    identifier = licence_identifier(type_code="JYXK", issuer_uscc=ISSUER, serial=42, version=3)
    body = f"1.2.156.3005.2.JYXK.{ISSUER}.00000042.003"
    assert identifier.startswith(body + ".")
    assert len(identifier) == len(body) + 2
    assert is_valid(identifier)
    assert licence_identifier_error(identifier) is None


def test_the_version_defaults_to_1_and_changes_the_check():
    first = licence_identifier(type_code="JYXK", issuer_uscc=LETTERED_ISSUER, serial=1)
    second = licence_identifier(type_code="JYXK", issuer_uscc=LETTERED_ISSUER, serial=1, version=2)
    assert first.split(".")[-2] == "001" and second.split(".")[-2] == "002"
    assert is_valid(first) and is_valid(second)
    assert licence_identifier_error(first) is None
    assert licence_identifier_error(second) is None


@pytest.mark.parametrize("issuer", [ISSUER, LETTERED_ISSUER])
def test_any_single_changed_character_is_detected(issuer):
    # Given a well-formed identifier, when any one character but a dot is replaced by any
    # other digit or capital letter, then the identifier is refused.
    identifier = licence_identifier(type_code="A1B2", issuer_uscc=issuer, serial=1234, version=2)
    changed = 0
    for index, original in enumerate(identifier):
        if original == ".":
            continue
        for char in ALPHABET:
            if char == original:
                continue
            altered = identifier[:index] + char + identifier[index + 1 :]
            assert licence_identifier_error(altered) is not None, altered
            changed += 1
    assert changed == 35 * (len(identifier) - identifier.count("."))


def test_a_changed_character_within_the_format_is_caught_by_the_check():
    # A change that keeps the shape (a serial digit) is left to the check character.
    identifier = licence_identifier(type_code="JYXK", issuer_uscc=ISSUER, serial=1234)
    altered = identifier.replace(".00001234.", ".00001235.")
    assert licence_identifier_error(altered) == WRONG_CHECK


def test_swapped_neighbours_are_detected():
    identifier = licence_identifier(type_code="JYXK", issuer_uscc=LETTERED_ISSUER, serial=1234)
    compact = [i for i, c in enumerate(identifier) if c != "."]
    for left, right in itertools.pairwise(compact):
        if identifier[left] == identifier[right] or right != left + 1:
            continue
        chars = list(identifier)
        chars[left], chars[right] = chars[right], chars[left]
        assert licence_identifier_error("".join(chars)) is not None


def _good(**overrides) -> str:
    arguments = {"type_code": "JYXK", "issuer_uscc": LETTERED_ISSUER, "serial": 7}
    return licence_identifier(**{**arguments, **overrides})


def _good_with_letter_check() -> str:
    return next(i for n in range(1, 100) if (i := _good(serial=n))[-1].isalpha())


def _with_check(body: str) -> str:
    return f"{body}.{mod37_36_check_char(body.replace('.', ''))}"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(_with_check(f"1.2.156.3005.3.JYXK.{LETTERED_ISSUER}.00000007.001"), id="root"),
        pytest.param(_with_check(f"1.2.156.3005.JYXK.{LETTERED_ISSUER}.00000007.001"), id="short"),
        pytest.param(_with_check(f"2.156.3005.2.JYXK.{LETTERED_ISSUER}.00000007.001"), id="cut"),
        pytest.param(_good().lower(), id="lower case"),
        pytest.param(
            _good_with_letter_check()[:-1] + _good_with_letter_check()[-1].lower(),
            id="lower-case check",
        ),
        pytest.param(_good()[:-2], id="missing check"),
        pytest.param(_good()[:-1], id="missing check, dot kept"),
        pytest.param(_good() + "0", id="two check characters"),
        pytest.param(_good().replace(".JYXK.", ".JY-XK."), id="type with a dash"),
        pytest.param(_good().replace(".JYXK.", ".."), id="no type"),
        pytest.param(
            _with_check(f"1.2.156.3005.2.JYXK.{LETTERED_ISSUER[:-1]}.00000007.001"),
            id="issuer of 17",
        ),
        pytest.param(
            _with_check(f"1.2.156.3005.2.JYXK.{LETTERED_ISSUER}.00000007.01"),
            id="version of 2 digits",
        ),
        pytest.param(
            _with_check(f"1.2.156.3005.2.JYXK.{LETTERED_ISSUER}.1234567890123.001"),
            id="serial of 13 digits",
        ),
        pytest.param(" " + _good(), id="leading space"),
        pytest.param(_good().replace(".", "", 1), id="dot missing"),
    ],
)
def test_a_malformed_identifier_is_refused_for_its_format(value):
    assert licence_identifier_error(value) == FORMAT


def test_a_wrong_check_character_is_refused():
    good = _good()
    wrong = next(c for c in ALPHABET if c != good[-1])
    assert licence_identifier_error(good[:-1] + wrong) == WRONG_CHECK


def test_an_issuer_that_is_not_a_credit_code_is_refused_even_with_a_right_check():
    # Given an identifier built over a code whose own MOD 31 check is wrong,
    first17 = LETTERED_ISSUER[:17]
    wrong = next(c for c in "0123456789" if c != uscc_check_char(first17))
    identifier = _good(issuer_uscc=first17 + wrong)
    # its MOD 37,36 check is right, and yet it is refused for the issuer.
    assert is_valid(identifier)
    assert licence_identifier_error(identifier) == BAD_ISSUER


def test_an_issuer_with_letters_outside_the_credit_code_alphabet_is_refused():
    # I, O, Z, S and V are not credit code characters.
    first17 = "91440604TEMPOOO42"
    identifier = _good(issuer_uscc=first17 + "1")
    assert licence_identifier_error(identifier) == BAD_ISSUER


def test_the_issuers_used_here_are_valid_credit_codes():
    assert uscc_error(ISSUER) is None and uscc_error(LETTERED_ISSUER) is None


def test_the_errors_are_plain_strings():
    assert isinstance(licence_identifier_error(""), str)
    assert isinstance(licence_identifier_error(_good()[:-1] + "0"), str)
