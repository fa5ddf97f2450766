"""What goes in and out of the network of platforms' API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from xinyidai.federation.models import NodeRole, NodeState

NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{0,118}[a-z0-9]$"


class NodeIn(BaseModel):
    """A node to register: its name, key, role, address and what it may receive and send."""

    name: str = Field(pattern=NAME_PATTERN, description="the node's name (its XYD_NODE_NAME)")
    role: NodeRole
    url: str = Field(min_length=1, max_length=500, description="its base address, http(s)")
    public_key: str = Field(
        min_length=40, max_length=64, description="its Ed25519 public key, base64 (xyd node init)"
    )
    categories: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="categories sent to it; ['*'] every category shared unconditionally",
    )
    regions: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="region code prefixes (GB/T 2260) of the subjects sent to it; empty: all",
    )
    personal: bool = Field(
        default=False, description="whether it receives personal fields raw (else desensitized)"
    )
    accepts: list[str] = Field(
        default_factory=list, max_length=100, description="categories of data accepted from it"
    )


class NodeUpdate(BaseModel):
    """A change to a node's registration: the fields given change, the others stay."""

    role: NodeRole | None = None
    url: str | None = Field(default=None, min_length=1, max_length=500)
    public_key: str | None = Field(default=None, min_length=40, max_length=64)
    state: NodeState | None = None
    categories: list[str] | None = Field(default=None, max_length=100)
    regions: list[str] | None = Field(default=None, max_length=100)
    personal: bool | None = None
    accepts: list[str] | None = Field(default=None, max_length=100)


class NodeOut(BaseModel):
    name: str
    role: str
    url: str
    public_key: str
    state: str
    categories: list[str]
    regions: list[str]
    personal: bool
    accepts: list[str]
    record_mark: int
    feed_mark: int
    usage_mark: int
    failures: int
    next_try_at: datetime | None
    last_error: str | None
    last_sent_at: datetime | None
    last_ack_at: datetime | None
    last_received_at: datetime | None
    updated_at: datetime
    updated_by: str


class NodeStatusOut(NodeOut):
    """A node with what it is waiting for: record versions not yet acknowledged, and refusals."""

    pending_records: int
    pending_feed: int
    lag_seconds: float | None = Field(
        description="age of the oldest record version it has not acknowledged"
    )
    refused: int
    messages: int


class IdentityOut(BaseModel):
    """This node: its name and public key, as peers register it."""

    name: str
    public_key: str


class MessageOut(BaseModel):
    message_id: str
    direction: str
    peer: str
    kind: str
    items: int
    state: str
    error: str | None
    message_digest: str
    receipt_digest: str | None
    created_at: datetime


class RefusalOut(BaseModel):
    at: datetime
    claimed_sender: str
    message_id: str
    reason: str
    detail: str


class UsageIn(BaseModel):
    """A use of received records for a loan, to be fed back to the center (数据回流)."""

    record_ids: list[str] = Field(min_length=1, max_length=500)
    loan_ref: str = Field(min_length=1, max_length=64, description="the loan or application")
    purpose: str = Field(default="loan", min_length=1, max_length=40)


class UsageOut(BaseModel):
    kind: str
    node: str
    record_id: str
    loan_ref: str
    purpose: str
    used_at: datetime


class ReceivedSummaryOut(BaseModel):
    """What this node received from one node in one category (the platform's view)."""

    origin: str
    category: str
    versions: int
    records: int
    desensitized: int
    last_applied_at: datetime | None
