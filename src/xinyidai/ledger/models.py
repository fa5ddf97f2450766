"""Tables of the ledger: entries (leaves), stored tree nodes, the head, checkpoints, witnesses.

An entry is appended with no index (pending); the sequencer gives it the next index and
stores the tree nodes it completes. The entry row keeps the hash of its own leaf
(``leaf_hash``, computed at append); ``ledger_node`` holds every complete subtree by
position, level 0 (the leaf hashes again, bound to their index) and up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, UTCDateTime

HEAD_ID = 1


class LedgerEntry(Base):
    """One leaf: the exact canonical-JSON bytes of an event, and where it sits in the tree.

    Only the event digest (a format-2 leaf's commitment) is repeated as a column (raw 32
    bytes, for lookups); kind and the rest are read from the leaf itself. ``ref`` is what a
    format-2 event names (a record version, an access event), kept by the node for its own
    checks and never published: it is not in the leaf, and nothing trusts it, since the
    commitment binds the ref (a wrong one only makes the body check fail).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # Only ever looked up by equality: a hash index is a third the cost of a B-tree
        # per appended entry on PostgreSQL (migration 0012).
        Index("ix_ledger_entry_digest", "digest", postgresql_using="hash"),
        Index(
            "ix_ledger_entry_pending",
            "id",
            postgresql_where=text("idx IS NULL"),
            sqlite_where=text("idx IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idx: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ref: Mapped[str | None] = mapped_column(String(200))

    @property
    def index(self) -> int | None:
        """The leaf index, or None while the entry waits for the sequencer."""
        return self.idx


class LedgerNode(Base):
    """The hash of a complete subtree covering leaves ``[idx * 2**level, (idx + 1) * 2**level)``."""

    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The one row that says how big the tree is; locked while the sequencer works."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class LedgerCheckpoint(Base):
    """A signed checkpoint as published (the note text with the log's signature)."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class LedgerWitness(Base):
    """A witness the operator trusts: its name and cosigner verifier key."""

    __tablename__ = "ledger_witness"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vkey: Mapped[str] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class LedgerCosignature(Base):
    """A witness's cosignature line on one checkpoint (the latest one per witness kept)."""

    __tablename__ = "ledger_cosignature"
    __table_args__ = (UniqueConstraint("checkpoint_id", "witness_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checkpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_checkpoint.id", ondelete="CASCADE"), index=True
    )
    witness_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_witness.id"))
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
