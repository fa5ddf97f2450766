"""Business logic of ingestion: batches in, rows validated, facts stored, faults kept.

Every path — a file from the CLI or the portal, a push through the API, a resubmission of
fixed rows — opens its batch in ``create_batch`` (a department sends its own categories
only) and is stored chunk by chunk by ``store_chunks``: bad rows are quarantined with their
position, field and reason, good ones are stored through the records service (dedup,
versions, conflicts) and the registry is kept in step. A file's rows come through the
pipeline (``ingest.pipeline``: read here with a reader thread, or in a forked child).

A file's batch names the process reading it (``worker``) and is marked at every chunk
(``heartbeat_at``, ``last_position``). However reading stops — a file that breaks midway, an
unexpected error, a process that is killed — the batch ends ``failed`` with the reason and
what was stored before it (``fail``, ``fail_on_error``, and ``sweep_abandoned`` for
batches whose worker is gone). The same file sent again takes up its failed batch where the
last committed chunk ended (``open_file_batch``): nothing is stored or counted twice.

Every function takes the caller's session and only adds and flushes; the caller commits
(a file read in units of work, a chunk each, through ``ingest.units``). Callers use this
package (``from xinyidai.ingest import service``); the modules behind it: ``batches``
(opening, finding and listing batches, their rejected rows), ``reading`` (rows into a batch:
a file, a push, a resubmission), ``failures`` (claim, fail, sweep), ``idempotency``
(``Idempotency-Key``), ``quality`` (the figures per department and category) and ``reasons``
(a rejected row's faults in the reader's language).
"""

from __future__ import annotations

from xinyidai.ingest.pipeline import (
    RAW_VALUE_CHARS,
    REASON_VALUE_CHARS,
    printable,
    settle_bulk_process,
    stored_copy,
    worker_alive,
    worker_id,
)
from xinyidai.ingest.service.batches import (
    REGISTRATION,
    FeedFile,
    batches_statement,
    check_sources,
    create_batch,
    done_file_batch,
    feeds_in,
    file_checksum,
    get_or_raise,
    iter_rejections,
    may_see_batch,
    open_file_batch,
    providers,
    rejections_of,
    rejections_statement,
    require_source,
    summary,
)
from xinyidai.ingest.service.failures import (
    ABANDONED,
    INTERRUPTED,
    UNEXPECTED,
    claim,
    error_text,
    fail,
    fail_on_error,
    failure_text,
    sweep_abandoned,
)
from xinyidai.ingest.service.idempotency import remember, replay, request_hash
from xinyidai.ingest.service.quality import Quality, quality
from xinyidai.ingest.service.reading import (
    FILE_TASK,
    MAX_PUSH_ROWS,
    ChunkHook,
    ingest_file,
    push_rows,
    resubmit,
    run_file,
    store_chunks,
)
from xinyidai.ingest.service.reasons import Problem, field_labels, problems

__all__ = [
    "ABANDONED",
    "FILE_TASK",
    "INTERRUPTED",
    "MAX_PUSH_ROWS",
    "RAW_VALUE_CHARS",
    "REASON_VALUE_CHARS",
    "REGISTRATION",
    "UNEXPECTED",
    "ChunkHook",
    "FeedFile",
    "Problem",
    "Quality",
    "batches_statement",
    "check_sources",
    "claim",
    "create_batch",
    "done_file_batch",
    "error_text",
    "fail",
    "fail_on_error",
    "failure_text",
    "feeds_in",
    "field_labels",
    "file_checksum",
    "get_or_raise",
    "ingest_file",
    "iter_rejections",
    "may_see_batch",
    "open_file_batch",
    "printable",
    "problems",
    "providers",
    "push_rows",
    "quality",
    "rejections_of",
    "rejections_statement",
    "remember",
    "replay",
    "request_hash",
    "require_source",
    "resubmit",
    "run_file",
    "settle_bulk_process",
    "store_chunks",
    "stored_copy",
    "summary",
    "sweep_abandoned",
    "worker_alive",
    "worker_id",
]
