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
FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


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
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+86-13812345678", "+86-138****5678"),
        ("(+86)13812345678", "(+86)138****5678"),
        ("１３８１２３４５６７８", "１３８****５６７８"),
        ("0757-83331234", "0757-****1234"),
        ("(0757)83331234", "(0757)****1234"),
        ("（０７５７）８３３３１２３４", "（０７５７）****１２３４"),
        ("075783331234", "0757****1234"),
        ("020-8333 1234", "020-**** 1234"),
        ("0757-8333123", "0757-****123"),  # a 7-digit local number
        # anything else keeps its first 3 and last 2 characters
        ("400-830-8300", "400*******00"),
        ("+1 415 555 0100", "+1 **********00"),
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
    ("text", "masked"),
    [
        # mobiles in groups, behind a country code, in full width
        ("电话138 1234 5678。", "电话138 **** 5678。"),
        ("电话138-1234-5678", "电话138-****-5678"),
        ("call +86 138 1234 5678", "call +86 138 **** 5678"),
        ("call +86-13812345678", "call +86-138****5678"),
        ("call 0086 13812345678", "call 0086 138****5678"),
        ("来电１３８１２３４５６７８反映", "来电１３８****５６７８反映"),
        ("来电＋８６１３８１２３４５６７８", "来电＋８６１３８****５６７８"),
        # landlines: the area code and the end of the local number stay
        ("联系0757-83331234", "联系0757-****1234"),
        ("联系(0757)83331234", "联系(0757)****1234"),
        ("联系（0757）8333 1234", "联系（0757）**** 1234"),
        ("联系075783331234", "联系0757****1234"),
        ("联系0757－83331234。", "联系0757－****1234。"),
        ("北京010-62345678", "北京010-****5678"),
        ("广州02083331234", "广州020****1234"),
        # ID numbers written in groups
        ("身份证440604 19900101 123X", "身份证4406** ******** 123X"),
        ("身份证440604 1990 0101 123x", "身份证4406** **** **** 123x"),
        ("身份证4406 0419 9001 0112 3X", "身份证4406 **** **** **12 3X"),
        ("身份证４４０６０４１９９００１０１１２３Ｘ", "身份证４４０６**********１２３Ｘ"),
        # several in one text, side by side
        (
            "ID 44060419900101123X 13812345678 0757-83331234",
            "ID 4406**********123X 138****5678 0757-****1234",
        ),
        (
            "13812345678 44060419900101123X",
            "138****5678 4406**********123X",
        ),
    ],
)
def test_mask_text_masks_numbers_however_they_are_written(text, masked):
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
        # what hotline content is full of
        "2026-12-07上午10:30来电",
        "2026年12月7日 20261207",
        "罚款1500元，押金13800元",
        "工单GD2026120700042已转派",
        "GD2026120700042",
        "工单GD075783331234",  # letters before a landline-like run: a code, not a phone
        "季华五路18号之3、502房",
        "10:30-11:45",
        "邮编528000，电话95598",
        "第0757号文件",
        "card 6222 0212 3456 7890 123",  # a bank card in fours
        "6222 0212 3456 7890 1234 56",
        "金额 1,380,000.00",
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


@given(
    st.text(alphabet="市民来电反映，。:;=号 ", max_size=5),
    st.sampled_from(["13", "15", "17", "18", "19"]),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["", " ", "-"]),
    st.sampled_from(["", "+86", "+86 ", "+86-", "0086"]),
    st.booleans(),
    st.text(alphabet="市民来电反映，。:;=号 ", max_size=5),
)
def test_mask_text_never_leaves_a_mobile_readable(
    before, start, rest, separator, code, wide, after
):
    # Given a mobile written with or without groups, a country code and full-width digits
    number = start + rest
    written = code + separator.join((number[:3], number[3:7], number[7:]))
    if wide:
        written = written.translate(FULL_WIDTH)
    # Then only its first 3 and last 4 digits are left, the rest of the text untouched
    masked = mask_text(before + written + after)
    shown = code + separator.join((number[:3], "****", number[7:]))
    assert masked == before + (shown.translate(FULL_WIDTH) if wide else shown) + after


@given(
    st.sampled_from(["010", "020", "0757", "0571"]),
    st.sampled_from(["2", "5", "8"]),
    st.text(alphabet="0123456789", min_size=6, max_size=7),
    st.sampled_from(["{a}-{n}", "({a}){n}", "{a}{n}", "{a} {n}"]),
)
def test_mask_text_never_leaves_a_landline_readable(area, first, rest, form):
    # Given a landline of 7 or 8 digits after its area code, in one of the usual forms
    local = first + rest
    masked = mask_text("联系" + form.format(a=area, n=local) + "。")
    # Then the area code and the local number's last digits stay, its first 4 are starred
    assert masked == "联系" + form.format(a=area, n="****" + local[4:]) + "。"


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
