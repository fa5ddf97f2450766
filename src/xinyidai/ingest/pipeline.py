"""The ingest pipeline: a file's rows read and validated into chunks, here or beside.

Nothing here touches the database: the service (``service.run_file``) stores what comes
out. A ``Reader`` turns a file into validated chunks in one of two ways, by its size: read
here, with a thread reading and validating the next chunk while the database stores this
one (``read_ahead``), or, for a large file on a POSIX system, in a forked child that sends
the chunks down a pipe while this process stores (``Reader.read_in_child``). What a
rejected row keeps of itself (``stored_copy``, ``printable``) is decided as the chunk is
made. A process given over to ingest tunes its garbage collector (``settle_bulk_process``),
and a batch names the process that reads it (``worker_id``, ``worker_alive``) so that a
batch whose reader is gone can be told from one still being read.
"""

from __future__ import annotations

import contextvars
import gc
import json
import multiprocessing
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xinyidai.catalog.fields import CONTROL_CHARACTERS
from xinyidai.catalog.schemas import CategorySpec
from xinyidai.core import clock
from xinyidai.core.db import RawJSON
from xinyidai.core.settings import get_settings
from xinyidai.ingest.readers import ReadFailed, open_table, unreadable
from xinyidai.ingest.validation import MISSING, RowError, RowValidator
from xinyidai.records.schemas import Fact

# The longest value kept in the stored copy of a rejected row, and of a value in a reason.
RAW_VALUE_CHARS = 1000
REASON_VALUE_CHARS = 200


@dataclass(slots=True)
class Chunk:
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


def _unwired_chunk(facts: tuple[list[Any], ...], *rest: Any) -> Chunk:
    return Chunk(Fact.unwire(facts), *rest)


def validated_chunks(
    batch_id: str,
    spec: CategorySpec,
    headers: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    *,
    chunk_size: int,
    row_chars: int,
    resolves: dict[int, int] | None = None,
    after: int | None = None,
) -> Iterator[Chunk]:
    """Read and validate ``rows`` into chunks of ``chunk_size`` rows; touches no database
    (it may run in a thread or a child process). A rejected row keeps at most ``row_chars``
    characters of itself (``stored_copy``).

    Rows at or before position ``after`` are skipped (a resumed batch stored them). A file
    that breaks midway (``ReadFailed``) ends with a last chunk of the rows read before it,
    then the error.
    """
    validator = RowValidator(spec, list(headers))  # a copy: a JSON reader widens its own
    chunk = Chunk([], [], [], 0, 0, 0, validator.unknown)
    waiting: list[list[Any]] = []
    places: list[int] = []
    raw_chars = row_chars

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
                chunk = Chunk([], [], [], 0, 0, 0, validator.unknown)
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


def kept_value(value: Any, limit: int) -> Any:
    """``value`` as a reason or a stored copy keeps it: text printable, at most ``limit``
    characters."""
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
        value = kept_value(value, RAW_VALUE_CHARS)
        name = printable(key)[:RAW_VALUE_CHARS]
        spent += len(name) + (len(value) if isinstance(value, str) else 8)
        if spent > budget and kept:
            break
        kept[name] = value
    return kept


def _reject(
    chunk: Chunk,
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
            key: kept_value(value, REASON_VALUE_CHARS) for key, value in fault["params"].items()
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


def _received(get: Callable[[], Any]) -> Iterator[Chunk]:
    """Chunks handed over by ``get`` until the end marker; a handed-over error is raised."""
    while True:
        item = get()
        if isinstance(item, str) and item == _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def read_ahead(chunks: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
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
class Opened:
    """What the validating child learnt opening its file, sent before any chunk."""

    format: str
    encoding: str | None


@dataclass(frozen=True)
class Reader:
    """How a file's rows become validated chunks: ``chunk_rows`` rows to a chunk, a
    rejected row keeping at most ``row_chars`` characters of itself, and a file of at least
    ``child_bytes`` bytes (0: none) read in a forked child on a POSIX system.

    ``Reader.configured()`` is the one the settings describe (``XYD_INGEST_BATCH_ROWS``,
    ``XYD_INGEST_PROCESS_KB``, ``XYD_INGEST_REJECTED_ROW_KB``); a caller may hand the
    service another (a benchmark that reads every file one way, a test that watches).
    """

    chunk_rows: int
    row_chars: int
    child_bytes: int = 0

    @classmethod
    def configured(cls) -> Reader:
        settings = get_settings().ingest
        return cls(
            chunk_rows=settings.batch_rows,
            row_chars=settings.rejected_row_kb * 1024,
            child_bytes=settings.process_kb * 1024,
        )

    def chunks(
        self,
        batch_id: str,
        spec: CategorySpec,
        headers: list[str],
        rows: Iterable[tuple[int, list[Any]]],
        *,
        resolves: dict[int, int] | None = None,
        after: int | None = None,
    ) -> Iterator[Chunk]:
        """``rows`` validated into chunks (``validated_chunks``), where this is called."""
        return validated_chunks(
            batch_id,
            spec,
            headers,
            rows,
            chunk_size=self.chunk_rows,
            row_chars=self.row_chars,
            resolves=resolves,
            after=after,
        )

    def in_child(self, path: Path) -> bool:
        """Whether ``path`` is read in a forked child."""
        return (
            bool(self.child_bytes)
            and os.name == "posix"
            and path.stat().st_size >= self.child_bytes
        )

    def read(
        self, batch_id: str, spec: CategorySpec, path: Path, fmt: str | None, *, after: int | None
    ) -> tuple[Opened, Iterator[Chunk]]:
        """Open ``path`` (``NotATable`` if it is not a table): what opening it found, and its
        rows after position ``after`` as validated chunks, as they come."""
        if self.in_child(path):
            return self.read_in_child(batch_id, spec, path, fmt, after=after)
        return self.read_here(batch_id, spec, path, fmt, after=after)

    def read_here(
        self, batch_id: str, spec: CategorySpec, path: Path, fmt: str | None, *, after: int | None
    ) -> tuple[Opened, Iterator[Chunk]]:
        """Open ``path`` here; its chunks are read and validated by a thread, one or two
        ahead of the caller (``read_ahead``)."""
        table = open_table(path, fmt)
        chunks = self.chunks(batch_id, spec, table.headers, table.rows, after=after)
        return Opened(table.format, table.encoding), read_ahead(chunks)

    def read_in_child(
        self, batch_id: str, spec: CategorySpec, path: Path, fmt: str | None, *, after: int | None
    ) -> tuple[Opened, Iterator[Chunk]]:
        """Open, read and validate ``path`` in a forked child; what it found on opening the
        file, and its chunks as they come.

        Validation is pure Python and holds the interpreter; in a second process it runs
        on the other core while this one stores. The pipe's buffer bounds what waits in
        between. The file is opened by the child alone: opening a workbook reads it
        through once.
        """
        stream = _child_stream(self, batch_id, spec, path, fmt, after)
        opened = next(stream)  # an error the child hands over ends the stream, child and all
        assert isinstance(opened, Opened)
        return opened, stream


def _validate_in_child(
    sender: Any,
    reader: Reader,
    batch_id: str,
    spec: CategorySpec,
    path: Path,
    fmt: str | None,
    after: int | None,
) -> None:
    """The child's side of ``Reader.read_in_child``: open (saying what the file is, or
    that it is not a table), validate, send chunk by chunk."""
    settle_bulk_process()
    try:
        table = open_table(path, fmt)
        sender.send(Opened(table.format, table.encoding))
        for chunk in reader.chunks(batch_id, spec, table.headers, table.rows, after=after):
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


def _child_stream(
    reader: Reader,
    batch_id: str,
    spec: CategorySpec,
    path: Path,
    fmt: str | None,
    after: int | None,
) -> Iterator[Any]:
    """What the validating child sends, as it comes; the child is ended with the stream."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_validate_in_child,
        args=(sender, reader, batch_id, spec, path, fmt, after),
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


# --- which process reads a batch ----------------------------------------------------------


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
