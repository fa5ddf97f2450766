"""Queue tasks of ``sharing``: every night, the schemes whose validity has ended are closed
(enrolment stops; the loans enrolled keep their version). Importing this module (as every
process does, ``xinyidai.jobs``) also declares the sharing listeners and ledger sources."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.sharing.service import schemes

log = logging.getLogger(__name__)


def expire_schemes() -> int:
    """Close the schemes past their validity, committed; how many (also ``xyd sharing
    expire``)."""
    with session_scope() as session:
        return schemes.expire_due(session, today=clock.today())


# 00:10 in Asia/Shanghai (huey's crontab reads UTC): just after China's day changes.
@huey.periodic_task(crontab(minute="10", hour="16"), retries=0)  # type: ignore[untyped-decorator]
def nightly_expiry() -> None:
    """Every night: schemes past their validity closed."""
    try:
        closed = expire_schemes()
    except Exception:  # logged and run again the next night
        log.exception("closing the expired risk-sharing schemes failed")
        return
    if closed:
        log.info("closed %d expired risk-sharing schemes", closed)
