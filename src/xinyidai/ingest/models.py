"""Tables of ingestion: batches, the rows they rejected, and idempotency keys of pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, TimestampMixin, UTCDateTime

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Batch(TimestampMixin, Base):
    """One delivery of rows for one category by one provider: a file, a push or a resubmission.

    While a file is read, ``worker`` names the process reading it (host, process id and the
    process's start time) and ``heartbeat_at`` is when it last committed a chunk;
    ``last_position`` is the position of the last row in a committed chunk, from which a
    rerun of the same file (``checksum``) resumes. A failed batch keeps its reason as a
    message id with its values in ``error_detail`` (shown in its reader's language) and in
    English in ``error``.
    """

    __tablename__ = "ingest_batch"
    __table_args__ = (
        Index("ix_ingest_batch_provider_category", "provider", "category"),
        Index("ix_ingest_batch_checksum", "checksum"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    category_version: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str | None] = mapped_column(String(300))
    format: Mapped[str | None] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    missing_required: Mapped[int] = mapped_column(Integer, default=0)
    unknown_headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checksum: Mapped[str | None] = mapped_column(String(64))
    last_position: Mapped[int | None] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[str | None] = mapped_column(String(40))
    parent_batch_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rejection(Base):
    """A row kept aside with where it was, which field was wrong and why. Never dropped."""

    __tablename__ = "ingest_rejection"
    __table_args__ = (Index("ix_ingest_rejection_batch_position", "batch_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(500))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    resolved_batch_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """The first answer to a push with an ``Idempotency-Key``, replayed for the same body."""

    __tablename__ = "ingest_idempotency_key"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
