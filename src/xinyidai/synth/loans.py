"""The platform's loan book of a synthetic region, and what became of each loan.

A share of the enterprises borrow on the platform: one loan, some two. Each loan is seen on
the region's day (``AS_OF``) part way through its term: instalments due so far, how many
were paid on time, the longest delay, days overdue now, the amount outstanding, the
borrower's other live loans. What became of it in the six months after that day is the
outcome (``truth/loan_outcomes.csv``): 1 when it fell 30 or more days overdue or defaulted.

Repayment behaviour is drawn from the enterprise's hidden latent risk, from whether it
defaults within the year (``truth/defaults.csv``: an enterprise heading for default pays
late first) and from a hidden liquidity shock of its own that no department feed shows; the
outcome from all three and from the behaviour itself. So loan behaviour carries signal the
records (and a rating fitted on them) do not: an early-warning model that reads it ranks
outcomes better than the rating alone, and a rating that reads it ranks defaults better.

Every draw comes from the stream ``(seed, "loans", block)``: the feeds and the other truth
files are the same with or without the loan book, and the book is the same at every run.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from xinyidai.synth.enterprises import AS_OF, Block, _sigmoid
from xinyidai.synth.randomness import stream

BOOK = "loans/loans.csv"
OUTCOMES = "truth/loan_outcomes.csv"
OUTCOME_MONTHS = 6  # the outcome window after the region's day
BAD_DAYS = 30  # days overdue that make a loan bad within the window

BORROWER_SHARE = {1: 0.35, 2: 0.15, 3: 0.30}  # by kind of subject (enterprise, individual, co-op)
SECOND_LOAN_SHARE = 0.25
TERMS = np.array([6, 12, 12, 12, 24, 36])
MEDIAN_AMOUNT = {1: 800_000.0, 2: 100_000.0, 3: 300_000.0}  # yuan
LENDERS = (
    "宁夏银行",
    "黄河农村商业银行",
    "石嘴山银行",
    "中国工商银行宁夏分行",
    "中国农业银行宁夏分行",
    "宁夏担保集团",
)

LOAN_HEADERS = [
    "loan_id",
    "credit_code",
    "lender",
    "amount",
    "term_months",
    "start_on",
    "instalments_due",
    "instalments_on_time",
    "max_days_overdue",
    "days_overdue_now",
    "outstanding",
    "other_live_loans",
]
OUTCOME_HEADERS = ["loan_id", "credit_code", "bad"]

# Logistic coefficients of the loan's outcome within the window.
OUTCOME_INTERCEPT = -3.4
OUTCOME_COEFFICIENTS = {
    "latent": 0.35,
    "enterprise_default": 1.5,
    "liquidity": 0.7,
    "overdue_now": 0.9,
    "overdue_now_days": 0.012,
    "ever_30_days": 0.5,
    "late_share": 0.8,
    "other_live_loans": 0.3,
    "noise": 0.4,
}


def _months_before(day: date, months: int, on_day: int) -> date:
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, on_day)


def draw(block: Block, seed: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """The loans of a block's borrowers and their outcomes, as rows of the two files."""
    rng = stream(seed, "loans", block.number)
    n = len(block)
    share = np.vectorize(BORROWER_SHARE.get)(block.kind).astype(float)
    borrows = rng.random(n) < share
    count = np.where(borrows, 1 + (rng.random(n) < SECOND_LOAN_SHARE), 0)
    liquidity = rng.standard_normal(n)  # hidden: in no feed and no file
    stress = 0.5 * block.latent + 0.9 * block.defaulted + 0.8 * liquidity
    kind_median = np.vectorize(MEDIAN_AMOUNT.get)(block.kind).astype(float)
    c = OUTCOME_COEFFICIENTS
    loans: list[list[Any]] = []
    outcomes: list[list[Any]] = []
    for i in np.flatnonzero(borrows).tolist():
        for j in range(int(count[i])):
            term = int(rng.choice(TERMS))
            due = int(rng.integers(1, term))  # still running on the region's day
            start = _months_before(AS_OF, due, int(rng.integers(1, 29)))
            amount = max(10_000, round(float(rng.lognormal(np.log(kind_median[i]), 0.7)), -4))
            own = 0.3 * float(rng.standard_normal())
            late = int(rng.binomial(due, _sigmoid(np.array(-2.8 + 1.1 * stress[i] + own)).item()))
            worst = 0
            if late:
                scale = 6.0 + 30.0 * _sigmoid(np.array(stress[i])).item()
                worst = int(min(180, 1 + rng.exponential(scale)))
            now = 0
            if rng.random() < _sigmoid(np.array(-3.6 + 1.4 * stress[i] + own)).item():
                now = int(rng.integers(1, 91))
                late = max(late, 1)
                worst = max(worst, now)
            missed = min(due, -(-now // 30))
            outstanding = round(amount * (term - due + missed) / term, 2)
            other = int(count[i]) - 1
            loan_id = f"L{block.start + i:07d}-{j + 1}"
            code = block.credit_code[i]
            loans.append(
                [
                    loan_id,
                    code,
                    LENDERS[int(rng.integers(0, len(LENDERS)))],
                    f"{amount:.2f}",
                    term,
                    start.isoformat(),
                    due,
                    due - late,
                    worst,
                    now,
                    f"{outstanding:.2f}",
                    other,
                ]
            )
            logit = (
                OUTCOME_INTERCEPT
                + c["latent"] * block.latent[i]
                + c["enterprise_default"] * block.defaulted[i]
                + c["liquidity"] * liquidity[i]
                + c["overdue_now"] * (now > 0)
                + c["overdue_now_days"] * now
                + c["ever_30_days"] * (worst >= BAD_DAYS)
                + c["late_share"] * (late / due)
                + c["other_live_loans"] * other
                + c["noise"] * rng.standard_normal()
            )
            bad = int(rng.random() < _sigmoid(np.array(logit)).item())
            outcomes.append([loan_id, code, bad])
    return loans, outcomes


class LoanBook:
    """Writes the loan book and its outcomes block by block (lane 0 of ``generate``)."""

    def __init__(self, out_dir: Path, seed: int) -> None:
        self.seed = seed
        self.loans = 0
        self.bad = 0
        (out_dir / BOOK).parent.mkdir(parents=True, exist_ok=True)
        self._handles = [
            (out_dir / BOOK).open("w", encoding="utf-8", newline=""),
            (out_dir / OUTCOMES).open("w", encoding="utf-8", newline=""),
        ]
        self._book, self._outcomes = (
            csv.writer(handle, lineterminator="\n") for handle in self._handles
        )
        self._book.writerow(LOAN_HEADERS)
        self._outcomes.writerow(OUTCOME_HEADERS)

    def add(self, block: Block) -> None:
        loans, outcomes = draw(block, self.seed)
        self._book.writerows(loans)
        self._outcomes.writerows(outcomes)
        self.loans += len(loans)
        self.bad += sum(row[2] for row in outcomes)

    def __enter__(self) -> LoanBook:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for handle in self._handles:
            handle.close()
