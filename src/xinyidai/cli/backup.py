"""``xyd backup`` and ``xyd restore``: one archive of the node, and its verified restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from xinyidai.backup import service
from xinyidai.cli.common import console, fail, fail_on, setup_logging
from xinyidai.core.errors import XydError


@contextmanager
def _progress() -> Iterator[service.Progress]:
    """Steps printed as they start; percentages and table names on one status line."""
    with console.status("") as status:

        def report(message: str, *, transient: bool = False) -> None:
            if transient:
                status.update(message)
            else:
                status.update("")
                console.print(message, soft_wrap=True, markup=False, highlight=False)

        yield report


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def backup(
    out: Path | None = typer.Option(
        None,
        "--out",
        help="the archive to write, or a folder for the default name "
        "(default: xyd-backup-NODE-TIME.tar in the current folder)",
    ),
    no_secrets: bool = typer.Option(
        False,
        "--no-secrets",
        help="leave the ledger's signing key and tag secret out (a restore then needs them "
        "in place)",
    ),
) -> None:
    """Write one archive of the node: the database (pg_dump, or SQLite's online backup, while
    the node runs), the ledger's key files and a manifest of checksums and counts."""
    setup_logging()
    try:
        with _progress() as report:
            result = service.create_backup(out=out, include_secrets=not no_secrets, progress=report)
    except XydError as exc:
        fail_on(exc)
    except OSError as exc:  # a file the command itself reads or writes
        fail(_os_error(exc))
    for line in service.describe(result.manifest):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    console.print(f"wrote {result.path} ({result.size:,} bytes, mode 0600)")
    if result.manifest.secrets_included:
        console.print(
            "[yellow]warning:[/yellow] the archive holds the ledger's signing key and tag "
            "secret: store it as you store them (encrypted, access-controlled, never beside "
            "the node alone)"
        )
    else:
        console.print(
            "the archive holds no key files: keep log.key and tags.key safe elsewhere, a "
            "restore needs them in place"
        )
    typer.echo(str(result.path))


def restore(
    archive: Path = typer.Argument(..., help="an archive written by xyd backup"),
    force: bool = typer.Option(
        False,
        "--force",
        help="restore over a database that holds data, and replace key files in place that "
        "differ (they are kept beside, renamed)",
    ),
) -> None:
    """Restore an archive into the configured database and data folder, then check the row
    counts, the ledger's size and root, and verify the ledger. Stop the node first."""
    setup_logging()
    try:
        with _progress() as report:
            result = service.restore_backup(archive=archive, force=force, progress=report)
    except XydError as exc:
        fail_on(exc)
    except OSError as exc:  # a file the command itself reads or writes
        fail(_os_error(exc))
    for line in service.describe(result.manifest):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    width = max(len(check.name) for check in result.checks)
    for check in result.checks:
        mark = "ok  " if check.ok else "FAIL"
        typer.echo(f"{mark} {check.name:<{width}}  {check.detail}")
    if not result.ok:
        failed = sum(1 for check in result.checks if not check.ok)
        fail(f"the restore did not verify: {failed} of {len(result.checks)} checks failed")


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
