"""Queue tasks of ``risk``."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.risk.service import blacklist, fraud

log = logging.getLogger(__name__)


@queue.task(fraud.SCAN_TASK, retries=2, retry_delay=5)
def fraud_scan(application_id: str) -> list[str]:
    """Run the fraud rules over one application once it is committed; the rules it hit."""
    with session_scope() as session:
        return fraud.scan(session, application_id=application_id).hits


@huey.periodic_task(crontab(minute="40", hour="0"), retries=0)  # type: ignore[untyped-decorator]
def expire_blacklist_listings() -> None:
    """Every night: listings whose term has ended leave the financial blacklist."""
    with session_scope() as session:
        moved = blacklist.expire_due(session)
    if moved:
        log.info("blacklist: %d listings expired", moved)
