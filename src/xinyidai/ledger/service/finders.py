"""Finding leaves for readers: the leaf of one stored event, the indexes of a page of
digests, and the leaves tagged for one party."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.errors import ValidationFailed
from xinyidai.ledger import keys
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.service.checkpoints import refresh
from xinyidai.ledger.service.leaves import FORMAT_1, FORMAT_2, TAG_BYTES, decode_leaf, leaf_format
from xinyidai.ledger.service.proofs import check_digest
from xinyidai.ledger.service.sealing import Mac, party_key
from xinyidai.ledger.service.sequencing import head


def find_event(session: Session, *, kind: str, ref: str, digest: str) -> int | None:
    """The index of the leaf of ``kind`` for ``ref`` with this digest, or None if there is none.

    ``digest`` is what the leaf carries (``expected_digest`` of the stored event: the
    commitment of a format-2 event). A pending match is sequenced first. None means nothing
    in the log records that body under that ref: it was added or changed outside the ledger.
    """
    value = bytes.fromhex(check_digest(digest))

    def matching() -> tuple[list[int], int]:
        found: list[int] = []
        pending = 0
        rows = session.execute(
            select(LedgerEntry.idx, LedgerEntry.leaf, LedgerEntry.ref)
            .where(LedgerEntry.digest == value)
            .order_by(LedgerEntry.idx)
        )
        for idx, leaf, kept_ref in rows:
            try:
                event = decode_leaf(bytes(leaf))
            except ValueError:
                continue
            # A format-2 commitment binds its ref already; the kept one only confirms it.
            named = event["ref"] if leaf_format(event) == FORMAT_1 else kept_ref
            if event["kind"] != kind or named != ref:
                continue
            if idx is None:
                pending += 1
            else:
                found.append(idx)
        return found, pending

    found, pending = matching()
    if not found and pending:
        refresh(session, force=True)
        found, _ = matching()
    return found[0] if found else None


def indexes_of(session: Session, *, digests: Sequence[str]) -> dict[str, int | None]:
    """The first leaf index of each digest (None while pending), for the digests that have
    a leaf: one query for a page of records shown to a reader."""
    wanted = sorted({bytes.fromhex(check_digest(d)) for d in digests})
    found: dict[str, int | None] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(LedgerEntry.digest, LedgerEntry.idx).where(
                LedgerEntry.digest.in_(wanted[start : start + 500])
            )
        )
        for value, idx in rows:
            key = bytes(value).hex()
            current = found.get(key)
            if key not in found or (idx is not None and (current is None or idx < current)):
                found[key] = idx
    return found


def party_leaves(
    session: Session, *, role: str, label: str, start: int = 0, limit: int = 100_000
) -> tuple[list[int], int]:
    """The indexes of the format-2 leaves tagged for one party, among the sequenced leaves
    ``[start, start + limit)``; and where the next scan starts (the tree size when done).

    This is what a party does with its own key over ``GET /ledger/entries``, done on the
    node with keys derived from every tag secret (for auditors).
    """
    if start < 0:
        raise ValidationFailed("start must not be negative", field="start")
    party = [Mac(party_key(role=role, label=label, secret=s)) for s in keys.tag_secrets()]
    size = head(session).size
    stop = min(size, start + limit)
    found: list[int] = []
    rows = session.execute(
        select(LedgerEntry.idx, LedgerEntry.leaf)
        .where(LedgerEntry.idx >= start, LedgerEntry.idx < stop)
        .order_by(LedgerEntry.idx)
        .execution_options(yield_per=10_000)
    )
    for idx, leaf in rows:
        try:
            event = decode_leaf(bytes(leaf))
        except ValueError:
            continue
        if leaf_format(event) != FORMAT_2:
            continue
        value = bytes.fromhex(event["digest"])
        if any(mac(value)[:TAG_BYTES].hex() == event[role] for mac in party):
            found.append(int(idx))
    return found, max(stop, start)
