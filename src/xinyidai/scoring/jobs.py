"""Queue tasks of the rating: a full run with progress, and the nightly run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from huey import crontab

from xinyidai.core import jobs, queue
from xinyidai.core.db import new_session, session_scope
from xinyidai.core.queue import huey
from xinyidai.scoring import service

log = logging.getLogger(__name__)


def run_rating(
    job_id: str,
    as_of: str | None,
    *,
    listener: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Run a full rating as the job ``job_id``; its summary (also the job's result).

    Safe to run again: a second run adds a new rating for each enterprise, the history
    keeps both.
    """
    with jobs.running(job_id) as progress:
        if listener is not None:
            progress.listeners.append(listener)
        session = new_session()
        try:
            with session_scope() as lookup:
                actor = jobs.get_or_raise(lookup, job_id=job_id).actor
            run = service.rate_all(
                session,
                on=date.fromisoformat(as_of) if as_of else None,
                actor=actor,
                job_id=job_id,
                progress=progress,
                commit=session.commit,
            )
            session.commit()
            summary = {
                "run_id": run.id,
                "rated": run.rated,
                "as_of": run.as_of.isoformat(),
                "model_version": run.model_version,
                "grades": run.grades,
                "mean_score": run.mean_score,
                "seconds": run.seconds,
            }
        finally:
            session.close()
        with session_scope() as outer:
            jobs.finish(outer, job_id=job_id, result=summary)
    return summary


@queue.task(service.RATE_ALL_TASK)
def rate_all_task(job_id: str, as_of: str | None) -> None:
    """Rate every enterprise (queued from the portal, the API or ``xyd rate --all --enqueue``)."""
    run_rating(job_id, as_of)


# 01:30 in Asia/Shanghai (huey's crontab reads UTC): after the day's feeds are in.
@huey.periodic_task(crontab(hour="17", minute="30"), retries=0)  # type: ignore[untyped-decorator]
def nightly_rating() -> None:
    """Rate every enterprise each night, so every rating is at most a day old."""
    try:
        with session_scope() as session:
            job = jobs.create(
                session, kind=service.JOB_KIND, params={"as_of": None}, actor="system"
            )
            job_id = job.id
        run_rating(job_id, None)
    except Exception:  # logged; the next night runs again, the job row shows the error
        log.exception("nightly rating failed")
