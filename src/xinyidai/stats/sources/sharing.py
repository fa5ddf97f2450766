"""Figures of risk sharing and interest subsidies: compensation paid on claims (every
party's part, the pool's included) and interest subsidies paid (less those taken back at a
default), each on the day the money moved (``sharing_movement``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import N_
from xinyidai.registry.models import Enterprise
from xinyidai.sharing.models import Claim, Movement, MovementKind
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, division, within

INDUSTRY = division(Enterprise.industry_code)
REGIONAL = (Dimension.ALL, Dimension.PROVINCE, Dimension.CITY, Dimension.COUNTY, Dimension.INDUSTRY)

FIGURES = (
    Figure(
        "compensation_paid",
        N_("Risk compensation paid"),
        FigureKind.FLOW,
        Unit.YUAN,
        (*REGIONAL, Dimension.INSTITUTION),
        basis="claims_paid",
    ),
    Figure(
        "claims_paid",
        N_("Claims paid"),
        FigureKind.FLOW,
        Unit.COUNT,
        (*REGIONAL, Dimension.INSTITUTION),
        basis="claims_paid",
    ),
    Figure(
        "subsidies_paid",
        N_("Interest subsidies paid"),
        FigureKind.FLOW,
        Unit.YUAN,
        REGIONAL,
        basis="subsidised_enterprises",
    ),
    Figure(
        "subsidised_enterprises",
        N_("Subsidy payments to enterprises"),
        FigureKind.FLOW,
        Unit.COUNT,
        REGIONAL,
        basis="subsidised_enterprises",
    ),
)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    day = china_day(Movement.at)
    dims = (Enterprise.region_code, INDUSTRY, Claim.institution_id)
    paid = (
        select(day, *dims, func.sum(Movement.amount), func.count(func.distinct(Claim.id)))
        .select_from(Movement)
        .join(Claim, Claim.id == Movement.claim_id)
        .outerjoin(Enterprise, Enterprise.credit_code == Claim.credit_code)
        .where(
            Movement.kind.in_((MovementKind.SHARE, MovementKind.POOL_PAYOUT)),
            *within(Movement.at, first, last),
        )
        .group_by(day, *dims)
    )
    for d, region, industry, institution, amount, claims in session.execute(paid):
        on = as_date(d)
        yield Cell("compensation_paid", on, Decimal(amount), region, industry, institution)
        yield Cell("claims_paid", on, claims, region, industry, institution)
    # A subsidy's party is the enterprise's credit code; a clawback takes one back.
    signed = case((Movement.kind == MovementKind.CLAWBACK, -Movement.amount), else_=Movement.amount)
    paid_to = (Enterprise.region_code, INDUSTRY)
    subsidies = (
        select(
            day,
            *paid_to,
            func.sum(signed),
            func.sum(case((Movement.kind == MovementKind.SUBSIDY, 1), else_=0)),
        )
        .select_from(Movement)
        .outerjoin(Enterprise, Enterprise.credit_code == Movement.party)
        .where(
            Movement.kind.in_((MovementKind.SUBSIDY, MovementKind.CLAWBACK)),
            *within(Movement.at, first, last),
        )
        .group_by(day, *paid_to)
    )
    for d, region, industry, amount, payments in session.execute(subsidies):
        on = as_date(d)
        yield Cell("subsidies_paid", on, Decimal(amount), region, industry)
        if payments:
            yield Cell("subsidised_enterprises", on, payments, region, industry)


SOURCE = Source("sharing", FIGURES, cells)
