"""Business logic of ingestion: batches in, rows validated, facts stored, faults kept.

Every path — a file from the CLI or the portal, a push through the API, a resubmission of
fixed rows — runs through ``_process``: rows are validated a chunk at a time, bad ones are
quarantined with their position, field and reason, good ones are stored in chunks through
the records service (dedup, versions, conflicts) and the registry is kept in step.

A file's batch names the process reading it (``worker``) and is marked at every chunk
(``heartbeat_at``, ``last_position``). However reading stops — a file that breaks midway, an
unexpected error, a process that is killed — the batch ends ``failed`` with the reason and
what was stored before it (``fail``, ``fail_on_error``, and ``sweep_abandoned`` for
batches whose worker is gone). The same file sent again takes up its failed batch where the
last committed chunk ended (``open_file_batch``): nothing is stored or counted twice.
"""

from __future__ import annotations

import contextvars
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.fields import CONTROL_CHARACTERS
from xinyidai.catalog.schemas import FREQUENCY_DAYS, CategorySpec
from xinyidai.core import clock, jobs
from xinyidai.core.db import RawJSON, bulk_insert
from xinyidai.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from xinyidai.core.i18n import N_, gettext
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest.models import DONE, FAILED, QUEUED, RUNNING, Batch, IdempotencyKey, Rejection
from xinyidai.ingest.readers import NotATable, ReadFailed, open_table, unreadable
from xinyidai.ingest.validation import MISSING, RowError, RowValidator
from xinyidai.records import service as records_service
from xinyidai.records.schemas import Fact, StoreResult
from xinyidai.registry import service as registry_service

log = logging.getLogger(__name__)

MAX_PUSH_ROWS = 10_000
REGISTRATION = "registration"
# The longest value kept in the stored copy of a rejected row, and of a value in a reason.
RAW_VALUE_CHARS = 1000
REASON_VALUE_CHARS = 200

ChunkHook = Callable[[Batch], None]


@dataclass(frozen=True)
class FeedFile:
    """One file to ingest, with the provider and category it carries."""

    path: Path
    provider: str
    category: str
    format: str | None = None


def summary(batch: Batch) -> dict[str, Any]:
    """The one-line account of a batch (``xyd ingest --json`` and the API)."""
    return {
        "batch_id": batch.id,
        "path": batch.filename,
        "provider": batch.provider,
        "category": batch.category,
        "state": batch.state,
        "total": batch.total,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
        "updated": batch.updated,
        "conflicts": batch.conflicts,
        "unknown_headers": batch.unknown_headers,
        "error": batch.error,
        "error_detail": batch.error_detail,
    }


def get_or_raise(session: Session, *, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("no batch {batch_id}", field="batch_id", batch_id=batch_id)
    return batch


def may_see_batch(principal: Principal, batch: Batch) -> bool:
    """The operator sees every batch; a provider those filed under its department code."""
    if principal.organization_kind == OrgKind.OPERATOR:
        return True
    return (
        principal.organization_kind == OrgKind.PROVIDER
        and bool(principal.organization_code)
        and batch.provider == principal.organization_code
    )


def batches_statement(
    *, principal: Principal, provider: str | None = None, category: str | None = None
) -> Select[Any]:
    """The batches the principal may list, newest first (optionally of one category): a
    provider its own, under its department code; the operator every provider's, or one's."""
    if principal.organization_kind == OrgKind.PROVIDER:
        if not principal.organization_code:
            raise Forbidden("your organization has no department code", field="provider")
        provider = principal.organization_code
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("your organization may not do this")
    stmt = select(Batch).order_by(Batch.created_at.desc(), Batch.id.desc())
    if provider:
        stmt = stmt.where(Batch.provider == provider)
    if category:
        stmt = stmt.where(Batch.category == category)
    return stmt


def create_batch(
    session: Session,
    *,
    provider: str,
    category: str,
    source: str,
    actor: str | None,
    filename: str | None = None,
    fmt: str | None = None,
    parent_batch_id: str | None = None,
) -> Batch:
    """Open a batch for one active category sent by its source department.

    Every way data comes in (an upload, a push, a resubmission, a file or folder at the
    console) opens its batch here, so this is where a department is kept to its own
    categories (``require_source``).
    """
    spec_row = _open_category(session, provider=provider, category=category)
    batch = Batch(
        id=new_id("bat"),
        provider=provider.strip(),
        category=category,
        category_version=spec_row.version,
        source=source,
        filename=filename,
        format=fmt,
        state=QUEUED,
        unknown_headers=[],
        created_by=actor,
        parent_batch_id=parent_batch_id,
    )
    session.add(batch)
    session.flush()
    return batch


def _open_category(session: Session, *, provider: str, category: str) -> Any:
    """The active category a batch of ``provider`` is opened for (refused otherwise)."""
    if not provider or not provider.strip():
        raise ValidationFailed("a provider is required", field="provider")
    spec_row = catalog_service.get_by_code_or_raise(session, code=category, field="category")
    if not spec_row.active:
        raise ValidationFailed(
            "category {category} is retired and accepts no data",
            field="category",
            category=category,
        )
    require_source(category=spec_row.code, source=spec_row.provider, provider=provider.strip())
    return spec_row


def require_source(*, category: str, source: str, provider: str) -> None:
    """Refuse data of ``category`` (whose source department in the catalogue is
    ``source``) from any other department ``provider``.

    A department is the source of its own categories only: what it sends of another's
    would be read by everyone as that department's word (a tax office filing a court's
    dishonest-debtor list). The operator moves a category to another department in the
    catalogue (a new version of the category).
    """
    if source != provider:
        raise Forbidden(
            "category {category} is supplied by department {owner}; "
            "department {provider} may not send it",
            field="category",
            error_code="not_source_department",
            category=category,
            owner=source,
            provider=provider,
        )


def check_sources(session: Session, feeds: Sequence[FeedFile]) -> None:
    """Refuse a set of files before any is read when one names a provider that is not its
    category's source (a manifest line filing a court category under the tax office), so
    that a folder goes in whole or not at all on this account. A category the catalogue
    lacks is left to its own file's batch to report."""
    for feed in feeds:
        found = catalog_service.get_by_code(session, code=feed.category)
        if found is not None:
            require_source(
                category=found.code, source=found.provider, provider=feed.provider.strip()
            )


def _spec(session: Session, batch: Batch) -> CategorySpec:
    return catalog_service.spec_of(
        catalog_service.get_by_code_or_raise(session, code=batch.category)
    )


@dataclass(slots=True)
class _Chunk:
    """Up to ``ingest_batch_rows`` validated rows: facts to store, faults to keep.

    ``mentions`` are the subjects the facts speak of (credit code → enterprise name as
    sent), for the registry; ``last`` is the position of the last row read into it. A chunk
    that crosses from a validating process carries its facts as plain columns
    (``Fact.wire``).
    """

    facts: list[Fact]
    rejections: list[dict[str, Any]]
    resolved: list[int]
    total: int
    rejected: int
    missing_required: int
    unknown_headers: list[str]
    mentions: dict[str, str] = field(default_factory=dict)
    last: int | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _unwired_chunk,
            (
                Fact.wire(self.facts),
                self.rejections,
                self.resolved,
                self.total,
                self.rejected,
                self.missing_required,
                self.unknown_headers,
                self.mentions,
                self.last,
            ),
        )


def _unwired_chunk(facts: tuple[list[Any], ...], *rest: Any) -> _Chunk:
    return _Chunk(Fact.unwire(facts), *rest)


def _validated_chunks(
    batch_id: str,
    spec: CategorySpec,
    headers: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    *,
    chunk_size: int,
    resolves: dict[int, int] | None = None,
    after: int | None = None,
) -> Iterator[_Chunk]:
    """Read and validate ``rows`` into chunks of ``chunk_size`` rows; touches no database
    (it may run in a thread or a child process).

    Rows at or before position ``after`` are skipped (a resumed batch stored them). A file
    that breaks midway (``ReadFailed``) ends with a last chunk of the rows read before it,
    then the error.
    """
    validator = RowValidator(spec, list(headers))  # a copy: a JSON reader widens its own
    chunk = _Chunk([], [], [], 0, 0, 0, validator.unknown)
    waiting: list[list[Any]] = []
    places: list[int] = []
    raw_chars = get_settings().ingest.rejected_row_kb * 1024

    def check() -> None:
        for position, values, outcome in zip(
            places, waiting, validator.validate_many(waiting, places), strict=True
        ):
            if isinstance(outcome, list):
                _reject(chunk, batch_id, position, outcome, validator.raw(values), raw_chars)
                continue
            chunk.facts.append(outcome)
            chunk.mentions[outcome.subject_code] = str(outcome.data.get("enterprise_name", ""))
            if resolves is not None and position in resolves:
                chunk.resolved.append(resolves[position])
        waiting.clear()
        places.clear()

    failure: ReadFailed | None = None
    try:
        for position, values in rows:
            if after is not None and position <= after:
                continue
            if len(headers) != len(validator.headers):
                # A JSON reader widens the header as new keys appear: the rows read so far
                # are checked against the header they were read with.
                check()
                validator = RowValidator(spec, list(headers))
                chunk.unknown_headers = validator.unknown
            chunk.total += 1
            chunk.last = position
            broken = unreadable(values)
            if broken is not None:
                fault = RowError(None, broken.reason, broken.params)
                raw = validator.raw(broken.kept) if broken.kept else {}
                _reject(chunk, batch_id, position, [fault], raw, raw_chars)
            else:
                waiting.append(values)
                places.append(position)
            if chunk.total >= chunk_size:
                check()
                yield chunk
                chunk = _Chunk([], [], [], 0, 0, 0, validator.unknown)
    except ReadFailed as exc:
        failure = exc
    check()
    yield chunk
    if failure is not None:
        raise failure


def printable(text: str) -> str:
    """``text`` with its control characters shown as U+FFFD (what a reason or the stored
    copy of a rejected row holds: PostgreSQL stores no NUL, a workbook no control
    character)."""
    return CONTROL_CHARACTERS.sub("\ufffd", text)


def _kept_value(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        value = printable(value)
        if len(value) > limit:
            return value[:limit] + "…"
    return value


def stored_copy(raw: dict[str, Any], budget: int) -> dict[str, Any]:
    """The row as sent, as a rejection keeps it: each value at most ``RAW_VALUE_CHARS``
    characters, and columns left out once ``budget`` characters are spent."""
    kept: dict[str, Any] = {}
    spent = 0
    for key, value in raw.items():
        value = _kept_value(value, RAW_VALUE_CHARS)
        name = printable(key)[:RAW_VALUE_CHARS]
        spent += len(name) + (len(value) if isinstance(value, str) else 8)
        if spent > budget and kept:
            break
        kept[name] = value
    return kept


def _reject(
    chunk: _Chunk,
    batch_id: str,
    position: int,
    errors: list[RowError],
    raw: dict[str, Any],
    raw_chars: int,
) -> None:
    chunk.rejected += 1
    if any(e.reason == MISSING for e in errors):
        chunk.missing_required += 1
    faults = [e.as_dict() for e in errors]
    for fault in faults:
        fault["reason"] = printable(fault["reason"])
        fault["params"] = {
            key: _kept_value(value, REASON_VALUE_CHARS) for key, value in fault["params"].items()
        }
    chunk.rejections.append(
        {
            "batch_id": batch_id,
            "position": position,
            "field": errors[0].field,
            "reason": printable("; ".join(e.text for e in errors))[:500],
            # Encoded here, as the JSON columns' own encoder spells them (ASCII escapes, so
            # a lone surrogate a row carried stays storable): the chunk goes in by COPY.
            "errors": RawJSON(json.dumps(faults)),
            "raw": RawJSON(json.dumps(stored_copy(raw, raw_chars))),
            "created_at": clock.now(),
        }
    )


# Ends a stream of chunks handed over by a thread or a child process (a string: it pickles).
_END = "xyd:end-of-chunks"


def _received(get: Callable[[], Any]) -> Iterator[_Chunk]:
    """Chunks handed over by ``get`` until the end marker; a handed-over error is raised."""
    while True:
        item = get()
        if isinstance(item, str) and item == _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _read_ahead(chunks: Iterator[_Chunk], depth: int = 2) -> Iterator[_Chunk]:
    """Produce ``chunks`` in a thread, at most ``depth`` ahead of the consumer.

    Reading and validating the next chunk then overlaps with the database storing this
    one (the driver releases the interpreter while the server works). Memory stays bounded
    by ``depth`` chunks; an error in the reader is raised here, in the consumer.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)
        else:
            put(_END)

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="xyd-ingest-reader"
    )
    worker.daemon = True
    worker.start()
    try:
        yield from _received(handoff.get)
    finally:
        stop.set()
        worker.join()


# Young objects between collections in a process given over to ingest (Python's default is
# 700): a chunk makes tens of thousands of lists, dicts and facts that refcounting frees.
BULK_GC_THRESHOLD = 100_000


def settle_bulk_process() -> None:
    """Tune the garbage collector of a process that only ingests (a folder's worker, a
    validating child).

    Rows make no reference cycles: refcounting frees them, and the collector's passes over
    every chunk, and over the modules and settings a worker holds for its whole life, were
    about 8% of an ingest's CPU (docs/performance.md). What is alive now is frozen (never
    scanned again) and the young generation is collected far less often; cycles, if any,
    are still found.
    """
    gc.freeze()
    gc.set_threshold(BULK_GC_THRESHOLD, 20, 20)


@dataclass(frozen=True, slots=True)
class _Opened:
    """What the validating child learnt opening its file, sent before any chunk."""

    format: str
    encoding: str | None


def _validate_in_child(
    sender: Any,
    batch_id: str,
    spec: CategorySpec,
    path: Path,
    fmt: str | None,
    chunk_size: int,
    after: int | None,
) -> None:
    """The child's side of ``_read_in_process``: open (saying what the file is, or that it
    is not a table), validate, send chunk by chunk."""
    settle_bulk_process()
    try:
        table = open_table(path, fmt)
        sender.send(_Opened(table.format, table.encoding))
        for chunk in _validated_chunks(
            batch_id, spec, table.headers, table.rows, chunk_size=chunk_size, after=after
        ):
            sender.send(chunk)
    except BaseException as exc:  # handed to the parent, which raises it
        try:
            sender.send(exc)
        except Exception:  # an exception that does not pickle: say what it was
            sender.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    else:
        sender.send(_END)
    finally:
        sender.close()


def _read_in_process(
    batch_id: str,
    spec: CategorySpec,
    path: Path,
    fmt: str | None,
    chunk_size: int,
    after: int | None = None,
) -> tuple[_Opened, Iterator[_Chunk]]:
    """Open, read and validate ``path`` in a forked child; what it found on opening the
    file, and its chunks as they come. ``NotATable`` if the file is not a table.

    Validation is pure Python and holds the interpreter; in a second process it runs on
    the other core while this one stores. The pipe's buffer bounds what waits in between.
    The file is opened by the child alone: opening a workbook reads it through once.
    """
    stream = _child_stream(batch_id, spec, path, fmt, chunk_size, after)
    opened = next(stream)  # an error the child hands over ends the stream, child and all
    assert isinstance(opened, _Opened)
    return opened, stream


def _child_stream(
    batch_id: str,
    spec: CategorySpec,
    path: Path,
    fmt: str | None,
    chunk_size: int,
    after: int | None,
) -> Iterator[Any]:
    """What the validating child sends, as it comes; the child is ended with the stream."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_validate_in_child,
        args=(sender, batch_id, spec, path, fmt, chunk_size, after),
        name="xyd-ingest-validate",
        daemon=True,
    )
    child.start()
    sender.close()

    def receive() -> Any:
        try:
            return receiver.recv()
        except EOFError:
            raise RuntimeError("the validating process ended without finishing") from None

    try:
        yield from _received(receive)
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _process(
    session: Session,
    batch: Batch,
    spec: CategorySpec,
    headers: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    *,
    on_chunk: ChunkHook | None = None,
    resolves: dict[int, int] | None = None,
    read_ahead: bool = False,
    after: int | None = None,
) -> Batch:
    """Validate and store ``rows`` into ``batch``, chunk by chunk."""
    chunks = _validated_chunks(
        batch.id,
        spec,
        headers,
        rows,
        chunk_size=get_settings().ingest.batch_rows,
        resolves=resolves,
        after=after,
    )
    if read_ahead:
        chunks = _read_ahead(chunks)
    return _store_chunks(session, batch, spec, chunks, on_chunk=on_chunk)


def _store_chunks(
    session: Session,
    batch: Batch,
    spec: CategorySpec,
    chunks: Iterable[_Chunk],
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
    chunk: _Chunk,
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


# --- who reads a batch, and how a batch that stopped is failed -----------------------------


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), and whether it is a zombie,
    from /proc; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return "Z" if fields[0] == "Z" else fields[19]


def worker_id() -> str:
    """This process as a batch records its worker: host, process id and start time (so a
    process id used again by another process is not taken for the worker)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or ''}"[:200]


def worker_alive(worker: str) -> bool | None:
    """Whether the process ``worker`` names is still running; None when it is on another
    host (only its heartbeat tells)."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    host, pid_text, started = parts
    if host != socket.gethostname():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # a process of another user: it exists
    now = _process_start(pid)
    if now == "Z":
        return False  # killed, not yet reaped
    return not (started and now is not None and now != started)


def claim(batch: Batch) -> None:
    """Record that this process now reads ``batch``."""
    batch.state = RUNNING
    batch.worker = worker_id()
    batch.heartbeat_at = clock.now()
    batch.finished_at = None
    batch.error = None
    batch.error_detail = None


ABANDONED = N_("the process reading the file ({worker}) stopped before it finished")
INTERRUPTED = N_("the ingest was interrupted")
UNEXPECTED = N_("the ingest stopped on an unexpected error: {error}")


def fail(
    session: Session,
    batch: Batch,
    reason: str,
    params: dict[str, Any] | None = None,
    *,
    resumable: bool = False,
) -> Batch:
    """End ``batch`` as failed for ``reason`` (an English message id with ``params``),
    saying what was stored before it; ``resumable`` when the same file sent again goes on
    from the last committed chunk (the file was not at fault)."""
    detail = {
        "message": reason,
        "params": {
            key: _kept_value(value, REASON_VALUE_CHARS) for key, value in (params or {}).items()
        },
        "stored": {
            "total": batch.total or 0,
            "accepted": batch.accepted or 0,
            "updated": batch.updated or 0,
            "duplicates": batch.duplicates or 0,
            "rejected": batch.rejected or 0,
        },
        "resume": resumable,
    }
    batch.state = FAILED
    batch.error_detail = detail
    batch.error = failure_text(detail, "en")[:2000]
    batch.finished_at = clock.now()
    session.flush()
    return batch


def failure_text(detail: dict[str, Any], locale: str | None = None) -> str:
    """The one line that says why a batch failed, in ``locale`` (default: the current
    one): the reason, what was stored before it, and whether sending the file again goes
    on from there."""
    text = gettext(detail["message"], locale, **detail.get("params", {}))
    stored = detail.get("stored") or {}
    if stored.get("total"):
        text += gettext(
            "; stored before it: {total} rows read, {accepted} new, {updated} updated, "
            "{duplicates} duplicates, {rejected} rejected",
            locale,
            **stored,
        )
    else:
        text += gettext("; nothing was stored", locale)
    if detail.get("resume"):
        text += gettext("; send the same file again to go on from there", locale)
    return text


def error_text(batch: Batch, locale: str | None = None) -> str | None:
    """Why ``batch`` failed, in ``locale``; None if it did not."""
    if batch.error_detail:
        return failure_text(batch.error_detail, locale)
    return gettext(batch.error, locale) if batch.error else None


def fail_on_error(session: Session, *, batch_id: str, error: BaseException) -> Batch:
    """Fail a batch whose reading stopped on ``error`` (the caller rolled its transaction
    back: the batch holds what its committed chunks stored). A batch already closed is left
    as it is."""
    batch = get_or_raise(session, batch_id=batch_id)
    if batch.state in (DONE, FAILED):
        return batch
    if isinstance(error, NotATable):
        return fail(session, batch, error.reason, error.params)
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return fail(session, batch, INTERRUPTED, resumable=True)
    return fail(
        session,
        batch,
        UNEXPECTED,
        {"error": f"{type(error).__name__}: {error}"},
        resumable=True,
    )


def sweep_abandoned(session: Session, *, now: datetime | None = None) -> list[str]:
    """Fail the running batches whose worker is gone; their ids.

    A worker on this host is looked up by its process id (and start time); one on another
    host, or a batch that names none, is gone once its heartbeat is older than
    ``XYD_INGEST_STALE_MINUTES``. Only a batch found gone is locked (and skipped if another
    transaction holds it, or another worker took it up meanwhile); the job that read it,
    if any, fails with it.
    """
    moment = now or clock.now()
    stale = moment - timedelta(minutes=get_settings().ingest.stale_minutes)
    running = session.execute(
        select(Batch.id, Batch.worker, Batch.heartbeat_at, Batch.updated_at).where(
            Batch.state == RUNNING
        )
    ).all()
    swept: list[str] = []
    for batch_id, worker, heartbeat, changed in running:
        alive = worker_alive(worker) if worker else None
        if alive is None:
            last = heartbeat or changed
            alive = last is not None and last >= stale
        if alive:
            continue
        batch = session.scalars(
            select(Batch)
            .where(Batch.id == batch_id, Batch.state == RUNNING)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).first()
        if batch is None or batch.worker != worker:
            continue
        fail(session, batch, ABANDONED, {"worker": worker or "?"}, resumable=True)
        if batch.job_id:
            job = jobs.get(session, job_id=batch.job_id)
            if job is not None and job.state in (jobs.JobState.QUEUED, jobs.JobState.RUNNING):
                job.state = jobs.JobState.FAILED
                job.error = batch.error
                job.finished_at = moment
        swept.append(batch.id)
    if swept:
        session.flush()
        log.warning("ingest batches whose worker is gone were marked failed: %s", swept)
    return swept


def file_checksum(path: Path) -> str:
    """The SHA-256 of a file (what tells that a file sent again is the same one)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def done_file_batch(
    session: Session, *, provider: str, category: str, checksum: str
) -> Batch | None:
    """The batch that took in the same bytes of a file whole (department, category,
    catalogue version and checksum), if any."""
    spec_row = _open_category(session, provider=provider, category=category)
    return session.scalars(
        select(Batch)
        .where(
            Batch.checksum == checksum,
            Batch.provider == provider.strip(),
            Batch.category == category,
            Batch.category_version == spec_row.version,
            Batch.state == DONE,
        )
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(1)
    ).first()


def open_file_batch(
    session: Session,
    *,
    provider: str,
    category: str,
    source: str,
    actor: str | None,
    filename: str,
    fmt: str | None,
    checksum: str,
) -> Batch:
    """The batch a file is read into: its failed batch (same department, category,
    catalogue version and checksum) taken up again where its last committed chunk ended, or
    a new one (a batch still ``running`` whose worker is gone is taken up once it is
    swept)."""
    spec_row = _open_category(session, provider=provider, category=category)
    candidate = session.scalar(
        select(Batch.id)
        .where(
            Batch.checksum == checksum,
            Batch.provider == provider.strip(),
            Batch.category == category,
            Batch.category_version == spec_row.version,
            Batch.state == FAILED,
        )
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(1)
    )
    if candidate is not None:
        taken = session.execute(
            update(Batch)
            .where(Batch.id == candidate, Batch.state == FAILED)
            .values(state=QUEUED)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:  # not taken up by another process meanwhile
            batch = get_or_raise(session, batch_id=candidate)
            session.refresh(batch)
            return batch
    batch = create_batch(
        session,
        provider=provider,
        category=category,
        source=source,
        actor=actor,
        filename=filename,
        fmt=fmt,
    )
    batch.checksum = checksum
    return batch


def run_file(
    session: Session,
    *,
    batch_id: str,
    path: Path,
    on_chunk: ChunkHook | None = None,
) -> Batch:
    """Read ``path`` into its batch, from after its last committed row if it has one.

    ``on_chunk`` (a caller that commits as it goes) is called once the batch is claimed,
    before any row is read, and after every chunk. A file that is not a table, or that
    breaks midway, fails the batch with the reason; what its chunks stored before stays
    (``fail``). Any other error is raised (``fail_on_error`` closes the batch).
    """
    batch = get_or_raise(session, batch_id=batch_id)
    claim(batch)
    spec = _spec(session, batch)
    if on_chunk is not None:
        on_chunk(batch)
    after = batch.last_position
    threshold = get_settings().ingest.process_kb * 1024
    in_child = bool(threshold) and os.name == "posix" and path.stat().st_size >= threshold
    chunk_size = get_settings().ingest.batch_rows
    try:
        if in_child:
            opened, chunks = _read_in_process(batch.id, spec, path, batch.format, chunk_size, after)
            batch.format, batch.encoding = opened.format, opened.encoding
            return _store_chunks(session, batch, spec, chunks, on_chunk=on_chunk)
        table = open_table(path, batch.format)
        batch.format = table.format
        batch.encoding = table.encoding
        return _process(
            session,
            batch,
            spec,
            table.headers,
            table.rows,
            on_chunk=on_chunk,
            read_ahead=True,
            after=after,
        )
    except NotATable as exc:  # and ReadFailed: the rows before it are stored
        return fail(session, batch, exc.reason, exc.params)


def ingest_file(
    session: Session,
    *,
    feed: FeedFile,
    actor: str | None,
    source: str = "file",
    on_chunk: ChunkHook | None = None,
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
    return run_file(session, batch_id=batch.id, path=feed.path, on_chunk=on_chunk)


def feeds_in(path: Path, *, provider: str | None, category: str | None) -> list[FeedFile]:
    """The files under ``path``: one file, or a ``xyd synth`` folder with its manifest."""
    if path.is_dir():
        manifest = path / "manifest.json"
        if not manifest.exists():
            raise ValidationFailed(
                "{path} is a folder without manifest.json", field="path", path=str(path)
            )
        entries = json.loads(manifest.read_text(encoding="utf-8"))["feeds"]
        feeds = [
            FeedFile(path / e["path"], e["provider"], e["category"], e.get("format"))
            for e in entries
        ]
        # Registration first: it creates the subjects the other categories speak of.
        return sorted(feeds, key=lambda f: (f.category != REGISTRATION, str(f.path)))
    if not path.exists():
        raise ValidationFailed("no such file: {path}", field="path", path=str(path))
    if not provider:
        raise ValidationFailed("--provider is required for a single file", field="provider")
    if not category:
        raise ValidationFailed("--category is required for a single file", field="category")
    return [FeedFile(path, provider, category)]


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


def rejections_of(
    session: Session, *, batch_id: str, page: int = 1, size: int = 50, open_only: bool = False
) -> tuple[Sequence[Rejection], int]:
    """A batch's rejected rows in file order."""
    get_or_raise(session, batch_id=batch_id)
    return paginate(
        session, rejections_statement(batch_id=batch_id, open_only=open_only), page=page, size=size
    )


def rejections_statement(*, batch_id: str, open_only: bool = False) -> Select[Any]:
    """A batch's rejected rows (only those not yet resolved: ``open_only``) in file order."""
    stmt = select(Rejection).where(Rejection.batch_id == batch_id).order_by(Rejection.position)
    if open_only:
        stmt = stmt.where(Rejection.resolved_batch_id.is_(None))
    return stmt


def iter_rejections(session: Session, *, batch_id: str) -> Iterator[Rejection]:
    """Every rejected row of a batch, streamed (for CSV and Excel downloads)."""
    get_or_raise(session, batch_id=batch_id)
    yield from session.scalars(
        select(Rejection)
        .where(Rejection.batch_id == batch_id)
        .order_by(Rejection.position)
        .execution_options(yield_per=1000)
    )


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


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def replay(
    session: Session, *, principal: str, key: str, body_hash: str
) -> tuple[int, dict[str, Any]] | None:
    """The stored answer for a repeated ``Idempotency-Key``; ``Conflict`` if the body differs."""
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.principal == principal, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise Conflict(
            "Idempotency-Key {key} was used with a different body",
            field="Idempotency-Key",
            key=key,
        )
    return row.status_code, row.response


def remember(
    session: Session,
    *,
    principal: str,
    key: str,
    body_hash: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    session.add(
        IdempotencyKey(
            principal=principal,
            key=key,
            request_hash=body_hash,
            status_code=status_code,
            response=response,
            created_at=clock.now(),
        )
    )
    session.flush()


@dataclass
class Quality:
    """Data quality of one provider's feed of one category."""

    provider: str
    category: str
    batches: int
    total: int
    accepted: int
    updated: int
    duplicates: int
    rejected: int
    conflicts: int
    completeness: float | None
    validity: float | None
    last_received: str | None
    days_since: int | None
    expected_within_days: int
    timely: bool


def quality(
    session: Session, *, provider: str | None = None, category: str | None = None
) -> list[Quality]:
    """Completeness, validity, timeliness, duplicates and conflicts per provider and category."""
    stmt = (
        select(
            Batch.provider,
            Batch.category,
            func.count(),
            func.sum(Batch.total),
            func.sum(Batch.accepted),
            func.sum(Batch.updated),
            func.sum(Batch.duplicates),
            func.sum(Batch.rejected),
            func.sum(Batch.missing_required),
            func.max(Batch.finished_at),
        )
        .where(Batch.state == DONE)
        .group_by(Batch.provider, Batch.category)
        .order_by(Batch.provider, Batch.category)
    )
    if provider:
        stmt = stmt.where(Batch.provider == provider)
    if category:
        stmt = stmt.where(Batch.category == category)
    conflicts = records_service.conflict_counts(session)
    frequency = {
        c.code: c.update_frequency
        for c in catalog_service.list_categories(session, include_inactive=True)
    }
    today = clock.today()
    figures: list[Quality] = []
    for prov, cat, n, total, acc, upd, dup, rej, missing, last in session.execute(stmt):
        total = int(total or 0)
        last_day = clock.to_local(last).date() if last else None
        days = (today - last_day).days if last_day else None
        within = FREQUENCY_DAYS.get(frequency.get(cat, "monthly"), 40)
        figures.append(
            Quality(
                provider=prov,
                category=cat,
                batches=int(n),
                total=total,
                accepted=int(acc or 0),
                updated=int(upd or 0),
                duplicates=int(dup or 0),
                rejected=int(rej or 0),
                conflicts=conflicts.get((prov, cat), 0),
                completeness=round(1 - int(missing or 0) / total, 4) if total else None,
                validity=round(1 - int(rej or 0) / total, 4) if total else None,
                last_received=last_day.isoformat() if last_day else None,
                days_since=days,
                expected_within_days=within,
                timely=days is not None and days <= within,
            )
        )
    return figures


def providers(session: Session) -> list[str]:
    """The department codes that have sent at least one batch, in code order."""
    return list(session.scalars(select(Batch.provider).distinct().order_by(Batch.provider)))
