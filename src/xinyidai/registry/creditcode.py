"""The unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters from a 31-character alphabet (digits and capitals without I, O, S,
V, Z): registration authority (1), organization type (1), administrative region of the
registering office (6, GB/T 2260), subject identifier (9, the GB 11714 organization code),
and a check character. The check character makes the weighted sum of all eighteen
values a multiple of 31: with weights w_i = 3^i mod 31,
``check = (31 - sum(value_i * w_i) mod 31) mod 31``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import getitem
from typing import Any

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, ...

# Registration authorities and the organization types each may issue (GB 32100-2015, table 1).
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("市场监管", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class CreditCodeError(ValueError):
    """Why a string is not a valid unified social credit code; ``reason`` is a message id."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason.format(**params) if params else reason)
        self.reason = reason
        self.params = params


# Per position, each character's value times that position's weight: the weighted sum is
# then one C-level map over the code (a region's feeds check millions of codes).
_WEIGHTED = tuple({char: value * weight for char, value in _VALUE.items()} for weight in WEIGHTS)
_ALLOWED = frozenset(ALPHABET)


def check_character(first17: str) -> str:
    """The check character for the first seventeen characters of a code."""
    if len(first17) != 17:
        raise ValueError("a check character is computed from seventeen characters")
    total = sum(map(getitem, _WEIGHTED, first17))
    return ALPHABET[(31 - total % 31) % 31]


def organization_check_character(first8: str) -> str:
    """The GB 11714 check character of an organization code's first eight characters."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


@dataclass(frozen=True, slots=True)
class CreditCode:
    """A verified code and what its parts say."""

    code: str

    @property
    def authority(self) -> str:
        return self.code[0]

    @property
    def organization_type(self) -> str:
        return self.code[1]

    @property
    def region_code(self) -> str:
        return self.code[2:8]

    @property
    def organization_code(self) -> str:
        return self.code[8:17]

    @property
    def is_individual_business(self) -> bool:
        return self.code[:2] == "92"

    @property
    def is_enterprise(self) -> bool:
        return self.code[:2] == "91"

    def __str__(self) -> str:
        return self.code


def normalize(raw: str) -> str:
    """Strip spaces and fold to upper case, as a clerk's typing or a spreadsheet may need."""
    return raw.strip().replace(" ", "").upper()


def parse(raw: str) -> CreditCode:
    """Verify ``raw`` and return the code; raise ``CreditCodeError`` saying what is wrong."""
    if not isinstance(raw, str):
        raise CreditCodeError("a credit code must be text")
    code = normalize(raw)
    if not code:
        raise CreditCodeError("credit code is empty")
    if len(code) != 18:
        raise CreditCodeError("credit code must have 18 characters, got {length}", length=len(code))
    if not _ALLOWED.issuperset(code):
        bad = next(c for c in code if c not in _ALLOWED)
        raise CreditCodeError(
            "credit code contains a character not allowed by GB 32100: {char}", char=bad
        )
    if code[0] not in AUTHORITIES:
        raise CreditCodeError("unknown registration authority code {char}", char=code[0])
    if code[1] not in AUTHORITIES[code[0]][1]:
        raise CreditCodeError(
            "organization type {kind} is not issued by authority {authority}",
            kind=code[1],
            authority=code[0],
        )
    if not code[2:8].isdigit():
        raise CreditCodeError("the region part of a credit code must be six digits")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            "wrong check character: expected {expected}, got {actual}",
            expected=expected,
            actual=code[17],
        )
    return CreditCode(code)


# The same checks over many codes at once, as array arithmetic. Each position has its own
# table from byte to value: the region's six positions take digits only, and a byte that
# is not allowed at a position is worth _BAD, so one matrix product gives every code both
# its weighted sum and whether any character was out of place.
_BAD = 1_000_000.0
_VALUES_AT = np.full((18, 256), _BAD)
for _position in range(18):
    for _char, _value in _VALUE.items():
        if 2 <= _position < 8 and not _char.isdigit():
            continue
        _VALUES_AT[_position, ord(_char)] = _value
_POSITION_VALUES = _VALUES_AT.reshape(-1)
_POSITION_OFFSETS = np.arange(18, dtype=np.intp) * 256
_SUMS = np.zeros((18, 2))
_SUMS[:17, 0] = WEIGHTS  # the weighted sum of the first seventeen
_SUMS[:, 1] = 1.0  # every value: _BAD or more where any character is out of place
_PAIR_ISSUED = np.zeros(256 * 256, dtype=bool)
for _authority, (_, _kinds) in AUTHORITIES.items():
    for _kind in _kinds:
        _PAIR_ISSUED[ord(_authority) * 256 + ord(_kind)] = True
_FILLER = "0" * 18  # stands in for a code of the wrong shape, which is turned down anyway


def valid_many(codes: Sequence[str]) -> list[bool]:
    """Whether each of ``codes`` (already normalized) passes every check of ``parse``.

    One pass of array arithmetic over a whole chunk of a feed instead of a Python call per
    code; a code it turns down is parsed alone to say why.
    """
    if not codes:
        return []
    text = "".join(codes)
    if len(text) == 18 * len(codes) and text.isascii() and set(map(len, codes)) == {18}:
        shaped = None
    else:
        shaped = [len(code) == 18 and code.isascii() for code in codes]
        text = "".join(code if ok else _FILLER for code, ok in zip(codes, shaped, strict=True))
    table = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(len(codes), 18)
    values = _POSITION_VALUES[table + _POSITION_OFFSETS]
    sums = values @ _SUMS
    pairs = table[:, 0].astype(np.intp) * 256 + table[:, 1]
    good: list[bool] = (
        (sums[:, 1] < _BAD) & _PAIR_ISSUED[pairs] & ((31 - sums[:, 0] % 31) % 31 == values[:, 17])
    ).tolist()
    if shaped is None:
        return good
    return [ok and passed for ok, passed in zip(shaped, good, strict=True)]


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except CreditCodeError:
        return False
    return True


def make(prefix17: str) -> str:
    """Complete seventeen characters into a valid code (generators and tests)."""
    return prefix17 + check_character(prefix17)
