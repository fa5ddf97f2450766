"""Files in and out of ingestion, shared by the API and the portal.

In: an upload is saved under the data folder within the size limit, then read at once
(small files) or by a worker (large ones, as a job with progress, queued once the caller
commits); the file of an upload whose transaction does not commit is removed. Out: a
batch's rejected rows as CSV or Excel, with the columns a provider fixes and sends back;
such a file of fixed rows becomes a resubmission.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from xinyidai.core import exports, jobs, queue
from xinyidai.core.errors import PayloadTooLarge, ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch
from xinyidai.ingest.readers import NotATable, detect_format, open_table, unreadable

# The first columns of a rejection file; the row as it was sent follows.
REJECTION_COLUMNS = ("rejection_id", "position", "field", "reason")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _not_a_table(exc: NotATable) -> ValidationFailed:
    return ValidationFailed(exc.reason, field="file", **exc.params)


def upload_format(filename: str | None, declared: str | None = None) -> tuple[str, str]:
    """The name to record and the format of an upload (from ``declared`` or the ending)."""
    name = filename or f"upload.{declared or 'csv'}"
    try:
        fmt = detect_format(Path(name), declared) if declared or Path(name).suffix else "csv"
    except NotATable as exc:
        raise _not_a_table(exc) from exc
    return name, fmt


@dataclass(frozen=True)
class Saved:
    """An upload saved under the data folder: where, its size and its SHA-256."""

    path: Path
    size: int
    checksum: str


def save_upload(stream: IO[bytes], fmt: str) -> Saved:
    """Copy an upload to a file under the data folder; refuse it past the size limit."""
    settings = get_settings()
    limit = settings.ingest.max_upload_mb * 1024 * 1024
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    size = 0
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=uploads, suffix=f".{fmt}", delete=False) as handle:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
            handle.write(chunk)
    path = Path(handle.name)
    if size > limit:
        path.unlink(missing_ok=True)
        raise PayloadTooLarge(
            "the file is larger than {limit} MiB", field="file", limit=settings.ingest.max_upload_mb
        )
    return Saved(path, size, digest.hexdigest())


def check_table(path: Path, fmt: str) -> None:
    """Refuse, before any batch is opened, a file that is no table or holds no rows."""
    try:
        table = open_table(path, fmt)
    except NotATable as exc:
        raise _not_a_table(exc) from exc
    try:
        first = next(table.rows, None)
    except NotATable as exc:  # the first rows break it (bad bytes, a runaway line)
        raise _not_a_table(exc) from exc
    finally:
        table.close()
    if first is None:
        raise ValidationFailed("the file holds no rows", field="file")


def accept_upload(
    session: Session,
    *,
    stream: IO[bytes],
    filename: str | None,
    provider: str,
    category: str,
    actor: str | None,
    declared_format: str | None = None,
    refuse_non_tables: bool = False,
) -> Batch:
    """Take an uploaded file into a batch: read at once when small, else queued for a
    worker once the caller commits.

    The batch is new, or the failed batch of the same file taken up again from its last
    committed chunk (``service.open_file_batch``). A queued batch has its ``job_id`` set,
    and its job (``ingest.file``) is handed to the queue when the caller's transaction
    commits. The saved file is removed if that transaction does not commit. With
    ``refuse_non_tables`` a file that is not a table is refused with an error on ``file``
    and nothing is kept; otherwise (the API) its batch is recorded as failed with the
    reason.
    """
    name, fmt = upload_format(filename, declared_format)
    saved = save_upload(stream, fmt)
    path, size = saved.path, saved.size
    remove_unless_committed(session, path)
    try:
        if refuse_non_tables:
            check_table(path, fmt)
        batch = service.open_file_batch(
            session,
            provider=provider,
            category=category,
            source="upload",
            actor=actor,
            filename=name,
            fmt=fmt,
            checksum=saved.checksum,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size <= get_settings().ingest.inline_upload_kb * 1024:
        batch.job_id = None  # read here (a failed batch taken up may name its old job)
        try:
            service.run_file(session, batch_id=batch.id, path=path)
        finally:
            path.unlink(missing_ok=True)
        return batch
    job = jobs.create(
        session, kind=service.FILE_TASK, params={"batch_id": batch.id, "path": name}, actor=actor
    )
    batch.job_id = job.id
    queue.enqueue_after_commit(session, service.FILE_TASK, job.id, batch.id, str(path))
    return batch


# The files saved for a session's transaction: removed unless it commits.
_UNCOMMITTED = "xyd_ingest_uncommitted_files"


def remove_unless_committed(session: Session, path: Path) -> None:
    """Remove ``path`` when ``session``'s transaction ends without committing (rolled
    back, or the session closed): an upload whose batch is not recorded leaves no file
    behind. Once the transaction commits the file is the batch's (its job removes it)."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before any write still removes it
    session.info.setdefault(_UNCOMMITTED, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint or a subtransaction: not the end yet
        return
    for path in session.info.pop(_UNCOMMITTED, []):
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class RejectionFile:
    """A batch's rejected rows as a download: the body, its media type and file name."""

    body: Iterator[str] | io.BytesIO
    media_type: str
    filename: str


def rejection_table(
    session: Session, *, batch_id: str, locale: str
) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows of a batch's rejection file, in file order; each reason in
    ``locale``."""
    batch = service.get_or_raise(session, batch_id=batch_id)
    labels = service.field_labels(session, category=batch.category, locale=locale)
    rejections = list(service.iter_rejections(session, batch_id=batch_id))
    headers: list[str] = []
    for rejection in rejections:
        for key in rejection.raw:
            if key not in headers:
                headers.append(key)
    columns = [*REJECTION_COLUMNS, *headers]
    rows = [
        [
            r.id,
            r.position,
            r.field or "",
            "; ".join(p.reason for p in service.problems(r, labels, locale)),
            *[r.raw.get(h, "") for h in headers],
        ]
        for r in rejections
    ]
    return columns, rows


def rejection_file(session: Session, *, batch_id: str, fmt: str, locale: str) -> RejectionFile:
    """A batch's rejected rows as ``csv`` (UTF-8 with BOM, streamed) or ``xlsx``, the
    reasons in ``locale``."""
    columns, rows = rejection_table(session, batch_id=batch_id, locale=locale)
    stem = f"{batch_id}-rejections"
    if fmt == "xlsx":
        workbook = io.BytesIO(exports.xlsx_bytes("rejections", columns, rows))
        return RejectionFile(workbook, XLSX_MEDIA_TYPE, f"{stem}.xlsx")
    if fmt == "csv":
        return RejectionFile(exports.csv_lines(columns, rows), CSV_MEDIA_TYPE, f"{stem}.csv")
    raise ValidationFailed("must be one of: {choices}", field="format", choices="csv, xlsx")


def _rejection_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _as_it_is(value: Any) -> Any:
    return value


def corrections_from_file(path: Path, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """The fixed rows of a rejection file (rejection id → row as sent), for ``resubmit``.

    The file is the downloaded one with values corrected: any format that uploads take,
    a ``rejection_id`` column naming the row each line fixes; the other columns of the
    download (position, field, reason) are ignored. The quote the CSV download put in
    front of text a spreadsheet would take for a formula is taken away again.
    """
    try:
        table = open_table(path, fmt)
    except NotATable as exc:
        raise _not_a_table(exc) from exc
    restore = exports.restore_cell if fmt == "csv" else _as_it_is
    headers = table.headers  # JSON tables grow their header list while being read
    if "rejection_id" not in headers:
        table.close()
        raise ValidationFailed(
            "the file has no rejection_id column: send back the downloaded file of "
            "rejected rows with the values fixed",
            field="file",
        )
    corrections: list[tuple[int, dict[str, Any]]] = []
    seen: set[int] = set()
    try:
        for position, values in table.rows:
            broken = unreadable(values)
            if broken is not None:
                if not broken.kept:
                    raise ValidationFailed(
                        "line {line} cannot be read", field="file", line=position
                    )
                values = broken.kept  # a row wider than the header: its columns are read
            row = dict(zip(map(restore, headers), map(restore, values), strict=False))
            rid = _rejection_id(row.get("rejection_id"))
            if rid is None:
                raise ValidationFailed(
                    "line {line} needs the rejection_id of the row it fixes",
                    field="file",
                    line=position,
                )
            if rid in seen:
                raise ValidationFailed(
                    "rejection {id} appears more than once in the file", field="file", id=rid
                )
            seen.add(rid)
            corrections.append(
                (rid, {k: v for k, v in row.items() if k and k not in REJECTION_COLUMNS})
            )
    except NotATable as exc:  # the file broke midway
        raise _not_a_table(exc) from exc
    finally:
        table.close()
    if not corrections:
        raise ValidationFailed("the file holds no rows", field="file")
    return corrections


def read_corrections(stream: IO[bytes], filename: str | None) -> list[tuple[int, dict[str, Any]]]:
    """The corrections in an uploaded file of fixed rejected rows; the file is not kept."""
    _, fmt = upload_format(filename)
    path = save_upload(stream, fmt).path
    try:
        return corrections_from_file(path, fmt)
    finally:
        path.unlink(missing_ok=True)
