"""What goes in and out of the anti-fraud rules and cases over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Flag
from xinyidai.risk.models import FraudCaseState


class CaseActionIn(BaseModel):
    note: str | None = Field(default=None, description="required to confirm or dismiss")


class NoteIn(BaseModel):
    text: str


class ScanIn(BaseModel):
    application_id: str | None = Field(
        default=None, description="one application (default: every one not scanned yet)"
    )
    rescan: Flag = Field(default=False, description="scan again those scanned before")


class HitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    explanation: str
    evidence: dict[str, Any]
    operator_evidence: dict[str, Any] | None = Field(
        default=None, description="the other applicants behind the hit (operator only)"
    )
    found_at: datetime


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    author: str
    text: str
    at: datetime


class CaseStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="public_id")
    application_id: str
    credit_code: str
    enterprise_name: str
    institution_id: str
    institution_name: str
    rules: list[str]
    state: FraudCaseState
    state_changed_at: datetime
    state_reason: str | None
    created_at: datetime


class CaseDetailOut(CaseOut):
    hits: list[HitOut]
    notes: list[NoteOut]
    history: list[CaseStepOut]
    available: list[str]


class ScanOut(BaseModel):
    application_id: str
    hits: list[str]
    case_id: str | None
    skipped: list[str]
    marked: list[str]


class RuleOut(BaseModel):
    rule: str
    enabled: bool
    settings: dict[str, Any]
    explanation: str


class OverviewOut(BaseModel):
    cases: dict[str, int]
    hits_by_rule: dict[str, dict[str, int]]
    listings: dict[str, int]
