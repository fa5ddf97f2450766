"""Checkpoints: sign the head at most every interval, and the notes with their cosignatures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, NotFound
from xinyidai.core.settings import get_settings
from xinyidai.ledger import keys, note
from xinyidai.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitness
from xinyidai.ledger.service.sequencing import has_pending, head, integrate, lock_head


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The checkpoint of the largest tree, or None before the first one."""
    return session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))


def latest_checkpoint_or_raise(session: Session) -> LedgerCheckpoint:
    """The latest checkpoint; ``NotFound`` when none was published yet."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound("the ledger has no checkpoint yet", field="checkpoint")
    return checkpoint


def publish_checkpoint(session: Session) -> LedgerCheckpoint:
    """Sign a checkpoint of the current head unless one exists for its size.

    Call it holding the head lock (``integrate`` or ``refresh`` took it).
    """
    current = head(session)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == current.size:
        return latest
    if latest is not None and latest.size > current.size:
        raise Conflict(
            "the ledger head ({size}) is behind its checkpoint ({checkpoint})",
            field="ledger",
            size=current.size,
            checkpoint=latest.size,
        )
    signer = keys.load_key()
    body = note.Checkpoint(keys.origin(), current.size, bytes(current.root_hash)).text
    checkpoint = LedgerCheckpoint(
        size=current.size, root_hash=bytes(current.root_hash), note=note.sign_note(body, signer)
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def refresh(session: Session, *, force: bool = False) -> LedgerCheckpoint:
    """Sequence pending entries and sign a new checkpoint when the tree grew.

    At most one checkpoint per ``checkpoint_interval_seconds`` unless ``force``; when
    another process holds the head lock, the latest checkpoint is returned as is.
    """
    latest = latest_checkpoint(session)
    if latest is not None:
        fresh = clock.now() - latest.created_at < timedelta(
            seconds=get_settings().ledger.checkpoint_interval_seconds
        )
        grew = has_pending(session) or head(session).size > latest.size
        if not grew or (fresh and not force):
            return latest
    if lock_head(session, wait=force or latest is None) is None:
        return latest_checkpoint_or_raise(session)
    integrate(session)
    return publish_checkpoint(session)


def cosignatures_of(
    session: Session, checkpoint: LedgerCheckpoint
) -> list[tuple[str, LedgerCosignature]]:
    """The witnesses' cosignatures collected for one checkpoint, by witness name."""
    stmt = (
        select(LedgerWitness.name, LedgerCosignature)
        .join(LedgerWitness, LedgerWitness.id == LedgerCosignature.witness_id)
        .where(LedgerCosignature.checkpoint_id == checkpoint.id)
        .order_by(LedgerWitness.name)
    )
    return [(name, cosig) for name, cosig in session.execute(stmt)]


def checkpoint_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """The signed checkpoint with every collected cosignature line appended."""
    lines = [cosig.line for _, cosig in cosignatures_of(session, checkpoint)]
    return note.add_signatures(checkpoint.note, lines)


def verifier_key() -> str:
    """The log's public key in signed-note vkey form."""
    return keys.load_key().verifier.vkey
