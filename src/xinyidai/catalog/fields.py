"""Field types of the catalogue and how a raw value of each is read and checked.

A department sends text (CSV), numbers and dates (Excel) or JSON values; ``parse_value``
turns any of them into the one canonical Python value of the field's type, or raises
``FieldError`` with a message id saying why. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from xinyidai.core import clock
from xinyidai.registry import codes, creditcode

TYPES = (
    "string",
    "text",
    "integer",
    "decimal",
    "money",
    "percent",
    "date",
    "boolean",
    "enum",
    "credit_code",
    "region_code",
    "industry_code",
    "person_name",
    "id_card",
    "phone",
    "address",
)

# Types whose values are personal information of natural persons (PIPL): desensitized in views
# that are not entitled to the raw value.
PERSONAL_TYPES = frozenset({"person_name", "id_card", "phone"})
# The longest text each text type takes, in characters.
TEXT_LIMITS = {"string": 500, "person_name": 500, "address": 500, "text": 4000}

# Control characters (C0 but tab, line feed and carriage return; DEL; C1): no name, address
# or note holds one, PostgreSQL cannot store NUL in text at all, and they hide in names.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
BLANKS = frozenset({"", "-", "--", "—", "null", "none", "n/a", "na", "无", "空"})
_TRUE = frozenset({"1", "true", "yes", "y", "是", "有", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "否", "无", "f"})
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_ID_CARD = re.compile(r"[0-9]{17}[0-9X]")
_PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class FieldError(ValueError):
    """Why one value does not fit its field; ``reason`` is an English message id."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason.format(**params) if params else reason)
        self.reason = reason
        self.params = params


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in BLANKS
    return False


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: object) -> date:
    """A date from ISO, slashes, dots, 年月日, eight digits, or an Excel date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    if "T" in text or " " in text:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            pass
    raise FieldError("not a valid date: {value}", value=text[:40])


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise FieldError("not a number: {value}", value=str(value))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    elif value.__class__ is str and _PLAIN_NUMBER.fullmatch(value):
        number = Decimal(value)  # the common case, without the clean-up below
    else:
        text = _text(value).replace(",", "").replace("，", "").replace("¥", "").replace("元", "")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise FieldError("not a number: {value}", value=text[:40]) from exc
    if not number.is_finite():
        raise FieldError("not a number: {value}", value=str(number))
    return number


ID_CARD_FORMAT = "not a valid resident identity number: 17 digits and a check digit (0-9 or X)"
ID_CARD_BIRTH_DATE = "not a valid resident identity number: invalid birth date"
ID_CARD_CHECK_DIGIT = "not a valid resident identity number: wrong check digit"


def id_card_fault(text: str) -> str | None:
    """Why ``text`` is not an 18-character resident identity number (GB 11643-1999), as a
    message id, or None when it is one.

    Six digits of the place, the birth date as YYYYMMDD, three digits of order and the
    ISO 7064 MOD 11-2 check character. The birth date must be a real day, as
    ``stdnum.cn.ric`` checks it (the tests hold the two equal), and not after today.
    stdnum's other check, that the place was a county in the year of birth, is left out:
    it refuses the residence-permit numbers of Hong Kong, Macao and Taiwan residents
    (810000 and 820000 for anyone born before 1997 or 1999, 830000 always), and its
    look-up costs about ten times this whole check (measured side by side; ingest checks
    hundreds of thousands of rows).
    The 15-digit numbers of first-generation cards (no check character, invalid since
    2013) are refused as not 18 characters.
    """
    if _ID_CARD.fullmatch(text) is None:
        return ID_CARD_FORMAT
    born = text[6:14]
    try:
        birthday = date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return ID_CARD_BIRTH_DATE
    if birthday > clock.today():
        return ID_CARD_BIRTH_DATE
    # ISO 7064 MOD 11-2. The weights 2^(17-i) mod 11 are twice the powers of 13 ≡ 2
    # (mod 11) that reading the 17 digits in base 13 applies, which Python does in C.
    if "0123456789X"[(1 - 2 * int(text[:17], 13)) % 11] != text[17]:
        return ID_CARD_CHECK_DIGIT
    return None


def id_card_valid(text: str) -> bool:
    """Whether ``text`` is a resident identity number (``id_card_fault`` finds nothing)."""
    return id_card_fault(text) is None


Parser = Callable[[object], Any]


def _text_parser(limit: int) -> Parser:
    def parse(value: object) -> str:
        text = value.strip() if isinstance(value, str) else _text(value)
        if len(text) > limit:
            raise FieldError("text longer than {limit} characters", limit=limit)
        control = CONTROL_CHARACTERS.search(text)
        if control is not None:
            raise FieldError(
                "text holds a control character (U+{code}) at character {position}",
                code=f"{ord(control.group()):04X}",
                position=control.start() + 1,
            )
        return text

    return parse


def _integer_parser(minimum: Any) -> Parser:
    floor = None if minimum is None else Decimal(str(minimum))

    def parse(value: object) -> int:
        if value.__class__ is str and value.isascii() and value.isdigit():
            whole = int(value)  # the common case: plain digits, no Decimal needed
        else:
            number = parse_decimal(value)
            if number != number.to_integral_value():
                raise FieldError("not a whole number: {value}", value=str(value)[:40])
            whole = int(number)
        if floor is not None and whole < floor:
            raise FieldError("must not be less than {minimum}", minimum=minimum)
        return whole

    return parse


def _number_parser(field_type: str, minimum: Any) -> Parser:
    floor = Decimal(str(minimum)) if minimum is not None else None
    if field_type == "money" and floor is None:
        floor = Decimal(0)
    cents = Decimal("0.01")

    def parse(value: object) -> str:
        number = parse_decimal(value)
        if floor is not None and number < floor:
            raise FieldError("must not be less than {minimum}", minimum=floor)
        if field_type == "money":
            try:
                number = number.quantize(cents)
            except InvalidOperation as exc:  # more digits than an amount can carry
                raise FieldError("amount too large: {value}", value=str(value)[:40]) from exc
        return str(number)

    return parse


def _date(value: object) -> str:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    return parse_date(value).isoformat()


def stored_date(value: object) -> date | None:
    """A date field of a stored record (ISO text, as ``_date`` wrote it); None when the
    field is absent, blank or not a date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _boolean(value: object) -> bool:
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError("not a yes/no value: {value}", value=text[:40])


def _enum_parser(allowed: list[str] | None) -> Parser:
    permitted = frozenset(allowed or ())

    def parse(value: object) -> str:
        text = _text(value)
        if permitted and text not in permitted:
            raise FieldError(
                "{value} is not one of {allowed}", value=text[:40], allowed="/".join(allowed or ())
            )
        return text

    return parse


@lru_cache(maxsize=1 << 16)
def _verified_code(text: str) -> str:
    # A region's feeds name each subject many times: check each spelling once.
    return creditcode.parse(text).code


def _credit_code(value: object) -> str:
    try:
        return _verified_code(_text(value))
    except creditcode.CreditCodeError as exc:
        raise FieldError(exc.reason, **exc.params) from exc


def _region(value: object) -> str:
    text = _text(value)
    if not codes.is_region(text):
        raise FieldError("unknown GB/T 2260 region code {value}", value=text[:20])
    return text


def _industry(value: object) -> str:
    text = _text(value).upper()
    if not codes.is_industry(text):
        raise FieldError("unknown GB/T 4754 industry code {value}", value=text[:20])
    return text


def _id_card(value: object) -> str:
    text = _text(value).upper()
    fault = id_card_fault(text)
    if fault is not None:
        raise FieldError(fault)
    return text


def _phone(value: object) -> str:
    text = _text(value).replace(" ", "")
    if not _PHONE.match(text):
        raise FieldError("not a valid phone number: {value}", value=text[:20])
    return text


def parser_for(field_type: str, *, allowed: list[str] | None = None, minimum: Any = None) -> Parser:
    """A function that reads one raw value of ``field_type`` (built once per field)."""
    if field_type in TEXT_LIMITS:
        return _text_parser(TEXT_LIMITS[field_type])
    if field_type == "integer":
        return _integer_parser(minimum)
    if field_type in ("decimal", "money", "percent"):
        return _number_parser(field_type, minimum)
    fixed: dict[str, Parser] = {
        "date": _date,
        "boolean": _boolean,
        "credit_code": _credit_code,
        "region_code": _region,
        "industry_code": _industry,
        "id_card": _id_card,
        "phone": _phone,
    }
    if field_type in fixed:
        return fixed[field_type]
    if field_type == "enum":
        return _enum_parser(allowed)
    raise FieldError("unknown field type {type}", type=field_type)


def parse_value(
    field_type: str, value: object, *, allowed: list[str] | None = None, minimum: Any = None
) -> Any:
    """The canonical value of ``value`` as ``field_type`` (JSON-friendly); ``FieldError`` if not."""
    return parser_for(field_type, allowed=allowed, minimum=minimum)(value)
