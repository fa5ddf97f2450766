"""How a raw value of each field type is read, and why a bad one is refused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from xinyidai.catalog.fields import (
    ID_CARD_BIRTH_DATE,
    ID_CARD_CHECK_DIGIT,
    FieldError,
    id_card_valid,
    is_blank,
    parse_value,
)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_in_every_department_format_read_the_same(day: date) -> None:
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        datetime(day.year, day.month, day.day, 9, 30),
    ]
    assert {parse_value("date", form) for form in forms} == {day.isoformat()}


@pytest.mark.parametrize("raw", ["2023-13-45", "N/A2", "2023-02-30", "yesterday", "20231345"])
def test_malformed_dates_are_refused(raw: str) -> None:
    with pytest.raises(FieldError, match="not a valid date"):
        parse_value("date", raw)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_money_round_trips_exactly(amount: Decimal) -> None:
    assert Decimal(parse_value("money", f"{amount:,}")) == amount


def test_negative_money_is_refused() -> None:
    with pytest.raises(FieldError, match="must not be less than 0"):
        parse_value("money", "-12.50")


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "NaN", "Infinity"])
def test_non_numbers_are_refused(raw: str) -> None:
    with pytest.raises(FieldError, match="not a number"):
        parse_value("money", raw)


def test_integers_accept_excel_floats_and_refuse_fractions() -> None:
    assert parse_value("integer", 12.0) == 12
    with pytest.raises(FieldError, match="not a whole number"):
        parse_value("integer", "12.5")


def test_enum_accepts_only_allowed_values() -> None:
    assert parse_value("enum", "A", allowed=["A", "B"]) == "A"
    with pytest.raises(FieldError, match="is not one of A/B"):
        parse_value("enum", "Z", allowed=["A", "B"])


def test_credit_codes_are_checked_and_normalized() -> None:
    assert parse_value("credit_code", " 91350100m000100y43 ") == "91350100M000100Y43"
    with pytest.raises(FieldError, match="wrong check character"):
        parse_value("credit_code", "91350100M000100Y44")


def test_region_and_industry_codes_are_checked() -> None:
    assert parse_value("region_code", "640104") == "640104"
    with pytest.raises(FieldError, match="unknown GB/T 2260 region code"):
        parse_value("region_code", "999999")
    with pytest.raises(FieldError, match="unknown GB/T 4754 industry code"):
        parse_value("industry_code", "ZZ")


def test_identity_numbers_carry_their_check_digit() -> None:
    assert id_card_valid("11010519491231002X")
    assert not id_card_valid("110105194912310021")
    with pytest.raises(FieldError, match="wrong check digit"):
        parse_value("id_card", "110105194912310021")


def _with_check_digit(body: str) -> str:
    """17 digits and the check character stdnum computes for them."""
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    "born",
    ["19991340", "20230229", "19990230", "19990100", "19990001", "00000101", "99991231"],
)
def test_identity_numbers_with_impossible_birth_dates_are_refused(born: str) -> None:
    number = _with_check_digit(f"110101{born}001")
    with pytest.raises(FieldError, match="invalid birth date") as refused:
        parse_value("id_card", number)
    assert refused.value.reason == ID_CARD_BIRTH_DATE
    assert "110101" not in str(refused.value)  # the number itself is not repeated


def test_the_number_of_the_report_is_refused_for_its_birth_date() -> None:
    assert ric.calc_check_digit("110101199913400016") == "6"  # its check digit is right
    with pytest.raises(FieldError, match="invalid birth date"):
        parse_value("id_card", "110101199913400016")
    assert parse_value("id_card", _with_check_digit("11010120000229001")) == (
        _with_check_digit("11010120000229001")
    )


def test_other_shapes_are_refused_as_not_eighteen_characters() -> None:
    for number in (
        "110101990101001",
        "11010119990101001",
        "1101011999010100123",
        "11010119990101001Y",
    ):
        with pytest.raises(FieldError, match="17 digits and a check digit"):
            parse_value("id_card", number)


@given(
    place=st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    order=st.integers(min_value=0, max_value=999),
)
def test_generated_valid_numbers_pass(place: str, born: date, order: int) -> None:
    number = _with_check_digit(f"{place}{born:%Y%m%d}{order:03d}")
    assert ric.get_birth_date(number) == born
    assert parse_value("id_card", number.lower()) == number


@given(
    place=st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    year=st.integers(min_value=1900, max_value=2020),
    month=st.integers(min_value=0, max_value=99),
    day=st.integers(min_value=0, max_value=99),
    order=st.integers(min_value=0, max_value=999),
)
def test_numbers_agree_with_stdnum_on_the_birth_date(
    place: str, year: int, month: int, day: int, order: int
) -> None:
    number = _with_check_digit(f"{place}{year:04d}{month:02d}{day:02d}{order:03d}")
    try:
        ric.get_birth_date(number)
    except stdnum_errors.InvalidComponent:
        with pytest.raises(FieldError) as refused:
            parse_value("id_card", number)
        assert refused.value.reason == ID_CARD_BIRTH_DATE
    else:
        assert parse_value("id_card", number) == number


@given(
    body=st.from_regex(
        r"[1-9][0-9]{5}(19[0-9]{2}|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
        fullmatch=True,
    ),
    wrong=st.sampled_from("0123456789X"),
)
def test_a_wrong_check_digit_is_refused_as_such(body: str, wrong: str) -> None:
    right = ric.calc_check_digit(body + "0")
    number = body + wrong
    if wrong == right:
        assert parse_value("id_card", number) == number
        return
    with pytest.raises(FieldError) as refused:
        parse_value("id_card", number)
    assert refused.value.reason == ID_CARD_CHECK_DIGIT
    with pytest.raises(stdnum_errors.InvalidChecksum):
        ric.validate(number)


def test_phone_numbers() -> None:
    assert parse_value("phone", "138 0013 8000") == "13800138000"
    assert parse_value("phone", "0951-5012345") == "0951-5012345"
    with pytest.raises(FieldError, match="not a valid phone number"):
        parse_value("phone", "12345")


@pytest.mark.parametrize("raw", [None, "", "  ", "-", "N/A", "无", "null"])
def test_blank_markers_count_as_blank(raw: object) -> None:
    assert is_blank(raw)


def test_booleans_in_chinese_and_english() -> None:
    assert parse_value("boolean", "是") is True
    assert parse_value("boolean", "否") is False
    with pytest.raises(FieldError):
        parse_value("boolean", "maybe")
