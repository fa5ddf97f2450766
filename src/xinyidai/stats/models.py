"""Tables of ``stats``: the summary of every figure per China day and dimension cell, and
the mark of the last refresh.

A row of ``stats_figure`` is one figure's increment on one day in one cell of one dimension
(``all`` has one cell, key ``""``). Flows (loans granted, alerts raised) are read as the sum
of a period's days; stocks (balance outstanding, loans overdue) are kept as their daily
changes and read as the sum of every day up to a period's end. Months, quarters and years
are sums of days, read when asked (``service.figures``): a day row is the only thing stored,
so a refresh replaces whole days and every figure is reproducible from the rows of the
domains it summarizes (``service.refresh.recompute``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

VALUE = Numeric(24, 4)


class Dimension(StrEnum):
    """How a figure is broken down. Regions follow GB/T 2260: a county's code names its
    city (first four digits) and province (first two)."""

    ALL = "all"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    INDUSTRY = "industry"  # GB/T 4754-2017 section (门类), the code's letter
    INSTITUTION = "institution"
    PRODUCT_TYPE = "product_type"
    DEPARTMENT = "department"  # the department that supplied a record
    CATEGORY = "category"  # a record's category of the catalogue


class Grain(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class FigureKind(StrEnum):
    FLOW = "flow"  # summed over a period's days
    STOCK = "stock"  # stored as daily changes, read as the sum up to the period's end
    RATIO = "ratio"  # computed from other figures when read
    QUANTILE = "quantile"  # read from a histogram of other figures


class Unit(StrEnum):
    COUNT = "count"
    YUAN = "yuan"
    PERCENT = "percent"
    SECONDS = "seconds"


class RefreshKind(StrEnum):
    REFRESH = "refresh"  # the days touched since the last mark
    REBUILD = "rebuild"  # every day from the first row


class FigureRow(Base):
    """One figure's increment on one day in one dimension cell."""

    __tablename__ = "stats_figure"
    __table_args__ = (Index("ix_stats_figure_day", "day"),)

    figure: Mapped[str] = mapped_column(String(60), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(VALUE)


class Refresh(Base):
    """One refresh or rebuild: when it started (the next refresh's mark), what it did."""

    __tablename__ = "stats_refresh"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    days: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger)


class Lock(Base):
    """One row per name, locked by a refresh so that two never write the same days."""

    __tablename__ = "stats_lock"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)


class CaseState(StrEnum):
    """A typical case (典型案例) through review to the public site."""

    DRAFT = "draft"  # being written by the operator
    REVIEW = "review"  # submitted; another member of the operator reviews it
    PUBLISHED = "published"  # on the public site
    WITHDRAWN = "withdrawn"  # taken off the public site


class Case(Base):
    """A typical case the operator writes for the public site.

    A case may name its enterprise (``credit_code``, shown with the enterprise's name) only
    once the enterprise's consent to publicity is recorded (``consent_reference``, who
    recorded it and when); otherwise it is published anonymized and its text may carry
    neither the enterprise's name nor its credit code (``service.cases``)."""

    __tablename__ = "stats_case"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(6))
    industry_code: Mapped[str | None] = mapped_column(String(5))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    consent_reference: Mapped[str | None] = mapped_column(String(200))
    consent_recorded_by: Mapped[str | None] = mapped_column(String(120))
    consent_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    written_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class Bulletin(Base):
    """A monthly bulletin (定期通报): its figures as generated, and its PDF."""

    __tablename__ = "stats_bulletin"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # 2026-11
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    generated_by: Mapped[str] = mapped_column(String(120))
