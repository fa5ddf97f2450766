"""Tables of association analysis: region analyses with the circles and chains they found,
and the index of link keys that finds an enterprise's neighbours without a full scan.

Everything here is derived from the credit records and can be rebuilt from them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

RUNNING, DONE, FAILED = "running", "done", "failed"


class GraphAnalysis(Base):
    """One region-wide run: the guarantee graph built, its circles and chains found."""

    __tablename__ = "graph_analysis"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=RUNNING, index=True)
    actor: Mapped[str | None] = mapped_column(String(120))
    job_id: Mapped[str | None] = mapped_column(String(40))
    include_released: Mapped[bool] = mapped_column(Boolean, default=False)
    min_chain: Mapped[int] = mapped_column(Integer)
    max_circle: Mapped[int] = mapped_column(Integer)
    enterprises: Mapped[int] = mapped_column(Integer, default=0)
    guarantees: Mapped[int] = mapped_column(Integer, default=0)
    circles: Mapped[int] = mapped_column(Integer, default=0)
    chains: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    index_keys: Mapped[int] = mapped_column(Integer, default=0)
    # the bad-neighbour counts it stored: enterprises with any, bad signals read as of
    bad_neighbours: Mapped[int] = mapped_column(Integer, default=0)
    counts_as_of: Mapped[date | None] = mapped_column(Date)
    counts_ms: Mapped[int] = mapped_column(Integer, default=0)
    read_ms: Mapped[int] = mapped_column(Integer, default=0)
    search_ms: Mapped[int] = mapped_column(Integer, default=0)
    total_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GuaranteeStructure(Base):
    """A guarantee circle or chain found by an analysis: members in guarantee order."""

    __tablename__ = "graph_structure"
    __table_args__ = (Index("ix_graph_structure_analysis_kind", "analysis_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    analysis_id: Mapped[str] = mapped_column(String(40), ForeignKey("graph_analysis.id"))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    members: Mapped[list[str]] = mapped_column(JSON)
    edges: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    in_force: Mapped[bool] = mapped_column(Boolean)
    fingerprint: Mapped[str] = mapped_column(String(32))


class StructureMember(Base):
    """One enterprise's place in a circle or chain: finds the structures of an enterprise."""

    __tablename__ = "graph_structure_member"

    structure_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("graph_structure.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)


class AssociationKey(Base):
    """One link key of one enterprise (see ``graph.links``): who shares a key, whose
    shares an enterprise holds, whose debts it guarantees.

    Shared values (names, addresses, phones) are stored as digests, never as text.
    """

    __tablename__ = "graph_association_key"
    __table_args__ = (UniqueConstraint("kind", "key", "credit_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)


class IndexState(Base):
    """How far the index of keys has read the records: up to this record version."""

    __tablename__ = "graph_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The newest records change mark read (named when marks were version ids; migration
    # 0013 kept their values).
    version_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BadNeighbourCount(Base):
    """How many bad enterprises are one link and exactly two links from an enterprise, as
    the region analysis counted them (``analysis_id``) or as they were counted again when a
    bad record about a neighbour arrived (``analysis_id`` empty). An enterprise without a
    row has none: only non-zero counts are kept. The rating reads them as indicators."""

    __tablename__ = "graph_bad_neighbours"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    depth1: Mapped[int] = mapped_column(Integer)
    depth2: Mapped[int] = mapped_column(Integer)
    analysis_id: Mapped[str | None] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
