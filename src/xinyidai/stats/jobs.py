"""Queue tasks of ``stats``: the refresh every five minutes and the nightly rebuild."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import clock, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.stats.service import bulletins, refresh

log = logging.getLogger(__name__)


@queue.task(refresh.REFRESH_TASK, retries=2, retry_delay=30)
def refresh_figures() -> int:
    """Recompute the days touched since the last refresh; how many rows it wrote."""
    with session_scope() as session:
        return refresh.refresh(session).rows


@huey.periodic_task(crontab(minute="*/5"), retries=0)  # type: ignore[untyped-decorator]
def periodic_refresh() -> None:
    """Every five minutes: the figures follow the rows."""
    try:
        refresh_figures.call_local()
    except Exception:  # logged; the next run covers the same days again
        log.exception("the statistics refresh failed")


# 03:10 in Asia/Shanghai (huey's crontab reads UTC): after the nightly rating and warnings.
@huey.periodic_task(crontab(minute="10", hour="19"), retries=0)  # type: ignore[untyped-decorator]
def nightly_rebuild() -> None:
    """Every night: every figure recomputed from the rows (what a timestamp cannot see)."""
    try:
        with session_scope() as session:
            done = refresh.rebuild(session)
    except Exception:  # logged; the refreshes go on meanwhile
        log.exception("the nightly statistics rebuild failed")
        return
    log.info("statistics rebuilt: %d rows over %d days", done.rows, done.days)


@queue.task(bulletins.GENERATE_TASK, retries=2, retry_delay=60)
def generate_bulletin(month: str) -> str:
    """Generate one month's bulletin; its month."""
    with session_scope() as session:
        return bulletins.generate(session, month=month, actor="system:stats").month


# 08:30 on the 1st in Asia/Shanghai is 00:30 UTC the same day: the month before is complete.
@huey.periodic_task(crontab(day="1", hour="0", minute="30"), retries=0)  # type: ignore[untyped-decorator]
def monthly_bulletin() -> None:
    """On the 1st of each month: the bulletin of the month before, after a refresh."""
    try:
        refresh_figures.call_local()
        month = bulletins.previous_month(clock.today())
        generate_bulletin.call_local(month)
    except Exception:  # logged; the operator can generate it by hand (xyd stats bulletin)
        log.exception("the monthly bulletin failed")
        return
    log.info("bulletin %s generated", month)
