"""What ``stats`` takes and gives over the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class FigureOut(BaseModel):
    name: str
    label: str = Field(description="in the caller's language")
    kind: str = Field(description="flow, stock, ratio or quantile")
    unit: str = Field(description="count, yuan, percent or seconds")
    dimensions: list[str]


class ValueOut(BaseModel):
    period: str = Field(description="2026-12-07, 2026-12, 2026Q4 or 2026")
    key: str = Field(description="the cell of the dimension ('' for all)")
    name: str = Field(description="the cell's name: a region, an industry, an institution")
    figure: str
    value: Decimal | None = Field(description="null when suppressed or undefined (0 ÷ 0)")
    suppressed: bool = Field(description="hidden: the cell counts too few subjects")


class TableOut(BaseModel):
    grain: str
    dimension: str
    start: date
    end: date
    suppressed_below: int | None = Field(
        description="cells whose basis counts fewer subjects are suppressed (null: none are)"
    )
    refreshed_at: datetime | None = Field(description="when the summary was last refreshed")
    items: list[ValueOut]


class TargetOut(BaseModel):
    name: str
    label: str
    figure: str
    amount: Decimal
    start: date
    end: date
    reached: Decimal
    share: Decimal = Field(description="percent of the amount reached")
    elapsed: Decimal = Field(description="percent of the span gone by")


class RefreshOut(BaseModel):
    kind: str
    since: datetime | None
    days: int
    rows: int
