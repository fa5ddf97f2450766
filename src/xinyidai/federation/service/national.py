"""The national platform's adapter: the same signed messages, in a batch file.

Over the API the national platform is a peer like any other (role ``national``, its inbox
at its URL). Where the exchange goes by file, a batch file is one JSON document (UTF-8)::

    {"format": "xyd-national-batch/1", "envelope": {…a signed envelope…}}

and the answer to it a receipt file::

    {"format": "xyd-national-batch/1", "receipt": {…a signed receipt envelope…}}

Envelopes and receipts are those of the API (``federation.envelope``): signed Ed25519 over
their RFC 8785 bytes. A batch file read here is checked as a message is (registered sender,
signature, addressed to this node, id never seen) except for its time, kept but not held
against the clock since files travel by hand; it is applied once and answered with a
receipt file. A batch written here is stored as a message sent; the marks move only when
the national platform's receipt file is read back (``read_receipt``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.errors import ValidationFailed
from xinyidai.federation.models import Direction, Message, MessageKind, NodeRole
from xinyidai.federation.service import down, exchange, nodes

FORMAT = "xyd-national-batch/1"


def _document(text: str, member: str, field: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        raise ValidationFailed("the file is not JSON", field=field) from None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise ValidationFailed("the file is not a {format} document", field=field, format=FORMAT)
    inner = found.get(member)
    if not isinstance(inner, dict):
        raise ValidationFailed("the file holds no {member}", field=field, member=member)
    return inner


def dumps(member: str, inner: dict[str, Any]) -> str:
    """A batch or receipt file's text."""
    return json.dumps({"format": FORMAT, member: inner}, ensure_ascii=False, indent=1) + "\n"


def write_batch(session: Session, *, name: str) -> tuple[str, Message] | None:
    """The next batch of records for the national node ``name`` as a file's text (and the
    message stored as sent), or None when it has nothing new."""
    node = nodes.get_or_raise(session, name=name)
    if node.role != NodeRole.NATIONAL:
        raise ValidationFailed("{name} is not the national platform", field="name", name=name)
    body, items = down.records_body(session, node=node)
    if not items:
        return None
    row = exchange.prepare(session, node=node, kind=MessageKind.RECORDS, body=body, items=items)
    return dumps("envelope", row.envelope), row


def read_batch(session: Session, *, text: str) -> str:
    """Apply a batch file from the national platform once; the receipt file's text."""
    raw = _document(text, "envelope", "file")
    return dumps("receipt", exchange.receive(session, raw=raw, check_time=False))


def read_receipt(session: Session, *, text: str) -> dict[str, Any]:
    """Take the national platform's receipt file for a batch written here: the marks move."""
    raw = _document(text, "receipt", "file")
    body = raw.get("body")
    message_id = body.get("for") if isinstance(body, dict) else None
    row = session.scalar(
        select(Message).where(
            Message.message_id == str(message_id), Message.direction == Direction.OUT
        )
    )
    if row is None:
        raise ValidationFailed("the receipt is for no batch written here", field="file")
    node = nodes.get_or_raise(session, name=row.peer)
    try:
        result = exchange.accept_receipt(session, row=row, node=node, raw=raw)
    except exchange.SendFailed as failure:
        raise ValidationFailed("{reason}", field="file", reason=str(failure)) from None
    down.advance(node, result.get("marks") or {})
    return result
