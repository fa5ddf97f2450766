"""Figures of the records: facts collected per category and department, and how good the
collection is (数据归集质量): how complete the records arrive (the share of their
catalogue's fields filled) and how timely (the share stored within
``stats.timely_days`` days of the event, and the mean days from event to arrival)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.i18n import N_
from xinyidai.core.settings import get_settings
from xinyidai.records.models import CreditRecord
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import Cell, Figure, Source, as_date, china_day, within

DIMENSIONS = (Dimension.ALL, Dimension.DEPARTMENT, Dimension.CATEGORY)
PERCENT = Decimal(100)
STREAM_ROWS = 5000


def _input(name: str, label: str) -> Figure:
    """A count other figures are worked out from, not listed on its own."""
    return Figure(
        name,
        label,
        FigureKind.FLOW,
        Unit.COUNT,
        DIMENSIONS,
        basis="records_collected",
        shown=False,
    )


FIGURES = (
    Figure(
        "records_collected",
        N_("Records collected"),
        FigureKind.FLOW,
        Unit.COUNT,
        DIMENSIONS,
        basis="records_collected",
    ),
    _input("records_fields_defined", N_("Fields the catalogue defines for the records")),
    _input("records_fields_filled", N_("Fields filled in the records")),
    Figure(
        "records_completeness",
        N_("Completeness of records (fields filled)"),
        FigureKind.RATIO,
        Unit.PERCENT,
        DIMENSIONS,
        basis="records_collected",
        numerator="records_fields_filled",
        denominator="records_fields_defined",
        scale=PERCENT,
    ),
    _input("records_dated", N_("Records with an event date")),
    _input("records_timely", N_("Records stored in time")),
    _input("records_delay_days", N_("Days from event to arrival")),
    Figure(
        "records_timeliness",
        N_("Timeliness of records (stored within the period)"),
        FigureKind.RATIO,
        Unit.PERCENT,
        DIMENSIONS,
        basis="records_collected",
        numerator="records_timely",
        denominator="records_dated",
        scale=PERCENT,
    ),
    Figure(
        "records_mean_delay",
        N_("Mean days from event to arrival"),
        FigureKind.RATIO,
        Unit.COUNT,
        DIMENSIONS,
        basis="records_collected",
        numerator="records_delay_days",
        denominator="records_dated",
    ),
)


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    """A record counts on the day it was first stored, for the department that sent it
    first (``provider``) and its category: once in the records collected, with the fields
    its category defines and those it filled, and, when it names its event's day, with the
    days between that day and its arrival (late when more than ``stats.timely_days``; an
    event dated after its arrival counts as no delay)."""
    day = china_day(CreditRecord.created_at)
    fields = {
        code: [field.name for field in spec.fields]
        for code, spec in catalog_service.specs_in_force(session).items()
    }
    timely_days = get_settings().stats.timely_days
    sums: defaultdict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    rows = session.execute(
        select(day, CreditRecord.provider, CreditRecord.category, CreditRecord.event_on)
        .add_columns(CreditRecord.data)
        .where(*within(CreditRecord.created_at, first, last))
        .execution_options(yield_per=STREAM_ROWS)
    )
    for d, provider, category, event_on, data in rows:
        arrived = as_date(d)
        totals = sums[(arrived, provider, category)]
        names = fields.get(category, [])
        totals[0] += 1
        totals[1] += len(names)
        totals[2] += sum(1 for name in names if _filled((data or {}).get(name)))
        if event_on is not None:
            delay = max(0, (arrived - as_date(event_on)).days)
            totals[3] += 1
            totals[4] += 1 if delay <= timely_days else 0
            totals[5] += delay
    inputs = (
        "records_collected",
        "records_fields_defined",
        "records_fields_filled",
        "records_dated",
        "records_timely",
        "records_delay_days",
    )
    for (arrived, provider, category), totals in sums.items():
        for name, value in zip(inputs, totals, strict=True):
            if value:
                yield Cell(name, arrived, value, department=provider, category=category)


SOURCE = Source("records", FIGURES, cells)
