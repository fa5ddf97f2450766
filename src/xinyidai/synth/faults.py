"""Planted bad rows: about 2% of every feed, one fault each, recorded in the truth files.

Kinds: a credit code with a wrong check character, a region code GB/T 2260 does not know,
a malformed date, a negative amount, an empty required field, and a duplicate (a copy of
an earlier clean row of the same file, as when a department re-sends a record). A feed gets
the kinds its columns allow, in turn, so every kind shows up in every format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xinyidai.registry import codes, creditcode
from xinyidai.synth.feeds import ColumnKind, Columns, FeedSpec

RATE = 0.02
WRONG_CHECK = "wrong_check_character"
UNKNOWN_REGION = "unknown_region"
MALFORMED_DATE = "malformed_date"
NEGATIVE_AMOUNT = "negative_amount"
MISSING_REQUIRED = "missing_required"
DUPLICATE = "duplicate"
KINDS = (NEGATIVE_AMOUNT, UNKNOWN_REGION, MALFORMED_DATE, WRONG_CHECK, MISSING_REQUIRED, DUPLICATE)

MALFORMED_DATES = (
    "2023-13-45",
    "N/A",
    "2021-02-30",
    "20219999",
    "0000-00-00",
    "2022/14/03",
    "2019年13月5日",
    "2024-06-31",
    "--",
    "无",
)


@dataclass
class Planted:
    """One bad row in a block: its position after planting, its kind, the column at fault."""

    position: int
    reason: str
    column: str


@dataclass
class FaultState:
    """What one feed has planted so far; keeps the rate and the turn of kinds across blocks."""

    rows: int = 0
    planted: int = 0
    turn: int = 0


def kinds_for(spec: FeedSpec) -> list[str]:
    """The fault kinds a feed's columns allow."""
    roles = {
        WRONG_CHECK: spec.role(ColumnKind.CODE),
        UNKNOWN_REGION: spec.role(ColumnKind.REGION),
        MALFORMED_DATE: spec.role(ColumnKind.DATE),
        NEGATIVE_AMOUNT: spec.role(ColumnKind.AMOUNT),
    }
    allowed = []
    for kind in KINDS:
        if kind in roles and roles[kind] is None:
            continue
        if kind == MISSING_REQUIRED and not spec.required:
            continue
        allowed.append(kind)
    return allowed


def _unknown_region(rng: np.random.Generator, prefix: str) -> str:
    while True:
        candidate = f"{prefix}{int(rng.integers(0, 10_000)):04d}"
        if not codes.is_region(candidate):
            return candidate


def _wrong_check(rng: np.random.Generator, code: str) -> str:
    right = creditcode.ALPHABET.index(code[17])
    shift = int(rng.integers(1, len(creditcode.ALPHABET)))
    return code[:17] + creditcode.ALPHABET[(right + shift) % len(creditcode.ALPHABET)]


def plant(
    spec: FeedSpec, columns: Columns, rng: np.random.Generator, state: FaultState
) -> tuple[Columns, list[Planted]]:
    """Spoil about ``RATE`` of a block's rows; return the new columns and what was planted."""
    n = len(columns[0]) if columns else 0
    state.rows += n
    wanted = int(state.rows * RATE) - state.planted
    kinds = kinds_for(spec)
    if n < 2 or wanted <= 0 or not kinds:
        return columns, []
    wanted = min(wanted, n // 2)
    columns = [list(column) for column in columns]  # builders may hand out the block's lists
    state.planted += wanted
    positions = np.sort(rng.choice(n, wanted, replace=False)).tolist()
    chosen = []
    for _ in positions:
        chosen.append(kinds[state.turn % len(kinds)])
        state.turn += 1
    unspoiled = np.ones(n, dtype=bool)
    unspoiled[positions] = False
    clean = np.flatnonzero(unspoiled).tolist()
    province = spec.role(ColumnKind.REGION)
    inserts: list[tuple[int, int]] = []  # (insert before original row, copy of row)
    marks: dict[int, Planted] = {}
    for position, kind in zip(positions, chosen, strict=True):
        if kind == DUPLICATE:
            source = clean[int(rng.integers(0, len(clean)))]
            inserts.append((int(rng.integers(source + 1, n + 1)), source))
            continue
        marks[position] = _spoil(spec, columns, rng, position, kind, province)
    if not inserts:
        return columns, [marks[p] for p in sorted(marks)]
    inserts.sort()
    order: list[int] = []
    planted: list[Planted] = []
    k = 0
    for row in range(n + 1):
        while k < len(inserts) and inserts[k][0] == row:
            planted.append(Planted(len(order), DUPLICATE, ""))
            order.append(inserts[k][1])
            k += 1
        if row < n:
            if row in marks:
                marks[row].position = len(order)
                planted.append(marks[row])
            order.append(row)
    return [[column[i] for i in order] for column in columns], planted


def _spoil(
    spec: FeedSpec,
    columns: Columns,
    rng: np.random.Generator,
    row: int,
    kind: str,
    region_column: int | None,
) -> Planted:
    if kind == WRONG_CHECK:
        index = spec.role(ColumnKind.CODE)
        assert index is not None
        columns[index][row] = _wrong_check(rng, columns[index][row])
    elif kind == UNKNOWN_REGION:
        index = region_column
        assert index is not None
        columns[index][row] = _unknown_region(rng, str(columns[index][row])[:2])
    elif kind == MALFORMED_DATE:
        index = spec.role(ColumnKind.DATE)
        assert index is not None
        columns[index][row] = MALFORMED_DATES[int(rng.integers(0, len(MALFORMED_DATES)))]
    elif kind == NEGATIVE_AMOUNT:
        index = spec.role(ColumnKind.AMOUNT)
        assert index is not None
        value: Any = columns[index][row]
        columns[index][row] = -abs(value) if value else -int(rng.integers(100, 1_000_000))
    else:
        required = spec.required
        index = required[int(rng.integers(0, len(required)))]
        columns[index][row] = None
    return Planted(row, kind, spec.columns[index].header)
