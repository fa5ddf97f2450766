"""What ingestion gives out over the API: batches, rejections, quality figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    batch_id: str = Field(validation_alias="id")
    provider: str
    category: str
    category_version: int | None
    source: str
    path: str | None = Field(validation_alias="filename")
    format: str | None
    encoding: str | None
    state: str
    total: int
    accepted: int
    updated: int
    duplicates: int
    rejected: int
    conflicts: int
    unknown_headers: list[str]
    error: str | None = Field(
        description="why the batch failed, in English, with what was stored before it"
    )
    error_detail: dict[str, Any] | None = Field(
        default=None,
        description=(
            "the same as `message` (an English message id) with its `params`, what was "
            "`stored` before it, and whether sending the same file again goes on from there "
            "(`resume`): for showing the reason in another language"
        ),
    )
    job_id: str | None
    parent_batch_id: str | None
    created_at: datetime
    finished_at: datetime | None


class RejectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    field: str | None
    reason: str
    errors: list[dict[str, Any]]
    raw: dict[str, Any]
    resolved_batch_id: str | None


class ResubmitIn(BaseModel):
    rows: list[dict[str, Any]] = Field(
        min_length=1, description="fixed rows, each with the `rejection_id` it replaces"
    )


class QualityOut(BaseModel):
    provider: str
    category: str
    batches: int
    total: int
    accepted: int
    updated: int
    duplicates: int
    rejected: int
    conflicts: int
    completeness: float | None
    validity: float | None
    last_received: str | None
    days_since: int | None
    expected_within_days: int
    timely: bool
