"""Webhooks: institutions register an endpoint and hear of new needs that match their
products, signed the Standard Webhooks way (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); each delivery is a queue job with retries and a delivery log."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Need, WebhookDelivery, WebhookEndpoint
from xinyidai.market.service import matching

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
NEED_MATCHED = "need.matched"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 6


def _institution(principal: Principal) -> None:
    if principal.organization_kind != "institution":
        raise Forbidden("only an institution registers webhook endpoints", field="url")


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def register(session: Session, *, principal: Principal, url: str) -> WebhookEndpoint:
    """An institution registers where it wants new matching needs sent; it gets a secret."""
    _institution(principal)
    parsed = urlparse((url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationFailed("must be an http or https address", field="url")
    endpoint = WebhookEndpoint(
        public_id=new_id("whk"),
        institution_id=principal.organization_public_id,
        url=url.strip(),
        secret=new_secret(),
        active=True,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoints_of(session: Session, *, institution_id: str) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.institution_id == institution_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def deactivate(session: Session, *, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.public_id == endpoint_id)
    )
    if endpoint is None or endpoint.institution_id != principal.organization_public_id:
        raise NotFound("no webhook endpoint {endpoint}", field="endpoint_id", endpoint=endpoint_id)
    endpoint.active = False
    session.flush()
    return endpoint


def deliveries_of(
    session: Session, *, institution_id: str, limit: int = 100
) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
    """The institution's delivery log, newest first."""
    rows = session.execute(
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookEndpoint.institution_id == institution_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


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
    fits on public facts; their ids (the caller commits, then enqueues each). Rules on
    non-public data are not checked here: whether an institution hears of a need, and what
    it hears, tell nothing of them (it learns them through ``/needs/{id}/matches`` under
    the access decision)."""
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
        )
        session.add(delivery)
        session.flush()
        ids.append(delivery.public_id)
    return ids


def signed_headers(secret: str, msg_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one message."""
    moment = clock.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
        "content-type": "application/json",
    }


def attempt(session: Session, *, delivery_id: str) -> WebhookDelivery:
    """Send one delivery once and log the outcome; a 2xx answer delivers it."""
    row = session.execute(
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookDelivery.public_id == delivery_id)
    ).first()
    if row is None:
        raise NotFound("no webhook delivery {delivery}", field="delivery_id", delivery=delivery_id)
    delivery, endpoint = row[0], row[1]
    if delivery.state == DELIVERED:
        return delivery
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    delivery.attempts += 1
    try:
        response = httpx.post(
            endpoint.url,
            content=body.encode(),
            headers=signed_headers(endpoint.secret, delivery.public_id, body),
            timeout=TIMEOUT_SECONDS,
        )
        delivery.last_status = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.last_error = None if ok else response.text[:500]
    except httpx.HTTPError as error:
        ok = False
        delivery.last_status = None
        delivery.last_error = f"{type(error).__name__}: {error}"[:500]
    if ok:
        delivery.state = DELIVERED
        delivery.delivered_at = clock.now()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = FAILED
    session.flush()
    return delivery


def announce_need(session: Session, *, need: Need) -> list[str]:
    """Queue the deliveries a new need calls for and send them: the caller's transaction is
    committed first so that the queue's worker sees them."""
    ids = queue_need_matched(session, need=need)
    if ids:
        session.commit()
        from xinyidai.market.jobs import enqueue_deliveries

        enqueue_deliveries(ids)
        session.expire_all()
    return ids
