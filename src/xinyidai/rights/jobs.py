"""Queue tasks of ``rights``: the morning reminder of objections near their deadline."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.rights.service import objections

log = logging.getLogger(__name__)


# 08:00 in Asia/Shanghai (huey's crontab reads UTC): handlers read it as the day starts.
@huey.periodic_task(crontab(minute="0", hour="0"), retries=0)  # type: ignore[untyped-decorator]
def remind_objections() -> None:
    """Every morning: remind the handler of each open objection near its deadline, once."""
    try:
        with session_scope() as session:
            sent = objections.remind_due(session)
    except Exception:  # logged; the next morning sends what is still due
        log.exception("the objection reminders failed")
        return
    if sent:
        log.info("rights: %d objection reminders sent", sent)
