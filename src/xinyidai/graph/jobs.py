"""Queue tasks of association analysis: the region analysis, nightly and on request, and
the refresh of the index of keys every minute (cheap when nothing changed)."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import jobs, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.graph import index, region
from xinyidai.graph.schemas import AnalysisIn
from xinyidai.graph.service import ANALYSE_TASK, JOB_KIND

log = logging.getLogger(__name__)


@queue.task(ANALYSE_TASK)
def analyse_region(job_id: str) -> None:
    """Run a region analysis for a queued job; safe to run again (it replaces the last)."""
    with jobs.running(job_id) as progress:
        with session_scope() as session:
            options = AnalysisIn.model_validate(jobs.get_or_raise(session, job_id=job_id).params)
        progress.set_total(1)
        # One unit of work, no progress writes inside it: on SQLite a second writer would
        # wait for this transaction to end.
        with session_scope() as session:
            analysis = region.analyse(
                session,
                include_released=options.include_released,
                min_chain=options.min_chain,
                actor="job",
                job_id=job_id,
            )
            result = {
                "analysis_id": analysis.id,
                "enterprises": analysis.enterprises,
                "guarantees": analysis.guarantees,
                "circles": analysis.circles,
                "chains": analysis.chains,
                "truncated": analysis.truncated,
                "total_ms": analysis.total_ms,
            }
        progress.advance(1)
        with session_scope() as session:
            jobs.finish(session, job_id=job_id, result=result)


# 01:00 in Asia/Shanghai (huey's crontab reads UTC): before the nightly rating at 01:30,
# which reads the bad-neighbour counts the analysis stores.
@huey.periodic_task(crontab(minute="0", hour="17"), retries=0)  # type: ignore[untyped-decorator]
def nightly_analysis() -> None:
    """Find the region's circles and chains and count every enterprise's bad neighbours,
    every night."""
    with session_scope() as session:
        job_id = jobs.create(
            session, kind=JOB_KIND, params=AnalysisIn().model_dump(), actor="system"
        ).id
    analyse_region.call_local(job_id)


@huey.periodic_task(crontab(minute="*"), retries=0)  # type: ignore[untyped-decorator]
def refresh_index() -> None:
    """Fold newly stored link records into the index of keys."""
    try:
        with session_scope() as session:
            index.refresh(session)
    except Exception:  # logged and retried next minute
        log.exception("refreshing the association index failed")
