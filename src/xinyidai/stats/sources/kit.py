"""What a source of figures is, and the few SQL helpers every source uses.

A **source** belongs to one domain and computes that domain's figures from its rows: for a
span of China days it yields **cells**, each a figure's value on one day at the finest grain
it knows (a county, an industry, an institution, a product type, a department, a
category). The refresh (``stats.service.refresh``) expands a cell into every dimension it
names (a county is also its city and province), sums, and replaces those days' rows. A
source also says which days older than the refresh window its rows changed
(``touched``): most rows are dated when they are written (a registration, a decision, an
alert), so the window of days since the last refresh covers them; a loan's start date or a
repayment's date is given by the lender and may be earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Date, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from xinyidai.core import clock
from xinyidai.registry import codes
from xinyidai.stats.models import Dimension, FigureKind, Unit

REGION_DIMENSIONS = (Dimension.PROVINCE, Dimension.CITY, Dimension.COUNTY)


@dataclass(frozen=True)
class Cell:
    """One figure's value on one day at the finest grain its source knows."""

    figure: str
    day: date
    value: Decimal | int
    region: str | None = None  # a GB/T 2260 code (a county's, usually)
    industry: str | None = None  # a GB/T 4754 code; its section (a letter) is the cell
    institution: str | None = None
    product_type: str | None = None
    department: str | None = None
    category: str | None = None

    def places(self) -> Iterable[tuple[Dimension, str]]:
        """Every dimension cell this value counts in."""
        yield Dimension.ALL, ""
        region = self.region
        if region and len(region) == 6 and region.isdigit():
            yield Dimension.PROVINCE, region[:2] + "0000"
            if region[2:4] != "00":
                yield Dimension.CITY, region[:4] + "00"
            if region[4:] != "00":
                yield Dimension.COUNTY, region
        if self.industry:
            section = industry_section(self.industry)
            if section:
                yield Dimension.INDUSTRY, section
        if self.institution:
            yield Dimension.INSTITUTION, self.institution
        if self.product_type:
            yield Dimension.PRODUCT_TYPE, self.product_type
        if self.department:
            yield Dimension.DEPARTMENT, self.department
        if self.category:
            yield Dimension.CATEGORY, self.category


@dataclass(frozen=True)
class Figure:
    """A figure as readers see it.

    ``basis`` is the count of subjects the figure is about: a breakdown cell whose basis is
    under the threshold is suppressed for readers other than the operator. A ratio is
    ``numerator / denominator × scale``; a quantile is read from the histogram figures
    ``<histogram>:<bound>``; a stock is the sum of its daily changes up to a period's end.
    """

    name: str
    label: str  # English message id, translated on screen
    kind: FigureKind
    unit: Unit
    dimensions: tuple[Dimension, ...]
    basis: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    scale: Decimal = Decimal(1)
    histogram: str | None = None
    quantile: Decimal | None = None
    shown: bool = True  # False: an input of other figures, not listed on its own

    @property
    def inputs(self) -> tuple[str, ...]:
        if self.kind == FigureKind.RATIO:
            return tuple(n for n in (self.numerator, self.denominator) if n)
        return ()


Cells = Callable[[Session, date | None, date | None], Iterable[Cell]]
Touched = Callable[[Session, datetime], set[date]]


def nothing_touched(session: Session, since: datetime) -> set[date]:
    """A source whose rows are all dated when written: the refresh window covers them."""
    return set()


@dataclass(frozen=True)
class Source:
    """One domain's figures and how to compute them for a span of days."""

    name: str
    figures: tuple[Figure, ...]
    cells: Cells
    touched: Touched = nothing_touched
    histograms: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def stored(self) -> tuple[str, ...]:
        """The figures this source writes rows for (ratios and quantiles are read only)."""
        names = [f.name for f in self.figures if f.kind in (FigureKind.FLOW, FigureKind.STOCK)]
        for prefix, bounds in self.histograms.items():
            names += [bucket_name(prefix, b) for b in bounds]
        return tuple(names)


@lru_cache(maxsize=4096)
def industry_section(code: str) -> str | None:
    """The GB/T 4754 section (门类) letter of an industry code, None for an unknown one."""
    section = codes.industry_section(code)
    return section.code if section else None


def bucket_name(prefix: str, bound: int) -> str:
    return f"{prefix}:{bound}"


# --------------------------------------------------------------------------- China days


class china_day(FunctionElement[date]):  # noqa: N801  (an SQL function reads like one)
    """The China day (Asia/Shanghai, UTC+8 with no summer time) of a stored UTC time."""

    type = Date()
    inherit_cache = True
    name = "china_day"


@compiles(china_day, "sqlite")
def _china_day_sqlite(element: china_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_day, "postgresql")
def _china_day_postgresql(element: china_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}))::date"


def division(column: Any) -> ColumnElement[str]:
    """The GB/T 4754 division (大类, two digits) of an industry code, in SQL: its section
    follows from it, and grouping by it keeps the groups few (97 divisions, 1,381 classes).
    The positions are literals so that PostgreSQL sees the same expression in ``GROUP BY``."""
    return func.substr(column, literal_column("1"), literal_column("2"))


def start_of(day: date) -> datetime:
    """The UTC moment a China day begins."""
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI).astimezone(UTC)


def within(column: Any, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """Conditions keeping a stored UTC time inside the China days ``first``..``last``
    (an open end when None): plain comparisons, so an index on the column serves."""
    conditions: list[ColumnElement[bool]] = []
    if first is not None:
        conditions.append(column >= start_of(first))
    if last is not None:
        conditions.append(column < start_of(last + timedelta(days=1)))
    return conditions


def days_within(column: Any, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """The same for a date column."""
    conditions: list[ColumnElement[bool]] = []
    if first is not None:
        conditions.append(column >= first)
    if last is not None:
        conditions.append(column <= last)
    return conditions


def as_date(value: Any) -> date:
    """A day as the database returns it (SQLite gives text for an expression)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
