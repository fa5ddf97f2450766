"""Queue tasks of ingestion: a large uploaded file is read by a worker, with progress; every
five minutes the batches whose worker is gone are failed."""

from __future__ import annotations

import logging
from pathlib import Path

from huey import crontab

from xinyidai.core import jobs
from xinyidai.core.db import new_session, session_scope
from xinyidai.core.queue import huey
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch

log = logging.getLogger(__name__)


@huey.task()
def ingest_uploaded_file(job_id: str, batch_id: str, path: str) -> None:
    """Read an uploaded file into its batch; safe to run again (it goes on from the last
    committed chunk, and facts are deduplicated). However it stops, the batch is failed
    with the reason."""
    with jobs.running(job_id) as progress:
        session = new_session()

        def committed(batch: Batch) -> None:
            session.commit()
            progress.advance(batch.total - progress.done)

        try:
            batch = service.run_file(
                session, batch_id=batch_id, path=Path(path), on_chunk=committed
            )
            session.commit()
            progress.advance(batch.total - progress.done)
            summary = service.summary(batch)
        except BaseException as exc:
            session.rollback()
            with session_scope() as outer:
                service.fail_on_error(outer, batch_id=batch_id, error=exc)
            raise
        finally:
            session.close()
        with session_scope() as outer:
            jobs.finish(outer, job_id=job_id, result=summary)
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
