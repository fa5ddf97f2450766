"""What the records take in (validated facts) and give out (records and their history)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class CurrentData(NamedTuple):
    """The current data of one record, as bulk reads hand it out (no history, no metadata)."""

    subject_code: str
    category: str
    data: dict[str, Any]
    event_on: date | None


class Fact:
    """One validated row, ready to store: its record id, subject, canonical data and digest.

    ``data`` is the row's values by field; ``canonical`` its canonical JSON text, hashed into
    ``digest``. Facts that crossed from a validating process carry only the text (see
    ``wire``), and ``data`` is decoded from it the first time it is asked for: storing a new
    record needs only the text.
    """

    __slots__ = (
        "_data",
        "canonical",
        "digest",
        "event_on",
        "position",
        "record_id",
        "subject_code",
    )

    def __init__(
        self,
        record_id: str,
        subject_code: str,
        data: dict[str, Any] | None,
        digest: str,
        event_on: date | None,
        position: int,
        canonical: str,
    ) -> None:
        self.record_id = record_id
        self.subject_code = subject_code
        self._data = data
        self.digest = digest
        self.event_on = event_on
        self.position = position
        self.canonical = canonical

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.canonical)
        return self._data

    def __repr__(self) -> str:
        return f"Fact({self.record_id!r}, {self.subject_code!r}, position={self.position})"

    @staticmethod
    def wire(facts: list[Fact]) -> tuple[list[Any], ...]:
        """Facts as a few plain columns (no ``data``): what crosses a process boundary.

        Pickling a few lists of strings costs a fraction of pickling one object, one dict
        and one date per row.
        """
        return (
            [f.record_id for f in facts],
            [f.subject_code for f in facts],
            [f.digest for f in facts],
            [None if f.event_on is None else f.event_on.toordinal() for f in facts],
            [f.position for f in facts],
            [f.canonical for f in facts],
        )

    @staticmethod
    def unwire(columns: tuple[list[Any], ...]) -> list[Fact]:
        """The facts ``wire`` wrote, ``data`` decoded from the text when first asked for."""
        from_ordinal = date.fromordinal
        return [
            Fact(rid, subject, None, digest, None if day is None else from_ordinal(day), pos, text)
            for rid, subject, digest, day, pos, text in zip(*columns, strict=True)
        ]


@dataclass
class StoreResult:
    """What storing a set of facts did."""

    accepted: int = 0
    updated: int = 0
    duplicates: int = 0
    conflicts: int = 0

    def add(self, other: StoreResult) -> None:
        self.accepted += other.accepted
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts


class RecordLedgerOut(BaseModel):
    """What lets a reader shown a record version in full check that it is in the ledger."""

    format: int = Field(description="the leaf format: 2 (salted commitment) or 1 (before)")
    salt: str | None = Field(description="hex of the version's 16-byte salt (format 2)")
    digest: str = Field(description="hex SHA-256 of the record's canonical JSON data")
    commitment: str = Field(
        description="the digest its leaf carries: SHA-256('XYD ledger commitment v2\\n' ‖ "
        "JSON [kind, '<record id>:<version>', credit code, 'provider:<department>', salt, "
        "digest]); the digest itself for format 1"
    )
    index: int | None = Field(description="the leaf's index; null while it waits to be sequenced")


class RecordVersionOut(BaseModel):
    version: int
    data: dict[str, Any]
    digest: str
    provider: str
    batch_id: str | None
    category_version: int
    created_at: datetime
    ledger: RecordLedgerOut | None = Field(
        default=None, description="only for a version shown in full (docs/ledger.md)"
    )


class RecordOut(BaseModel):
    id: str
    category: str
    subject_code: str
    data: dict[str, Any]
    event_on: date | None
    version: int
    provider: str
    sources: list[str]
    updated_at: datetime
    history: list[RecordVersionOut] | None = None
    ledger: RecordLedgerOut | None = Field(
        default=None, description="only for a record shown in full (docs/ledger.md)"
    )
    marks: list[str] = Field(
        default_factory=list,
        description="what every view shows beside it: objection (异议处理中)",
    )


class CategoryRecords(BaseModel):
    category: str
    name_zh: str
    name_en: str
    sensitivity: str
    records: list[RecordOut]
    hidden_expired: int = 0


class ConflictOut(BaseModel):
    id: int
    record_id: str
    category: str
    subject_code: str
    earlier_provider: str
    earlier_version: int
    later_provider: str
    later_version: int
    fields: list[str]
    state: str
    created_at: datetime


class SubjectNoteOut(BaseModel):
    """A note shown beside a subject's records (破产重整: a reorganization approved, its
    plan executed)."""

    model_config = ConfigDict(from_attributes=True)

    kind: str = Field(description="reorganization_approved or plan_executed")
    decided_on: date
    source: str = Field(description="the court, or the operator")
    text: str
