"""Figures of the records: facts collected per category and department."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import N_
from xinyidai.records.models import CreditRecord
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, within

FIGURES = (
    Figure(
        "records_collected",
        N_("Records collected"),
        FigureKind.FLOW,
        Unit.COUNT,
        (Dimension.ALL, Dimension.DEPARTMENT, Dimension.CATEGORY),
        basis="records_collected",
    ),
)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    """A record counts on the day it was first stored, for the department that sent it
    first (``provider``) and its category."""
    day = china_day(CreditRecord.created_at)
    stmt = (
        select(day, CreditRecord.provider, CreditRecord.category, func.count())
        .where(*within(CreditRecord.created_at, first, last))
        .group_by(day, CreditRecord.provider, CreditRecord.category)
    )
    for d, provider, category, n in session.execute(stmt):
        yield Cell("records_collected", as_date(d), n, department=provider, category=category)


SOURCE = Source("records", FIGURES, cells)
