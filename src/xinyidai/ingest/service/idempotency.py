"""``Idempotency-Key``: a push sent again with the same key gets the first answer back."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict
from xinyidai.ingest.models import IdempotencyKey


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def replay(
    session: Session, *, principal: str, key: str, body_hash: str
) -> tuple[int, dict[str, Any]] | None:
    """The stored answer for a repeated ``Idempotency-Key``; ``Conflict`` if the body differs."""
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.principal == principal, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise Conflict(
            "Idempotency-Key {key} was used with a different body",
            field="Idempotency-Key",
            key=key,
        )
    return row.status_code, row.response


def remember(
    session: Session,
    *,
    principal: str,
    key: str,
    body_hash: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    session.add(
        IdempotencyKey(
            principal=principal,
            key=key,
            request_hash=body_hash,
            status_code=status_code,
            response=response,
            created_at=clock.now(),
        )
    )
    session.flush()
