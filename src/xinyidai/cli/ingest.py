"""``xyd ingest``: load department files (one file, or a ``xyd synth`` folder)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinyidai.cli.common import console, fail_on, print_json, setup_logging
from xinyidai.core.db import new_session
from xinyidai.core.errors import XydError
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch


def ingest(
    path: Path = typer.Argument(..., help="a CSV/XLSX/JSON/JSONL file, or a `xyd synth` folder"),
    provider: str = typer.Option(None, help="department code (required for a single file)"),
    category: str = typer.Option(None, help="catalogue category code (required for a single file)"),
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
        for feed in feeds:
            batch = _ingest_one(feed, progress)
            line = service.summary(batch) | {"path": str(feed.path)}
            failed += int(batch.state == "failed")
            totals["files"] += 1
            for key in ("total", "accepted", "rejected", "duplicates", "updated"):
                totals[key] += line[key]
            if as_json:
                print_json(line)
            else:
                state = "[red]failed[/red]" if batch.state == "failed" else "ok"
                console.print(
                    f"{state} {feed.path}: {batch.total} rows, {batch.accepted} new, "
                    f"{batch.updated} updated, {batch.duplicates} duplicates, "
                    f"{batch.rejected} rejected" + (f" — {batch.error}" if batch.error else "")
                )
    if as_json:
        print_json({"total": totals})
    else:
        console.print(f"total: {totals}")
    if failed:
        raise typer.Exit(1)


def _ingest_one(feed: service.FeedFile, progress: Progress) -> Batch:
    """Ingest one file, committing after every chunk so a large file shows its progress."""
    task = progress.add_task(f"{feed.provider}/{feed.category}", total=None)
    session = new_session()

    def committed(batch: Batch) -> None:
        session.commit()
        progress.update(task, completed=batch.total)

    try:
        batch = service.ingest_file(
            session, feed=feed, actor="cli", source="cli", on_chunk=committed
        )
        session.commit()
    except XydError as exc:
        session.rollback()
        fail_on(exc)
    finally:
        session.close()
    progress.update(task, completed=batch.total, total=batch.total)
    return batch


def register(app: typer.Typer) -> None:
    app.command()(ingest)
