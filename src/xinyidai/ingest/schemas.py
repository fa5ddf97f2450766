"""What ingestion gives out over the API: batches, rejections, quality figures."""

from __future__ import annotations

from collections.abc import Sequence
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


class ProblemOut(BaseModel):
    """One fault of a rejected row: the field's catalogue label and the reason, in the
    caller's language."""

    field: str
    reason: str


class RejectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    field: str | None
    reason: str = Field(description="every fault of the row, in the caller's language")
    problems: list[ProblemOut] = Field(
        default_factory=list, description="each fault with its field's label, translated"
    )
    errors: list[dict[str, Any]] = Field(
        description="each fault as stored: field, English message id and its values"
    )
    raw: dict[str, Any]
    resolved_batch_id: str | None

    @classmethod
    def of(cls, rejection: Any, problems: Sequence[Any]) -> RejectionOut:
        """``rejection`` with its ``problems`` (``ingest.service.problems``) shown."""
        shown = [ProblemOut(field=p.field, reason=p.reason) for p in problems]
        return cls(
            id=rejection.id,
            position=rejection.position,
            field=rejection.field,
            reason="; ".join(p.reason for p in shown),
            problems=shown,
            errors=rejection.errors or [],
            raw=rejection.raw,
            resolved_batch_id=rejection.resolved_batch_id,
        )


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
