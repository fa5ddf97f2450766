"""SQLite's online backup, both ways: a consistent copy of a database others are writing to,
and a copy back into the configured database through SQLite's own locking."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from xinyidai.core.errors import NotFound, Unavailable

PAGES_PER_STEP = 4096  # 16 MiB of 4 KiB pages between progress reports


def _open_existing(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` that never creates the file (a missing database is an error,
    not a new empty one)."""
    if not path.is_file():
        raise NotFound(
            "the SQLite database {path} does not exist", field="database_url", path=str(path)
        )
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30)


def copy_online(source: Path, target: Path, *, progress: Callable[[int, int], None]) -> None:
    """Copy the database at ``source`` into the new file ``target`` while the node runs.

    The copy is read inside one read transaction of the source: in WAL mode writers go on
    beside it, and every step of the backup reads the same snapshot, so the copy is the
    database as it was at one instant (and never restarts, however busy the writers are).
    The copy is left in rollback-journal mode, one self-contained file.
    """
    src = _open_existing(source)
    src.isolation_level = None
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the snapshot
        dst = sqlite3.connect(target)
        try:
            src.backup(
                dst,
                pages=PAGES_PER_STEP,
                progress=lambda _status, remaining, total: progress(total - remaining, total),
            )
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as exc:
        raise Unavailable(
            "cannot copy the SQLite database {path}: {reason}", path=str(source), reason=str(exc)
        ) from exc
    finally:
        src.close()


def copy_back(source: Path, target: Path, *, progress: Callable[[int, int], None]) -> None:
    """Replace the content of the database at ``target`` (made if missing) by the database
    at ``source``, page by page under SQLite's locks (a reader never sees half of it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(
                dst,
                pages=PAGES_PER_STEP,
                progress=lambda _status, remaining, total: progress(total - remaining, total),
            )
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise Unavailable(
            "cannot write the SQLite database {path}: {reason}", path=str(target), reason=str(exc)
        ) from exc
    finally:
        src.close()
