"""Properties of the arithmetic, over wide input: every split sums exactly to the loss and
is never negative; recoveries never give a party more than it paid; a pool paying claims
pro rata never goes below zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyidai.sharing.service.split import FEN, ZERO, pro_rata, recovery_parts, split

fen = st.integers(min_value=0, max_value=10**13).map(lambda n: Decimal(n) * FEN)
positive_fen = st.integers(min_value=1, max_value=10**13).map(lambda n: Decimal(n) * FEN)
share = st.integers(min_value=0, max_value=1_000_000).map(lambda n: Decimal(n) / 10_000)
shares = st.lists(share, min_size=1, max_size=10).filter(lambda s: sum(s) > 0)


@given(amount=fen, weights=shares)
def test_every_split_sums_exactly_and_is_never_negative(
    amount: Decimal, weights: list[Decimal]
) -> None:
    parts = split(amount, weights)
    assert sum(parts, ZERO) == amount
    assert all(part >= 0 and part == part.quantize(FEN) for part in parts)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - amount * weight / total) < FEN  # within a fen of the exact quota


@given(
    loss=positive_fen,
    weights=shares,
    recoveries=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
)
def test_recoveries_never_exceed_what_each_party_paid(
    loss: Decimal, weights: list[Decimal], recoveries: list[int]
) -> None:
    paid = split(loss, weights)
    back = [ZERO for _ in paid]
    for fraction in recoveries:
        left = sum(paid, ZERO) - sum(back, ZERO)
        amount = min(left, (loss * fraction / 10**6).quantize(FEN))
        parts = recovery_parts(amount, paid, back)
        assert sum(parts, ZERO) == amount
        assert all(part >= 0 for part in parts)
        back = [b + p for b, p in zip(back, parts, strict=True)]
        assert all(b <= p for b, p in zip(back, paid, strict=True))
    with pytest.raises(ValueError, match="more is recovered"):
        recovery_parts(sum(paid, ZERO) - sum(back, ZERO) + FEN, paid, back)


@settings(max_examples=200)
@given(balance=fen, claims=st.lists(positive_fen, min_size=1, max_size=12))
def test_a_pool_paying_pro_rata_never_goes_below_zero(
    balance: Decimal, claims: list[Decimal]
) -> None:
    reserved = sum(claims, ZERO)  # every claim's part held while under review
    start = balance
    paid_total = ZERO
    for wanted in claims:
        paid = pro_rata(wanted, balance, reserved)
        assert ZERO <= paid <= wanted
        balance -= paid
        reserved -= wanted
        paid_total += paid
        assert balance >= 0
    assert paid_total + balance == start


def test_a_split_refuses_what_is_not_whole_fen_or_has_no_weight() -> None:
    with pytest.raises(ValueError, match="whole fen"):
        split(Decimal("1.005"), [Decimal(1)])
    with pytest.raises(ValueError, match="negative"):
        split(Decimal("-1.00"), [Decimal(1)])
    with pytest.raises(ValueError, match="sum to nothing"):
        split(Decimal("1.00"), [Decimal(0)])
