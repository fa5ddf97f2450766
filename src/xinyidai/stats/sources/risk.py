"""Figures of post-loan monitoring and the financial blacklist: alerts raised and acted on,
listings that came into force."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import N_
from xinyidai.core.transitions import Transition
from xinyidai.registry.models import Enterprise
from xinyidai.risk.models import Alert, AlertState, Listing, ListingState, ListingStep
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, division, within

INDUSTRY = division(Enterprise.industry_code)  # grouped by division: few groups

ALERT_KIND = "risk_alert"  # the subject kind of an alert's moves (``risk.service.alerts``)

DIMENSIONS = (
    Dimension.ALL,
    Dimension.PROVINCE,
    Dimension.CITY,
    Dimension.COUNTY,
    Dimension.INDUSTRY,
    Dimension.INSTITUTION,
)

FIGURES = (
    Figure(
        "alerts_raised",
        N_("Alerts raised"),
        FigureKind.FLOW,
        Unit.COUNT,
        DIMENSIONS,
        basis="alerts_raised",
    ),
    Figure(
        "alerts_acted",
        N_("Alerts acted on"),
        FigureKind.FLOW,
        Unit.COUNT,
        DIMENSIONS,
        basis="alerts_acted",
    ),
    Figure(
        "blacklist_listed",
        N_("Blacklist listings in force"),
        FigureKind.FLOW,
        Unit.COUNT,
        DIMENSIONS,
        basis="blacklist_listed",
    ),
)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    dims = (Enterprise.region_code, INDUSTRY, Alert.institution_id)
    raised_day = china_day(Alert.raised_at)
    raised = (
        select(raised_day, *dims, func.count())
        .select_from(Alert)
        .outerjoin(Enterprise, Enterprise.credit_code == Alert.credit_code)
        .where(*within(Alert.raised_at, first, last))
        .group_by(raised_day, *dims)
    )
    for d, region, industry, institution, n in session.execute(raised):
        yield Cell("alerts_raised", as_date(d), n, region, industry, institution)
    # An alert acted on counts on the day of its move to ``acted`` (``core.transitions``).
    acted_day = china_day(Transition.at)
    acted = (
        select(acted_day, *dims, func.count())
        .select_from(Transition)
        .join(Alert, Alert.public_id == Transition.subject_id)
        .outerjoin(Enterprise, Enterprise.credit_code == Alert.credit_code)
        .where(
            Transition.subject_kind == ALERT_KIND,
            Transition.to_state == AlertState.ACTED,
            *within(Transition.at, first, last),
        )
        .group_by(acted_day, *dims)
    )
    for d, region, industry, institution, n in session.execute(acted):
        yield Cell("alerts_acted", as_date(d), n, region, industry, institution)
    listed_day = china_day(ListingStep.at)
    listing_dims = (Enterprise.region_code, INDUSTRY, Listing.institution_id)
    listed = (
        select(listed_day, *listing_dims, func.count())
        .select_from(ListingStep)
        .join(Listing, Listing.id == ListingStep.listing_id)
        .outerjoin(Enterprise, Enterprise.credit_code == Listing.credit_code)
        .where(ListingStep.to_state == ListingState.LISTED, *within(ListingStep.at, first, last))
        .group_by(listed_day, *listing_dims)
    )
    for d, region, industry, institution, n in session.execute(listed):
        yield Cell("blacklist_listed", as_date(d), n, region, industry, institution)


SOURCE = Source("risk", FIGURES, cells)
