"""Reading sequenced entries and proving: entries by index, RFC 9162 proofs, roots, lookups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.ledger import tree
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.service.sequencing import head, node_reader


def get_by_index(session: Session, *, index: int) -> LedgerEntry | None:
    """The entry at a leaf index, or None."""
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idx == index))


def get_by_index_or_raise(session: Session, *, index: int) -> LedgerEntry:
    """The entry at a leaf index; ``NotFound`` naming ``index`` otherwise."""
    entry = get_by_index(session, index=index)
    if entry is None:
        raise NotFound("no ledger entry at index {index}", field="index", index=index)
    return entry


def entries(
    session: Session, *, start: int, end: int | None = None
) -> tuple[list[LedgerEntry], int]:
    """Sequenced entries ``[start, end)`` (capped), and the tree size."""
    size = head(session).size
    if start < 0:
        raise ValidationFailed("start must not be negative", field="start")
    if start >= size:
        raise NotFound("no ledger entry at index {index}", field="start", index=start)
    if end is not None and end <= start:
        raise ValidationFailed("end must be greater than start", field="end")
    cap = get_settings().ledger.max_entries
    stop = min(end if end is not None else size, size, start + cap)
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.idx >= start, LedgerEntry.idx < stop)
        .order_by(LedgerEntry.idx)
    )
    return list(rows), size


def _check_size(session: Session, value: int, *, field: str) -> None:
    if value < 0:
        raise ValidationFailed("{name} must not be negative", field=field, name=field)
    size = head(session).size
    if value > size:
        raise NotFound(
            "the ledger has only {size} entries, not {value}", field=field, size=size, value=value
        )


def inclusion_proof(session: Session, *, index: int, tree_size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves."""
    _check_size(session, tree_size, field="tree_size")
    if not 0 <= index < tree_size:
        raise ValidationFailed(
            "index must be below tree_size ({tree_size})", field="index", tree_size=tree_size
        )
    return tree.prove_inclusion(index, tree_size, node_reader(session))


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""
    _check_size(session, second, field="second")
    if not 0 <= first <= second:
        raise ValidationFailed(
            "first must be between 0 and second ({second})", field="first", second=second
        )
    return tree.prove_consistency(first, second, node_reader(session))


def tree_root(session: Session, *, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves, from stored nodes."""
    _check_size(session, size, field="size")
    return tree.tree_root(size, node_reader(session))


def check_digest(digest: str) -> str:
    """A hex SHA-256 digest as stored (trimmed, lower case); ``ValidationFailed`` otherwise."""
    value = digest.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValidationFailed("digest must be 64 hexadecimal characters", field="digest")
    return value


def lookup(session: Session, *, digest: str) -> tuple[list[int], int]:
    """Indexes of the entries with this event digest, and how many are still pending."""
    value = check_digest(digest)
    rows = session.execute(
        select(LedgerEntry.idx)
        .where(LedgerEntry.digest == bytes.fromhex(value))
        .order_by(LedgerEntry.idx)
    ).scalars()
    indexes: list[int] = []
    pending = 0
    for idx in rows:
        if idx is None:
            pending += 1
        else:
            indexes.append(idx)
    if not indexes and not pending:
        raise NotFound("no ledger entry with digest {digest}", field="digest", digest=value)
    return indexes, pending
