"""Figures of consent: authorization letters granted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.consent.models import AuthorizationLetter, LetterState, LetterTransition
from xinyidai.core.i18n import N_
from xinyidai.registry.models import Enterprise
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, division, within

INDUSTRY = division(Enterprise.industry_code)  # grouped by division: few groups

FIGURES = (
    Figure(
        "letters_granted",
        N_("Authorization letters granted"),
        FigureKind.FLOW,
        Unit.COUNT,
        (Dimension.ALL, Dimension.PROVINCE, Dimension.CITY, Dimension.COUNTY, Dimension.INDUSTRY),
        basis="letters_granted",
    ),
)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    """A letter counts on the day it became active (granted, or approved by the enterprise);
    a letter paused and resumed is not counted again."""
    day = china_day(LetterTransition.at)
    stmt = (
        select(day, Enterprise.region_code, INDUSTRY, func.count())
        .select_from(LetterTransition)
        .join(AuthorizationLetter, AuthorizationLetter.id == LetterTransition.letter_id)
        .outerjoin(Enterprise, Enterprise.credit_code == AuthorizationLetter.credit_code)
        .where(
            LetterTransition.to_state == LetterState.ACTIVE,
            LetterTransition.from_state.is_distinct_from(LetterState.PAUSED),
            *within(LetterTransition.at, first, last),
        )
        .group_by(day, Enterprise.region_code, INDUSTRY)
    )
    for d, region, industry, n in session.execute(stmt):
        yield Cell("letters_granted", as_date(d), n, region=region, industry=industry)


SOURCE = Source("consent", FIGURES, cells)
