"""Masking of personal data on screen and in logs."""

import io
import logging

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from yimen.common.identifiers import citizen_id_check_char
from yimen.common.logging import MaskPersonalDataFilter
from yimen.common.masking import mask_citizen_id, mask_name, mask_phone, mask_text

ID_NUMBER = "44060419900101123X"
MASKED_ID = "4406**********123X"


# --- single values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (ID_NUMBER, MASKED_ID),
        ("11010519491231002x", "1101**********002x"),
        ("440604199001010018", "4406**********0018"),
        ("440604900101123", "4406*******1123"),  # an old 15-digit number
        ("12345678", "********"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_citizen_id(value, masked):
    assert mask_citizen_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("19900001111", "199****1111"),
        ("0757-83331234", "075********34"),
        ("12345", "*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("王", "王"),
        ("李四", "李*"),
        ("张小三", "张*三"),
        ("欧阳娜娜", "欧**娜"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


# --- free text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"applicant {ID_NUMBER} phone 13812345678", f"applicant {MASKED_ID} phone 138****5678"),
        (
            f"身份证号：{ID_NUMBER}，电话13812345678。",
            f"身份证号：{MASKED_ID}，电话138****5678。",
        ),
        ("id=44060419900101123x;", "id=4406**********123x;"),
        (f"({ID_NUMBER})", f"({MASKED_ID})"),
        ("call +8613812345678", "call +86138****5678"),
        ("mobile:13812345678", "mobile:138****5678"),
        ("ticket A13812345678B2", "ticket A138****5678B2"),  # only digits extend a mobile
    ],
)
def test_mask_text_masks_id_numbers_and_mobiles(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "card 6222021234567890123 paid",  # 19 digits: a bank card, not an ID number
        "ref 62220212345678901234",  # 20 digits
        "ref 1381234567812345678",  # 19 digits that start like a mobile
        "case 440604-20261123-00017 accepted",
        "case 440604-20261123-00017",
        "order 138123456789",  # 12 digits
        "no personal data here",
        "",
    ],
)
def test_mask_text_leaves_other_numbers_alone(text):
    assert mask_text(text) == text


@given(
    st.text(alphabet=" ，。:;()=号", max_size=5),
    st.sampled_from(["11", "31", "44", "65"]),
    st.text(alphabet="0123456789", min_size=15, max_size=15),
    st.text(alphabet=" ，。:;()=号", max_size=5),
)
def test_mask_text_never_leaves_an_id_number_readable(before, province, digits, after):
    body = province + digits
    number = body + citizen_id_check_char(body)
    masked = mask_text(before + number + after)
    assert number not in masked
    assert masked == before + mask_citizen_id(number) + after


# --- the logging filter --------------------------------------------------------------


@pytest.fixture
def masked_log():
    """A logger writing through a handler that carries the filter, like the console."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalDataFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("yimen.tests.masking")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_the_filter_masks_a_formatted_log_record(masked_log):
    logger, stream = masked_log
    logger.info("applicant %s called from %s", ID_NUMBER, "13812345678")
    assert stream.getvalue() == f"INFO applicant {MASKED_ID} called from 138****5678\n"


def test_the_filter_masks_mapping_arguments_and_plain_messages(masked_log):
    logger, stream = masked_log
    logger.warning("lookup %(id)s", {"id": ID_NUMBER})
    logger.warning(f"direct {ID_NUMBER} 100%")
    logger.warning("case %s", "440604-20261123-00017")
    assert stream.getvalue().splitlines() == [
        f"WARNING lookup {MASKED_ID}",
        f"WARNING direct {MASKED_ID} 100%",
        "WARNING case 440604-20261123-00017",
    ]


def test_the_filter_masks_a_traceback(masked_log):
    logger, stream = masked_log
    try:
        raise ValueError(f"no applicant with ID {ID_NUMBER} or phone 13812345678")
    except ValueError:
        logger.exception("lookup failed")
    output = stream.getvalue()
    assert "Traceback" in output
    assert f"ValueError: no applicant with ID {MASKED_ID} or phone 138****5678" in output
    assert ID_NUMBER not in output
    assert "13812345678" not in output


def test_the_filter_lets_a_malformed_record_through():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("only one",), None)
    assert MaskPersonalDataFilter().filter(record) is True
    assert (record.msg, record.args) == ("%s %s", ("only one",))


def test_the_filter_works_with_caplog(caplog):
    caplog.handler.addFilter(MaskPersonalDataFilter())
    try:
        with caplog.at_level(logging.INFO, logger="yimen.tests.masking.caplog"):
            logging.getLogger("yimen.tests.masking.caplog").info("phone %s", "13812345678")
    finally:
        caplog.handler.filters.clear()
    assert caplog.messages == ["phone 138****5678"]
    assert "13812345678" not in caplog.text


def test_the_console_handler_carries_the_filter():
    assert "mask_personal" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["mask_personal"]["()"] == (
        "yimen.common.logging.MaskPersonalDataFilter"
    )
    console = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters)
    ]
    assert console, "the root logger has no handler with the masking filter"
