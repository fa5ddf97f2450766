"""What ``stats`` takes and gives over the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

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


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20000)
    region_code: str | None = Field(default=None, max_length=6, description="GB/T 2260")
    industry_code: str | None = Field(default=None, max_length=5, description="GB/T 4754")
    credit_code: str | None = Field(
        default=None,
        max_length=18,
        description="the enterprise of the case; named in public only once its consent is recorded",
    )


class CaseConsentIn(BaseModel):
    reference: str = Field(
        min_length=1, max_length=200, description="the reference of the enterprise's signed consent"
    )


class CaseMoveIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class CaseOut(BaseModel):
    id: str
    title: str
    summary: str
    body: str
    region_code: str | None
    industry_code: str | None
    credit_code: str | None
    named: bool = Field(description="the enterprise's consent is recorded: it is named in public")
    consent_reference: str | None
    written_by: str
    state: str
    state_reason: str | None
    state_changed_at: datetime
    published_at: datetime | None


class IndicatorOut(BaseModel):
    figure: str
    label: str
    unit: str
    weight: Decimal
    direction: str = Field(description="higher or lower is better")
    bands: list[tuple[Decimal, Decimal]] = Field(description="threshold, points (out of 100)")


class MethodOut(BaseModel):
    year: int
    title: str
    subjects: dict[str, list[IndicatorOut]]
    dimensions: dict[str, str]


class MarkOut(BaseModel):
    figure: str
    value: Decimal | None
    points: Decimal
    weighted: Decimal


class ScoreOut(BaseModel):
    rank: int
    key: str
    name: str
    score: Decimal
    marks: list[MarkOut]


class RankingOut(BaseModel):
    year: int
    quarter: int
    subject: str
    dimension: str
    start: date
    end: date
    scores: list[ScoreOut]


class BulletinIn(BaseModel):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class BulletinOut(BaseModel):
    month: str
    generated_at: datetime
    generated_by: str


class BulletinDetailOut(BulletinOut):
    content: dict[str, Any] = Field(
        description="figures (month, month before, change, year), trend, ranking, notable changes"
    )
