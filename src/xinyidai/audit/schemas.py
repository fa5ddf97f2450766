"""What the audit trail gives out: access events, counts and anomaly flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class AccessEventOut(BaseModel):
    """One access decision as the enterprise, the auditor and the operator read it."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("public_id", "id"), description="acc_…")
    at: datetime
    actor: str = Field(description="the user or API key that asked")
    organization_id: str = Field(description="public id of the asking organization")
    organization_kind: str
    organization_name: str
    subject: str = Field(description="the enterprise's unified social credit code")
    categories: list[str]
    purpose: str
    outcome: str = Field(description="allow or deny")
    basis: str | None = Field(
        description="public, self, letter, operator_duty or provider_own; null for a deny"
    )
    letter_id: str | None
    reason: str | None = Field(description="why it was denied (a reason code)")
    granted: dict[str, Any] = Field(description="category → the basis it was shown on")
    channel: str = Field(description="where the read came from: api:report, portal:report, …")
    digest: str = Field(
        description="SHA-256 of the event body; its ledger leaf holds a salted commitment to it"
    )


class LedgerLeavesOut(BaseModel):
    """The leaves of the public ledger tagged for one party, among those scanned."""

    role: str = Field(description="subject (an enterprise) or actor (a department)")
    label: str
    indexes: list[int] = Field(description="leaf indexes in [start, next)")
    start: int
    next: int = Field(description="where the next scan starts; tree_size when all is scanned")
    tree_size: int


@dataclass(frozen=True)
class EventFilter:
    """The auditor's search: every field optional; dates are days in China."""

    organization: str | None = None
    subject: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    purpose: str | None = None
    outcome: str | None = None
    basis: str | None = None
    letter_id: str | None = None
    organization_kind: str | None = None


class CountRow(BaseModel):
    key: str
    allow: int
    deny: int


class AccessCounts(BaseModel):
    """How many decisions there were, by outcome, basis, purpose and asking organization kind."""

    total: int
    allow: int
    deny: int
    last_24_hours: int
    last_7_days: int
    by_basis: list[CountRow]
    by_purpose: list[CountRow]
    by_kind: list[CountRow]


class FlagOut(BaseModel):
    """One anomaly found in the access log, for the auditor to look into."""

    kind: str = Field(
        description="excess_queries, off_hours_bulk or after_revocation",
    )
    organization_id: str
    organization_name: str
    subject: str | None = None
    day: date | None = None
    count: int = Field(description="what was counted: enterprises, queries or denied uses")
    threshold: float = Field(description="the setting the count went past")
    applications: int | None = Field(
        default=None, description="for excess_queries: the applications the count is set against"
    )
    first_at: datetime | None = None
    last_at: datetime | None = None
