"""The demo's year of history: applications and loans in each of the last twelve months,
growing, made once; the summary rebuilt agrees with the loans as they stand."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.market.models import RUNNING_LOAN_STATES, Loan, LoanState
from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import figures
from xinyidai.stats.service.demo import EPOCH_MONTHS, ensure_demo_history


def test_the_demo_has_a_year_that_moves(session: Session, lending: list[str]) -> None:
    made = ensure_demo_history(session)
    session.commit()
    assert made.created
    assert made.loans > 30
    loans = list(session.scalars(select(Loan)))
    months = Counter(f"{loan.start_on.year}-{loan.start_on.month:02d}" for loan in loans)
    assert len(months) >= EPOCH_MONTHS - 1
    today = clock.today()
    start = min(loan.start_on for loan in loans)
    trend = figures.table(
        session,
        figures=["loans_granted", "applications"],
        grain=Grain.MONTH,
        start=start,
        end=today,
        dimension=Dimension.ALL,
    )
    granted = [v.value or 0 for v in trend if v.figure == "loans_granted"]
    assert len({*granted}) > 3  # the numbers move
    got = figures.totals(session, ["balance", "live_loans", "overdue_loans"], start, today)
    assert got["live_loans"] == sum(loan.state in RUNNING_LOAN_STATES for loan in loans)
    assert got["overdue_loans"] == sum(loan.state == LoanState.OVERDUE for loan in loans)
    assert got["overdue_loans"] > 0
    assert got["balance"] == sum(
        (loan.balance for loan in loans if loan.state != LoanState.WRITTEN_OFF), Decimal(0)
    )
    assert not ensure_demo_history(session).created
