"""How a batch that stopped is failed: claimed by the process reading it, failed with the
reason and what was stored before it, and swept when its process is gone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock, jobs
from xinyidai.core.i18n import N_, gettext
from xinyidai.core.settings import get_settings
from xinyidai.ingest.models import DONE, FAILED, RUNNING, Batch
from xinyidai.ingest.pipeline import REASON_VALUE_CHARS, kept_value, worker_alive, worker_id
from xinyidai.ingest.readers import NotATable
from xinyidai.ingest.service.batches import get_or_raise

log = logging.getLogger(__name__)


def claim(batch: Batch) -> None:
    """Record that this process now reads ``batch``."""
    batch.state = RUNNING
    batch.worker = worker_id()
    batch.heartbeat_at = clock.now()
    batch.finished_at = None
    batch.error = None
    batch.error_detail = None


ABANDONED = N_("the process reading the file ({worker}) stopped before it finished")
INTERRUPTED = N_("the ingest was interrupted")
UNEXPECTED = N_("the ingest stopped on an unexpected error: {error}")


def fail(
    session: Session,
    batch: Batch,
    reason: str,
    params: dict[str, Any] | None = None,
    *,
    resumable: bool = False,
) -> Batch:
    """End ``batch`` as failed for ``reason`` (an English message id with ``params``),
    saying what was stored before it; ``resumable`` when the same file sent again goes on
    from the last committed chunk (the file was not at fault)."""
    detail = {
        "message": reason,
        "params": {
            key: kept_value(value, REASON_VALUE_CHARS) for key, value in (params or {}).items()
        },
        "stored": {
            "total": batch.total or 0,
            "accepted": batch.accepted or 0,
            "updated": batch.updated or 0,
            "duplicates": batch.duplicates or 0,
            "rejected": batch.rejected or 0,
        },
        "resume": resumable,
    }
    batch.state = FAILED
    batch.error_detail = detail
    batch.error = failure_text(detail, "en")[:2000]
    batch.finished_at = clock.now()
    session.flush()
    return batch


def failure_text(detail: dict[str, Any], locale: str | None = None) -> str:
    """The one line that says why a batch failed, in ``locale`` (default: the current
    one): the reason, what was stored before it, and whether sending the file again goes
    on from there."""
    text = gettext(detail["message"], locale, **detail.get("params", {}))
    stored = detail.get("stored") or {}
    if stored.get("total"):
        text += gettext(
            "; stored before it: {total} rows read, {accepted} new, {updated} updated, "
            "{duplicates} duplicates, {rejected} rejected",
            locale,
            **stored,
        )
    else:
        text += gettext("; nothing was stored", locale)
    if detail.get("resume"):
        text += gettext("; send the same file again to go on from there", locale)
    return text


def error_text(batch: Batch, locale: str | None = None) -> str | None:
    """Why ``batch`` failed, in ``locale``; None if it did not."""
    if batch.error_detail:
        return failure_text(batch.error_detail, locale)
    return gettext(batch.error, locale) if batch.error else None


def fail_on_error(session: Session, *, batch_id: str, error: BaseException) -> Batch:
    """Fail a batch whose reading stopped on ``error`` (the caller rolled its transaction
    back: the batch holds what its committed chunks stored). A batch already closed is left
    as it is."""
    batch = get_or_raise(session, batch_id=batch_id)
    if batch.state in (DONE, FAILED):
        return batch
    if isinstance(error, NotATable):
        return fail(session, batch, error.reason, error.params)
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return fail(session, batch, INTERRUPTED, resumable=True)
    return fail(
        session,
        batch,
        UNEXPECTED,
        {"error": f"{type(error).__name__}: {error}"},
        resumable=True,
    )


def sweep_abandoned(session: Session, *, now: datetime | None = None) -> list[str]:
    """Fail the running batches whose worker is gone; their ids.

    A worker on this host is looked up by its process id (and start time); one on another
    host, or a batch that names none, is gone once its heartbeat is older than
    ``XYD_INGEST_STALE_MINUTES``. Only a batch found gone is locked (and skipped if another
    transaction holds it, or another worker took it up meanwhile); the job that read it,
    if any, fails with it.
    """
    moment = now or clock.now()
    stale = moment - timedelta(minutes=get_settings().ingest.stale_minutes)
    running = session.execute(
        select(Batch.id, Batch.worker, Batch.heartbeat_at, Batch.updated_at).where(
            Batch.state == RUNNING
        )
    ).all()
    swept: list[str] = []
    for batch_id, worker, heartbeat, changed in running:
        alive = worker_alive(worker) if worker else None
        if alive is None:
            last = heartbeat or changed
            alive = last is not None and last >= stale
        if alive:
            continue
        batch = session.scalars(
            select(Batch)
            .where(Batch.id == batch_id, Batch.state == RUNNING)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).first()
        if batch is None or batch.worker != worker:
            continue
        fail(session, batch, ABANDONED, {"worker": worker or "?"}, resumable=True)
        if batch.job_id:
            job = jobs.get(session, job_id=batch.job_id)
            if job is not None and job.state in (jobs.JobState.QUEUED, jobs.JobState.RUNNING):
                job.state = jobs.JobState.FAILED
                job.error = batch.error
                job.finished_at = moment
        swept.append(batch.id)
    if swept:
        session.flush()
        log.warning("ingest batches whose worker is gone were marked failed: %s", swept)
    return swept
