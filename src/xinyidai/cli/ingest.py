"""``xyd ingest``: load department files (one file, or a ``xyd synth`` folder)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from xinyidai.cli.common import console, fail, fail_on, print_json, setup_logging
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.settings import get_settings
from xinyidai.graph import service as graph_service
from xinyidai.ingest import folder, service
from xinyidai.ingest.models import FAILED
from xinyidai.scoring import service as rating_service

log = logging.getLogger(__name__)


def ingest(
    path: Path = typer.Argument(..., help="a CSV/XLSX/JSON/JSONL file, or a `xyd synth` folder"),
    provider: str = typer.Option(None, help="department code (required for a single file)"),
    category: str = typer.Option(None, help="catalogue category code (required for a single file)"),
    workers: int = typer.Option(
        None,
        min=1,
        max=32,
        help="files ingested at once on PostgreSQL (default XYD_INGEST_WORKERS; SQLite: 1)",
    ),
    rate: bool = typer.Option(
        True,
        help=(
            "rate every enterprise once the folder is in (a folder does not re-rate on "
            "arrival chunk by chunk; a single file does)"
        ),
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help=(
            "after a crash: skip the files already in whole (the same bytes); a file whose "
            "batch failed goes on from where it stopped (with or without this option)"
        ),
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per file, then a total"),
) -> None:
    """Validate and store department data; bad rows are kept with their reasons."""
    setup_logging()
    try:
        feeds = service.feeds_in(path, provider=provider, category=category)
    except XydError as exc:
        fail_on(exc)
    totals = {"files": 0, "total": 0, "accepted": 0, "rejected": 0, "duplicates": 0, "updated": 0}
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        tasks: dict[service.FeedFile, TaskID] = {}

        def task_of(feed: service.FeedFile) -> TaskID:
            if feed not in tasks:
                tasks[feed] = progress.add_task(f"{feed.provider}/{feed.category}", total=None)
            return tasks[feed]

        def read(feed: service.FeedFile, rows: int) -> None:
            progress.update(task_of(feed), completed=rows)

        def finished(feed: service.FeedFile, line: dict[str, Any]) -> None:
            nonlocal failed
            progress.update(task_of(feed), completed=line["total"], total=line["total"])
            failed += int(line["state"] == FAILED)
            totals["files"] += 1
            for key in ("total", "accepted", "rejected", "duplicates", "updated"):
                totals[key] += line[key]
            if as_json:
                print_json(line)
                return
            state = "[red]failed[/red]" if line["state"] == FAILED else "ok"
            if line.get("skipped"):
                state = f"already in (batch {line['batch_id']})"
            reason = line.get("error")
            if line.get("error_detail"):  # in the node's language (XYD_LOCALE)
                reason = service.failure_text(line["error_detail"], get_settings().locale)
            error = f" — {reason}" if reason else ""
            progress.console.print(
                f"{state} {escape(str(feed.path))}: {line['total']} rows, {line['accepted']} new, "
                f"{line['updated']} updated, {line['duplicates']} duplicates, "
                f"{line['rejected']} rejected{escape(error)}",
                soft_wrap=True,  # one line, as logs read it
            )

        bulk = path.is_dir()
        try:
            folder.ingest_feeds(
                feeds,
                actor="cli",
                source="cli",
                workers=workers,
                on_progress=read,
                on_done=finished,
                listen=not bulk,
                resume=resume,
            )
            if bulk and rate:
                # the region analysis first: it counts the bad neighbours the rating reads
                with session_scope() as session:
                    graph_service.analyse(session, actor="cli:ingest")
                with session_scope() as session:
                    run = rating_service.rate_all(session, actor="cli:ingest")
                    totals["rated"] = run.rated
        except XydError as exc:
            fail_on(exc)
        except Exception as exc:  # one line for the user; the traceback at debug level
            log.debug("xyd ingest stopped", exc_info=True)
            fail(f"{type(exc).__name__}: {exc}")
    if as_json:
        print_json({"total": totals})
    else:
        console.print(f"total: {totals}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
