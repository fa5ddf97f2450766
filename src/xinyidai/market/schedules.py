"""Repayment schedules: pure functions, no I/O.

Three methods, monthly instalments, money in ``Decimal`` rounded to the fen:

- ``equal_instalment`` (等额本息): the same payment every month,
  ``P·r·(1+r)^n / ((1+r)^n − 1)`` with ``r`` the monthly rate; each month's interest is
  the balance times ``r``, the rest of the payment is principal;
- ``equal_principal`` (等额本金): the same principal every month, interest on the balance;
- ``interest_only`` (先息后本): interest every month, the whole principal at maturity.

Rounding to the fen leaves a remainder; the last instalment takes it, so the principal of
the schedule always sums exactly to the loan's principal.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

EQUAL_INSTALMENT = "equal_instalment"
EQUAL_PRINCIPAL = "equal_principal"
INTEREST_ONLY = "interest_only"
METHODS = (EQUAL_INSTALMENT, EQUAL_PRINCIPAL, INTEREST_ONLY)

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """One instalment: its number (from 1), due date, principal and interest."""

    number: int
    due_on: date
    principal: Decimal
    interest: Decimal

    @property
    def payment(self) -> Decimal:
        return self.principal + self.interest


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def monthly_rate(annual_percent: Decimal) -> Decimal:
    return annual_percent / Decimal(1200)


def level_payment(principal: Decimal, rate: Decimal, months: int) -> Decimal:
    """The equal monthly payment of an annuity, before rounding."""
    if rate == 0:
        return principal / months
    with localcontext() as context:
        context.prec = 40
        growth = (1 + rate) ** months
        return principal * rate * growth / (growth - 1)


def _runs_out_early(principal: Decimal, rate: Decimal, months: int, payment: Decimal) -> bool:
    """Whether paying ``payment`` a month repays the whole balance before the last month."""
    balance = principal
    for _ in range(months - 1):
        part = payment - fen(balance * rate)
        if part >= balance:
            return True
        balance -= max(part, ZERO)
    return False


def instalment_payment(principal: Decimal, rate: Decimal, months: int) -> Decimal:
    """The level payment in fen: the annuity rounded, lowered a fen at a time while the
    rounding (of the payment and of each month's interest) would repay the loan early, so
    every instalment but the last is the same and the last takes the remainder."""
    payment = fen(level_payment(principal, rate, months))
    while payment > FEN and _runs_out_early(principal, rate, months, payment):
        payment -= FEN
    return payment


def schedule(
    principal: Decimal, annual_percent: Decimal, months: int, method: str, start: date
) -> list[Line]:
    """The instalments of a loan of ``principal`` at ``annual_percent`` over ``months``."""
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    if months < 1:
        raise ValueError("a schedule needs at least one month")
    if principal <= 0 or fen(principal) != principal:
        raise ValueError("the principal must be a positive amount in fen")
    if annual_percent < 0:
        raise ValueError("the rate must not be negative")
    rate = monthly_rate(annual_percent)
    balance = principal
    lines: list[Line] = []
    payment = instalment_payment(principal, rate, months) if method == EQUAL_INSTALMENT else ZERO
    even = (principal / months).quantize(FEN, rounding=ROUND_DOWN)
    for number in range(1, months + 1):
        interest = fen(balance * rate)
        if number == months:
            part = balance
        elif method == EQUAL_INSTALMENT:
            part = min(max(payment - interest, ZERO), balance)
        elif method == EQUAL_PRINCIPAL:
            part = min(even, balance)
        else:
            part = ZERO
        lines.append(Line(number, add_months(start, number), part, interest))
        balance -= part
    return lines


def total_interest(lines: list[Line]) -> Decimal:
    return sum((line.interest for line in lines), ZERO)
