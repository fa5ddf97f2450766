"""What ``risk`` takes in and gives out over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WatchOut(BaseModel):
    """One enterprise on the institution's watch list, for one live loan."""

    model_config = ConfigDict(from_attributes=True)

    loan_id: str
    borrower_code: str
    credit_code: str | None = Field(
        description="the watched enterprise; null for an associate linked by guarantee records "
        "your organization has no basis to read"
    )
    enterprise_name: str | None
    relation: str = Field(description="borrower, guarantee, shareholding, representative, circle")
    since: datetime
    checked_at: datetime | None


class AlertTransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class AlertOut(BaseModel):
    """An alert as the inbox lists it: what kind of event, in which category, how severe."""

    id: str
    loan_id: str
    borrower_code: str
    credit_code: str | None = Field(
        description="the enterprise concerned; null for an associate linked by guarantee "
        "records your organization has no basis to read"
    )
    enterprise_name: str | None
    relation: str
    kind: str = Field(
        description="negative_record, tax_grade_fall, rating_fall, cross_default, "
        "circle_default, record_corrected, record_repaired"
    )
    category: str = Field(description="the catalogue category, or rating / platform_loan")
    severity: str = Field(description="low, medium, high, critical")
    detailed: bool = Field(
        description="whether your organization has a basis to read what happened (the access "
        "decision, purpose post_loan_monitoring, asked once per enterprise and page and "
        "recorded); false: the alert says what kind of event in which category and how "
        "severe, not what"
    )
    state: str = Field(description="new, acknowledged, acted, closed")
    action: str | None = Field(description="contact, reduce_limit, freeze, recall, none")
    note: str | None
    event_at: datetime
    raised_at: datetime


class AlertDetailOut(AlertOut):
    """One alert with its details (where the access decision grants them) and history."""

    detail: dict[str, Any] | None = Field(
        description="records (viewed field by field, with their ledger index), grades, or "
        "the other loan's state and days overdue"
    )
    access_event: str | None = Field(description="the access event recording this read")
    transitions: list[AlertTransitionOut]


class AlertActIn(BaseModel):
    action: str = Field(description="contact, reduce_limit, freeze, recall, none")
    note: str | None = Field(default=None, max_length=2000)


class AlertNoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class SweepOut(BaseModel):
    scanned: int
    raised: int
    deliveries: int
