"""``xyd serve``, ``xyd worker``: run the web process and the queue workers."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import typer

from xinyidai.cli.common import console, setup_logging
from xinyidai.core.db import check_database_exists
from xinyidai.core.settings import get_settings

log = logging.getLogger(__name__)


def sweep_batches() -> None:
    """Fail the ingest batches a process that is gone left running (at start-up; the
    worker also does it every five minutes). A database not reachable yet is no reason
    not to start: the worker's sweep tries again."""
    from xinyidai.ingest.jobs import sweep_now

    try:
        swept = sweep_now()
    except Exception:
        log.warning("could not sweep abandoned ingest batches at start-up", exc_info=True)
        return
    if swept:
        console.print(f"{len(swept)} ingest batches whose worker is gone were marked failed")


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(
        1, help="web worker processes (stateless; one per core in production)"
    ),
    reload: bool = typer.Option(False, help="restart on code changes (development)"),
) -> None:
    """Serve the API, the portal and machine endpoints."""
    import uvicorn

    setup_logging()
    settings = get_settings()
    settings.check_production()
    check_database_exists(settings.effective_database_url)
    sweep_batches()
    if workers > 1 and not reload:
        _share_metrics(settings.data_dir / "metrics")
    console.print(
        f"XYD serving at [bold]http://{host}:{port}[/bold] "
        f"(env={settings.env}, database={settings.effective_database_url.split('://')[0]})"
    )
    uvicorn.run(
        "xinyidai.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        # Our logging, set up above, writes uvicorn's lines too; the access lines are ours
        # (``xinyidai.access``: route template, status, latency, public ids).
        log_config=None,
        access_log=False,
        # Each worker process starts by importing the command line and the app again;
        # on a busy machine that takes longer than uvicorn's 5-second health check, which
        # then takes the worker for dead and starts another, forever.
        timeout_worker_healthcheck=60,
    )


def _share_metrics(folder: Path) -> None:
    """Several web processes write their request counters to one folder that a scrape of
    any of them adds up (prometheus_client's multiprocess mode); emptied at each start."""
    from xinyidai.core.metrics import MULTIPROCESS_ENV

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)


def worker(
    workers: int = typer.Option(2, help="worker threads"),
) -> None:
    """Run queue workers for long jobs (imports, ratings, alerts, webhooks)."""
    from xinyidai.core.queue import backend_name, huey
    from xinyidai.jobs import load_all_tasks

    setup_logging()
    check_database_exists(get_settings().effective_database_url)
    load_all_tasks()
    sweep_batches()
    console.print(f"XYD worker on {backend_name()} with {workers} workers")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    from xinyidai.observability import beat

    beat()  # ready at once; the periodic task keeps it fresh every minute
    consumer.run()


def demo(
    enterprises: int = typer.Option(1000, help="size of the generated demo region"),
    seed: int = typer.Option(2026, help="seed of the generated demo region"),
) -> None:
    """Set up a demo: migrate, generate and load a synthetic region, create demo accounts."""
    from rich.table import Table

    from xinyidai import demo as demo_setup

    setup_logging()
    result = demo_setup.run(enterprises=enterprises, seed=seed, report=console.print)
    table = Table(title="demo accounts (password: demo-password)")
    for column in ("username", "organization", "kind"):
        table.add_column(column)
    for account in result.accounts:
        table.add_row(account.username, account.organization, account.kind)
    console.print(table)
    console.print(
        f"demo enterprise: {result.enterprise_code} "
        f"(its profile: /profile/{result.enterprise_code})\n"
        "start the platform with `xyd serve` and open http://127.0.0.1:8000"
    )


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(demo)
