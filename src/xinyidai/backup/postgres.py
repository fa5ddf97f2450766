"""PostgreSQL's own tools for the archive: ``pg_dump --format=custom`` and ``pg_restore``.

Both run as subprocesses with the parameters of the configured URL (the password through
``PGPASSWORD``, never on the command line). ``pg_dump`` reads the snapshot that the backup's
own transaction exported, so the row counts and the ledger head written in the manifest
describe exactly the rows dumped, however busy the node is meanwhile.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from xinyidai.core.errors import Unavailable
from xinyidai.core.settings import get_settings, normalize_database_url

_VERSION = re.compile(r"\(PostgreSQL\)\s+((\d+)(?:\.\d+)*)")
# pg_dump --verbose: 'pg_dump: dumping contents of table "public.credit_record"';
# pg_restore --verbose: 'pg_restore: processing data for table "public.credit_record"'.
_TABLE_STEP = re.compile(
    r'(?:dumping contents of|processing data for) table "(?:[^".]+\.)?([^"]+)"'
)


# libpq's own settings the programs get unless the operator's environment sets them.
LIBPQ_DEFAULTS = {"PGCONNECT_TIMEOUT": "10"}


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it (``postgresql://user@host:port/db?params``, no password),
    and the environment that carries the password."""
    parsed = make_url(normalize_database_url(url))
    env: dict[str, str] = {}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    target = parsed.set(drivername="postgresql", password=None)
    return target.render_as_string(hide_password=False), env


def tool(name: str) -> Path:
    """``pg_dump`` or ``pg_restore`` from ``XYD_PG_BIN_DIR``, else from ``PATH``."""
    folder = get_settings().backup.pg_bin_dir
    found = shutil.which(name, path=str(folder) if folder is not None else None)
    if found is None:
        raise Unavailable(
            "{tool} is not installed: install PostgreSQL's client programs (Debian: "
            "postgresql-client) or set XYD_PG_BIN_DIR to their folder",
            field="pg_bin_dir",
            tool=name,
        )
    return Path(found)


def tool_version(path: Path) -> tuple[int, str]:
    """The major version of a PostgreSQL program and its version as it prints it."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(
            "{tool} failed: {reason}", field="pg_bin_dir", tool=path.name, reason=str(exc)
        ) from exc
    match = _VERSION.search(out)
    if match is None:
        raise Unavailable(
            "{tool} failed: {reason}",
            field="pg_bin_dir",
            tool=path.name,
            reason=f"unexpected version {out.strip()!r}",
        )
    return int(match.group(2)), match.group(1)


def major_of(version: str) -> int:
    """The major version in ``15.20``, ``16.1 (Debian …)``, ``9.6.24``."""
    match = re.match(r"\d+", version)
    return int(match.group(0)) if match else 0


def server_version(connection: Connection) -> str:
    """The server's version, e.g. ``15.20``."""
    return str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0]


def check_can_dump(pg_dump: Path, server: str) -> str:
    """``pg_dump``'s version; ``Unavailable`` when it is older than the server (it refuses
    to dump a newer server)."""
    major, version = tool_version(pg_dump)
    if major < major_of(server):
        raise Unavailable(
            "{tool} {tool_version} cannot dump a PostgreSQL {server_version} server: use the "
            "client programs of version {server_version} or later (XYD_PG_BIN_DIR)",
            field="pg_bin_dir",
            tool="pg_dump",
            tool_version=version,
            server_version=server,
        )
    return version


def check_can_restore(pg_restore: Path, dumped_by: str | None) -> None:
    """``Unavailable`` when ``pg_restore`` is older than the ``pg_dump`` that made the dump
    (it cannot read a newer archive format)."""
    major, version = tool_version(pg_restore)
    if dumped_by is not None and major < major_of(dumped_by):
        raise Unavailable(
            "{tool} {tool_version} cannot read an archive made by pg_dump {dump_version}: use "
            "the client programs of version {dump_version} or later (XYD_PG_BIN_DIR)",
            field="pg_bin_dir",
            tool="pg_restore",
            tool_version=version,
            dump_version=dumped_by,
        )


def export_snapshot(connection: Connection) -> str:
    """The id of this transaction's snapshot, for ``pg_dump --snapshot`` (the connection
    must be in a REPEATABLE READ transaction that stays open while pg_dump runs)."""
    return str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def _run(
    command: list[str], *, env: dict[str, str], progress: Callable[[str], None], what: str
) -> None:
    """Run a PostgreSQL program, its ``--verbose`` lines as progress; ``Unavailable`` with its
    own error line when it fails."""
    tail: deque[str] = deque(maxlen=20)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env={**LIBPQ_DEFAULTS, **os.environ, **env},  # the child's environment
        )
    except OSError as exc:
        raise Unavailable(
            "{tool} failed: {reason}", field="pg_bin_dir", tool=what, reason=str(exc)
        ) from exc
    assert process.stderr is not None
    for line in process.stderr:
        line = line.rstrip()
        tail.append(line)
        step = _TABLE_STEP.search(line)
        if step is not None:
            progress(step.group(1))
    if process.wait() != 0:
        errors = [line for line in tail if "error:" in line or "FATAL" in line]
        reason = errors[0] if errors else (tail[-1] if tail else f"exit {process.returncode}")
        raise Unavailable(
            "{tool} failed: {reason}", tool=what, reason=reason.split("error:", 1)[-1].strip()
        )


def dump(
    url: str, *, out: Path, snapshot: str, pg_dump: Path, progress: Callable[[str], None]
) -> None:
    """``pg_dump --format=custom`` of the database at ``url`` as seen by ``snapshot``."""
    target, env = libpq_target(url)
    command = [
        str(pg_dump),
        "--format=custom",
        "--no-password",
        "--verbose",
        f"--snapshot={snapshot}",
        f"--file={out}",
        f"--dbname={target}",
    ]
    _run(command, env=env, progress=progress, what="pg_dump")


def restore(
    url: str, *, dump_file: Path, pg_restore: Path, progress: Callable[[str], None]
) -> None:
    """``pg_restore`` of a custom-format dump into the (cleared) database at ``url``, in one
    transaction; objects belong to the URL's user, the dump's grants are left out (the roles
    they name may not exist on a new server)."""
    target, env = libpq_target(url)
    command = [
        str(pg_restore),
        "--no-password",
        "--verbose",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={target}",
        str(dump_file),
    ]
    _run(command, env=env, progress=progress, what="pg_restore")


def clear_schema(connection: Connection) -> None:
    """Drop every table, view, sequence and type of the current schema (where XYD keeps its
    tables): the dump brings them back as they were."""
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') "
            "AND NOT c.relispartition"
        )
    ).all()
    kinds = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW"}
    kinds |= {"m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    quote = connection.dialect.identifier_preparer.quote_identifier
    # Tables first: a sequence a table owns goes with it.
    for name, kind in sorted(rows, key=lambda row: row[1] == "S"):
        connection.execute(text(f"DROP {kinds[kind]} IF EXISTS {quote(name)} CASCADE"))
    types = connection.scalars(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')"
        )
    ).all()
    for name in types:
        connection.execute(text(f"DROP TYPE IF EXISTS {quote(name)} CASCADE"))
