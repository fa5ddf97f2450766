"""What the portal shows: one event checked against the latest checkpoint with each step
of its proof worked, checkpoints with their witnesses, and each witness's standing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.ledger import explain, keys, note, tree
from xinyidai.ledger.models import LedgerCheckpoint, LedgerCosignature
from xinyidai.ledger.schemas import (
    CheckpointView,
    EventCheck,
    ProofStep,
    WitnessCosignature,
    WitnessStatus,
)
from xinyidai.ledger.service.checkpoints import cosignatures_of, refresh
from xinyidai.ledger.service.leaves import FORMAT_1, decode_leaf, leaf_format
from xinyidai.ledger.service.proofs import get_by_index_or_raise, lookup
from xinyidai.ledger.service.registry import check_body
from xinyidai.ledger.service.sequencing import head, node_reader
from xinyidai.ledger.service.witnesses import list_witnesses


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def checkpoint_view(session: Session, checkpoint: LedgerCheckpoint) -> CheckpointView:
    """A checkpoint with the witnesses that cosigned it."""
    cosigned = cosignatures_of(session, checkpoint)
    return CheckpointView(
        origin=note.parse_checkpoint(note.split_note(checkpoint.note)[0]).origin,
        size=checkpoint.size,
        root_hash=b64(bytes(checkpoint.root_hash)),
        created_at=checkpoint.created_at,
        note=note.add_signatures(checkpoint.note, [c.line for _, c in cosigned]),
        witnesses=[
            WitnessCosignature(name=name, signed_at=_from_timestamp(cosig.timestamp))
            for name, cosig in cosigned
        ],
    )


def witness_status(session: Session, *, size: int) -> list[WitnessStatus]:
    """Every registered witness with the latest checkpoint it cosigned and when.

    ``covers_current`` says whether that checkpoint is the one of ``size`` leaves (the
    current one): a witness that stopped cosigning shows the size it last vouched for.
    """
    latest = (
        select(
            LedgerCosignature.witness_id.label("witness_id"),
            func.max(LedgerCheckpoint.size).label("size"),
        )
        .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerCosignature.checkpoint_id)
        .group_by(LedgerCosignature.witness_id)
        .subquery()
    )
    rows = session.execute(
        select(LedgerCosignature.witness_id, LedgerCheckpoint.size, LedgerCosignature.timestamp)
        .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerCosignature.checkpoint_id)
        .join(
            latest,
            (latest.c.witness_id == LedgerCosignature.witness_id)
            & (latest.c.size == LedgerCheckpoint.size),
        )
    )
    signed = {witness_id: (cosigned, timestamp) for witness_id, cosigned, timestamp in rows}
    result: list[WitnessStatus] = []
    for witness in list_witnesses(session):
        cosigned, timestamp = signed.get(witness.id, (None, None))
        result.append(
            WitnessStatus(
                name=witness.name,
                active=witness.active,
                size=cosigned,
                signed_at=None if timestamp is None else _from_timestamp(timestamp),
                covers_current=cosigned == size,
            )
        )
    return result


def _from_timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def current_checkpoint(session: Session) -> CheckpointView:
    """The latest checkpoint (refreshed if the tree grew) with its witnesses."""
    return checkpoint_view(session, refresh(session))


def check_event(
    session: Session, *, digest: str | None = None, index: int | None = None
) -> EventCheck:
    """Check one event by digest or index against the latest checkpoint, with each step."""
    if (digest is None) == (index is None):
        raise ValidationFailed("give either a digest or an index", field="digest")
    checkpoint = refresh(session)
    if index is None:
        indexes, pending = lookup(session, digest=digest or "")
        if not indexes and pending:
            checkpoint = refresh(session, force=True)
            indexes, pending = lookup(session, digest=digest or "")
        if not indexes:
            raise Conflict("the event is not in the tree yet; try again shortly", field="digest")
        index = indexes[0]
    if not 0 <= index < checkpoint.size:
        if index >= 0 and index < head(session).size:
            checkpoint = refresh(session, force=True)
        else:
            raise NotFound("no ledger entry at index {index}", field="index", index=index)
    entry = get_by_index_or_raise(session, index=index)
    leaf = bytes(entry.leaf)
    proof = tree.prove_inclusion(index, checkpoint.size, node_reader(session))
    signed = note.parse_checkpoint(note.verify_note(checkpoint.note, keys.load_key().verifier))
    worked = explain.explain_inclusion(index, checkpoint.size, leaf, proof, signed.root_hash)
    event = decode_leaf(leaf)
    version = leaf_format(event)
    ref = event["ref"] if version == FORMAT_1 else entry.ref
    return EventCheck(
        index=index,
        event=event,
        format=version,
        ref=ref,
        leaf=leaf.decode("utf-8"),
        leaf_hash=b64(worked.leaf_hash),
        tree_size=checkpoint.size,
        root_hash=b64(signed.root_hash),
        computed_root=None if worked.computed_root is None else b64(worked.computed_root),
        steps=[
            ProofStep(
                number=step.number,
                side=step.side,
                sibling=b64(step.sibling),
                sibling_leaves=step.sibling_leaves,
                result=b64(step.result),
                covers=step.covers,
            )
            for step in worked.steps
        ],
        verified=worked.matches,
        problem=worked.problem,
        problem_params=dict(worked.params),
        body=check_body(session, kind=event["kind"], ref=ref, digest=event["digest"]),
        checkpoint=checkpoint_view(session, checkpoint),
    )
