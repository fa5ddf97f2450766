"""The tree behind the entries: the head row and its lock, stored nodes, the sequencer.

``integrate`` takes the head row lock, gives pending entries the next indexes in id order,
stores the tree nodes they complete and moves the head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import bulk_insert, is_postgres
from xinyidai.core.errors import Conflict
from xinyidai.core.settings import get_settings
from xinyidai.ledger import tree
from xinyidai.ledger.models import HEAD_ID, LedgerEntry, LedgerHead, LedgerNode


def _ensure_head(session: Session) -> None:
    if session.get(LedgerHead, HEAD_ID) is None:
        session.add(LedgerHead(id=HEAD_ID, size=0, root_hash=tree.EMPTY_ROOT))
        session.flush()


def lock_head(session: Session, *, wait: bool = True) -> LedgerHead | None:
    """Lock the head row for this transaction; None if busy and ``wait`` is false."""
    if is_postgres(session):
        stmt = (
            select(LedgerHead)
            .where(LedgerHead.id == HEAD_ID)
            .with_for_update(skip_locked=not wait)
            .execution_options(populate_existing=True)
        )
        head = session.scalar(stmt)
        if head is None and wait:
            _ensure_head(session)
            head = session.scalar(stmt)
        return head
    # SQLite: a write takes the database lock at once (waiting up to busy_timeout).
    touched = session.execute(
        update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(size=LedgerHead.size)
    )
    if not touched.rowcount:  # type: ignore[attr-defined]
        _ensure_head(session)
    return session.scalar(
        select(LedgerHead).where(LedgerHead.id == HEAD_ID).execution_options(populate_existing=True)
    )


def head(session: Session) -> LedgerHead:
    """The head row as last committed (size and root of the sequenced tree)."""
    row = session.get(LedgerHead, HEAD_ID, populate_existing=True)
    if row is None:
        return LedgerHead(id=HEAD_ID, size=0, root_hash=tree.EMPTY_ROOT)
    return row


_NODES_BY_POSITION = text(
    "SELECT n.level, n.idx, n.hash FROM ledger_node n JOIN unnest("
    "CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS q(level, idx) "
    "ON n.level = q.level AND n.idx = q.idx"
)


def read_nodes(session: Session, nodes: Sequence[tree.Node]) -> dict[tree.Node, bytes]:
    """Stored node hashes; ``Conflict`` naming the first one missing."""
    if not nodes:
        return {}
    found: dict[tree.Node, bytes] = {}
    if is_postgres(session):
        # One index probe per node through a join on unnest: about 3x faster than a
        # row-value IN list, which PostgreSQL turns into a BitmapOr.
        params = {"levels": [n[0] for n in nodes], "idxs": [n[1] for n in nodes]}
        for level, idx, value in session.execute(_NODES_BY_POSITION, params):
            found[(level, idx)] = bytes(value)
    else:
        for start in range(0, len(nodes), 500):
            chunk = list(nodes[start : start + 500])
            stmt = select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(
                tuple_(LedgerNode.level, LedgerNode.idx).in_(chunk)
            )
            for level, idx, value in session.execute(stmt):
                found[(level, idx)] = bytes(value)
    for node in nodes:
        if node not in found:
            raise Conflict(
                "ledger node {level}/{index} is missing",
                field="ledger",
                level=node[0],
                index=node[1],
            )
    return found


def node_reader(session: Session) -> tree.NodeReader:
    """What the tree functions read stored nodes through."""
    return lambda nodes: read_nodes(session, nodes)


def _assign_indexes(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    if is_postgres(session):
        session.execute(
            text(
                "UPDATE ledger_entry SET idx = v.idx FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:idxs AS bigint[])) AS v(id, idx) "
                "WHERE ledger_entry.id = v.id"
            ),
            {"ids": [p[0] for p in pairs], "idxs": [p[1] for p in pairs]},
        )
    else:
        session.execute(update(LedgerEntry), [{"id": i, "idx": x} for i, x in pairs])


def store_nodes(session: Session, nodes: Mapping[tree.Node, bytes]) -> None:
    """Insert the nodes a sequenced batch completed."""
    rows = [{"level": lv, "idx": ix, "hash": value} for (lv, ix), value in nodes.items()]
    bulk_insert(session, LedgerNode.__table__, rows)


def has_pending(session: Session) -> bool:
    """Whether any appended entry waits for an index."""
    return (
        session.scalar(select(LedgerEntry.id).where(LedgerEntry.idx.is_(None)).limit(1)) is not None
    )


def integrate(session: Session, *, wait: bool = True, limit: int | None = None) -> int:
    """Give pending entries the next indexes and store their nodes; returns how many.

    Holds the head lock until the caller commits, so two sequencers never hand out the
    same index. With ``wait=False`` it returns 0 at once when another sequencer is busy.
    """
    session.flush()
    locked = lock_head(session, wait=wait)
    if locked is None:
        return 0
    batch = limit or get_settings().ledger.sequence_batch
    done = 0
    while True:
        rows = session.execute(
            select(LedgerEntry.id, LedgerEntry.leaf_hash)
            .where(LedgerEntry.idx.is_(None))
            .order_by(LedgerEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        size = locked.size
        old = read_nodes(session, tree.frontier(size))
        created, root = tree.append_nodes(size, old, [bytes(r.leaf_hash) for r in rows])
        _assign_indexes(session, [(r.id, size + i) for i, r in enumerate(rows)])
        store_nodes(session, created)
        locked.size = size + len(rows)
        locked.root_hash = root
        locked.updated_at = clock.now()
        session.flush()
        done += len(rows)
        if limit is not None or len(rows) < batch:
            break
    if done:
        for obj in list(session.identity_map.values()):
            if isinstance(obj, LedgerEntry):
                session.expire(obj, ["idx"])
    return done
