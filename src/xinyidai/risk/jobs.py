"""Queue tasks of ``risk``."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core import clock, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.risk.service import alerts, blacklist, fraud, warning, watch

log = logging.getLogger(__name__)

# Enterprises scanned in one unit of work by the sweep: a worker killed mid-sweep keeps the
# chunks it committed, and the next sweep raises only what is missing.
SWEEP_CHUNK = 200


@queue.task(alerts.SCAN_TASK, retries=3, retry_delay=10)
def scan_watched(codes: list[str]) -> int:
    """Scan some watched enterprises (queued when their records are stored or a loan of
    theirs moved); how many alerts it raised."""
    with session_scope() as session:
        return len(alerts.scan(session, codes=codes).raised)


def sweep(*, chunk: int = SWEEP_CHUNK, associates_too: bool = False) -> alerts.ScanResult:
    """Bring the watch list in line with the live loans (every loan's associates looked up
    again when ``associates_too``), then scan every watched enterprise, a chunk per unit of
    work (``xyd risk sweep`` and the periodic tasks)."""
    with session_scope() as session:
        watch.refresh_all(session, associates_too=associates_too)
    with session_scope() as session:
        codes = alerts.watched_codes(session)
    total = alerts.ScanResult()
    for start in range(0, len(codes), chunk):
        with session_scope() as session:
            done = alerts.scan(session, codes=codes[start : start + chunk])
        total.scanned += done.scanned
        total.raised += done.raised
        total.deliveries += done.deliveries
    return total


# 01:30 in Asia/Shanghai (huey's crontab reads UTC): after the nightly association analysis.
@huey.periodic_task(crontab(minute="30", hour="17"), retries=0)  # type: ignore[untyped-decorator]
def nightly_sweep() -> None:
    """Every night: every live loan's associates looked up again, then the full sweep."""
    try:
        result = sweep(associates_too=True)
    except Exception:  # logged and run again by the next sweep
        log.exception("the nightly risk sweep failed")
        return
    log.info(
        "nightly risk sweep: %d alerts over %d enterprises", len(result.raised), result.scanned
    )


@huey.periodic_task(crontab(minute="*/15"), retries=0)  # type: ignore[untyped-decorator]
def periodic_sweep() -> None:
    """Every fifteen minutes: the full sweep, the safety net under the scans on arrival."""
    try:
        result = sweep()
    except Exception:  # logged and run again at the next quarter hour
        log.exception("the risk sweep failed")
        return
    if result.raised:
        log.info(
            "risk sweep: %d alerts raised over %d enterprises", len(result.raised), result.scanned
        )


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
