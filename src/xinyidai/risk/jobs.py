"""Queue tasks of ``risk``."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import clock, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.risk.service import warning

log = logging.getLogger(__name__)


# --- early warning -----------------------------------------------------------------------


@queue.task(warning.REFRESH_ENTERPRISE_TASK)
def refresh_enterprise_warnings(credit_code: str) -> None:
    """Warn one borrower's live loans again (queued by ``refresh_for_enterprise``)."""
    with session_scope() as session:
        warning.refresh(session, credit_codes=[credit_code])


@queue.task(warning.REFRESH_TASK)
def refresh_warnings() -> None:
    """Warn every live loan again."""
    with session_scope() as session:
        done = warning.refresh(session)
    log.info("early warning: %s live loans as of %s", done.loans, done.as_of or clock.today())


# 02:30 in Asia/Shanghai (huey's crontab reads UTC): after the nightly rating of 01:30.
@huey.periodic_task(crontab(hour="18", minute="30"), retries=0)  # type: ignore[untyped-decorator]
def nightly_warnings() -> None:
    """Warn every live loan each night, after the ratings are fresh."""
    try:
        refresh_warnings.call_local()
    except Exception:  # logged; the next night runs again
        log.exception("nightly early warning failed")
