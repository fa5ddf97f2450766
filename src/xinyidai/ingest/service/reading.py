"""Rows into a batch: a file read through the pipeline, a push, a resubmission of fixed
rows; each stored a chunk at a time through the records service (dedup, versions,
conflicts), bad rows kept with their reasons, the registry kept in step.

Functions here add and flush. A caller that reads a file in units of work (the ``ingest.file``
job, ``xyd ingest``) commits in the ``on_chunk`` hook, through ``ingest.units``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.schemas import CategorySpec
from xinyidai.core import clock
from xinyidai.core.db import bulk_insert
from xinyidai.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from xinyidai.ingest.models import DONE, RUNNING, Batch, Rejection
from xinyidai.ingest.pipeline import Chunk, Reader
from xinyidai.ingest.readers import NotATable
from xinyidai.ingest.service.batches import (
    REGISTRATION,
    FeedFile,
    create_batch,
    file_checksum,
    get_or_raise,
    open_file_batch,
)
from xinyidai.ingest.service.failures import claim, fail
from xinyidai.records import service as records_service
from xinyidai.records.schemas import StoreResult
from xinyidai.registry import service as registry_service

MAX_PUSH_ROWS = 10_000
# The queue task that reads an uploaded file into its batch, and the kind of its job.
FILE_TASK = "ingest.file"

ChunkHook = Callable[[Batch], None]


def _spec(session: Session, batch: Batch) -> CategorySpec:
    return catalog_service.spec_of(
        catalog_service.get_by_code_or_raise(session, code=batch.category)
    )


def _process(
    session: Session,
    batch: Batch,
    spec: CategorySpec,
    headers: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    *,
    resolves: dict[int, int] | None = None,
) -> Batch:
    """Validate and store ``rows`` (a push, a resubmission: no file) into ``batch``, chunk
    by chunk."""
    chunks = Reader.configured().chunks(batch.id, spec, headers, rows, resolves=resolves)
    return store_chunks(session, batch, spec, chunks)


def store_chunks(
    session: Session,
    batch: Batch,
    spec: CategorySpec,
    chunks: Iterable[Chunk],
    *,
    on_chunk: ChunkHook | None = None,
) -> Batch:
    """Store validated chunks into ``batch`` and close it (counts go on from what the
    batch holds: a resumed batch counts on from its last committed chunk)."""
    totals = StoreResult(
        accepted=batch.accepted or 0,
        updated=batch.updated or 0,
        duplicates=batch.duplicates or 0,
        conflicts=batch.conflicts or 0,
    )
    for chunk in chunks:
        if batch.unknown_headers != chunk.unknown_headers:
            batch.unknown_headers = chunk.unknown_headers
        batch.total += chunk.total
        batch.rejected += chunk.rejected
        batch.missing_required += chunk.missing_required
        _flush(session, batch, spec, chunk, totals)
        if chunk.last is not None:
            batch.last_position = chunk.last
            batch.heartbeat_at = clock.now()
        if on_chunk is not None and chunk.total:
            on_chunk(batch)
    batch.state = DONE
    batch.finished_at = clock.now()
    session.flush()
    return batch


def _flush(
    session: Session,
    batch: Batch,
    spec: CategorySpec,
    chunk: Chunk,
    totals: StoreResult,
) -> None:
    facts, rejections, resolved = chunk.facts, chunk.rejections, chunk.resolved
    if facts:
        if spec.code == REGISTRATION:
            registry_service.sync_subjects(
                session, registrations=[_registration(fact.data) for fact in facts]
            )
        else:
            registry_service.sync_subjects(
                session,
                mentions=chunk.mentions,
            )
        stored = records_service.store(
            session,
            category=spec.code,
            category_version=batch.category_version or 1,
            provider=batch.provider,
            batch_id=batch.id,
            facts=facts,
        )
        totals.add(stored)
        batch.accepted = totals.accepted
        batch.updated = totals.updated
        batch.duplicates = totals.duplicates
        batch.conflicts = totals.conflicts
    if rejections:
        bulk_insert(session, Rejection.__table__, rejections, json_columns=("errors", "raw"))
    if resolved:
        for rejection in session.scalars(select(Rejection).where(Rejection.id.in_(resolved))):
            rejection.resolved_batch_id = batch.id
    session.flush()


def _registration(data: dict[str, Any]) -> dict[str, Any]:
    capital = data.get("registered_capital")
    established = data.get("established_on")
    return {
        "credit_code": data["credit_code"],
        "name": data.get("enterprise_name"),
        "region_code": data.get("region_code"),
        "industry_code": data.get("industry_code"),
        "legal_representative": data.get("legal_representative"),
        "registered_capital": None if capital is None else Decimal(capital),
        "established_on": date.fromisoformat(established) if established else None,
        "address": data.get("address"),
    }


def run_file(
    session: Session,
    *,
    batch_id: str,
    path: Path,
    on_chunk: ChunkHook | None = None,
    reader: Reader | None = None,
) -> Batch:
    """Read ``path`` into its batch, from after its last committed row if it has one.

    ``on_chunk`` (a caller that commits as it goes: ``ingest.units``) is called once the
    batch is claimed, before any row is read, and after every chunk. ``reader`` (by default
    the configured one) reads the file here or in a child process. A file that is not a
    table, or that breaks midway, fails the batch with the reason; what its chunks stored
    before stays (``fail``). Any other error is raised (``fail_on_error`` closes the batch).
    """
    batch = get_or_raise(session, batch_id=batch_id)
    claim(batch)
    spec = _spec(session, batch)
    if on_chunk is not None:
        on_chunk(batch)
    reader = reader or Reader.configured()
    try:
        opened, chunks = reader.read(batch.id, spec, path, batch.format, after=batch.last_position)
        batch.format, batch.encoding = opened.format, opened.encoding
        return store_chunks(session, batch, spec, chunks, on_chunk=on_chunk)
    except NotATable as exc:  # and ReadFailed: the rows before it are stored
        return fail(session, batch, exc.reason, exc.params)


def ingest_file(
    session: Session,
    *,
    feed: FeedFile,
    actor: str | None,
    source: str = "file",
    on_chunk: ChunkHook | None = None,
    reader: Reader | None = None,
) -> Batch:
    """Open the batch of one file (its failed one, if the same file failed before) and
    read it (the CLI and small uploads)."""
    batch = open_file_batch(
        session,
        provider=feed.provider,
        category=feed.category,
        source=source,
        actor=actor,
        filename=str(feed.path.name),
        fmt=feed.format,
        checksum=file_checksum(feed.path),
    )
    return run_file(session, batch_id=batch.id, path=feed.path, on_chunk=on_chunk, reader=reader)


def push_rows(
    session: Session,
    *,
    provider: str,
    category: str,
    rows: list[dict[str, Any]],
    actor: str | None,
) -> Batch:
    """Store rows pushed through the API (a JSON array of objects) as one batch."""
    if len(rows) > MAX_PUSH_ROWS:
        raise PayloadTooLarge(
            "at most {limit} rows per push; send a file for more", field="rows", limit=MAX_PUSH_ROWS
        )
    batch = create_batch(session, provider=provider, category=category, source="api", actor=actor)
    batch.state = RUNNING
    headers: list[str] = []
    for row in rows:
        for key in row:
            if key not in headers:
                headers.append(key)
    table_rows = ((index, [row.get(h) for h in headers]) for index, row in enumerate(rows))
    return _process(session, batch, _spec(session, batch), headers, table_rows)


def resubmit(
    session: Session,
    *,
    batch_id: str,
    corrections: list[tuple[int, dict[str, Any]]],
    actor: str | None,
    provider: str,
) -> Batch:
    """Send fixed versions of rejected rows (rejection id → row) as a new batch.

    A fixed row that passes resolves its rejection; one that fails is rejected again in
    the new batch with the new reason; the original rejection stays open.
    """
    parent = get_or_raise(session, batch_id=batch_id)
    if parent.provider != provider:
        raise NotFound("no batch {batch_id}", field="batch_id", batch_id=batch_id)
    ids = [rid for rid, _ in corrections]
    known = {
        r.id: r
        for r in session.scalars(
            select(Rejection).where(Rejection.batch_id == batch_id, Rejection.id.in_(ids))
        )
    }
    for rid in ids:
        if rid not in known:
            raise ValidationFailed(
                "rejection {id} is not a rejected row of batch {batch_id}",
                field="rejection_id",
                id=rid,
                batch_id=batch_id,
            )
        if known[rid].resolved_batch_id is not None:
            raise Conflict(
                "rejection {id} was already resolved by batch {other}",
                field="rejection_id",
                id=rid,
                other=known[rid].resolved_batch_id,
            )
    batch = create_batch(
        session,
        provider=parent.provider,
        category=parent.category,
        source="resubmit",
        actor=actor,
        parent_batch_id=parent.id,
    )
    batch.state = RUNNING
    headers: list[str] = []
    for _, row in corrections:
        for key in row:
            if key not in headers and key != "rejection_id":
                headers.append(key)
    positions = {known[rid].position: rid for rid, _ in corrections}
    table_rows = ((known[rid].position, [row.get(h) for h in headers]) for rid, row in corrections)
    return _process(session, batch, _spec(session, batch), headers, table_rows, resolves=positions)
