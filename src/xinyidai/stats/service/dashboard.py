"""What the operator's dashboard shows, read once for the page: headline figures of the year
so far, one figure's trend and its breakdown by one dimension, targets' progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from xinyidai.stats.models import Dimension, Grain
from xinyidai.stats.service import figures, labels, targets

HEADLINE = (
    "enterprises_registered",
    "enterprises_with_data",
    "records_collected",
    "applications",
    "approval_rate",
    "loans_granted",
    "loans_amount",
    "credit_loan_share",
    "first_loans",
    "average_rate",
    "balance",
    "overdue_rate",
    "alerts_raised",
)


@dataclass(frozen=True)
class Dashboard:
    headline: dict[str, Decimal | None]
    trend: list[figures.Value]
    breakdown: list[figures.Value]
    names: dict[str, str]
    progress: list[targets.Progress]


def dashboard(
    session: Session,
    *,
    figure: str,
    grain: Grain,
    dimension: Dimension,
    start: date,
    end: date,
    min_cell: int | None,
) -> Dashboard:
    """The page's figures; the breakdown is suppressed below ``min_cell`` (None: not)."""
    chosen = figures.figure_or_raise(figure)
    figures.check_dimension(chosen, dimension)
    trend = figures.table(
        session, figures=[figure], grain=grain, start=start, end=end, dimension=Dimension.ALL
    )
    breakdown: list[figures.Value] = []
    if dimension != Dimension.ALL:
        whole = figures.Period("span", start, end)
        breakdown = figures.breakdown(session, figure, dimension, whole, min_cell=min_cell)
    return Dashboard(
        headline=figures.totals(session, HEADLINE, date(end.year, 1, 1), end),
        trend=trend,
        breakdown=breakdown,
        names=labels.key_labels(session, dimension, {v.key for v in breakdown}),
        progress=targets.progress(session, on=end),
    )
