"""The arithmetic of sharing a loss, pure and exact.

An amount is split among weights (shares in percent, or amounts already paid) to the fen:
every part is first rounded down, then the fen left over go one each to the parts whose
rounding cut the most (the largest-remainder rule, ties to the earlier party). The parts
always sum to the amount, none is negative, and none exceeds its exact quota by a fen or
more.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_fen(amount: Decimal) -> Decimal:
    """An amount rounded down to the fen."""
    return amount.quantize(FEN, rounding=ROUND_DOWN)


def split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` (whole fen, not negative) in parts proportional to ``weights`` (not
    negative, not all zero), exactly, by the largest-remainder rule."""
    if amount < 0:
        raise ValueError("a negative amount is not split")
    if amount != amount.quantize(FEN):
        raise ValueError("the amount is not in whole fen")
    if any(weight < 0 for weight in weights):
        raise ValueError("a weight is negative")
    total = sum(weights, Decimal(0))
    if total <= 0:
        raise ValueError("the weights sum to nothing")
    fen = int(amount / FEN)
    quotas = [Decimal(fen) * weight / total for weight in weights]
    parts = [int(quota) for quota in quotas]  # quotas are not negative: int() rounds down
    left = fen - sum(parts)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for index in order[:left]:
        parts[index] += 1
    return [Decimal(part) * FEN for part in parts]


def shares_sum_to_whole(shares: Sequence[Decimal]) -> bool:
    """Whether percentages sum to exactly 100."""
    return sum(shares, Decimal(0)) == HUNDRED


def recovery_parts(
    amount: Decimal, paid: Sequence[Decimal], recovered: Sequence[Decimal]
) -> list[Decimal]:
    """A recovery shared back to the parties in proportion to what each still has out
    (paid less recovered), so that no party ever gets back more than it paid. ``amount``
    must not exceed the total still out."""
    outstanding = [p - r for p, r in zip(paid, recovered, strict=True)]
    if amount > sum(outstanding, ZERO):
        raise ValueError("more is recovered than was paid")
    if amount == 0:
        return [ZERO for _ in paid]
    return split(amount, outstanding)


def pro_rata(wanted: Decimal, available: Decimal, reserved_total: Decimal) -> Decimal:
    """What a pool pays of ``wanted`` when its claims under review (``reserved_total``, this
    one's included) exceed its balance ``available``: its fair part, rounded down."""
    if reserved_total <= available or reserved_total <= 0:
        return min(wanted, available)
    return min(to_fen(wanted * available / reserved_total), available)
