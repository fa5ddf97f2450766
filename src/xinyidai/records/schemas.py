"""What the records take in (validated facts) and give out (records and their history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel


class CurrentData(NamedTuple):
    """The current data of one record, as bulk reads hand it out (no history, no metadata)."""

    subject_code: str
    category: str
    data: dict[str, Any]
    event_on: date | None


class Fact(NamedTuple):
    """One validated row, ready to store: its record id, subject, canonical data and digest.

    A named tuple: chunks of facts cross from the validating process as plain tuples.
    """

    record_id: str
    subject_code: str
    data: dict[str, Any]
    digest: str
    event_on: date | None
    position: int
    canonical: str  # the canonical JSON text of ``data``, hashed into ``digest``


@dataclass
class StoreResult:
    """What storing a set of facts did."""

    accepted: int = 0
    updated: int = 0
    duplicates: int = 0
    conflicts: int = 0
    versions: list[tuple[str, int, str, str]] | None = None  # (record_id, version, subject, digest)

    def add(self, other: StoreResult) -> None:
        self.accepted += other.accepted
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts


class RecordVersionOut(BaseModel):
    version: int
    data: dict[str, Any]
    digest: str
    provider: str
    batch_id: str | None
    category_version: int
    created_at: datetime


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
