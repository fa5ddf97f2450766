"""The desensitization methods: pure functions of a value and its rule, no I/O.

``mask`` keeps a few characters at each end; ``mask_name`` keeps each word's first
character(s) (a Chinese name keeps its surname); ``bucket`` turns an amount into the range
it falls in; ``district`` cuts an address after its county-level division.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyidai.privacy.schemas import TypeRule

MASK = "*"
HIDDEN = "***"

_PROVINCE = re.compile(r"^.{1,10}?(?:省|自治区|特别行政区)")
_CITY = re.compile(r"^.{1,12}?(?:市|自治州|地区|盟)")
_DISTRICT = re.compile(r"^.{1,12}?(?:区|县|旗|市)")


def mask(text: str, keep_start: int, keep_end: int) -> str:
    """Keep ``keep_start`` and ``keep_end`` characters; a value too short keeps only one."""
    if len(text) <= 1:
        return MASK
    if len(text) <= keep_start + keep_end:
        return text[:1] + MASK * (len(text) - 1)
    tail = text[len(text) - keep_end :] if keep_end else ""
    return text[:keep_start] + MASK * (len(text) - keep_start - keep_end) + tail


def mask_name(text: str, keep_start: int) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; Latin names keep each word's initial (John S****)."""
    words = text.split()
    if len(words) > 1:
        return " ".join(w[:keep_start] + MASK * max(len(w) - keep_start, 1) for w in words)
    if len(text) <= keep_start:
        return text[:1] + MASK if len(text) > 1 else MASK
    return text[:keep_start] + MASK * (len(text) - keep_start)


def _plain(number: Decimal) -> str:
    return format(number.quantize(Decimal(1)) if number == number.to_integral() else number, "f")


def bucket(value: Any, edges: list[str]) -> str:
    """The range an amount falls in: ``"100000-500000"``, ``"100000000+"``, or ``"0-10000"``."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return HIDDEN
    if not amount.is_finite():
        return HIDDEN
    bounds = [Decimal(edge) for edge in edges]
    low = Decimal(0)
    for high in bounds:
        if amount < high:
            return f"{_plain(low)}-{_plain(high)}"
        low = high
    return f"{_plain(low)}+"


def district(text: str) -> str:
    """An address cut after its county-level division (区/县/旗/市), province and city kept.

    广西壮族自治区南宁市青秀区民族大道100号 → 广西壮族自治区南宁市青秀区. An address where no
    division can be told apart shows nothing but ``***``.
    """
    rest = text.strip()
    kept = ""
    for pattern in (_PROVINCE, _CITY, _DISTRICT):
        match = pattern.match(rest)
        if match:
            kept += match.group(0)
            rest = rest[match.end() :]
            if pattern is _DISTRICT:
                return kept
    return kept or HIDDEN


def apply_rule(value: Any, rule: TypeRule) -> Any:
    """``value`` as ``rule`` shows it; None stays None."""
    if value is None:
        return None
    if rule.method == "withhold":
        return None
    if rule.method == "bucket":
        return bucket(value, rule.edges)
    text = str(value)
    if rule.method == "mask":
        return mask(text, rule.keep_start, rule.keep_end)
    if rule.method == "mask_name":
        return mask_name(text, max(rule.keep_start, 1))
    return district(text)
