"""Queue tasks of the marketplace: webhook deliveries (each attempt a task, the next one
scheduled by the attempt before it), the sweep that resumes deliveries whose task was
lost, and the nightly sweep of loans and applications."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab

from xinyidai.core import clock, queue
from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.market.service import applications, loans, webhooks

log = logging.getLogger(__name__)

# A pending delivery this long past its time has lost its task: the sweep queues it again.
RESUME_AFTER = timedelta(minutes=2)


def deliver_now(delivery_id: str) -> str | None:
    """One attempt at a delivery if it is due: claimed and recorded in two short units of
    work, sent in between. The delivery's state after it, ``None`` when it was not due."""
    with session_scope() as session:
        claimed = webhooks.claim(session, delivery_id=delivery_id)
        if claimed is None:
            return None
    result = webhooks.send(claimed)
    with session_scope() as session:
        delivery = webhooks.record(
            session, claimed=claimed, result=result, draw=webhooks.jitter_draw()
        )
        return str(delivery.state)


@queue.task(webhooks.DELIVER_TASK, retries=0)
def deliver_webhook(delivery_id: str) -> str | None:
    """Attempt one webhook delivery (the attempt schedules the next one itself)."""
    return deliver_now(delivery_id)


@huey.periodic_task(crontab(minute="*/5"), retries=0)  # type: ignore[untyped-decorator]
def resume_due_deliveries() -> None:
    """Every five minutes: queue again the pending deliveries long past their time."""
    with session_scope() as session:
        due = webhooks.due(session, before=clock.now() - RESUME_AFTER)
    for delivery_id in due:
        queue.enqueue(webhooks.DELIVER_TASK, delivery_id)
    if due:
        log.info("resumed %d webhook deliveries past their time", len(due))


@huey.periodic_task(crontab(minute="20", hour="0"), retries=0)  # type: ignore[untyped-decorator]
def daily_market_sweep() -> None:
    """Every night: loans fall overdue (or are cured) as the clock says, and open
    applications nobody decided in time expire."""
    with session_scope() as session:
        moved = loans.refresh_all(session)
    with session_scope() as session:
        expired = applications.expire_due(session)
    log.info("market sweep: %d loans changed state, %d applications expired", moved, expired)
