"""Schedules: instalments sum exactly to the principal for every method, amount, rate and
term; rounding to the fen with the remainder on the last instalment; known figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from xinyidai.market import schedules
from xinyidai.market.schedules import FEN, METHODS, add_months, schedule

principals = st.integers(min_value=1, max_value=10**11).map(lambda fen: Decimal(fen) / 100)
rates = st.integers(min_value=0, max_value=360_000).map(lambda bp: Decimal(bp) / 10_000)
terms = st.integers(min_value=1, max_value=360)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(principals, rates, terms, st.sampled_from(METHODS), starts)
def test_instalments_sum_exactly_to_the_principal(
    principal: Decimal, rate: Decimal, months: int, method: str, start: date
) -> None:
    lines = schedule(principal, rate, months, method, start)
    assert len(lines) == months
    assert sum(line.principal for line in lines) == principal
    for line in lines:
        assert line.principal >= 0
        assert line.interest >= 0
        assert line.principal == line.principal.quantize(FEN)
        assert line.interest == line.interest.quantize(FEN)
    assert [line.number for line in lines] == list(range(1, months + 1))
    dues = [line.due_on for line in lines]
    assert dues == sorted(dues)
    assert len(set(dues)) == months


loans = st.integers(min_value=100_000, max_value=10**11).map(lambda fen: Decimal(fen) / 100)


@given(loans, rates, st.integers(min_value=2, max_value=360), starts)
@example(Decimal("1000"), Decimal("9.9991"), 360, date(2000, 1, 1))  # once repaid early
def test_equal_instalments_are_equal_until_the_last(
    principal: Decimal, rate: Decimal, months: int, start: date
) -> None:
    lines = schedule(principal, rate, months, "equal_instalment", start)
    # (a loan of at least 1,000 yuan: a few fen over many months can run out early)
    assert len({line.payment for line in lines[:-1]}) == 1


@given(principals, rates, terms, starts)
def test_interest_only_pays_the_principal_at_maturity(
    principal: Decimal, rate: Decimal, months: int, start: date
) -> None:
    lines = schedule(principal, rate, months, "interest_only", start)
    assert [line.principal for line in lines[:-1]] == [Decimal("0.00")] * (months - 1)
    assert lines[-1].principal == principal


def test_a_known_annuity() -> None:
    # 120,000 yuan over 12 months at 6%: the textbook payment is 10,327.97
    lines = schedule(Decimal("120000.00"), Decimal("6"), 12, "equal_instalment", date(2026, 1, 15))
    assert lines[0].payment == Decimal("10327.97")
    assert lines[0].interest == Decimal("600.00")
    assert lines[0].due_on == date(2026, 2, 15)
    assert schedules.total_interest(lines) == sum(line.payment for line in lines) - Decimal(
        "120000.00"
    )


def test_equal_principal_puts_the_remainder_last() -> None:
    lines = schedule(Decimal("100.00"), Decimal("0"), 3, "equal_principal", date(2026, 1, 31))
    assert [line.principal for line in lines] == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert [line.due_on for line in lines] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_add_months_keeps_the_day_or_the_months_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("principal", "rate", "months", "method"),
    [
        (Decimal("0"), Decimal("4"), 12, "equal_instalment"),
        (Decimal("1.001"), Decimal("4"), 12, "equal_instalment"),
        (Decimal("100"), Decimal("-1"), 12, "equal_instalment"),
        (Decimal("100"), Decimal("4"), 0, "equal_instalment"),
        (Decimal("100"), Decimal("4"), 12, "balloon"),
    ],
)
def test_impossible_schedules_are_refused(
    principal: Decimal, rate: Decimal, months: int, method: str
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each names its own reason
        schedule(principal, rate, months, method, date(2026, 1, 1))
