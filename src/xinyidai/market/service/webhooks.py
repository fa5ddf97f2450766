"""Webhooks: institutions register an endpoint and hear of new needs that match their
products (``need.matched``) and of post-loan alerts on their loans (``alert.raised``),
signed the Standard Webhooks way (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``).

- An endpoint's URL goes through ``core.outbound`` when it is registered and again at every
  attempt: public addresses only, the connection pinned to the addresses checked.
- Its secret is shown once, in the answer that makes it (registration, rotation), and is
  stored sealed. After a rotation the previous secret signs beside the new one for a grace
  period (``XYD_WEBHOOK_SECRET_GRACE_HOURS``): ``webhook-signature`` then carries both.
- Each delivery is tried at once and then on a back-off schedule (``RETRY_DELAYS``, with
  jitter) for more than a day; every attempt is recorded with its outcome and the time of
  the next; after the last the delivery has failed. Its institution may queue it again.

An attempt is three steps so that no transaction stays open while a receiver answers:
``claim`` (takes the delivery if it is due), ``send`` (no database) and ``record``.
"""

from __future__ import annotations

import base64
import json
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from xinyidai.core import clock, outbound, queue, sealing
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import record as record_transition
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import (
    DeliveryState,
    EndpointState,
    Need,
    Outcome,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from xinyidai.market.service import matching

PENDING, DELIVERED, FAILED = DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.FAILED
ENDPOINT_KIND, DELIVERY_KIND = "webhook_endpoint", "webhook_delivery"
ACTIVE, INACTIVE = EndpointState.ACTIVE, EndpointState.INACTIVE
NEED_MATCHED = "need.matched"
ALERT_RAISED = "alert.raised"  # post-loan monitoring raised an alert (``risk``)
EVENT_TYPES = (NEED_MATCHED, ALERT_RAISED)
DELIVER_TASK = "market.deliver_webhook"  # the queue task of one attempt at a delivery
TIMEOUT_SECONDS = 10.0
ERROR_CHARS = 500

# The waits after each failed attempt of a round (the Standard Webhooks schedule): eight
# attempts over 27.6 hours, at least 24.8 with the jitter at its lowest.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
JITTER = 0.1  # each wait is spread over ±10%, so receivers that failed together do not all
# come back at once
# How long a claimed attempt keeps others off the delivery (longer than any attempt takes).
CLAIM_SECONDS = 120


def retry_delay(round_attempts: int, *, draw: float) -> timedelta | None:
    """The wait after the ``round_attempts``-th failed attempt of a round, ``None`` after
    the last; ``draw`` (in [0, 1)) places it within ±``JITTER`` of the schedule."""
    if not 1 <= round_attempts <= len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[round_attempts - 1]
    return base * (1 + JITTER * (2 * draw - 1))


def jitter_draw() -> float:
    """The random draw each retry's wait is spread with."""
    return random.random()  # spreading load, not a secret


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def _seal_context(endpoint_public_id: str) -> str:
    return f"market_webhook_endpoint:{endpoint_public_id}"


def _institution(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution registers webhook endpoints", field="url")


# --------------------------------------------------------------------------- endpoints


def register(session: Session, *, principal: Principal, url: str) -> tuple[WebhookEndpoint, str]:
    """An institution registers where it wants new matching needs sent: the endpoint and
    its secret, which is shown this once."""
    _institution(principal)
    outbound.check_url(url, field="url")
    secret = new_secret()
    public_id = new_id("whk")
    endpoint = WebhookEndpoint(
        public_id=public_id,
        institution_id=principal.organization_public_id,
        url=url.strip(),
        secret_sealed=sealing.seal(secret, context=_seal_context(public_id)),
        active=True,
    )
    session.add(endpoint)
    session.flush()
    record_transition(
        session,
        kind=ENDPOINT_KIND,
        subject_id=public_id,
        transition="register",
        from_state=None,
        to_state=ACTIVE,
        actor=principal.actor,
    )
    return endpoint, secret


def endpoints_statement(*, institution_id: str) -> Select[Any]:
    """The institution's endpoints, oldest first."""
    return (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.institution_id == institution_id)
        .order_by(WebhookEndpoint.id)
    )


def own_endpoint_or_raise(
    session: Session, *, principal: Principal, endpoint_id: str
) -> WebhookEndpoint:
    """The caller's endpoint; another institution's is as missing as one that never was."""
    endpoint = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.public_id == endpoint_id)
    )
    if endpoint is None or endpoint.institution_id != principal.organization_public_id:
        raise NotFound("no webhook endpoint {endpoint}", field="endpoint_id", endpoint=endpoint_id)
    return endpoint


def deactivate(session: Session, *, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to an endpoint; its pending deliveries fail at their next attempt."""
    endpoint = own_endpoint_or_raise(session, principal=principal, endpoint_id=endpoint_id)
    if endpoint.active:
        endpoint.active = False
        record_transition(
            session,
            kind=ENDPOINT_KIND,
            subject_id=endpoint.public_id,
            transition="deactivate",
            from_state=ACTIVE,
            to_state=INACTIVE,
            actor=principal.actor,
        )
    session.flush()
    return endpoint


def rotate_secret(
    session: Session, *, principal: Principal, endpoint_id: str, grace_hours: int | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret for an endpoint, shown this once; the one it replaces keeps signing
    beside it for ``grace_hours`` (default ``XYD_WEBHOOK_SECRET_GRACE_HOURS``; 0 retires it
    at once, as after a leak)."""
    endpoint = own_endpoint_or_raise(session, principal=principal, endpoint_id=endpoint_id)
    if not endpoint.active:
        raise Conflict("a deactivated endpoint has no secret to rotate", field="endpoint_id")
    hours = get_settings().market.webhook_secret_grace_hours if grace_hours is None else grace_hours
    if not 0 <= hours <= 720:
        raise ValidationFailed("must be between 0 and 720 hours", field="grace_hours")
    now = clock.now()
    secret = new_secret()
    if hours:
        endpoint.previous_secret_sealed = endpoint.secret_sealed
        endpoint.previous_secret_expires_at = now + timedelta(hours=hours)
    else:
        endpoint.previous_secret_sealed = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret_sealed = sealing.seal(secret, context=_seal_context(endpoint.public_id))
    endpoint.secret_rotated_at = now
    record_transition(
        session,
        kind=ENDPOINT_KIND,
        subject_id=endpoint.public_id,
        transition="rotate_secret",
        from_state=ACTIVE,
        to_state=ACTIVE,
        actor=principal.actor,
        reason=f"previous secret signs for {hours} h",
        at=now,
    )
    session.flush()
    return endpoint, secret


def signing_secrets(endpoint: WebhookEndpoint, *, at: datetime) -> list[str]:
    """The secrets that sign at ``at``: the current one, and the previous one during its
    grace period. ``sealing.SealBroken`` when they do not open with this node's key."""
    context = _seal_context(endpoint.public_id)
    secrets = [sealing.unseal(endpoint.secret_sealed, context=context)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_sealed and expires is not None and at < expires:
        secrets.append(sealing.unseal(endpoint.previous_secret_sealed, context=context))
    return secrets


def signed_headers(secrets: list[str], msg_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one message: one signature per secret, separated
    by spaces (a receiver accepts the message when any of them verifies)."""
    moment = clock.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(Webhook(s).sign(msg_id, moment, body) for s in secrets),
        "content-type": "application/json",
    }


# --------------------------------------------------------------------------- deliveries


def deliveries_statement(*, institution_id: str) -> Select[WebhookDelivery, WebhookEndpoint]:
    """The institution's delivery log, newest first: rows of (delivery, its endpoint)."""
    return (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookEndpoint.institution_id == institution_id)
        .order_by(WebhookDelivery.id.desc())
    )


def _delivery_row(
    session: Session, delivery_id: str
) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    row = session.execute(
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookDelivery.public_id == delivery_id)
    ).first()
    return None if row is None else (row[0], row[1])


def own_delivery_or_raise(
    session: Session, *, principal: Principal, delivery_id: str
) -> tuple[WebhookDelivery, WebhookEndpoint]:
    """One of the caller's deliveries and its endpoint."""
    row = _delivery_row(session, delivery_id)
    if row is None or row[1].institution_id != principal.organization_public_id:
        raise NotFound("no webhook delivery {delivery}", field="delivery_id", delivery=delivery_id)
    return row


def attempts_of(session: Session, *, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    """Every attempt at a delivery, oldest first."""
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery.id)
            .order_by(WebhookAttempt.number)
        )
    )


def need_matched_payload(need: Need, product_ids: list[str]) -> dict[str, Any]:
    return {
        "type": NEED_MATCHED,
        "timestamp": clock.now().isoformat(),
        "data": {
            "need_id": need.public_id,
            "amount": str(need.amount),
            "term_months": need.term_months,
            "purpose": need.purpose,
            "urgency": need.urgency,
            "region_code": need.region_code,
            "product_ids": product_ids,
        },
    }


def queue_need_matched(session: Session, *, need: Need) -> list[str]:
    """A pending delivery to every active endpoint whose institution has a product the need
    fits on public facts, each handed to the queue when the caller commits; their ids.
    Rules on non-public data are not checked here: whether an institution hears of a need,
    and what it hears, tell nothing of them (it learns them through ``/needs/{id}/matches``
    under the access decision)."""
    endpoints = list(
        session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
    )
    if not endpoints:
        return []
    eligible: dict[str, list[str]] = {}
    for match in matching.matches_for_need(session, need=need, reader=None):
        if match.eligible:
            eligible.setdefault(match.product.institution_id, []).append(match.product.public_id)
    ids: list[str] = []
    now = clock.now()
    for endpoint in endpoints:
        products = eligible.get(endpoint.institution_id)
        if not products:
            continue
        delivery = WebhookDelivery(
            public_id=new_id("msg"),
            endpoint_id=endpoint.id,
            event_type=NEED_MATCHED,
            payload=need_matched_payload(need, products),
            state=PENDING,
            attempts=0,
            round_attempts=0,
            next_attempt_at=now,
        )
        session.add(delivery)
        session.flush()
        queue.enqueue_after_commit(session, DELIVER_TASK, delivery.public_id)
        ids.append(delivery.public_id)
    return ids


def has_endpoints(session: Session, *, institution_id: str) -> bool:
    """Whether the institution has an active endpoint to send events to."""
    return (
        session.scalar(
            select(WebhookEndpoint.id)
            .where(
                WebhookEndpoint.institution_id == institution_id,
                WebhookEndpoint.active.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def queue_event(
    session: Session, *, institution_id: str, event_type: str, data: dict[str, Any]
) -> list[str]:
    """A pending delivery of one event to every active endpoint of one institution, each
    handed to the queue when the caller commits (and retried on the schedule); their ids.
    The caller decides what ``data`` may say to that institution."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.institution_id == institution_id, WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    now = clock.now()
    ids: list[str] = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            public_id=new_id("msg"),
            endpoint_id=endpoint.id,
            event_type=event_type,
            payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
            state=PENDING,
            attempts=0,
            round_attempts=0,
            next_attempt_at=now,
        )
        session.add(delivery)
        session.flush()
        queue.enqueue_after_commit(session, DELIVER_TASK, delivery.public_id)
        ids.append(delivery.public_id)
    return ids


def announce_need(session: Session, *, need: Need) -> list[str]:
    """Queue the deliveries a new need calls for (sent once the caller commits)."""
    return queue_need_matched(session, need=need)


def redeliver(
    session: Session, *, principal: Principal, delivery_id: str
) -> tuple[WebhookDelivery, WebhookEndpoint]:
    """Queue a new attempt at one of the caller's deliveries, now. A delivered or failed
    delivery starts a new round of retries; a pending one is tried now, its round going on."""
    delivery, endpoint = own_delivery_or_raise(
        session, principal=principal, delivery_id=delivery_id
    )
    if not endpoint.active:
        raise Conflict(
            "the endpoint of this delivery is deactivated; register it again", field="delivery_id"
        )
    before = delivery.state
    if before != PENDING:
        delivery.state = PENDING
        delivery.round_attempts = 0
    delivery.next_attempt_at = clock.now()
    record_transition(
        session,
        kind=DELIVERY_KIND,
        subject_id=delivery.public_id,
        transition="redeliver",
        from_state=before,
        to_state=PENDING,
        actor=principal.actor,
    )
    session.flush()
    queue.enqueue_after_commit(session, DELIVER_TASK, delivery.public_id)
    return delivery, endpoint


def due(session: Session, *, before: datetime, limit: int = 1000) -> list[str]:
    """Pending deliveries whose attempt was due before ``before`` (their queue job was
    lost, or the worker stopped mid-attempt)."""
    return list(
        session.scalars(
            select(WebhookDelivery.public_id)
            .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= before)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


# --------------------------------------------------------------------------- one attempt


@dataclass(frozen=True)
class Claim:
    """A delivery taken for one attempt: what to send where, signed how."""

    delivery_id: str
    url: str
    body: str
    secrets: tuple[str, ...]
    started_at: datetime


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None


def claim(session: Session, *, delivery_id: str) -> Claim | None:
    """Take a delivery for an attempt if it is pending and due; ``None`` otherwise (another
    worker has it, it is not due yet, or it is settled). A delivery whose endpoint was
    deactivated fails here, unsent."""
    row = _delivery_row(session, delivery_id)
    if row is None:
        raise NotFound("no webhook delivery {delivery}", field="delivery_id", delivery=delivery_id)
    delivery, endpoint = row
    now = clock.now()
    taken = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.state == PENDING,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    session.refresh(delivery)
    if not endpoint.active:
        delivery.state = FAILED
        delivery.next_attempt_at = None
        delivery.last_error = "the endpoint was deactivated"
        session.flush()
        return None
    try:
        secrets = tuple(signing_secrets(endpoint, at=now))
    except sealing.SealBroken:
        secrets = ()
    return Claim(
        delivery_id=delivery.public_id,
        url=endpoint.url,
        body=json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")),
        secrets=secrets,
        started_at=now,
    )


def send(claimed: Claim) -> Result:
    """Check the endpoint's URL again (resolving its host now), then post the signed body
    to the addresses just checked. No database work: nothing is held while it waits."""
    try:
        target = outbound.check_url(claimed.url)
    except outbound.OutboundRefused as refused:
        return Result(Outcome.REFUSED, error=f"not sent: the url {refused}"[:ERROR_CHARS])
    if not claimed.secrets:
        return Result(
            Outcome.UNSIGNABLE,
            error="not sent: the secret does not open with this node's key; rotate it",
        )
    try:
        answer = outbound.post(
            target,
            content=claimed.body.encode(),
            headers=signed_headers(list(claimed.secrets), claimed.delivery_id, claimed.body),
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        return Result(Outcome.UNREACHABLE, error=f"{type(error).__name__}: {error}"[:ERROR_CHARS])
    if 200 <= answer.status_code < 300:
        return Result(Outcome.DELIVERED, status_code=answer.status_code)
    if 300 <= answer.status_code < 400:
        where = answer.location or "elsewhere"
        return Result(
            Outcome.REJECTED,
            status_code=answer.status_code,
            error=f"redirect to {where} not followed"[:ERROR_CHARS],
        )
    return Result(
        Outcome.REJECTED, status_code=answer.status_code, error=answer.text[:ERROR_CHARS] or None
    )


def record(session: Session, *, claimed: Claim, result: Result, draw: float) -> WebhookDelivery:
    """Write an attempt's outcome: the attempt row, the delivery delivered, failed after its
    last attempt, or due again after the next wait of the schedule (spread by ``draw``)."""
    row = _delivery_row(session, claimed.delivery_id)
    if row is None:
        raise NotFound(
            "no webhook delivery {delivery}", field="delivery_id", delivery=claimed.delivery_id
        )
    delivery = row[0]
    now = clock.now()
    settled = delivery.state == DELIVERED  # by another attempt while this one was out
    delivery.attempts += 1
    delivery.round_attempts += 1
    delivery.last_status = result.status_code
    delivery.last_error = result.error
    next_at: datetime | None = None
    if result.outcome is Outcome.DELIVERED:
        delivery.state = DELIVERED
        delivery.delivered_at = now
    elif settled:
        pass
    else:
        wait = retry_delay(delivery.round_attempts, draw=draw)
        if wait is None:
            delivery.state = FAILED
        else:
            delivery.state = PENDING
            next_at = now + wait
    delivery.next_attempt_at = next_at
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            attempted_at=claimed.started_at,
            outcome=result.outcome.value,
            status_code=result.status_code,
            error=result.error,
            next_attempt_at=next_at,
        )
    )
    session.flush()
    if next_at is not None:
        queue.enqueue_after_commit(session, DELIVER_TASK, delivery.public_id, at=next_at)
    return delivery
