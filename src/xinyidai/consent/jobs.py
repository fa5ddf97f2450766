"""Queue tasks of consent: the clock's transition, expiring letters past their validity.

A letter is also expired at once when a decision finds it past its validity, so the sweep
only keeps the lists and counts current between queries.
"""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.consent import service
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey

log = logging.getLogger(__name__)


def expire_letters() -> int:
    """Expire every letter past its validity, in chunks; how many moved."""
    moved = 0
    while True:
        with session_scope() as session:
            done = service.expire_due(session)
        moved += done
        if done < 1000:
            return moved


@huey.periodic_task(crontab(minute="7"), retries=0)  # type: ignore[untyped-decorator]
def expire_letters_hourly() -> None:
    """Expire letters past their validity, every hour."""
    moved = expire_letters()
    if moved:
        log.info("expired %d authorization letters", moved)
