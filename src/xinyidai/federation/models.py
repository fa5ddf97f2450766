"""Tables of the network of platforms: the peers this node knows, every change to them,
every message sent and received with its receipt, refusals, the provenance of records
received, usage fed back and data collected from a platform."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, UTCDateTime


class NodeRole(StrEnum):
    CENTER = "center"  # the data center (数据中心)
    CITY = "city"  # a city platform
    SERVICE = "service"  # a service platform (服务平台)
    NATIONAL = "national"  # the adapter to the national platform


class NodeState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # kept, sent nothing, its messages refused


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class MessageKind(StrEnum):
    RECORDS = "records"  # record versions and the rights feed, down to a platform
    USAGE = "usage"  # which records were used for which loans, up (数据回流)
    COLLECTED = "collected"  # data a platform's own departments sent it, up


class MessageState(StrEnum):
    SENDING = "sending"
    ACKNOWLEDGED = "acknowledged"  # the peer's signed receipt came back and checks
    FAILED = "failed"  # no receipt, or one that did not check
    RECEIVED = "received"  # a message to this node, applied and answered


class RefusalReason(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_NODE = "unknown_node"
    SUSPENDED = "suspended"
    WRONG_RECEIVER = "wrong_receiver"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    REPLAYED = "replayed"


class Node(Base):
    """Another node this node exchanges with: its key, role, address, what it may receive
    and send, and where each stream to it stands."""

    __tablename__ = "federation_node"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(500))
    public_key: Mapped[str] = mapped_column(String(64))  # Ed25519, base64 of the 32 bytes
    state: Mapped[str] = mapped_column(String(20), default=NodeState.ACTIVE)
    # What this node sends it: categories (["*"]: every shared one), regions (prefixes of
    # GB/T 2260 codes, empty: all), personal fields raw or desensitized.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    # What this node accepts from it (categories of collected data).
    accepts: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where the streams to it stand: the last record (change mark, id) and the last
    # entries of the rights feed and of usage it acknowledged.
    record_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    record_mark_id: Mapped[str] = mapped_column(String(32), default="")
    feed_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    usage_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_by: Mapped[str] = mapped_column(String(120))


class NodeChange(Base):
    """One change to a peer's registration (its whole new state), a ledger leaf each."""

    __tablename__ = "federation_node_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node_name: Mapped[str] = mapped_column(String(120), index=True)
    change: Mapped[str] = mapped_column(String(20))  # registered, updated
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class Message(Base):
    """A signed message sent to or received from a peer, with the signed receipt."""

    __tablename__ = "federation_message"
    __table_args__ = (Index("ix_federation_message_peer", "peer", "direction", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(4))
    peer: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    message_digest: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    receipt_digest: Mapped[str | None] = mapped_column(String(64))
    items: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))  # of its ledger leaf


class Refusal(Base):
    """A message refused (bad signature, unknown node, stale, replayed…), kept for the
    operator."""

    __tablename__ = "federation_refusal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    claimed_sender: Mapped[str] = mapped_column(String(120))
    message_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(300))


class ReceivedVersion(Base):
    """A record version received from a node and applied here, once: its provenance."""

    __tablename__ = "federation_received"
    __table_args__ = (
        UniqueConstraint("origin", "record_id", "version", name="uq_federation_received_origin"),
        Index("ix_federation_received_record", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(120))  # the sending node
    record_id: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(40))
    subject_code: Mapped[str] = mapped_column(String(18))
    version: Mapped[int] = mapped_column(Integer)  # the version at the origin
    department: Mapped[str] = mapped_column(String(40))  # the original source department
    desensitized: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class UsageKind(StrEnum):
    LOCAL = "local"  # used here, to be fed back to the center
    RECEIVED = "received"  # fed back by a platform


class Usage(Base):
    """One use of a record for a loan (数据回流): noted on a platform, received at the center."""

    __tablename__ = "federation_usage"
    __table_args__ = (Index("ix_federation_usage_kind", "kind", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    node: Mapped[str] = mapped_column(String(120))  # who used it ("" for this node)
    record_id: Mapped[str] = mapped_column(String(32))
    loan_ref: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(64))
    local_id: Mapped[int | None] = mapped_column(BigInteger)  # its id at the platform


class Collected(Base):
    """Rows a platform collected from its own departments, ingested here as one batch."""

    __tablename__ = "federation_collected"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(120), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
