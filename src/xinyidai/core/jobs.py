"""Long work as jobs: a row that shows state and progress, run by the task queue.

The queue (huey) carries the work; this table is what a user sees: queued, running with
``done``/``total``, succeeded with a result, or failed with the reason. A job can be run
again safely: each domain's task is idempotent by design.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.errors import NotFound
from xinyidai.core.ids import new_id
from xinyidai.core.models import Base, TimestampMixin, UTCDateTime

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(TimestampMixin, Base):
    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED, index=True)
    actor: Mapped[str | None] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return round(100.0 * min(self.done, self.total) / self.total, 1)


def create(session: Session, *, kind: str, params: dict[str, Any], actor: str | None) -> Job:
    """Record a job as queued; its task goes to the queue with
    ``core.queue.enqueue_after_commit`` in the same transaction."""
    job = Job(id=new_id("job"), kind=kind, params=params, actor=actor, state=JobState.QUEUED)
    session.add(job)
    session.flush()
    return job


def get(session: Session, *, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def get_or_raise(session: Session, *, job_id: str) -> Job:
    job = get(session, job_id=job_id)
    if job is None:
        raise NotFound("no job with id {job_id}", field="job_id", job_id=job_id)
    return job


def list_recent(session: Session, *, kind: str | None = None, limit: int = 50) -> list[Job]:
    stmt = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt))


class Progress:
    """Reports progress of a running job; writes at most every ``interval`` seconds."""

    def __init__(self, job_id: str | None, *, interval: float = 0.5) -> None:
        self.job_id = job_id
        self.interval = interval
        self.done = 0
        self.total: int | None = None
        self._last = 0.0
        self.listeners: list[Callable[[int, int | None], None]] = []

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._write(force=True)

    def advance(self, count: int = 1, message: str | None = None) -> None:
        self.done += count
        for listener in self.listeners:
            listener(self.done, self.total)
        self._write(message=message)

    def _write(self, *, force: bool = False, message: str | None = None) -> None:
        if self.job_id is None:
            return
        moment = time.monotonic()
        if not force and moment - self._last < self.interval:
            return
        self._last = moment
        with session_scope() as session:
            job = session.get(Job, self.job_id)
            if job is not None:
                job.done = self.done
                job.total = self.total
                if message:
                    job.message = message


@contextmanager
def running(job_id: str) -> Iterator[Progress]:
    """Mark a job running, yield its progress, and record success or failure."""
    with session_scope() as session:
        job = get_or_raise(session, job_id=job_id)
        job.state = JobState.RUNNING
        job.attempts += 1
        job.started_at = clock.now()
        job.error = None
        job.done = 0
    progress = Progress(job_id)
    try:
        yield progress
    except Exception as exc:
        log.exception("job %s failed", job_id)
        with session_scope() as session:
            job = get_or_raise(session, job_id=job_id)
            job.state = JobState.FAILED
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.finished_at = clock.now()
            job.done = progress.done
        raise
    with session_scope() as session:
        job = get_or_raise(session, job_id=job_id)
        if job.state == JobState.RUNNING:
            job.state = JobState.SUCCEEDED
        job.finished_at = clock.now()
        job.done = progress.done
        job.total = progress.total if progress.total is not None else progress.done


def finish(session: Session, *, job_id: str, result: dict[str, Any]) -> None:
    """Store the result a job produced (inside its own unit of work)."""
    job = get_or_raise(session, job_id=job_id)
    job.result = result
