"""Storing facts: dedup and versions.

The same fact (same category, same key fields) always maps to the same record id. Sent
again unchanged, by anyone, it is a duplicate; changed, it is a new version that keeps the
old one; changed by a different department than the last sender, it is also a conflict
flagged for the operator. Every new version gets its ledger leaf in the same transaction,
and the listeners hear of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import (
    COPY_NULL,
    RawJSON,
    bulk_insert,
    copy_lines,
    copy_text,
    is_postgres,
    lookup_chunks,
)
from xinyidai.ledger import service as ledger_service
from xinyidai.records.models import CreditRecord, RecordConflict, RecordVersion
from xinyidai.records.schemas import Fact, StoreResult
from xinyidai.records.service import listeners
from xinyidai.records.service.leaves import LEDGER_KIND, ledger_actor
from xinyidai.records.service.partitioning import first_statistics
from xinyidai.records.service.reads import last_change_id

JSON_COLUMNS = ("data", "sources")
Raw = RawJSON


@dataclass(slots=True)
class _Current:
    id: str
    digest: str
    version: int
    provider: str
    sources: list[str]


def _existing(session: Session, category: str, ids: list[str]) -> dict[str, _Current]:
    found: dict[str, _Current] = {}
    columns = (
        CreditRecord.id,
        CreditRecord.digest,
        CreditRecord.version,
        CreditRecord.provider,
        CreditRecord.sources,
    )
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        # Naming the category keeps the lookup inside one partition on PostgreSQL.
        query = select(*columns).where(CreditRecord.category == category, condition)
        for row in session.execute(query):
            found[row[0]] = _Current(*row)
    return found


def _current_data(session: Session, category: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current data of some records (read only where a conflict names changed fields)."""
    found: dict[str, dict[str, Any]] = {}
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        query = select(CreditRecord.id, CreditRecord.data).where(
            CreditRecord.category == category, condition
        )
        for rid, data in session.execute(query):
            found[rid] = data
    return found


def store(
    session: Session,
    *,
    category: str,
    category_version: int,
    provider: str,
    batch_id: str | None,
    facts: Sequence[Fact],
) -> StoreResult:
    """Store facts of one category from one provider: insert, update with history, or count."""
    result = StoreResult()
    now = clock.now()
    latest: dict[str, Fact] = {}
    for fact in facts:
        # Within one delivery the last row for a fact wins; an earlier row it replaces is
        # counted as a duplicate, so that sending the same delivery again changes nothing.
        if fact.record_id in latest:
            result.duplicates += 1
        latest[fact.record_id] = fact
    existing = _existing(session, category, list(latest))
    new: list[tuple[Fact, bytes]] = []
    revised: list[dict[str, Any]] = []  # records given a new version
    gained: list[dict[str, Any]] = []  # records that only gained a source
    versions: list[tuple[Fact, int, bytes]] = []
    disputed: list[tuple[Fact, _Current, int]] = []
    # The salt of each new version's ledger commitment, drawn for the chunk at once.
    salts = iter(ledger_service.new_salts(len(latest)))
    for rid, fact in latest.items():
        current = existing.get(rid)
        if current is None:
            salt = next(salts)
            new.append((fact, salt))
            versions.append((fact, 1, salt))
            continue
        if current.digest == fact.digest:
            result.duplicates += 1
            if provider not in current.sources:
                gained.append({"rid": rid, "sources": [*current.sources, provider]})
            continue
        version = current.version + 1
        salt = next(salts)
        if current.provider != provider:
            disputed.append((fact, current, version))
        sources = current.sources if provider in current.sources else [*current.sources, provider]
        revised.append(
            {
                "rid": rid,
                "data": fact.data,
                "digest": fact.digest,
                "event_on": fact.event_on,
                "category_version": category_version,
                "version": version,
                "provider": provider,
                "batch_id": batch_id,
                "updated_at": now,
                "sources": sources,
                "salt": salt,
            }
        )
        versions.append((fact, version, salt))
    conflicts = _conflicts(session, category, provider, batch_id, now, disputed)
    result.accepted = len(new)
    result.updated = len(versions) - len(new)
    mark = _next_change_id(session) if versions else 0
    written = _Written(category, category_version, provider, batch_id, now, mark)
    if new:
        _insert_records(session, written, new)
        first_statistics(session, category)
    _keep_past_versions(session, category, [row["rid"] for row in revised])
    _apply_changes(session, category, [row | {"change_id": mark} for row in revised] + gained)
    if versions:
        ledger_service.append_digests(
            session,
            kind=LEDGER_KIND,
            actor=ledger_actor(provider),
            items=[
                (fact.subject_code, f"{fact.record_id}:{version}", fact.digest, salt)
                for fact, version, salt in versions
            ],
        )
    if conflicts:
        session.execute(insert(RecordConflict), conflicts)
        result.conflicts += len(conflicts)
    if versions:
        listeners.tell(session, category, [fact for fact, _, _ in versions])
    return result


@dataclass(frozen=True, slots=True)
class _Written:
    """What every row written by one ``store`` call has in common."""

    category: str
    category_version: int
    provider: str
    batch_id: str | None
    now: datetime
    change_id: int


_RECORD_COLUMNS = (
    "id",
    "category",
    "subject_code",
    "data",
    "digest",
    "event_on",
    "category_version",
    "version",
    "provider",
    "sources",
    "batch_id",
    "created_at",
    "updated_at",
    "change_id",
    "salt",
)


def _insert_records(session: Session, written: _Written, facts: list[tuple[Fact, bytes]]) -> None:
    """New records, each at version 1 with its salt (on PostgreSQL one COPY of lines built
    here)."""
    sources = json.dumps([written.provider], ensure_ascii=False, separators=(",", ":"))
    if not is_postgres(session):
        rows = [
            {
                "id": fact.record_id,
                "category": written.category,
                "subject_code": fact.subject_code,
                "data": Raw(fact.canonical),
                "digest": fact.digest,
                "event_on": fact.event_on,
                "category_version": written.category_version,
                "version": 1,
                "provider": written.provider,
                "sources": Raw(sources),
                "batch_id": written.batch_id,
                "created_at": written.now,
                "updated_at": written.now,
                "change_id": written.change_id,
                "salt": salt,
            }
            for fact, salt in facts
        ]
        bulk_insert(session, CreditRecord.__table__, rows, json_columns=JSON_COLUMNS)
        return
    category = copy_text(written.category)
    batch = COPY_NULL if written.batch_id is None else copy_text(written.batch_id)
    moment = written.now.isoformat()
    tail = (
        f"{written.category_version}\t1\t{copy_text(written.provider)}\t{copy_text(sources)}"
        f"\t{batch}\t{moment}\t{moment}\t{written.change_id}\t\\\\x"
    )
    # Ids and digests are hex, subjects checked credit codes: only the data needs escaping.
    # The salt ends the line as bytea hex.
    lines = [
        f"{fact.record_id}\t{category}\t{fact.subject_code}\t{copy_text(fact.canonical)}"
        f"\t{fact.digest}\t{COPY_NULL if fact.event_on is None else fact.event_on.isoformat()}"
        f"\t{tail}{salt.hex()}\n"
        for fact, salt in facts
    ]
    copy_lines(session, CreditRecord.__table__, _RECORD_COLUMNS, lines)


CHANGE_SEQUENCE = "credit_record_change_seq"


def _next_change_id(session: Session) -> int:
    """The mark of one ``store`` call: above every mark already committed.

    PostgreSQL takes it from a sequence, so writers side by side never wait on each other;
    SQLite has one writer at a time, so one past the highest stored mark is safe there.
    """
    if is_postgres(session):
        return int(session.scalar(text_sql(f"SELECT nextval('{CHANGE_SEQUENCE}')")) or 0)
    return last_change_id(session) + 1


# What a past version keeps of the record row it was (the row's ``updated_at`` is when that
# version was stored).
_PAST_COLUMNS = (
    ("record_id", CreditRecord.id),
    ("version", CreditRecord.version),
    ("subject_code", CreditRecord.subject_code),
    ("category", CreditRecord.category),
    ("data", CreditRecord.data),
    ("digest", CreditRecord.digest),
    ("category_version", CreditRecord.category_version),
    ("provider", CreditRecord.provider),
    ("batch_id", CreditRecord.batch_id),
    ("created_at", CreditRecord.updated_at),
    ("salt", CreditRecord.salt),
)


def _keep_past_versions(session: Session, category: str, ids: list[str]) -> None:
    """Copy the current rows of records about to change into the past versions, on the
    server (the data does not travel): what a record was stays readable once it changes."""
    names = [name for name, _ in _PAST_COLUMNS]
    columns = [column for _, column in _PAST_COLUMNS]
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        rows = select(*columns).where(CreditRecord.category == category, condition)
        session.execute(insert(RecordVersion).from_select(names, rows))


def _conflicts(
    session: Session,
    category: str,
    provider: str,
    batch_id: str | None,
    now: datetime,
    disputed: list[tuple[Fact, _Current, int]],
) -> list[dict[str, Any]]:
    """The conflict rows of facts that change a record another department sent last."""
    if not disputed:
        return []
    earlier = _current_data(session, category, [current.id for _, current, _ in disputed])
    conflicts = []
    for fact, current, version in disputed:
        before = earlier.get(current.id, {})
        conflicts.append(
            {
                "record_id": current.id,
                "category": category,
                "subject_code": fact.subject_code,
                "earlier_provider": current.provider,
                "earlier_version": current.version,
                "later_provider": provider,
                "later_version": version,
                "fields": sorted(
                    k for k in set(before) | set(fact.data) if before.get(k) != fact.data.get(k)
                ),
                "batch_id": batch_id,
                "state": "open",
                "created_at": now,
            }
        )
    return conflicts


def _apply_changes(session: Session, category: str, changed: list[dict[str, Any]]) -> None:
    """Write updated records (and records that gained a source), grouped by what changed."""
    table = CreditRecord.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changed:
        groups.setdefault(tuple(sorted(k for k in row if k != "rid")), []).append(row)
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.category == category, table.c.id == bindparam("rid"))
            .values({name: bindparam(name) for name in columns})
        )
        session.execute(statement, rows)
