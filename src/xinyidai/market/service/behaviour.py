"""Repayment behaviour of the platform's loans, handed to the rating (以贷促信) and to the
early warning: one row per loan, as ``scoring.loan_behaviour.LOAN_COLUMNS`` describes.

Read set-based: the loans and their instalments in two statements, the figures per loan
computed by polars. As of a day: instalments due before it, paid on time (fully paid by
their due day), the longest delay of any of them (an instalment still unpaid counts until
the day) and the days overdue now (since the earliest instalment due and still unpaid, while
the loan runs). Registered with the rating when this package is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.market.models import Instalment, Loan, LoanState
from xinyidai.scoring import loan_behaviour

if TYPE_CHECKING:
    import polars as pl

LIVE_STATES = (LoanState.CURRENT, LoanState.OVERDUE)
DEFAULTED_STATES = (LoanState.DEFAULTED, LoanState.WRITTEN_OFF)
CHUNK = 500  # credit codes per IN list


def loan_frame(
    session: Session, on: date, credit_codes: Sequence[str] | None = None
) -> pl.DataFrame:
    """Every loan started by ``on`` (of ``credit_codes``, or all) with its repayment
    behaviour as of ``on``."""
    import polars as pl

    loan_stmt = select(
        Loan.id,
        Loan.public_id,
        Loan.credit_code,
        Loan.principal,
        Loan.balance,
        Loan.state,
    ).where(Loan.start_on <= on)
    line_stmt = (
        select(Instalment.loan_id, Instalment.due_on, Instalment.paid_on)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(Loan.start_on <= on, Instalment.due_on < on)
    )
    loan_rows: list[tuple[object, ...]] = []
    line_rows: list[tuple[object, ...]] = []
    if credit_codes is None:
        loan_rows = [tuple(r) for r in session.execute(loan_stmt)]
        line_rows = [tuple(r) for r in session.execute(line_stmt)]
    else:
        codes = list(dict.fromkeys(credit_codes))
        for start in range(0, len(codes), CHUNK):
            part = codes[start : start + CHUNK]
            loan_rows += [
                tuple(r) for r in session.execute(loan_stmt.where(Loan.credit_code.in_(part)))
            ]
            line_rows += [
                tuple(r) for r in session.execute(line_stmt.where(Loan.credit_code.in_(part)))
            ]
    if not loan_rows:
        return loan_behaviour.empty()
    loans = pl.DataFrame(
        {
            "id": [r[0] for r in loan_rows],
            "loan_id": [r[1] for r in loan_rows],
            "credit_code": [r[2] for r in loan_rows],
            "principal": [float(r[3]) for r in loan_rows],  # type: ignore[arg-type]
            "outstanding": [float(r[4]) for r in loan_rows],  # type: ignore[arg-type]
            "state": [str(r[5]) for r in loan_rows],
        },
        schema_overrides={"id": pl.Int64},
    )
    lines = pl.DataFrame(
        {
            "id": [r[0] for r in line_rows],
            "due_on": [r[1] for r in line_rows],
            "paid_on": [r[2] for r in line_rows],
        },
        schema={"id": pl.Int64, "due_on": pl.Date, "paid_on": pl.Date},
    )
    day = pl.lit(on)
    paid_by_day = pl.col("paid_on").is_not_null() & (pl.col("paid_on") <= day)
    settled = pl.when(paid_by_day).then(pl.col("paid_on")).otherwise(day)
    per_loan = lines.group_by("id").agg(
        pl.len().cast(pl.Float64).alias("instalments_due"),
        (paid_by_day & (pl.col("paid_on") <= pl.col("due_on")))
        .sum()
        .cast(pl.Float64)
        .alias("instalments_on_time"),
        (settled - pl.col("due_on"))
        .dt.total_days()
        .clip(lower_bound=0)
        .max()
        .cast(pl.Float64)
        .alias("max_days_overdue"),
        (day - pl.col("due_on").filter(~paid_by_day).min())
        .dt.total_days()
        .cast(pl.Float64)
        .alias("_unpaid_days"),
    )
    live = pl.col("state").is_in([str(s) for s in LIVE_STATES])
    running = pl.col("state").is_in([str(s) for s in (*LIVE_STATES, LoanState.DEFAULTED)])
    return (
        loans.join(per_loan, on="id", how="left")
        .with_columns(
            live=live,
            defaulted=pl.col("state").is_in([str(s) for s in DEFAULTED_STATES]),
            instalments_due=pl.col("instalments_due").fill_null(0.0),
            instalments_on_time=pl.col("instalments_on_time").fill_null(0.0),
            max_days_overdue=pl.col("max_days_overdue").fill_null(0.0),
            days_overdue_now=pl.when(running)
            .then(pl.col("_unpaid_days").fill_null(0.0))
            .otherwise(0.0),
        )
        .select([name for name, _ in loan_behaviour.LOAN_COLUMNS])
        .sort("loan_id")
    )


def live_loans(session: Session, *, credit_codes: Sequence[str] | None = None) -> list[Loan]:
    """The loans being repaid now (current or overdue), of ``credit_codes`` or all, in the
    order of their ids."""
    stmt = select(Loan).where(Loan.state.in_(LIVE_STATES)).order_by(Loan.public_id)
    if credit_codes is None:
        return list(session.scalars(stmt))
    codes = list(dict.fromkeys(credit_codes))
    found: list[Loan] = []
    for start in range(0, len(codes), CHUNK):
        found += session.scalars(stmt.where(Loan.credit_code.in_(codes[start : start + CHUNK])))
    return sorted(found, key=lambda loan: loan.public_id)


loan_behaviour.register(loan_frame)
