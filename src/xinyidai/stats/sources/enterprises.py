"""Figures of the registry: enterprises registered, with data, rated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import N_
from xinyidai.records.models import CreditRecord
from xinyidai.registry.models import Enterprise
from xinyidai.scoring.models import CreditRating
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, division, within

INDUSTRY = division(Enterprise.industry_code)  # grouped by division: few groups

SUBJECT_DIMENSIONS = (
    Dimension.ALL,
    Dimension.PROVINCE,
    Dimension.CITY,
    Dimension.COUNTY,
    Dimension.INDUSTRY,
)

FIGURES = (
    Figure(
        "enterprises_registered",
        N_("Enterprises registered"),
        FigureKind.FLOW,
        Unit.COUNT,
        SUBJECT_DIMENSIONS,
        basis="enterprises_registered",
    ),
    Figure(
        "enterprises_with_data",
        N_("Enterprises with data"),
        FigureKind.FLOW,
        Unit.COUNT,
        SUBJECT_DIMENSIONS,
        basis="enterprises_with_data",
    ),
    Figure(
        "enterprises_rated",
        N_("Enterprises rated"),
        FigureKind.FLOW,
        Unit.COUNT,
        SUBJECT_DIMENSIONS,
        basis="enterprises_rated",
    ),
)


def _firsts(
    session: Session, figure: str, sub: Subquery, first: date | None, last: date | None
) -> Iterator[Cell]:
    """Enterprises counted on the day of their first row of some kind (``sub``: a subquery
    of ``code, at``)."""
    day = china_day(sub.c.at)
    stmt = (
        select(day, Enterprise.region_code, INDUSTRY, func.count())
        .select_from(sub)
        .outerjoin(Enterprise, Enterprise.credit_code == sub.c.code)
        .where(*within(sub.c.at, first, last))
        .group_by(day, Enterprise.region_code, INDUSTRY)
    )
    for d, region, industry, n in session.execute(stmt):
        yield Cell(figure, as_date(d), n, region=region, industry=industry)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    day = china_day(Enterprise.created_at)
    registered = (
        select(day, Enterprise.region_code, INDUSTRY, func.count())
        .where(*within(Enterprise.created_at, first, last))
        .group_by(day, Enterprise.region_code, INDUSTRY)
    )
    for d, region, industry, n in session.execute(registered):
        yield Cell("enterprises_registered", as_date(d), n, region=region, industry=industry)
    # The first record of a subject: only subjects with a record in the span can have it there.
    in_span = select(CreditRecord.subject_code).where(*within(CreditRecord.created_at, first, last))
    first_record = (
        select(
            CreditRecord.subject_code.label("code"), func.min(CreditRecord.created_at).label("at")
        )
        .where(CreditRecord.subject_code.in_(in_span))
        .group_by(CreditRecord.subject_code)
        .subquery()
    )
    yield from _firsts(session, "enterprises_with_data", first_record, first, last)
    rated_in_span = select(CreditRating.credit_code).where(
        *within(CreditRating.rated_at, first, last)
    )
    first_rating = (
        select(CreditRating.credit_code.label("code"), func.min(CreditRating.rated_at).label("at"))
        .where(CreditRating.credit_code.in_(rated_in_span))
        .group_by(CreditRating.credit_code)
        .subquery()
    )
    yield from _firsts(session, "enterprises_rated", first_rating, first, last)


def touched(session: Session, since: datetime) -> set[date]:
    """An enterprise whose region or industry changed moves its registration's cells."""
    day = china_day(Enterprise.created_at)
    stmt = select(day).where(Enterprise.updated_at >= since).distinct()
    return {as_date(d) for d in session.scalars(stmt)}


SOURCE = Source("enterprises", FIGURES, cells, touched)
