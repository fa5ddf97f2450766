"""Witnesses: registering them and keeping the cosignatures they send for checkpoints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.ledger import keys, note
from xinyidai.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitness

FUTURE_SKEW = timedelta(minutes=5)


def get_witness(session: Session, *, name: str) -> LedgerWitness | None:
    """The registered witness with this name, or None."""
    return session.scalar(select(LedgerWitness).where(LedgerWitness.name == name))


def add_witness(session: Session, *, name: str, vkey: str) -> LedgerWitness:
    """Register a witness by its cosigner vkey; ``Conflict`` if the name is taken."""
    try:
        verifier = note.parse_verifier(vkey)
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid witness key: {reason}", field="vkey", reason=str(exc)
        ) from exc
    if verifier.key_type != note.COSIGNATURE_ED25519:
        raise ValidationFailed(
            "a witness key must be a cosignature/v1 key (type 0x04)", field="vkey"
        )
    if verifier.name != name:
        raise ValidationFailed(
            "the key is named {key_name}, not {name}",
            field="name",
            key_name=verifier.name,
            name=name,
        )
    if get_witness(session, name=name) is not None:
        raise Conflict("witness {name} is already registered", field="name", name=name)
    witness = LedgerWitness(name=name, vkey=vkey.strip(), active=True)
    session.add(witness)
    session.flush()
    return witness


def list_witnesses(session: Session) -> list[LedgerWitness]:
    """Every registered witness, by name."""
    return list(session.scalars(select(LedgerWitness).order_by(LedgerWitness.name)))


def add_cosignature(
    session: Session, *, checkpoint: str, cosignature: str
) -> tuple[LedgerWitness, LedgerCheckpoint, int]:
    """Check a witness's cosignature on a published checkpoint and keep it."""
    try:
        body = note.split_note(checkpoint)[0] if "\n\n" in checkpoint else checkpoint
        parsed = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid checkpoint: {reason}", field="checkpoint", reason=str(exc)
        ) from exc
    stored = session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.size == parsed.size))
    if (
        stored is None
        or bytes(stored.root_hash) != parsed.root_hash
        or parsed.origin != keys.origin()
    ):
        raise NotFound("the log published no such checkpoint", field="checkpoint")
    try:
        line = note.parse_signature_line(cosignature.strip("\n"))
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid cosignature: {reason}", field="cosignature", reason=str(exc)
        ) from exc
    witness = get_witness(session, name=line.name)
    if witness is None or not witness.active:
        raise ValidationFailed(
            "{name} is not a registered witness", field="cosignature", name=line.name
        )
    stored_text = note.split_note(stored.note)[0]
    try:
        timestamp = note.verify_cosignature(
            stored_text, cosignature.strip("\n"), note.parse_verifier(witness.vkey)
        )
    except note.NoteError as exc:
        raise ValidationFailed(
            "invalid cosignature: {reason}", field="cosignature", reason=str(exc)
        ) from exc
    if timestamp > (clock.now() + FUTURE_SKEW).timestamp():
        raise ValidationFailed("the cosignature is dated in the future", field="cosignature")
    existing = session.scalar(
        select(LedgerCosignature).where(
            LedgerCosignature.checkpoint_id == stored.id, LedgerCosignature.witness_id == witness.id
        )
    )
    if existing is None:
        session.add(
            LedgerCosignature(
                checkpoint_id=stored.id,
                witness_id=witness.id,
                line=line.line,
                timestamp=timestamp,
            )
        )
    elif timestamp > existing.timestamp:
        existing.line, existing.timestamp = line.line, timestamp
    session.flush()
    return witness, stored, timestamp
