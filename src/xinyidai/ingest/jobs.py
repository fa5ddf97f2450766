"""Queue tasks of ingestion: a large uploaded file is read by a worker, with progress; every
five minutes the batches whose worker is gone are failed."""

from __future__ import annotations

import logging
from pathlib import Path

from huey import crontab
from sqlalchemy.orm import Session

from xinyidai.core import jobs, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.ingest import service, units
from xinyidai.ingest.models import Batch

log = logging.getLogger(__name__)


@queue.task(service.FILE_TASK)
def ingest_uploaded_file(job_id: str, batch_id: str, path: str) -> None:
    """Read an uploaded file into its batch, a chunk to a unit of work (``units.read_file``);
    safe to run again (it goes on from the last committed chunk, and facts are
    deduplicated). However it stops, the batch is failed with the reason."""
    with jobs.running(job_id) as progress:

        def committed(batch: Batch) -> None:
            progress.advance(batch.total - progress.done)

        def queued(session: Session) -> Batch:
            return service.get_or_raise(session, batch_id=batch_id)

        summary = units.read_file(Path(path), batch=queued, on_commit=committed)
        with session_scope() as session:
            jobs.finish(session, job_id=job_id, result=summary)
        Path(path).unlink(missing_ok=True)


def sweep_now() -> list[str]:
    """Fail the running batches whose worker is gone (at the start of ``xyd serve``, ``xyd
    worker`` and ``xyd ingest``, and every five minutes on the worker); their ids."""
    with session_scope() as session:
        return service.sweep_abandoned(session)


@huey.periodic_task(crontab(minute="*/5"), retries=0)  # type: ignore[untyped-decorator]
def sweep_abandoned_batches() -> None:
    """Every five minutes: batches left running by a worker that is gone are failed."""
    try:
        sweep_now()
    except Exception:  # logged and tried again in five minutes
        log.exception("the sweep of abandoned ingest batches failed")
