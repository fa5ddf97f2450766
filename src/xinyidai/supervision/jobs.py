"""Queue tasks of ``supervision``: the daily round of the yearly assessment cycle."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.supervision.service import cycle

log = logging.getLogger(__name__)


# 07:30 in Asia/Shanghai (huey's crontab reads UTC): before the working day.
@huey.periodic_task(crontab(minute="30", hour="23"), retries=0)  # type: ignore[untyped-decorator]
def supervision_round() -> None:
    """Every morning: remind institutions whose assessment comes up for renewal, lapse the
    expired ones, and open findings for new flags of the access log."""
    try:
        with session_scope() as session:
            done = cycle.daily_round(session, today=clock.today())
    except Exception:  # logged; tomorrow's round does what is still due
        log.exception("the supervision round failed")
        return
    log.info(
        "supervision: %d reminded, %d lapsed, %d findings opened",
        done.reminded,
        done.lapsed,
        done.opened,
    )
