"""Queue tasks of ingestion: a large uploaded file is read by a worker, with progress."""

from __future__ import annotations

from pathlib import Path

from xinyidai.core import jobs
from xinyidai.core.db import new_session, session_scope
from xinyidai.core.queue import huey
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch


@huey.task()
def ingest_uploaded_file(job_id: str, batch_id: str, path: str) -> None:
    """Read an uploaded file into its batch; safe to run again (facts are deduplicated)."""
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
        finally:
            session.close()
        with session_scope() as outer:
            jobs.finish(outer, job_id=job_id, result=summary)
        Path(path).unlink(missing_ok=True)
