"""Signed exchanges between nodes: receive a message (check it, refuse and log a bad one,
apply a good one once, answer with a signed receipt) and send one (store it, post it
through the outbound guard, check the receipt). Both ends keep the message and the receipt
and append the same evidence body to their ledgers.

A message is refused when its envelope is malformed, its sender unknown or suspended, it
is addressed to another node, its signature does not check, its time is further than
``XYD_FEDERATION_MAX_SKEW_SECONDS`` from the receiver's clock, or its id was received
before (a replay). Each refusal is a ``federation_refusal`` row and a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock, outbound
from xinyidai.core.errors import Conflict, Forbidden, Unauthorized, XydError
from xinyidai.core.settings import get_settings
from xinyidai.federation import envelope, keys
from xinyidai.federation.models import (
    Direction,
    Message,
    MessageState,
    Node,
    NodeState,
    Refusal,
    RefusalReason,
)
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent

LOG = logging.getLogger(__name__)
LEDGER_KIND = "federation.exchange"
INBOX_PATH = "/api/v1/federation/inbox"

Handler = Callable[[Session, Node, dict[str, Any]], dict[str, Any]]
_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Declare the function that applies messages of ``kind`` (it returns the result the
    receipt carries)."""

    def decorate(handler: Handler) -> Handler:
        _handlers[kind] = handler
        return handler

    return decorate


class MessageRefused(XydError):
    """A message this node will not take; ``reason`` says why."""

    status = 401
    code = "message_refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(
            "message refused ({reason}): {detail}", field="envelope", reason=reason, detail=detail
        )
        self.reason = reason
        if reason == RefusalReason.REPLAYED:
            self.status, self.code = Conflict.status, "message_replayed"
        elif reason in (RefusalReason.SUSPENDED, RefusalReason.WRONG_RECEIVER):
            self.status = Forbidden.status
        elif reason == RefusalReason.MALFORMED:
            self.status = 400
        else:
            self.status = Unauthorized.status


def evidence(message: dict[str, Any], receipt: dict[str, Any] | None) -> dict[str, Any]:
    """The body both ends append to their ledgers for one exchange: the same on each side."""
    return {
        "message": message["id"],
        "from": message["from"],
        "to": message["to"],
        "kind": message["kind"],
        "message_digest": envelope.digest(message),
        "receipt_digest": None if receipt is None else envelope.digest(receipt),
    }


def _log_evidence(session: Session, row: Message, actor: str) -> None:
    row.salt = ledger_service.new_salt()
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=actor,
        subject=row.peer,
        ref=row.message_id,
        body=evidence(row.envelope, row.receipt),
        salt=row.salt,
    )


def _refuse(session: Session, raw: Any, reason: str, detail: str) -> MessageRefused:
    sender = raw.get("from") if isinstance(raw, dict) else None
    message_id = raw.get("id") if isinstance(raw, dict) else None
    row = Refusal(
        at=clock.now(),
        claimed_sender=str(sender or "")[:120],
        message_id=str(message_id or "")[:64],
        reason=reason,
        detail=detail[:300],
    )
    session.add(row)
    session.flush()
    LOG.warning(
        "federation message refused",
        extra={"reason": reason, "sender": row.claimed_sender, "message_id": row.message_id},
    )
    return MessageRefused(reason, detail)


def receive(session: Session, *, raw: Any, check_time: bool = True) -> dict[str, Any]:
    """Check, apply once and answer a message; ``MessageRefused`` (its refusal recorded in
    the session: the edge commits it) otherwise. ``check_time=False`` is for a batch file,
    which travels by hand: its time is kept, not held against the clock."""
    try:
        message = envelope.read(raw)
    except envelope.EnvelopeError as exc:
        raise _refuse(session, raw, exc.reason, exc.detail) from None
    node = session.scalar(select(Node).where(Node.name == message["from"]))
    if node is None:
        raise _refuse(session, raw, RefusalReason.UNKNOWN_NODE, "the sender is not registered")
    if node.state != NodeState.ACTIVE:
        raise _refuse(session, raw, RefusalReason.SUSPENDED, "the sender is suspended")
    if message["to"] != keys.node_name():
        raise _refuse(session, raw, RefusalReason.WRONG_RECEIVER, "addressed to another node")
    try:
        envelope.check_signature(message, keys.parse_public(node.public_key))
        skew = timedelta(seconds=get_settings().federation.max_skew_seconds)
        if check_time:
            envelope.check_fresh(message, now=clock.now(), skew=skew)
    except envelope.EnvelopeError as exc:
        raise _refuse(session, raw, exc.reason, exc.detail) from None
    if session.scalar(select(Message.id).where(Message.message_id == message["id"])):
        raise _refuse(session, raw, RefusalReason.REPLAYED, "this message id was received before")
    handler = _handlers.get(message["kind"])
    if handler is None:
        raise _refuse(session, raw, RefusalReason.MALFORMED, "unknown message kind")
    result = handler(session, node, message)
    answer = envelope.receipt(
        key=keys.load_key(), sender=keys.node_name(), message=message, result=result
    )
    row = Message(
        message_id=message["id"],
        direction=Direction.IN,
        peer=node.name,
        kind=message["kind"],
        envelope=message,
        message_digest=envelope.digest(message),
        receipt=answer,
        receipt_digest=envelope.digest(answer),
        items=int(result.get("items", 0)),
        state=MessageState.RECEIVED,
        created_at=clock.now(),
    )
    session.add(row)
    node.last_received_at = clock.now()
    _log_evidence(session, row, actor=f"node:{node.name}")
    return answer


# --------------------------------------------------------------------------- sending


class SendFailed(Exception):
    """No good receipt came back: the message is kept as failed, the marks stay."""


def prepare(
    session: Session, *, node: Node, kind: str, body: dict[str, Any], items: int
) -> Message:
    """Seal and store a message to ``node`` (the caller commits it before sending)."""
    sealed = envelope.seal(
        key=keys.load_key(), sender=keys.node_name(), receiver=node.name, kind=kind, body=body
    )
    row = Message(
        message_id=sealed["id"],
        direction=Direction.OUT,
        peer=node.name,
        kind=kind,
        envelope=sealed,
        message_digest=envelope.digest(sealed),
        items=items,
        state=MessageState.SENDING,
        created_at=clock.now(),
    )
    session.add(row)
    node.last_sent_at = clock.now()
    session.flush()
    return row


def post(url: str, message: dict[str, Any]) -> dict[str, Any]:
    """POST a sealed message to a peer through the outbound guard; its answer's JSON.

    ``SendFailed`` when the peer cannot be reached or refuses (the reason kept)."""
    target = outbound.check_url(url.rstrip("/") + INBOX_PATH, field="url")
    content = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        answer = outbound.post(
            target,
            content=content,
            headers={"content-type": "application/json"},
            timeout=get_settings().federation.timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise SendFailed(f"unreachable: {type(exc).__name__}") from None
    if answer.status_code != 200:
        raise SendFailed(f"answered {answer.status_code}: {answer.text[:300]}")
    try:
        found = json.loads(answer.text)
    except ValueError:
        raise SendFailed("the answer is not JSON (or longer than a receipt)") from None
    if not isinstance(found, dict):
        raise SendFailed("the answer is not a receipt")
    return found


def accept_receipt(session: Session, *, row: Message, node: Node, raw: Any) -> dict[str, Any]:
    """Check the peer's receipt of ``row`` and keep it with the evidence; its result."""
    try:
        answer = envelope.read(raw)
        envelope.check_signature(answer, keys.parse_public(node.public_key))
    except envelope.EnvelopeError as exc:
        raise SendFailed(f"receipt refused ({exc.reason}): {exc.detail}") from None
    body = answer["body"]
    if (
        answer["kind"] != envelope.RECEIPT
        or answer["from"] != node.name
        or body.get("for") != row.message_id
        or body.get("digest") != row.message_digest
        or not isinstance(body.get("result"), dict)
    ):
        raise SendFailed("the receipt is not for this message")
    row.receipt = answer
    row.receipt_digest = envelope.digest(answer)
    row.state = MessageState.ACKNOWLEDGED
    row.error = None
    node.last_ack_at = clock.now()
    node.failures = 0
    node.next_try_at = None
    node.last_error = None
    _log_evidence(session, row, actor=f"node:{keys.node_name()}")
    return dict(body["result"])


def fail(session: Session, *, row: Message | None, node: Node, error: str) -> None:
    """Keep a failed send: the message failed, the node backs off (doubling, capped)."""
    settings = get_settings().federation
    if row is not None:
        row.state = MessageState.FAILED
        row.error = error[:500]
    node.failures += 1
    wait = min(
        settings.retry_max_seconds, settings.retry_base_seconds * 2 ** min(node.failures - 1, 20)
    )
    node.next_try_at = clock.now() + timedelta(seconds=wait)
    node.last_error = error[:500]
    session.flush()


def messages_statement(*, peer: str | None = None, direction: str | None = None) -> Any:
    stmt = select(Message).order_by(Message.id.desc())
    if peer is not None:
        stmt = stmt.where(Message.peer == peer)
    if direction is not None:
        stmt = stmt.where(Message.direction == direction)
    return stmt


def refusals_statement(*, sender: str | None = None) -> Any:
    stmt = select(Refusal).order_by(Refusal.id.desc())
    return stmt if sender is None else stmt.where(Refusal.claimed_sender == sender)


# --------------------------------------------------------------------------- the ledger


def _stored(row: Message) -> StoredEvent:
    actor = f"node:{row.peer}" if row.direction == Direction.IN else f"node:{row.envelope['from']}"
    return StoredEvent(
        ref=row.message_id,
        digest=ledger_service.digest_of(evidence(row.envelope, row.receipt)),
        salt=None if row.salt is None else bytes(row.salt),
        subject=row.peer,
        actor=actor,
    )


def _leaves(session: Session) -> Iterator[StoredEvent]:
    stmt = select(Message).where(Message.salt.is_not(None)).order_by(Message.id)
    for row in session.scalars(stmt.execution_options(yield_per=1000)):
        yield _stored(row)


def _bodies(session: Session, ref: str) -> list[StoredEvent]:
    row = session.scalar(select(Message).where(Message.message_id == ref))
    return [] if row is None or row.salt is None else [_stored(row)]


ledger_service.register_source(LEDGER_KIND, _leaves)
ledger_service.register_body(LEDGER_KIND, _bodies)
