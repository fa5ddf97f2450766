"""What the early warning answers over the API: a live loan's latest warning, with reasons."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class WarningReasonOut(BaseModel):
    code: str
    text: str
    impact: float = Field(description="points lost against the feature's best bin (negative)")


class LoanWarningOut(BaseModel):
    loan_id: str
    contract_number: str
    institution_id: str
    credit_code: str
    enterprise_name: str
    days_overdue: int
    outstanding: Decimal
    withheld: str | None = Field(
        None,
        description="why the warning is not shown (no basis to read what it is derived "
        "from); probability, score, band and reasons are then empty",
    )
    probability: float | None = Field(
        None, description="of 30+ days overdue or default within six months"
    )
    score: float | None = None
    band: str | None = Field(None, description="low, watch, high, severe")
    reasons: list[WarningReasonOut] = Field(default_factory=list)
    model_version: str
    as_of: date
    computed_at: datetime


class RefreshOut(BaseModel):
    loans: int
    added: int
    changed: int
    unchanged: int
    removed: int
    bands: dict[str, int]
    model_version: str
    as_of: date
