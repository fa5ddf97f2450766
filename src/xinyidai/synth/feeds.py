"""The department feeds: what each file holds, its Chinese headers, and how rows are drawn.

A feed builder turns one block of enterprises into columns (lists in header order). Values
are already in the feed's own shape except amounts, kept as integer fen until a writer
renders them (text with two decimals in CSV, numbers in JSON and Excel). Each builder
draws from its own stream ``(seed, "feed", category, block)``; facts two feeds must agree
on (court cases) come from a shared stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np

from xinyidai.synth import vocabulary as words
from xinyidai.synth.enterprises import (
    AS_OF,
    AS_OF_DAY,
    NO_GRADE,
    RATED_YEAR,
    TAX_GRADES,
    Block,
    geography,
)
from xinyidai.synth.randomness import stream

Columns = list[list[Any]]

FIRST_DAY = date(1980, 1, 1).toordinal()
LAST_DAY = date(2040, 12, 31).toordinal()
DATE_STYLES = ("iso", "slash", "chinese")


class ColumnKind(StrEnum):
    """What a feed's column holds: how its values are drawn, rendered and spoiled."""

    CODE = "code"
    REGION = "region"
    INDUSTRY = "industry"
    DATE = "date"
    AMOUNT = "amount"
    INTEGER = "integer"
    PERCENT = "percent"
    YEAR = "year"
    ENUM = "enum"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a feed as the department sends it."""

    header: str
    kind: ColumnKind
    meaning: str
    unit: str = ""
    required: bool = False


@dataclass(frozen=True)
class FeedSpec:
    """One department's file for one information category."""

    provider: str
    category: str
    department: str
    title: str
    format: str  # csv, xlsx, json, jsonl
    encoding: str  # utf-8, utf-8-sig, gb18030 (CSV); JSON and Excel are UTF-8
    date_style: str
    columns: tuple[Column, ...]
    build: Callable[[Block, int, str], Columns]
    lane: int  # which of two worker processes writes it
    line_end: str = "\n"

    @property
    def path(self) -> str:
        return f"feeds/{self.provider}/{self.category}.{self.format}"

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def role(self, kind: ColumnKind) -> int | None:
        """The first required column of a kind: where a planted fault of that kind goes."""
        for index, column in enumerate(self.columns):
            if column.kind == kind and column.required:
                return index
        return None

    @property
    def required(self) -> list[int]:
        return [index for index, column in enumerate(self.columns) if column.required]


@lru_cache(maxsize=3)
def _date_table(style: str) -> np.ndarray:
    days = [date.fromordinal(d) for d in range(FIRST_DAY, LAST_DAY + 1)]
    if style == "iso":
        text = [d.isoformat() for d in days]
    elif style == "slash":
        text = [f"{d.year}/{d.month:02d}/{d.day:02d}" for d in days]
    else:
        text = [f"{d.year}年{d.month}月{d.day}日" for d in days]
    return np.array(text, dtype=object)


def dates(style: str, ordinals: np.ndarray) -> list[str]:
    """Date ordinals as text in a department's style."""
    clipped = np.clip(np.asarray(ordinals, dtype=np.int64), FIRST_DAY, LAST_DAY)
    return list(_date_table(style)[clipped - FIRST_DAY])


def _rng(seed: int, category: str, block: Block) -> np.random.Generator:
    return stream(seed, "feed", category, block.number)


@lru_cache(maxsize=4096)
def _office(c: int, suffix: str) -> str:
    """A county-level office: 银川市兴庆区市场监督管理局, 灵武市市场监督管理局."""
    geo = geography()
    county = geo.counties[c].name
    prefecture = geo.prefecture_names[c]
    return (prefecture + county if county.endswith("区") else county) + suffix


def _round_fen(values: np.ndarray, step_yuan: int = 1) -> np.ndarray:
    """Yuan amounts rounded to ``step_yuan`` and expressed in fen."""
    return (np.round(np.asarray(values, dtype=float) / step_yuan) * step_yuan * 100).astype(
        np.int64
    )


def _cents(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Yuan amounts with random fen, in fen."""
    return (np.asarray(values, dtype=float) * 100).astype(np.int64) + rng.integers(
        0, 100, len(values)
    )


def _region(block: Block, rows: np.ndarray) -> list[str]:
    counties = geography().counties
    return [counties[c].code for c in block.county[rows].tolist()]


def _until(texts: list[str], happened: np.ndarray) -> list[str | None]:
    """Dates of events that have happened by the snapshot day; empty for later ones."""
    return [t if d <= AS_OF_DAY else None for t, d in zip(texts, happened.tolist(), strict=True)]


def _pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> list[str]:
    return [pool[i] for i in rng.integers(0, len(pool), n).tolist()]


def _take(values: list[str], rows: np.ndarray) -> list[str]:
    return [values[i] for i in rows.tolist()]


# ---------------------------------------------------------------------- market regulation
MARKET_TYPES = {2: "个体工商户", 3: "农民专业合作社"}


def build_registration(block: Block, seed: int, style: str) -> Columns:
    geo = geography()
    rows = np.arange(len(block))
    kind_text = [
        words.ENTERPRISE_FORMS[f][1] if k == 1 else MARKET_TYPES[k]
        for k, f in zip(block.kind.tolist(), block.form.tolist(), strict=True)
    ]
    return [
        block.credit_code,
        block.name,
        kind_text,
        block.representative,
        block.capital_fen.tolist(),
        dates(style, block.established),
        block.address,
        _region(block, rows),
        [geo.industries[i].code for i in block.industry.tolist()],
        [_office(c, "市场监督管理局") for c in block.county.tolist()],
        ["存续（在营、开业、在册）"] * len(block),
        block.phone,
    ]


def build_shareholder(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "shareholder", block)
    owner = block.sh_owner
    amount = block.capital_fen[owner] * block.sh_ratio_bp // 10_000
    later = rng.random(len(owner)) < 0.2
    when = block.established[owner] + np.where(later, rng.integers(30, 1500, len(owner)), 0)
    when = np.minimum(when, AS_OF_DAY)
    corporate = block.sh_corporate.tolist()
    return [
        _take(block.credit_code, owner),
        _take(block.name, owner),
        block.sh_name,
        ["企业法人" if c else "自然人股东" for c in corporate],
        ["统一社会信用代码" if c else "非公示项" for c in corporate],
        block.sh_code,
        amount.tolist(),
        [f"{r // 100}.{r % 100:02d}" for r in block.sh_ratio_bp.tolist()],
        dates(style, when),
    ]


def build_abnormal_operation(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "abnormal_operation", block)
    n = len(block)
    removed = (block.kind != 2) & ~block.abnormal & (rng.random(n) < 0.03)
    rows = np.flatnonzero(block.abnormal | removed)
    listed = AS_OF_DAY - rng.integers(20, 3 * 365, len(rows))
    listed = np.minimum(np.maximum(listed, block.established[rows] + 180), AS_OF_DAY)
    is_removed = removed[rows]
    removed_on = np.minimum(listed + rng.integers(30, 400, len(rows)), AS_OF_DAY)
    reason = rng.integers(0, len(words.ABNORMAL_REASONS), len(rows))
    removal_text = [
        words.ABNORMAL_REMOVALS[min(r, len(words.ABNORMAL_REMOVALS) - 1)] for r in reason.tolist()
    ]
    removed_dates = dates(style, removed_on)
    return [
        _take(block.credit_code, rows),
        _take(block.name, rows),
        [words.ABNORMAL_REASONS[r] for r in reason.tolist()],
        dates(style, listed),
        [_office(c, "市场监督管理局") for c in block.county[rows].tolist()],
        [d if r else None for d, r in zip(removed_dates, is_removed.tolist(), strict=True)],
        [t if r else None for t, r in zip(removal_text, is_removed.tolist(), strict=True)],
        _region(block, rows),
    ]


# -------------------------------------------------------------------------------- tax
def build_tax_rating(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "tax_rating", block)
    rows = np.flatnonzero(block.tax_grade != NO_GRADE)
    published = date(RATED_YEAR + 1, 4, 10).toordinal() + rng.integers(0, 15, len(rows))
    return [
        _take(block.credit_code, rows),
        _take(block.name, rows),
        [RATED_YEAR] * len(rows),
        [TAX_GRADES[g] for g in block.tax_grade[rows].tolist()],
        ["国家税务总局" + _office(c, "税务局") for c in block.county[rows].tolist()],
        _region(block, rows),
        dates(style, published),
    ]


def build_tax_payment(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "tax_payment", block)
    year = AS_OF.year
    h1 = (date(year, 1, 1).toordinal(), date(year, 6, 30).toordinal())
    # paid by the 15th of the next month, so the snapshot's own month is not in yet
    h2 = (date(year, 7, 1).toordinal(), date(year, 11, 30).toordinal())
    last = (date(year - 1, 1, 1).toordinal(), date(year - 1, 12, 31).toordinal())
    owners: list[np.ndarray] = []
    items: list[str] = []
    periods: list[tuple[int, int]] = []
    for kinds, item, period in (
        ((1, 2), "增值税", h1),
        ((1, 2), "增值税", h2),
        ((1,), "企业所得税", last),
    ):
        mask = np.isin(block.kind, kinds) & (block.established < period[1])
        chosen = np.flatnonzero(mask)
        owners.append(chosen)
        items.extend([item] * len(chosen))
        periods.extend([period] * len(chosen))
    rows = np.concatenate(owners)
    n = len(rows)
    start = np.array([p[0] for p in periods], dtype=np.int64)
    end = np.array([p[1] for p in periods], dtype=np.int64)
    base = block.capital_fen[rows] / 100 * 0.01 + block.employees[rows] * 4000.0 + 500.0
    paid = _cents(rng, base * rng.lognormal(0.0, 0.8, n))
    grade = block.tax_grade[rows]
    owing = ((grade >= 3) & (rng.random(n) < 0.3)) | (rng.random(n) < 0.01)
    arrears = np.where(owing, (paid * rng.uniform(0.1, 0.8, n)).astype(np.int64), 0)
    paid_on = end + rng.integers(5, 20, n) + np.where(np.array(items) == "企业所得税", 120, 0)
    return [
        _take(block.credit_code, rows),
        _take(block.name, rows),
        items,
        dates(style, start),
        dates(style, end),
        paid.tolist(),
        arrears.tolist(),
        dates(style, paid_on),
        ["国家税务总局" + _office(c, "税务局") for c in block.county[rows].tolist()],
        _region(block, rows),
    ]


# ------------------------------------------------------------------ social insurance, fund
def build_social_insurance(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "social_insurance", block)
    rows = np.flatnonzero(block.si_insured)
    people = np.maximum(block.employees[rows], 1)
    due = _cents(rng, people * 12 * rng.uniform(1100.0, 1600.0, len(rows)))
    months = block.si_arrears[rows]
    owed = due * months // 12
    status = ["正常参保" if m == 0 else "欠费" for m in months.tolist()]
    return [
        _take(block.credit_code, rows),
        _take(block.name, rows),
        _region(block, rows),
        [AS_OF.year] * len(rows),
        people.tolist(),
        due.tolist(),
        (due - owed).tolist(),
        owed.tolist(),
        months.tolist(),
        status,
        dates(style, np.full(len(rows), AS_OF_DAY)),
    ]


def build_housing_fund(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "housing_fund", block)
    n = len(block)
    joins = np.where(block.kind == 1, (block.employees >= 3) & (rng.random(n) < 0.6), False)
    joins |= (block.kind == 3) & (rng.random(n) < 0.1)
    rows = np.flatnonzero(joins)
    people = np.maximum(block.employees[rows], 1)
    monthly = _cents(rng, people * rng.uniform(300.0, 900.0, len(rows)))
    late = (block.si_arrears[rows] > 0) & (rng.random(len(rows)) < 0.7)
    months = np.where(late, np.minimum(block.si_arrears[rows], 12), 0)
    status = np.where(late, "欠缴", np.where(rng.random(len(rows)) < 0.03, "缓缴", "正常"))
    last_paid = AS_OF_DAY - months * 30 - rng.integers(0, 20, len(rows))
    return [
        _take(block.name, rows),
        _take(block.credit_code, rows),
        _region(block, rows),
        people.tolist(),
        monthly.tolist(),
        status.tolist(),
        months.tolist(),
        dates(style, last_paid),
    ]


# ---------------------------------------------------------- licences and penalties (双公示)
def build_admin_licence(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "admin_licence", block)
    n = len(block)
    rate = np.where(block.kind == 1, 0.12, np.where(block.kind == 2, 0.10, 0.05))
    counts = np.where(rng.random(n) < rate, 1 + (rng.random(n) < 0.15), 0)
    rows = np.repeat(np.arange(n), counts)
    serial = (block.start + rows) * 2 + (
        np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    which = rng.integers(0, len(words.LICENCES), len(rows))
    decided = np.maximum(AS_OF_DAY - rng.integers(0, 5 * 365, len(rows)), block.established[rows])
    valid_years = rng.integers(3, 6, len(rows))
    return [
        _take(block.name, rows),
        _take(block.credit_code, rows),
        _take(block.representative, rows),
        [
            f"宁审许字〔{date.fromordinal(d).year}〕{s:08d}号"
            for d, s in zip(decided.tolist(), serial.tolist(), strict=True)
        ],
        [words.LICENCES[w][1] for w in which.tolist()],
        [words.LICENCES[w][0] for w in which.tolist()],
        dates(style, decided),
        dates(style, decided),
        dates(style, decided + valid_years * 365),
        [
            _office(c, words.LICENCES[w][2])
            for c, w in zip(block.county[rows].tolist(), which.tolist(), strict=True)
        ],
        _region(block, rows),
    ]


def build_admin_penalty(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "admin_penalty", block)
    counts = block.penalties
    rows = np.repeat(np.arange(len(block)), counts)
    serial = (block.start + rows) * 16 + (
        np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    which = rng.integers(0, len(words.PENALTIES), len(rows))
    kind = [words.PENALTIES[w][1] for w in which.tolist()]
    fine = _round_fen(rng.lognormal(np.log(5000), 1.0, len(rows)), 100)
    fine = np.where(np.array(kind) == "警告", 0, fine)
    decided = np.maximum(AS_OF_DAY - rng.integers(0, 3 * 365, len(rows)), block.established[rows])
    offices = [
        _office(c, words.PENALTIES[w][2])
        for c, w in zip(block.county[rows].tolist(), which.tolist(), strict=True)
    ]
    return [
        _take(block.name, rows),
        _take(block.credit_code, rows),
        _take(block.representative, rows),
        [
            f"宁罚字〔{date.fromordinal(d).year}〕{s:09d}号"
            for d, s in zip(decided.tolist(), serial.tolist(), strict=True)
        ],
        [words.PENALTIES[w][0] for w in which.tolist()],
        kind,
        fine.tolist(),
        dates(style, decided),
        offices,
        _region(block, rows),
        offices,
    ]


# ------------------------------------------------------------------------------ courts
@dataclass
class _Cases:
    rows: np.ndarray
    number: list[str]
    court: list[str]
    filed: np.ndarray
    amount_fen: np.ndarray
    first: np.ndarray  # the first case of each enforced enterprise


def _court(c: int) -> str:
    return _office(c, "人民法院")


def _cases(block: Block, seed: int) -> _Cases:
    rng = stream(seed, "court", block.number)
    counts = block.enforcement
    rows = np.repeat(np.arange(len(block)), counts)
    j = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    filed = np.maximum(
        AS_OF_DAY - rng.integers(0, 3 * 365, len(rows)), block.established[rows] + 90
    )
    filed = np.minimum(filed, AS_OF_DAY)
    amount = _cents(rng, rng.lognormal(np.log(200_000), 1.2, len(rows)))
    counties = geography().counties
    number = [
        f"（{date.fromordinal(d).year}）宁{counties[c].code[2:]}执{(block.start + r) * 8 + k}号"
        for d, c, r, k in zip(
            filed.tolist(), block.county[rows].tolist(), rows.tolist(), j.tolist(), strict=True
        )
    ]
    return _Cases(
        rows, number, [_court(c) for c in block.county[rows].tolist()], filed, amount, j == 0
    )


def build_court_enforcement(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "court_enforcement", block)
    cases = _cases(block, seed)
    state = np.array(["执行中", "终结本次执行", "已结案"])[
        rng.choice(3, len(cases.rows), p=[0.6, 0.25, 0.15])
    ]
    return [
        cases.number,
        _take(block.name, cases.rows),
        _take(block.credit_code, cases.rows),
        cases.court,
        dates(style, cases.filed),
        cases.amount_fen.tolist(),
        state.tolist(),
        _region(block, cases.rows),
    ]


def build_dishonest_debtor(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "dishonest_debtor", block)
    cases = _cases(block, seed)
    pick = np.flatnonzero(cases.first & block.dishonest[cases.rows])
    rows = cases.rows[pick]
    n = len(rows)
    published = np.minimum(cases.filed[pick] + rng.integers(60, 400, n), AS_OF_DAY)
    geo = geography()
    return [
        [cases.number[i] for i in pick.tolist()],
        _take(block.name, rows),
        _take(block.credit_code, rows),
        _take(block.representative, rows),
        [cases.court[i] for i in pick.tolist()],
        [geo.province_name] * n,
        _region(block, rows),
        [
            f"（{date.fromordinal(d).year - 1}）宁{c}民初{s}号"
            for d, c, s in zip(
                cases.filed[pick].tolist(),
                [r[2:] for r in _region(block, rows)],
                rng.integers(100, 9999, n).tolist(),
                strict=True,
            )
        ],
        dates(style, cases.filed[pick]),
        dates(style, published),
        _pick(rng, words.DISHONEST_CONDUCTS, n),
        np.where(rng.random(n) < 0.8, "全部未履行", "部分未履行").tolist(),
        cases.amount_fen[pick].tolist(),
    ]


# ----------------------------------------------------------------------------- utilities
UTILITIES = (("电力", "E", "供电公司"), ("自来水", "W", "供水公司"), ("天然气", "G", "燃气公司"))


def build_utility_payment(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "utility_payment", block)
    n = len(block)
    has = np.stack(
        [
            rng.random(n) < 0.95,
            rng.random(n) < 0.4,
            rng.random(n) < np.where(block.kind == 2, 0.1, 0.2),
        ],
        axis=1,
    )
    rows, kind = np.nonzero(has)  # row-major: an enterprise's accounts stay together
    start = np.maximum(date(AS_OF.year, 1, 1).toordinal(), block.established[rows])
    scale = np.array([24_000.0, 3_000.0, 6_000.0])[kind]
    due = _cents(rng, scale * (1 + block.employees[rows] / 5) * rng.lognormal(0, 0.7, len(rows)))
    months = np.where(kind == 0, block.utility_arrears[rows], 0)
    months = np.where(
        (kind > 0) & (block.utility_arrears[rows] > 0) & (rng.random(len(rows)) < 0.3), 1, months
    )
    owed = due * months // 12
    geo = geography()
    return [
        [
            f"{UTILITIES[k][1]}{(block.start + r) * 3 + k:011d}"
            for r, k in zip(rows.tolist(), kind.tolist(), strict=True)
        ],
        _take(block.name, rows),
        _take(block.credit_code, rows),
        [UTILITIES[k][0] for k in kind.tolist()],
        dates(style, start),
        dates(style, np.full(len(rows), AS_OF_DAY)),
        due.tolist(),
        (due - owed).tolist(),
        owed.tolist(),
        months.tolist(),
        [
            geo.prefecture_names[c] + UTILITIES[k][2]
            for c, k in zip(block.county[rows].tolist(), kind.tolist(), strict=True)
        ],
        _region(block, rows),
    ]


# ---------------------------------------------------------------- customs, IP, procurement
def _section_rate(block: Block, rates: dict[str, float], other: float) -> np.ndarray:
    sections = geography().industry_sections
    return np.array([rates.get(sections[i], other) for i in block.industry.tolist()])


def build_customs_record(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "customs_record", block)
    n = len(block)
    rate = _section_rate(block, {"C": 0.10, "F": 0.05, "A": 0.03}, 0.01) * (block.kind == 1)
    rows = np.flatnonzero(rng.random(n) < rate)
    m = len(rows)
    age = AS_OF_DAY - block.established[rows]
    registered = block.established[rows] + (age * rng.uniform(0.05, 0.9, m)).astype(np.int64)
    level = np.where(
        block.latent[rows] + rng.normal(0, 0.7, m) > 1.8,
        "失信企业",
        np.where(rng.random(m) < 0.06, "高级认证企业", "一般信用企业"),
    )
    trade = _cents(rng, rng.lognormal(np.log(3_000_000), 1.3, m))
    return [
        [f"{block.credit_code[r][2:5]}{block.start + r:07d}" for r in rows.tolist()],
        _take(block.name, rows),
        _take(block.credit_code, rows),
        ["银川海关"] * m,
        dates(style, registered),
        ["进出口货物收发货人"] * m,
        level.tolist(),
        trade.tolist(),
        _region(block, rows),
    ]


def _patent_check(digits: str) -> str:
    total = sum(
        int(d) * w for d, w in zip(digits, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def build_ip_patent(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "ip_patent", block)
    n = len(block)
    rate = _section_rate(block, {"C": 0.15, "M": 0.20, "I": 0.15, "A": 0.05, "D": 0.10}, 0.01)
    counts = np.where((block.kind == 1) & (rng.random(n) < rate), 1 + rng.poisson(1.0, n), 0)
    rows = np.repeat(np.arange(n), counts)
    m = len(rows)
    j = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
    kind = rng.choice(3, m, p=[0.25, 0.6, 0.15])
    filed = np.minimum(block.established[rows] + rng.integers(60, 3000, m), AS_OF_DAY - 200)
    filed = np.maximum(filed, block.established[rows])
    granted = filed + np.where(kind == 0, rng.integers(500, 1100, m), rng.integers(120, 300, m))
    serial = ((block.start + rows) * 8 + j) % 10_000_000
    numbers = []
    for d, k, s in zip(filed.tolist(), kind.tolist(), serial.tolist(), strict=True):
        digits = f"{date.fromordinal(d).year}{k + 1}{s:07d}"
        numbers.append(f"ZL{digits}.{_patent_check(digits)}")
    status = np.where(
        granted > AS_OF_DAY, "实质审查", np.where(rng.random(m) < 0.85, "有效", "未缴年费终止失效")
    )
    type_names = ("发明", "实用新型", "外观设计")
    return [
        numbers,
        [
            f"一种{words.PATENT_OBJECTS[a]}{words.PATENT_THINGS[b]}"
            for a, b in zip(
                rng.integers(0, len(words.PATENT_OBJECTS), m).tolist(),
                rng.integers(0, len(words.PATENT_THINGS), m).tolist(),
                strict=True,
            )
        ],
        [type_names[k] for k in kind.tolist()],
        dates(style, filed),
        _until(dates(style, granted), granted),
        _take(block.name, rows),
        _take(block.credit_code, rows),
        status.tolist(),
    ]


def build_ip_trademark(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "ip_trademark", block)
    n = len(block)
    rate = np.where(block.kind == 1, 0.06, np.where(block.kind == 2, 0.01, 0.05))
    counts = np.where(rng.random(n) < rate, 1 + (rng.random(n) < 0.3), 0)
    rows = np.repeat(np.arange(n), counts)
    m = len(rows)
    j = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
    filed = np.minimum(block.established[rows] + rng.integers(30, 1500, m), AS_OF_DAY - 400)
    filed = np.maximum(filed, block.established[rows])
    registered = filed + rng.integers(250, 400, m)
    return [
        [
            f"{10_000_000 + (block.start + r) * 2 + k}"
            for r, k in zip(rows.tolist(), j.tolist(), strict=True)
        ],
        _take(block.trade_name, rows),
        rng.integers(1, 46, m).tolist(),
        _take(block.name, rows),
        _take(block.credit_code, rows),
        dates(style, filed),
        _until(dates(style, registered), registered),
        _until(dates(style, registered + 3652), registered),
        np.where(registered > AS_OF_DAY, "初审公告", "注册").tolist(),
    ]


def build_gov_procurement(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "gov_procurement", block)
    n = len(block)
    rate = _section_rate(
        block, {"F": 0.04, "E": 0.08, "I": 0.08, "L": 0.05, "M": 0.06, "N": 0.06}, 0.01
    )
    counts = np.where((block.kind == 1) & (rng.random(n) < rate), 1 + rng.poisson(0.5, n), 0)
    rows = np.repeat(np.arange(n), counts)
    m = len(rows)
    j = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
    awarded = np.maximum(AS_OF_DAY - rng.integers(0, 3 * 365, m), block.established[rows] + 30)
    awarded = np.minimum(awarded, AS_OF_DAY)
    purchaser_county = rng.choice(len(geography().counties), m, p=geography().county_p)
    unit = _pick(rng, words.PURCHASER_UNITS, m)
    item = _pick(rng, words.PROCUREMENT_ITEMS, m)
    purchasers = [_office(c, u) for c, u in zip(purchaser_county.tolist(), unit, strict=True)]
    amount = _round_fen(rng.lognormal(np.log(400_000), 1.1, m), 10)
    counties = geography().counties
    return [
        [
            f"NXZC{date.fromordinal(d).year}-{(block.start + r) * 8 + k:09d}"
            for d, r, k in zip(awarded.tolist(), rows.tolist(), j.tolist(), strict=True)
        ],
        [p + i + "项目" for p, i in zip(purchasers, item, strict=True)],
        purchasers,
        _pick(rng, words.PROCUREMENT_METHODS, m),
        _take(block.name, rows),
        _take(block.credit_code, rows),
        amount.tolist(),
        dates(style, awarded),
        [counties[c].code for c in purchaser_county.tolist()],
    ]


# ------------------------------------------------------------------------------ finance
def build_guarantee(block: Block, seed: int, style: str) -> Columns:
    rng = _rng(seed, "guarantee", block)
    g, b = block.g_guarantor, block.g_borrower
    m = len(g)
    amount = _round_fen(block.capital_fen[b] / 100 * 0.8 * rng.uniform(0.5, 1.5, m), 10_000)
    amount = np.maximum(amount, 1_000_000)
    start = AS_OF_DAY - rng.integers(0, 900, m)
    end = start + rng.integers(1, 4, m) * 365
    kinds = np.array(["连带责任保证", "一般保证", "抵押", "质押"])[
        rng.choice(4, m, p=[0.7, 0.1, 0.15, 0.05])
    ]
    geo = geography()
    bank = _pick(rng, words.BANKS, m)
    return [
        [f"DB{block.number:05d}{k:05d}" for k in range(m)],
        _take(block.name, g),
        _take(block.credit_code, g),
        _take(block.name, b),
        _take(block.credit_code, b),
        [
            bk + short + "分行"
            for bk, short in zip(
                bank, [geo.prefecture_names[c] for c in block.county[b].tolist()], strict=True
            )
        ],
        kinds.tolist(),
        amount.tolist(),
        dates(style, start),
        dates(style, end),
        np.where(end < AS_OF_DAY, "已解除", "正常").tolist(),
        _region(block, g),
    ]


def _c(header: str, kind: str, meaning: str, unit: str = "", required: bool = False) -> Column:
    return Column(header, ColumnKind(kind), meaning, unit, required)


CODE = "统一社会信用代码"
FEEDS: tuple[FeedSpec, ...] = (
    FeedSpec(
        "market",
        "registration",
        "市场监督管理局",
        "市场主体登记信息",
        "csv",
        "utf-8",
        "iso",
        (
            _c(CODE, "code", "unified social credit code", required=True),
            _c("企业名称", "text", "registered name", required=True),
            _c("市场主体类型", "enum", "legal form as registered"),
            _c(
                "法定代表人",
                "text",
                "legal representative (operator of an individual business)",
                required=True,
            ),
            _c(
                "注册资本（元）",
                "amount",
                "registered capital (funds for individual businesses)",
                "yuan",
            ),
            _c("成立日期", "date", "date of establishment", required=True),
            _c("住所", "text", "registered address"),
            _c("行政区划代码", "region", "GB/T 2260 county code", required=True),
            _c("行业代码", "industry", "GB/T 4754-2017 industry code"),
            _c("登记机关", "text", "registering office"),
            _c("登记状态", "enum", "registration status"),
            _c("联系电话", "text", "contact phone"),
        ),
        build_registration,
        0,
    ),
    FeedSpec(
        "market",
        "shareholder",
        "市场监督管理局",
        "股东信息",
        "csv",
        "utf-8",
        "iso",
        (
            _c(CODE, "code", "credit code of the invested enterprise", required=True),
            _c("企业名称", "text", "name of the invested enterprise", required=True),
            _c("股东名称", "text", "shareholder name (person or enterprise)", required=True),
            _c("股东类型", "enum", "自然人股东 natural person / 企业法人 enterprise"),
            _c("股东证照类型", "enum", "kind of shareholder identifier (非公示项 for persons)"),
            _c("股东证照号码", "code", "shareholder credit code (enterprises only)"),
            _c("认缴出资额（元）", "amount", "subscribed capital", "yuan", required=True),
            _c("持股比例（%）", "percent", "share of capital", "percent"),
            _c("认缴出资日期", "date", "subscription date", required=True),
        ),
        build_shareholder,
        0,
    ),
    FeedSpec(
        "market",
        "abnormal_operation",
        "市场监督管理局",
        "经营异常名录",
        "csv",
        "gb18030",
        "chinese",
        (
            _c(CODE, "code", "unified social credit code", required=True),
            _c("企业名称", "text", "registered name", required=True),
            _c("列入经营异常名录原因", "text", "reason for listing"),
            _c("列入日期", "date", "date listed", required=True),
            _c("作出决定机关（列入）", "text", "listing office"),
            _c("移出日期", "date", "date removed (empty while listed)"),
            _c("移出原因", "text", "reason for removal (empty while listed)"),
            _c("行政区划代码", "region", "GB/T 2260 county code", required=True),
        ),
        build_abnormal_operation,
        1,
        "\r\n",
    ),
    FeedSpec(
        "tax",
        "tax_rating",
        "税务局",
        "纳税信用评价结果",
        "csv",
        "gb18030",
        "slash",
        (
            _c(
                "纳税人识别号",
                "code",
                "taxpayer id (the unified social credit code)",
                required=True,
            ),
            _c("纳税人名称", "text", "taxpayer name", required=True),
            _c("评价年度", "year", "year evaluated"),
            _c("纳税信用级别", "enum", "tax credit grade A/B/M/C/D", required=True),
            _c("主管税务机关", "text", "competent tax office"),
            _c("行政区划代码", "region", "GB/T 2260 county code", required=True),
            _c("评价日期", "date", "date the grade was published", required=True),
        ),
        build_tax_rating,
        0,
        "\r\n",
    ),
    FeedSpec(
        "tax",
        "tax_payment",
        "税务局",
        "纳税信息",
        "json",
        "utf-8",
        "iso",
        (
            _c(
                "纳税人识别号",
                "code",
                "taxpayer id (the unified social credit code)",
                required=True,
            ),
            _c("纳税人名称", "text", "taxpayer name", required=True),
            _c(
                "征收项目",
                "enum",
                "tax (增值税 VAT, 企业所得税 corporate income tax)",
                required=True,
            ),
            _c("税款所属期起", "date", "first day of the tax period", required=True),
            _c("税款所属期止", "date", "last day of the tax period"),
            _c("实缴税额（元）", "amount", "tax paid", "yuan", required=True),
            _c("欠税余额（元）", "amount", "tax owed and unpaid", "yuan"),
            _c("入库日期", "date", "date paid into the treasury"),
            _c("主管税务机关", "text", "competent tax office"),
            _c("行政区划代码", "region", "GB/T 2260 county code", required=True),
        ),
        build_tax_payment,
        0,
    ),
    FeedSpec(
        "hrss",
        "social_insurance",
        "人力资源和社会保障局",
        "社会保险参保缴费信息",
        "csv",
        "gb18030",
        "slash",
        (
            _c("单位统一社会信用代码", "code", "employer credit code", required=True),
            _c("单位名称", "text", "employer name", required=True),
            _c("参保地行政区划", "region", "GB/T 2260 county code where insured", required=True),
            _c("统计年度", "year", "year covered"),
            _c("参保人数", "integer", "insured employees", "persons"),
            _c(
                "年度应缴金额（元）",
                "amount",
                "contributions due in the year",
                "yuan",
                required=True,
            ),
            _c("年度实缴金额（元）", "amount", "contributions paid in the year", "yuan"),
            _c("欠缴金额（元）", "amount", "contributions in arrears", "yuan"),
            _c("欠缴月数", "integer", "months in arrears", "months"),
            _c("参保状态", "enum", "正常参保 paying / 欠费 in arrears"),
            _c("数据截止日期", "date", "date the figures stand at", required=True),
        ),
        build_social_insurance,
        0,
        "\r\n",
    ),
    FeedSpec(
        "housing",
        "housing_fund",
        "住房公积金管理中心",
        "住房公积金缴存信息",
        "csv",
        "utf-8-sig",
        "iso",
        (
            _c("单位名称", "text", "employer name", required=True),
            _c(CODE, "code", "employer credit code", required=True),
            _c("单位所在区划", "region", "GB/T 2260 county code", required=True),
            _c("缴存人数", "integer", "employees contributing", "persons"),
            _c("月缴存额（元）", "amount", "monthly contribution", "yuan", required=True),
            _c("缴存状态", "enum", "正常 / 缓缴 deferred / 欠缴 in arrears"),
            _c("欠缴月数", "integer", "months in arrears", "months"),
            _c("最近缴存日期", "date", "date of the latest contribution", required=True),
        ),
        build_housing_fund,
        0,
    ),
    FeedSpec(
        "credit",
        "admin_licence",
        "社会信用体系建设领导小组办公室（双公示）",
        "行政许可信息",
        "xlsx",
        "utf-8",
        "iso",
        (
            _c("行政相对人名称", "text", "licensee name", required=True),
            _c(CODE, "code", "licensee credit code", required=True),
            _c("法定代表人", "text", "legal representative"),
            _c("行政许可决定文书号", "text", "licence decision number", required=True),
            _c("许可类别", "enum", "普通/特许/认可/核准/登记"),
            _c("许可证书名称", "text", "licence certificate"),
            _c("许可决定日期", "date", "decision date", required=True),
            _c("有效期自", "date", "valid from"),
            _c("有效期至", "date", "valid until"),
            _c("许可机关", "text", "licensing office"),
            _c("地方编码", "region", "GB/T 2260 county code", required=True),
        ),
        build_admin_licence,
        1,
    ),
    FeedSpec(
        "credit",
        "admin_penalty",
        "社会信用体系建设领导小组办公室（双公示）",
        "行政处罚信息",
        "csv",
        "utf-8",
        "chinese",
        (
            _c("行政相对人名称", "text", "name of the penalized party", required=True),
            _c(CODE, "code", "credit code of the penalized party", required=True),
            _c("法定代表人", "text", "legal representative"),
            _c("行政处罚决定书文号", "text", "penalty decision number", required=True),
            _c("违法行为类型", "text", "type of violation"),
            _c("处罚类别", "enum", "警告/罚款/没收违法所得/责令停产停业"),
            _c("罚款金额（元）", "amount", "fine (0.00 for a warning)", "yuan", required=True),
            _c("处罚决定日期", "date", "decision date", required=True),
            _c("处罚机关", "text", "penalizing office"),
            _c("地方编码", "region", "GB/T 2260 county code", required=True),
            _c("数据来源单位", "text", "department that reported the record"),
        ),
        build_admin_penalty,
        1,
    ),
    FeedSpec(
        "court",
        "court_enforcement",
        "人民法院",
        "被执行人信息",
        "jsonl",
        "utf-8",
        "iso",
        (
            _c("案号", "text", "enforcement case number", required=True),
            _c("被执行人名称", "text", "debtor name", required=True),
            _c(CODE, "code", "debtor credit code", required=True),
            _c("执行法院", "text", "enforcing court"),
            _c("立案日期", "date", "date the case was filed", required=True),
            _c("执行标的（元）", "amount", "amount to enforce", "yuan", required=True),
            _c("案件状态", "enum", "执行中 open / 终结本次执行 suspended / 已结案 closed"),
            _c("法院所在区划", "region", "GB/T 2260 county code of the court", required=True),
        ),
        build_court_enforcement,
        1,
    ),
    FeedSpec(
        "court",
        "dishonest_debtor",
        "人民法院",
        "失信被执行人信息",
        "json",
        "utf-8",
        "chinese",
        (
            _c("案号", "text", "enforcement case number", required=True),
            _c("失信被执行人名称", "text", "dishonest judgment debtor", required=True),
            _c(CODE, "code", "debtor credit code", required=True),
            _c("法定代表人或负责人姓名", "text", "legal representative"),
            _c("执行法院", "text", "enforcing court"),
            _c("省份", "text", "province"),
            _c("地域编码", "region", "GB/T 2260 county code", required=True),
            _c("执行依据文号", "text", "judgment enforced"),
            _c("立案时间", "date", "date the case was filed"),
            _c("发布时间", "date", "date published on the list", required=True),
            _c("失信被执行人行为具体情形", "text", "conduct"),
            _c("被执行人的履行情况", "enum", "全部未履行 nothing / 部分未履行 part performed"),
            _c("涉案金额（元）", "amount", "amount at stake", "yuan", required=True),
        ),
        build_dishonest_debtor,
        1,
    ),
    FeedSpec(
        "utility",
        "utility_payment",
        "供电、供水、供气企业",
        "水电气缴费信息",
        "jsonl",
        "utf-8",
        "slash",
        (
            _c("户号", "text", "utility account number", required=True),
            _c("户名", "text", "account holder", required=True),
            _c(CODE, "code", "account holder credit code", required=True),
            _c("用能类型", "enum", "电力 electricity / 自来水 water / 天然气 gas", required=True),
            _c("账期起", "date", "first day billed", required=True),
            _c("账期止", "date", "last day billed"),
            _c("应缴金额（元）", "amount", "amount billed", "yuan", required=True),
            _c("实缴金额（元）", "amount", "amount paid", "yuan"),
            _c("欠费金额（元）", "amount", "amount overdue", "yuan"),
            _c("欠费月数", "integer", "months overdue", "months"),
            _c("供应单位", "text", "utility company"),
            _c("所属区划", "region", "GB/T 2260 county code", required=True),
        ),
        build_utility_payment,
        0,
    ),
    FeedSpec(
        "customs",
        "customs_record",
        "海关",
        "海关进出口信用信息",
        "xlsx",
        "utf-8",
        "iso",
        (
            _c("海关编码", "text", "customs registration code", required=True),
            _c("企业中文名称", "text", "enterprise name", required=True),
            _c(CODE, "code", "unified social credit code", required=True),
            _c("注册海关", "text", "customs office of registration"),
            _c("注册日期", "date", "date registered with customs", required=True),
            _c("经营类别", "enum", "kind of customs registration"),
            _c("信用等级", "enum", "高级认证企业 / 一般信用企业 / 失信企业"),
            _c(
                "年度进出口总额（元）",
                "amount",
                "imports and exports in the year",
                "yuan",
                required=True,
            ),
            _c("行政区划代码", "region", "GB/T 2260 county code", required=True),
        ),
        build_customs_record,
        1,
    ),
    FeedSpec(
        "ip",
        "ip_patent",
        "知识产权局",
        "专利信息",
        "xlsx",
        "utf-8",
        "iso",
        (
            _c("专利号", "text", "patent number", required=True),
            _c("专利名称", "text", "title"),
            _c("专利类型", "enum", "发明 invention / 实用新型 utility model / 外观设计 design"),
            _c("申请日", "date", "filing date", required=True),
            _c("授权公告日", "date", "grant date (empty while examined)"),
            _c("专利权人", "text", "patentee", required=True),
            _c(CODE, "code", "patentee credit code", required=True),
            _c("法律状态", "enum", "legal status"),
        ),
        build_ip_patent,
        1,
    ),
    FeedSpec(
        "ip",
        "ip_trademark",
        "知识产权局",
        "商标信息",
        "csv",
        "utf-8",
        "chinese",
        (
            _c("注册号", "text", "trademark registration number", required=True),
            _c("商标名称", "text", "mark"),
            _c("国际分类", "integer", "Nice class 1-45"),
            _c("注册人名称", "text", "registrant", required=True),
            _c(CODE, "code", "registrant credit code", required=True),
            _c("申请日期", "date", "filing date", required=True),
            _c("注册公告日期", "date", "registration date (empty while in opposition period)"),
            _c("专用权期限至", "date", "exclusive right until (empty until registered)"),
            _c("商标状态", "enum", "注册 registered / 初审公告 published"),
        ),
        build_ip_trademark,
        1,
    ),
    FeedSpec(
        "ggzy",
        "gov_procurement",
        "公共资源交易中心",
        "政府采购中标信息",
        "xlsx",
        "utf-8",
        "iso",
        (
            _c("项目编号", "text", "procurement project number", required=True),
            _c("项目名称", "text", "project"),
            _c("采购人", "text", "purchasing body"),
            _c("采购方式", "enum", "procurement method"),
            _c("中标供应商", "text", "winning supplier", required=True),
            _c(CODE, "code", "supplier credit code", required=True),
            _c("中标金额（元）", "amount", "contract amount", "yuan", required=True),
            _c("中标日期", "date", "award date", required=True),
            _c("项目所在区划", "region", "GB/T 2260 county code of the purchaser", required=True),
        ),
        build_gov_procurement,
        1,
    ),
    FeedSpec(
        "finance",
        "guarantee",
        "地方金融监督管理局",
        "企业担保信息",
        "csv",
        "gb18030",
        "iso",
        (
            _c("担保合同编号", "text", "guarantee contract number", required=True),
            _c("担保人名称", "text", "guarantor", required=True),
            _c("担保人统一社会信用代码", "code", "guarantor credit code", required=True),
            _c("被担保人名称", "text", "borrower", required=True),
            _c("被担保人统一社会信用代码", "code", "borrower credit code", required=True),
            _c("债权人", "text", "lending bank"),
            _c("担保方式", "enum", "连带责任保证 / 一般保证 / 抵押 / 质押"),
            _c("担保金额（元）", "amount", "amount guaranteed", "yuan", required=True),
            _c("担保起始日期", "date", "start date", required=True),
            _c("担保到期日期", "date", "end date"),
            _c("担保状态", "enum", "正常 in force / 已解除 released"),
            _c("所属区划", "region", "GB/T 2260 county code of the guarantor", required=True),
        ),
        build_guarantee,
        1,
        "\r\n",
    ),
)
