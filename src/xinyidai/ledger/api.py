"""HTTP routes of the ledger: checkpoints, key, entries, proofs, lookup, cosignatures.

Public, no sign-in: nothing here carries personal data or lets a reader test a guess of any.
Leaves of format 2 hold salted commitments and keyed tags (docs/ledger.md, "What a reader
of the log learns"); leaves written before keep their format-1 digests.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from xinyidai.core.api import ERROR_RESPONSES, SessionDep
from xinyidai.core.bounds import BigInt
from xinyidai.ledger import service
from xinyidai.ledger.schemas import (
    ConsistencyProofOut,
    CosignatureIn,
    CosignatureOut,
    EntriesOut,
    EntryOut,
    InclusionProofOut,
    LookupOut,
)

router = APIRouter(prefix="/ledger", tags=["ledger"], responses=ERROR_RESPONSES)

NOTE_MEDIA = "text/plain; charset=utf-8"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _event(leaf: bytes) -> dict[str, Any] | None:
    """The decoded event; None for a leaf that is not one (verifiers then report it)."""
    try:
        return service.decode_leaf(leaf)
    except ValueError:
        return None


@router.get("/checkpoint", response_class=PlainTextResponse)
def get_checkpoint(session: SessionDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint) with witness cosignatures."""
    checkpoint = service.refresh(session)
    return PlainTextResponse(service.checkpoint_note(session, checkpoint), media_type=NOTE_MEDIA)


@router.get("/key", response_class=PlainTextResponse)
def get_key() -> PlainTextResponse:
    """The log's verifier key: ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
    return PlainTextResponse(service.verifier_key() + "\n", media_type=NOTE_MEDIA)


@router.get("/entries", response_model=EntriesOut)
def get_entries(
    session: SessionDep,
    start: Annotated[BigInt, Query(ge=0, description="first leaf index")] = 0,
    end: Annotated[BigInt | None, Query(ge=1, description="one past the last index")] = None,
) -> EntriesOut:
    """Leaves ``[start, end)`` with their decoded events (at most 1,000 per call)."""
    rows, size = service.entries(session, start=start, end=end)
    items = [
        EntryOut(index=row.idx or 0, leaf=_b64(row.leaf), event=_event(row.leaf)) for row in rows
    ]
    stop = items[-1].index + 1 if items else start
    return EntriesOut(start=start, end=stop, tree_size=size, entries=items)


@router.get("/proof/inclusion", response_model=InclusionProofOut)
def get_inclusion_proof(
    session: SessionDep,
    index: Annotated[BigInt, Query(ge=0, description="leaf index")],
    tree_size: Annotated[BigInt, Query(ge=1, description="size of the tree to prove against")],
) -> InclusionProofOut:
    """The RFC 9162 inclusion proof of one leaf in a tree of ``tree_size`` leaves."""
    proof = service.inclusion_proof(session, index=index, tree_size=tree_size)
    entry = service.get_by_index_or_raise(session, index=index)
    return InclusionProofOut(
        index=index,
        tree_size=tree_size,
        leaf_hash=_b64(bytes(entry.leaf_hash)),
        hashes=[_b64(h) for h in proof],
    )


@router.get("/proof/consistency", response_model=ConsistencyProofOut)
def get_consistency_proof(
    session: SessionDep,
    first: Annotated[BigInt, Query(ge=1, description="size of the older tree")],
    second: Annotated[BigInt, Query(ge=1, description="size of the newer tree")],
) -> ConsistencyProofOut:
    """The RFC 9162 consistency proof between two tree sizes."""
    proof = service.consistency_proof(session, first=first, second=second)
    return ConsistencyProofOut(first=first, second=second, hashes=[_b64(h) for h in proof])


@router.get("/lookup", response_model=LookupOut)
def lookup(
    session: SessionDep,
    digest: Annotated[str, Query(min_length=64, max_length=64, description="hex SHA-256")],
) -> LookupOut:
    """Where the leaf of an event with this digest sits."""
    indexes, pending = service.lookup(session, digest=digest)
    return LookupOut(
        digest=digest.lower(),
        index=indexes[0] if indexes else None,
        indexes=indexes,
        pending=pending,
    )


@router.post("/cosignatures", response_model=CosignatureOut, status_code=201)
def post_cosignature(body: CosignatureIn, session: SessionDep) -> CosignatureOut:
    """A registered witness hands back its cosignature (C2SP tlog-cosignature v1)."""
    witness, checkpoint, timestamp = service.add_cosignature(
        session, checkpoint=body.checkpoint, cosignature=body.cosignature
    )
    return CosignatureOut(witness=witness.name, size=checkpoint.size, timestamp=timestamp)
