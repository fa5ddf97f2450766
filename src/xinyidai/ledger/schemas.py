"""What goes in and out of the ledger: events to append, API bodies, portal views, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class LedgerEvent:
    """One event to append: ``body`` is hashed (never stored); the leaf holds a salted
    commitment to its digest, ref, subject and actor, and tags in place of the last two."""

    kind: str
    actor: str
    subject: str
    ref: str
    body: bytes | dict[str, Any]
    # The body's digest when the caller has already computed it (bulk paths); the ledger's
    # verify recomputes it from the source, so a wrong one cannot hide.
    digest: str | None = None
    # The event's salt, which the domain stores with its row; None draws a fresh one.
    salt: bytes | None = None


class StoredEvent(NamedTuple):
    """What a domain stores of one logged event, as ``verify`` and the body check read it.

    ``digest`` is the body's digest recomputed from the stored row. A row written since
    leaf format 2 has its ``salt`` and names the ``subject`` and ``actor`` its leaf was
    sealed for; a row written before has no salt, and its leaf holds the digest itself.
    """

    ref: str
    digest: str
    salt: bytes | None = None
    subject: str = ""
    actor: str = ""


class EntryOut(BaseModel):
    index: int
    leaf: str = Field(description="base64 of the exact leaf bytes that were hashed")
    event: dict[str, Any] | None = Field(
        description="the decoded event (null if the stored leaf is not a valid event)"
    )


class EntriesOut(BaseModel):
    start: int
    end: int = Field(description="one past the last index returned")
    tree_size: int
    entries: list[EntryOut]


class PartyKeyOut(BaseModel):
    """A party's ledger key: what lets it find its own leaves among the public ones."""

    id: str = Field(description="which tag secret of the node the key is derived from")
    key: str = Field(description="hex HMAC-SHA256(tag secret, role || 0x00 || label)")


class PartyKeysOut(BaseModel):
    role: str = Field(description="the leaf member the keys match: subject or actor")
    label: str = Field(description="the party as the ledger names it (never in a leaf)")
    keys: list[PartyKeyOut] = Field(description="one per tag secret, oldest first")
    match: str = Field(
        default="a format-2 leaf is yours when hex(HMAC-SHA256(key, bytes of its digest))[:32] "
        "equals its <role> member, for one of the keys",
    )


class InclusionProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || leaf)")
    hashes: list[str] = Field(description="base64 hashes in RFC 9162 order")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    hashes: list[str] = Field(description="base64 hashes in RFC 9162 order")


class LookupOut(BaseModel):
    digest: str
    index: int | None = Field(description="the first index with this digest; null if pending")
    indexes: list[int]
    pending: int = Field(description="entries with this digest not yet in the tree")


class CosignatureIn(BaseModel):
    checkpoint: str = Field(
        description="the checkpoint note the witness cosigned", max_length=65536
    )
    cosignature: str = Field(
        description="the cosignature line: '— <name> <base64>'", max_length=1000
    )


class CosignatureOut(BaseModel):
    witness: str
    size: int
    timestamp: int


class WitnessCosignature(BaseModel):
    name: str
    signed_at: datetime


class CheckpointView(BaseModel):
    """The latest checkpoint as the portal shows it."""

    origin: str
    size: int
    root_hash: str
    created_at: datetime
    note: str = Field(description="the signed note with cosignatures")
    witnesses: list[WitnessCosignature]


class WitnessStatus(BaseModel):
    """A registered witness and the latest checkpoint it cosigned."""

    name: str
    active: bool
    size: int | None = Field(description="tree size of the latest checkpoint it cosigned")
    signed_at: datetime | None
    covers_current: bool = Field(description="whether that checkpoint is the current one")


class ProofStep(BaseModel):
    number: int = 0
    side: str = Field(description="where the sibling sits: left or right")
    sibling: str
    sibling_leaves: tuple[int, int] = Field(
        default=(0, 0), description="the leaves [lo, hi) the sibling stands for"
    )
    result: str
    covers: tuple[int, int] = Field(
        default=(0, 0), description="the leaves [lo, hi) the running hash stands for"
    )


BODY_MATCHES = "matches"
BODY_DIFFERS = "differs"
BODY_MISSING = "missing"
BODY_UNCHECKED = "unchecked"


class EventCheck(BaseModel):
    """One event checked against the latest checkpoint, step by step."""

    index: int
    event: dict[str, Any]
    format: int = Field(default=1, description="the leaf format: 1, or 2 (salted, tagged)")
    ref: str | None = Field(
        default=None,
        description="what the event names: in a format-1 leaf, or kept by the node for a "
        "format-2 leaf (never published)",
    )
    leaf: str = Field(default="", description="the exact leaf bytes (canonical JSON text)")
    leaf_hash: str
    tree_size: int
    root_hash: str = Field(description="the root in the signed checkpoint")
    computed_root: str | None = Field(default=None, description="where the proof leads")
    steps: list[ProofStep]
    verified: bool
    problem: str | None = Field(default=None, description="why the proof could not be worked")
    problem_params: dict[str, Any] = Field(default_factory=dict)
    body: str = Field(
        default=BODY_UNCHECKED,
        description="whether the stored body still hashes to the leaf's digest: "
        "matches, differs, missing or unchecked (no stored body known for this kind)",
    )
    checkpoint: CheckpointView


@dataclass(frozen=True)
class Problem:
    """One thing ``verify`` found wrong; ``index`` is the first leaf it concerns, if any."""

    what: str
    index: int | None = None


@dataclass
class VerifyReport:
    size: int = 0
    pending: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    # stored events, by source, whose entry is pending: appended, waiting for its index
    awaiting: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indexes = [p.index for p in self.problems if p.index is not None]
        return min(indexes) if indexes else None

    def add(self, what: str, index: int | None = None) -> None:
        self.problems.append(Problem(what, index))
