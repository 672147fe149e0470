"""Callers' phone numbers are stored in one form (yimen.common.identifiers.normalise_phone),
however they were typed, so the caller's history and the duplicate check find every order
from the same number."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yimen.common.identifiers import normalise_phone
from yimen.hotline import duplicates, orders, selectors
from yimen.hotline.models import WorkOrder

from .factories import Frozen, OrderScene, at

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


# --- the normal form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800001111", "13800001111"),
        ("138-0000-1111", "13800001111"),
        ("138 0000 1111", "13800001111"),
        (" 138\t0000\u30001111 ", "13800001111"),
        ("138.0000.1111", "13800001111"),
        ("１３８００００１１１１", "13800001111"),
        ("１３８－００００－１１１１", "13800001111"),
        ("138—0000—1111", "13800001111"),  # an em dash from a Chinese IME
        ("+86 138 1234 5678", "+8613812345678"),
        ("+86-13812345678", "+8613812345678"),
        ("＋８６１３８１２３４５６７８", "+8613812345678"),
        ("+8613812345678", "+8613812345678"),
        ("0757-83331234", "075783331234"),
        ("(0757)83331234", "075783331234"),
        ("（0757）8333 1234", "075783331234"),
        ("075783331234", "075783331234"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_number_is_normalised(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["138-ABCD-0000", "138+0000", "电话13800001111"])
def test_what_is_not_a_separator_stays_for_the_validation_to_refuse(typed):
    assert normalise_phone(typed) == typed.replace("-", "")


@given(
    st.text(alphabet="0123456789", min_size=5, max_size=12),
    st.lists(st.sampled_from([" ", "-", ".", "(", ")", "－", "（", "）", "\u3000"]), max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_separators_and_full_width_never_change_the_number(digits, separators, plus, wide):
    # Given a number typed with separators between its digits, perhaps in full width
    typed = list(digits)
    for position, separator in zip(range(1, len(typed), 2), separators, strict=False):
        typed[position] = separator + typed[position]
    text = ("+" if plus else "") + "".join(typed)
    if wide:
        text = text.translate(FULL_WIDTH)
    # Then its normal form is the bare number, and normalising it again changes nothing
    assert normalise_phone(text) == ("+" if plus else "") + digits
    assert normalise_phone(normalise_phone(text)) == normalise_phone(text)


# --- order_fields ----------------------------------------------------------------------------


def fields(**data) -> dict:
    values = {"order_type": "help", "content": "小区停水", **data}
    return orders.order_fields(values, order_channel="phone")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("138-0000-1111", "13800001111"),
        ("138 0000 1111", "13800001111"),
        ("１３８００００１１１１", "13800001111"),
        ("+86 138 0000 1111", "+8613800001111"),
        ("(0757)8333-1234", "075783331234"),
        ("0757-83331234", "075783331234"),
    ],
)
def test_order_fields_store_the_normal_form(typed, stored):
    assert fields(caller_phone=typed)["caller_phone"] == stored


@pytest.mark.parametrize(
    "typed",
    [
        "138-ABCD-0000",  # letters
        "138+0000-1111",  # a + inside
        "1234",  # too short
        "+86 " + "1" * 20,  # too long once the spaces are gone
    ],
)
def test_order_fields_still_refuse_what_is_no_number(typed):
    with pytest.raises(ValidationError) as error:
        fields(caller_phone=typed)
    assert set(error.value.message_dict) == {"caller_phone"}


def test_a_number_that_fits_only_without_its_separators_is_accepted():
    # 23 characters typed, 14 stored: the field's limit of 20 applies to what is stored
    assert fields(caller_phone="+86 - 138 - 0000 - 1111")["caller_phone"] == "+8613800001111"


def test_only_separators_is_no_number():
    with pytest.raises(ValidationError) as error:
        fields(caller_phone=" - ( ) ")
    assert "needs the caller" in str(error.value.message_dict["caller_phone"])


# --- registering, the history and duplicates --------------------------------------------------


@pytest.fixture
def time():
    with Frozen(at(2026, 11, 2)) as frozen:
        yield frozen


@pytest.fixture
def scene(time):
    return OrderScene()


@pytest.mark.django_db
def test_orders_typed_differently_are_one_callers_history(scene, time):
    # Given two orders from one caller, the number typed two ways
    first = scene.register(caller_phone="138-0000-1111")
    time.to(2026, 11, 3)
    second = scene.register(caller_phone="１３８ ００００ １１１１")
    # Then both are stored alike
    assert set(WorkOrder.objects.values_list("caller_phone", flat=True)) == {"13800001111"}
    # And the history of the number, however it is typed now, has both, newest first
    for typed in ("13800001111", "138 0000 1111", "(138)0000-1111"):
        assert list(selectors.caller_history(normalise_phone(typed))) == [second, first]


@pytest.mark.django_db
def test_a_duplicate_is_found_by_a_number_typed_differently(scene, time):
    # Given an open order from 0757-83331234
    earlier = scene.register(caller_phone="0757-83331234")
    time.to(2026, 11, 4)
    # When the same caller calls from (0757)8333 1234
    [candidate] = duplicates.candidates(
        content="楼下烧烤店噪音扰民", phone=normalise_phone("(0757)8333 1234")
    )
    # Then the earlier order is found for its phone
    assert candidate.order == earlier
    assert candidate.same_phone is True


@pytest.mark.django_db
def test_the_account_phone_of_a_web_caller_is_normalised(scene):
    # Given a citizen whose account holds the number as typed at sign-up
    scene.citizen.phone = "137-0013-7000"
    scene.citizen.save(update_fields=["phone"])
    # When they file an order on the web without a number
    order = scene.register(caller=scene.citizen, caller_phone="")
    # Then the order holds the account's number in its normal form
    assert WorkOrder.objects.get(pk=order.pk).caller_phone == "13700137000"


def test_a_nul_character_is_a_field_error_not_a_database_error(db):
    # Given content with a NUL (PostgreSQL cannot store it) / when checked / then it is named
    with pytest.raises(ValidationError) as raised:
        orders.order_fields(
            {"order_type": "complaint", "content": "路灯\x00不亮"}, order_channel="web"
        )
    assert "content" in raised.value.message_dict
