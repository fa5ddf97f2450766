"""Queue tasks of the marketplace: webhook deliveries, each retried until it is delivered
or has used its attempts (the delivery log shows every attempt)."""

from __future__ import annotations

import logging

from huey import crontab

from xinyidai.core.db import session_scope
from xinyidai.core.queue import huey
from xinyidai.market.service import applications, loans, webhooks

log = logging.getLogger(__name__)


class DeliveryNotYetAccepted(RuntimeError):
    """The receiver did not accept the delivery; the queue retries it."""


def deliver_now(delivery_id: str) -> str:
    """One attempt at a delivery, in its own unit of work; the delivery's state."""
    with session_scope() as session:
        delivery = webhooks.attempt(session, delivery_id=delivery_id)
        return delivery.state


@huey.task(retries=webhooks.MAX_ATTEMPTS - 1, retry_delay=30)  # type: ignore[untyped-decorator]
def deliver_webhook(delivery_id: str) -> str:
    """Deliver one webhook; raise (and so retry) while the receiver does not accept it."""
    state = deliver_now(delivery_id)
    if state == webhooks.PENDING:
        raise DeliveryNotYetAccepted(delivery_id)
    return state


def enqueue_deliveries(delivery_ids: list[str]) -> None:
    """Queue each delivery (after the caller committed them)."""
    for delivery_id in delivery_ids:
        try:
            deliver_webhook(delivery_id)
        except DeliveryNotYetAccepted:
            log.info("webhook %s not accepted yet; it will be retried", delivery_id)


@huey.periodic_task(crontab(minute="20", hour="0"), retries=0)  # type: ignore[untyped-decorator]
def daily_market_sweep() -> None:
    """Every night: loans fall overdue (or are cured) as the clock says, and open
    applications nobody decided in time expire."""
    with session_scope() as session:
        moved = loans.refresh_all(session)
    with session_scope() as session:
        expired = applications.expire_due(session)
    log.info("market sweep: %d loans changed state, %d applications expired", moved, expired)
