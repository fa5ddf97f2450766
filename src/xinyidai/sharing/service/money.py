"""Every movement of money in risk sharing, each a salted leaf of the ledger.

A movement's body (its kind, amount, the pool or claim it belongs to, the party) stays in
the database with its salt; the public leaf carries only the commitment, so it names
nobody and no amount can be guessed from it (docs/ledger.md, format 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.ids import new_id
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.sharing.models import Claim, Movement, MovementKind, Pool

LEDGER_KIND = "sharing.money"
LEDGER_ACTOR = "system:sharing"
LEDGER_SUBJECT = "sharing"


def body_of(row: Movement, *, pool: str | None, claim: str | None) -> dict[str, Any]:
    """What the leaf commits to."""
    return {
        "id": row.public_id,
        "kind": row.kind,
        "pool": pool,
        "claim": claim,
        "party": row.party,
        "amount": str(row.amount),
        "note": row.note,
        "actor": row.actor,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


def record(
    session: Session,
    *,
    kind: MovementKind,
    amount: Decimal,
    actor: str,
    pool: Pool | None = None,
    claim: Claim | None = None,
    enrolment_id: int | None = None,
    party: str | None = None,
    note: str | None = None,
) -> Movement:
    """Write one movement and its leaf; the caller commits."""
    if amount < 0:
        raise ValueError("a movement is never negative")
    row = Movement(
        public_id=new_id("mov"),
        kind=kind,
        pool_id=None if pool is None else pool.id,
        claim_id=None if claim is None else claim.id,
        enrolment_id=enrolment_id,
        party=party,
        amount=amount,
        note=note,
        actor=actor,
        at=clock.now(),
        salt=ledger_service.new_salt(),
    )
    body = body_of(
        row,
        pool=None if pool is None else pool.public_id,
        claim=None if claim is None else claim.public_id,
    )
    row.digest = ledger_service.digest_of(body)
    session.add(row)
    session.flush()
    ledger_service.append(
        session,
        kind=LEDGER_KIND,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
        ref=row.public_id,
        body=body,
        salt=row.salt,
    )
    return row


def _joined() -> Any:
    return (
        select(Movement, Pool.public_id, Claim.public_id)
        .outerjoin(Pool, Pool.id == Movement.pool_id)
        .outerjoin(Claim, Claim.id == Movement.claim_id)
    )


def _stored(row: Movement, pool: str | None, claim: str | None) -> StoredEvent:
    return StoredEvent(
        ref=row.public_id,
        digest=ledger_service.digest_of(body_of(row, pool=pool, claim=claim)),
        salt=bytes(row.salt),
        subject=LEDGER_SUBJECT,
        actor=LEDGER_ACTOR,
    )


def _leaves(session: Session) -> Iterator[StoredEvent]:
    rows = session.execute(_joined().order_by(Movement.id).execution_options(yield_per=5000))
    for row, pool, claim in rows:
        yield _stored(row, pool, claim)


def _bodies(session: Session, ref: str) -> list[StoredEvent]:
    found = session.execute(_joined().where(Movement.public_id == ref)).first()
    return [] if found is None else [_stored(found[0], found[1], found[2])]


ledger_service.register_source(LEDGER_KIND, _leaves)
ledger_service.register_body(LEDGER_KIND, _bodies)
