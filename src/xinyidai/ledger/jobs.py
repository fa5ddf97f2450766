"""Queue tasks of the ledger: keep sequencing entries and signing checkpoints.

huey's periodic tasks run at most once a minute, so the task stays for most of the
minute while entries arrive, refreshing every ``checkpoint_interval_seconds``, and leaves
early once the log is idle. Reads (``GET /ledger/checkpoint``, the portal's event check)
also refresh on demand, so a quiet log is never stale when someone looks.
"""

from __future__ import annotations

import logging
import time

from huey import crontab

from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.core.settings import get_settings
from xinyidai.ledger import service

log = logging.getLogger(__name__)

RUN_SECONDS = 55.0
IDLE_SECONDS = 10.0


def publish_for(seconds: float, *, idle_seconds: float = IDLE_SECONDS) -> int:
    """Refresh checkpoints for up to ``seconds``; stop after ``idle_seconds`` without growth."""
    interval = max(get_settings().ledger.checkpoint_interval_seconds, 0.2)
    deadline = time.monotonic() + seconds
    last_growth = time.monotonic()
    published = 0
    size = -1
    while time.monotonic() < deadline:
        with session_scope() as session:
            checkpoint = service.refresh(session)
            grown = checkpoint.size != size
            size = checkpoint.size
        if grown:
            published += 1
            last_growth = time.monotonic()
        elif time.monotonic() - last_growth > idle_seconds:
            break
        time.sleep(interval)
    return published


@huey.periodic_task(crontab(minute="*"), retries=0)  # type: ignore[untyped-decorator]
def publish_checkpoints() -> None:
    """Sequence pending entries and sign checkpoints for most of each minute."""
    try:
        publish_for(RUN_SECONDS)
    except Exception:  # logged and retried next minute; a missing key is reported here
        log.exception("ledger checkpoint publishing failed")
