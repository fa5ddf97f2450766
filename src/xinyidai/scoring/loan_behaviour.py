"""Repayment behaviour on the platform's own loans, as rating indicators (以贷促信).

The loans live in the marketplace (``market``), a layer above the rating; the marketplace
registers how to read them (``register``) when its service package is imported, as the
records service is told of listeners. What it hands over is one row per loan in the shape
``LOAN_SCHEMA``: the loan's principal and outstanding amount, whether it is live (being
repaid) or defaulted, instalments due by the day and how many of them were paid on time,
the longest delay of any instalment and the days overdue now. A synthetic region's loan
book (``xyd synth``: ``loans/loans.csv``) reads into the same shape (``from_book``), so a
model is fitted on exactly what it is applied to.

``aggregate`` turns the rows into the enterprise's indicators (``LOAN_INDICATORS``); an
enterprise with no loan on the platform has none of them (missing: its own bin, "no loan on
the platform", which never scores above average), so the rating of an enterprise that has
never borrowed here is what it was before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import polars as pl

LoanFetch = Callable[[Session, date, Sequence[str] | None], "pl.DataFrame"]

# name -> polars dtype name; every reader hands over these columns
LOAN_COLUMNS = (
    ("credit_code", "String"),
    ("loan_id", "String"),
    ("principal", "Float64"),
    ("outstanding", "Float64"),
    ("live", "Boolean"),
    ("defaulted", "Boolean"),
    ("instalments_due", "Float64"),
    ("instalments_on_time", "Float64"),
    ("max_days_overdue", "Float64"),
    ("days_overdue_now", "Float64"),
)

# The indicators computed here (their texts are in ``indicators.INDICATORS``).
LOAN_INDICATORS = (
    "loans_live",
    "loans_outstanding",
    "loans_on_time_share",
    "loans_max_days_overdue",
    "loans_days_overdue_now",
    "loans_defaulted",
)

_fetch: LoanFetch | None = None


def register(fetch: LoanFetch) -> None:
    """Declare how the platform's loans are read: ``fetch(session, on, credit_codes)``
    returns one row per loan started by ``on`` (of ``credit_codes``, or all), in the shape
    ``LOAN_COLUMNS``, as of ``on``."""
    global _fetch
    _fetch = fetch


def registered() -> bool:
    return _fetch is not None


def schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {name: getattr(pl, kind)() for name, kind in LOAN_COLUMNS}


def empty() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=schema())


def loans_of(session: Session, *, on: date, credit_codes: Sequence[str] | None) -> pl.DataFrame:
    """The platform's loans as of ``on`` (none when no marketplace is installed)."""
    if _fetch is None:
        return empty()
    frame = _fetch(session, on, credit_codes)
    return frame.select([frame[name].cast(kind) for name, kind in schema().items()])


def from_book(path: Path) -> pl.DataFrame:
    """A synthetic loan book (``xyd synth``: ``loans/loans.csv``) in the shape
    ``LOAN_COLUMNS``: every loan in it is live on the region's day."""
    import polars as pl

    book = pl.read_csv(path, schema_overrides={"credit_code": pl.String, "loan_id": pl.String})
    return book.select(
        pl.col("credit_code"),
        pl.col("loan_id"),
        pl.col("amount").cast(pl.Float64).alias("principal"),
        pl.col("outstanding").cast(pl.Float64),
        pl.lit(True).alias("live"),
        pl.lit(False).alias("defaulted"),
        pl.col("instalments_due").cast(pl.Float64),
        pl.col("instalments_on_time").cast(pl.Float64),
        pl.col("max_days_overdue").cast(pl.Float64),
        pl.col("days_overdue_now").cast(pl.Float64),
    )


def per_loan(loans: pl.DataFrame) -> pl.DataFrame:
    """Each loan with its share of instalments paid on time (missing when none was due
    yet), its share of the principal outstanding and the borrower's other live loans."""
    import polars as pl

    live = pl.col("live").cast(pl.Int64)
    return loans.with_columns(
        on_time_share=pl.when(pl.col("instalments_due") > 0)
        .then(pl.col("instalments_on_time") / pl.col("instalments_due"))
        .otherwise(None),
        outstanding_share=pl.when(pl.col("principal") > 0)
        .then(pl.col("outstanding") / pl.col("principal"))
        .otherwise(None),
        other_live_loans=(live.sum().over("credit_code") - live).cast(pl.Float64),
    )


def aggregate(loans: pl.DataFrame) -> pl.DataFrame:
    """The loan indicators of every enterprise with a loan: ``credit_code`` and
    ``LOAN_INDICATORS`` (floats)."""
    import polars as pl

    live = pl.col("live")
    due = pl.col("instalments_due").sum()
    return loans.group_by("credit_code").agg(
        live.sum().cast(pl.Float64).alias("loans_live"),
        pl.col("outstanding").filter(live).sum().cast(pl.Float64).alias("loans_outstanding"),
        pl.when(due > 0)
        .then(pl.col("instalments_on_time").sum() / due)
        .otherwise(None)
        .alias("loans_on_time_share"),
        pl.col("max_days_overdue").max().cast(pl.Float64).alias("loans_max_days_overdue"),
        pl.col("days_overdue_now")
        .filter(live)
        .max()
        .fill_null(0.0)
        .cast(pl.Float64)
        .alias("loans_days_overdue_now"),
        pl.col("defaulted").sum().cast(pl.Float64).alias("loans_defaulted"),
    )
