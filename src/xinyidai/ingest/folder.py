"""Ingesting many files side by side.

A folder's files are independent: each carries one category, and a record's key starts
with its category, so two files never write the same record. The subjects they speak of
are the one thing they share: a file that mentions an unknown subject adds it pending
verification, and the registration file completes it, whichever of the two comes first
(``registry.service.sync_subjects`` adds and completes subjects so that writers side by
side neither fail nor deadlock). On PostgreSQL the files are ingested by up to
``XYD_INGEST_WORKERS`` processes, each with its own connection and its own batch,
committing chunk by chunk as a single file does (``units.read_file``); the registration
file is started first. SQLite takes one writer at a time, so there the files go one after
another, registration first.

The workers are started fresh (``spawn``), not forked: what listens to stored records (the
rating, with polars' thread pool) must not inherit a parent's threads mid-flight, and a
fork of a process whose threads hold locks can hang. Each worker imports the modules whose
listeners the parent has, so records arriving there are handled the same way (a bulk load
that pauses the listeners imports none of them).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.core import db as core_db
from xinyidai.core.settings import get_settings
from xinyidai.ingest import service, units
from xinyidai.ingest.models import Batch
from xinyidai.ingest.pipeline import settle_bulk_process
from xinyidai.ingest.readers import NotATable, detect_format
from xinyidai.ingest.service import REGISTRATION, FeedFile, check_sources, summary
from xinyidai.records import service as records_service

# (feed, rows read so far) while a file is read; (feed, its summary) when it is done.
ProgressHook = Callable[[FeedFile, int], None]
DoneHook = Callable[[FeedFile, dict[str, Any]], None]

_progress: Any = None  # the worker's end of the progress queue


def workers_for(requested: int | None = None) -> int:
    """How many files may be ingested at once on the configured database."""
    wanted = requested or get_settings().ingest.workers
    if os.name != "posix" or core_db.get_engine().dialect.name != "postgresql":
        return 1
    return max(1, wanted)


def ingest_one(
    feed: FeedFile,
    *,
    actor: str,
    source: str,
    on_progress: ProgressHook | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Ingest one file in units of work of its own (``units.read_file``: the batch opened
    and claimed, then every chunk, each committed); its summary.

    However the file's reading stops once its batch is committed, the batch ends failed
    with the reason (an interrupt is raised again once it is recorded); an error before it
    (an unknown category) is raised. With ``resume`` a file whose same bytes are in already
    (a batch ``done``) is not read again: the summary is that batch's, marked ``skipped``.
    """
    checksum = service.file_checksum(feed.path)
    if resume:
        with core_db.session_scope() as session:
            done = service.done_file_batch(
                session, provider=feed.provider, category=feed.category, checksum=checksum
            )
            if done is not None:
                return summary(done) | {"path": str(feed.path), "skipped": True}

    def opened(session: Session) -> Batch:
        return service.open_file_batch(
            session,
            provider=feed.provider,
            category=feed.category,
            source=source,
            actor=actor,
            filename=str(feed.path.name),
            fmt=feed.format,
            checksum=checksum,
        )

    def read(batch: Batch) -> None:
        if on_progress is not None:
            on_progress(feed, batch.total)

    line = units.read_file(feed.path, batch=opened, on_commit=read, keep_going=True)
    return line | {"path": str(feed.path)}


def _worker_start(progress: Any, listeners: list[str]) -> None:
    global _progress
    for module in listeners:
        importlib.import_module(module)
    _progress = progress
    settle_bulk_process()


def _quiet(listen: bool) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if listen else records_service.listeners_paused()


def _report(feed: FeedFile, rows: int) -> None:
    _progress.put((feed, rows))


def _in_worker(
    feed: FeedFile, actor: str, source: str, listen: bool, resume: bool
) -> dict[str, Any]:
    with _quiet(listen):
        return ingest_one(feed, actor=actor, source=source, on_progress=_report, resume=resume)


def ingest_feeds(
    feeds: Sequence[FeedFile],
    *,
    actor: str,
    source: str = "cli",
    workers: int | None = None,
    on_progress: ProgressHook | None = None,
    on_done: DoneHook | None = None,
    listen: bool = True,
    resume: bool = False,
) -> list[dict[str, Any]]:
    """Ingest ``feeds`` (registration started first) and return their summaries in feed order.

    With ``listen=False`` what listens to stored records (re-rating on arrival) is not
    told, here or in the workers: for bulk loads whose caller catches up once after.
    With ``resume`` (the same folder again after a crash) the files already in whole are
    skipped; a file whose batch failed is taken up where it stopped in any case.

    A file filed under a provider that is not its category's source department refuses the
    whole set before any file is read. Batches whose worker is gone are swept first, so
    that a file sent again after a crash goes on from where its batch stopped. A file whose
    reading stops (one that cannot be opened or breaks midway, an unexpected error) ends
    with its batch failed and the reason in its summary; what it stored before stays, like
    a single file's chunks. An error that refuses a file before its batch is opened is
    raised after the files already running have finished.
    """
    with core_db.session_scope() as session:
        check_sources(session, feeds)
        service.sweep_abandoned(session)
    count = workers_for(workers)
    done: dict[FeedFile, dict[str, Any]] = {}
    if count == 1 or len(feeds) == 1:  # one at a time, here
        for feed in sorted(feeds, key=lambda f: f.category != REGISTRATION):
            with _quiet(listen):
                done[feed] = ingest_one(
                    feed, actor=actor, source=source, on_progress=on_progress, resume=resume
                )
            if on_done is not None:
                on_done(feed, done[feed])
    elif feeds:
        _side_by_side(list(feeds), count, actor, source, listen, resume, done, on_progress, on_done)
    return [done[feed] for feed in feeds]


def _work(feed: FeedFile) -> float:
    """How long a file will take, roughly: its size, an Excel workbook's many times over
    (it is compressed, and read about a hundred times slower per row than text)."""
    size = feed.path.stat().st_size
    try:
        excel = detect_format(feed.path, feed.format) == "xlsx"
    except NotATable:  # its worker will say so
        excel = False
    return size * 30 if excel else size


def _side_by_side(
    feeds: list[FeedFile],
    count: int,
    actor: str,
    source: str,
    listen: bool,
    resume: bool,
    done: dict[FeedFile, dict[str, Any]],
    on_progress: ProgressHook | None,
    on_done: DoneHook | None,
) -> None:
    context = multiprocessing.get_context("spawn")
    progress: Any = context.Queue()

    def drain() -> None:
        while True:
            try:
                feed, rows = progress.get_nowait()
            except queue.Empty:
                return
            if on_progress is not None:
                on_progress(feed, rows)

    # Registration first, then the longest: the long files start at once and the short
    # ones fill in around them.
    ordered = sorted(feeds, key=lambda f: (f.category != REGISTRATION, -_work(f)))
    failure: BaseException | None = None
    with ProcessPoolExecutor(
        max_workers=min(count, len(ordered)),
        mp_context=context,
        initializer=_worker_start,
        # Paused listeners need not be imported: a fresh worker then skips the rating's
        # modules (polars and the models), a second or more of start-up each.
        initargs=(progress, records_service.listener_modules() if listen else []),
    ) as pool:
        running: dict[Future[dict[str, Any]], FeedFile] = {
            pool.submit(_in_worker, feed, actor, source, listen, resume): feed for feed in ordered
        }
        waiting = set(running)
        while waiting:
            finished, waiting = wait(waiting, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
            for future in finished:
                feed = running[future]
                try:
                    done[feed] = future.result()
                except BaseException as exc:
                    failure = failure or exc
                    continue
                if on_done is not None:
                    on_done(feed, done[feed])
        drain()
    progress.close()
    if failure is not None:
        raise failure
