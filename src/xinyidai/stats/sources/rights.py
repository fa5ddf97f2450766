"""Figures of subject rights: objections received, answered and answered within their
deadline (with the on-time rate), and credit repairs approved, per the department that
handled them (the operator's own as no department)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xinyidai.core.i18n import N_
from xinyidai.registry.models import Enterprise
from xinyidai.rights.models import Objection, Repair, RepairState
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, division, within

INDUSTRY = division(Enterprise.industry_code)
PERCENT = Decimal(100)
DIMENSIONS = (
    Dimension.ALL,
    Dimension.PROVINCE,
    Dimension.CITY,
    Dimension.COUNTY,
    Dimension.INDUSTRY,
    Dimension.DEPARTMENT,
)


def _flow(name: str, label: str, basis: str) -> Figure:
    return Figure(name, label, FigureKind.FLOW, Unit.COUNT, DIMENSIONS, basis=basis)


FIGURES = (
    _flow("objections_received", N_("Objections received"), "objections_received"),
    _flow("objections_answered", N_("Objections answered"), "objections_answered"),
    _flow(
        "objections_on_time", N_("Objections answered within the deadline"), "objections_answered"
    ),
    Figure(
        "objections_on_time_rate",
        N_("Objections answered on time"),
        FigureKind.RATIO,
        Unit.PERCENT,
        DIMENSIONS,
        basis="objections_answered",
        numerator="objections_on_time",
        denominator="objections_answered",
        scale=PERCENT,
    ),
    _flow("repairs_approved", N_("Credit repairs approved"), "repairs_approved"),
)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    dims = (Enterprise.region_code, INDUSTRY, Objection.department)
    received_day = china_day(Objection.received_at)
    received = (
        select(received_day, *dims, func.count())
        .select_from(Objection)
        .outerjoin(Enterprise, Enterprise.credit_code == Objection.credit_code)
        .where(*within(Objection.received_at, first, last))
        .group_by(received_day, *dims)
    )
    for d, region, industry, department, n in session.execute(received):
        yield Cell("objections_received", as_date(d), n, region, industry, department=department)
    # Answered on time: on or before the deadline's China day (``rights.service``'s rule).
    answered_day = china_day(Objection.answered_at)
    on_time = case((answered_day <= Objection.due_on, 1), else_=0)
    answered = (
        select(answered_day, *dims, func.count(), func.sum(on_time))
        .select_from(Objection)
        .outerjoin(Enterprise, Enterprise.credit_code == Objection.credit_code)
        .where(Objection.answered_at.is_not(None), *within(Objection.answered_at, first, last))
        .group_by(answered_day, *dims)
    )
    for d, region, industry, department, n, timely in session.execute(answered):
        on = as_date(d)
        yield Cell("objections_answered", on, n, region, industry, department=department)
        yield Cell(
            "objections_on_time", on, int(timely or 0), region, industry, department=department
        )
    decided_day = china_day(Repair.decided_at)
    repair_dims = (Enterprise.region_code, INDUSTRY, Repair.department)
    approved = (
        select(decided_day, *repair_dims, func.count())
        .select_from(Repair)
        .outerjoin(Enterprise, Enterprise.credit_code == Repair.credit_code)
        .where(Repair.state == RepairState.APPROVED, *within(Repair.decided_at, first, last))
        .group_by(decided_day, *repair_dims)
    )
    for d, region, industry, department, n in session.execute(approved):
        yield Cell("repairs_approved", as_date(d), n, region, industry, department=department)


SOURCE = Source("rights", FIGURES, cells)
