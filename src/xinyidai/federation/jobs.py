"""Queue tasks of ``federation``: every minute, send each active peer what it has not
acknowledged (a peer backing off after failures waits for its next try)."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core.queue import huey
from xinyidai.federation.service import sync

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*"), retries=0)  # type: ignore[untyped-decorator]
def sync_peers() -> None:
    """Every minute: catch every active peer up; a failure backs that peer off."""
    try:
        reports = sync.sync_all()
    except Exception:  # logged; the next minute tries again from the acknowledged marks
        log.exception("federation: the sync failed")
        return
    for report in reports:
        if report.messages or report.failed:
            log.info(
                "federation: %s: %d messages, %d items%s",
                report.node,
                report.messages,
                report.items,
                f", failed: {report.failed}" if report.failed else "",
            )
