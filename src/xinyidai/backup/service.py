"""Back a node up into one archive; restore an archive and verify what came back.

The database is read from one snapshot (PostgreSQL: a REPEATABLE READ transaction whose
exported snapshot ``pg_dump`` reads; SQLite: one read transaction over the online backup),
and the manifest's row counts and ledger head are read from that same snapshot, so a
restore can check that it got back exactly what was dumped, however busy the node was.

Restoring refuses, before it changes anything: an archive that cannot be read or whose
members do not match their checksums, an archive from a schema revision this code does not
know (a newer XYD), a database of the other kind, a target database that holds data (unless
forced), and files in place that differ from the archive's (unless forced). Then it
restores the database and the files and checks the row counts, the ledger's tree size and
root, the schema (an older revision is upgraded as ``xyd db upgrade`` does) and the
ledger's full verification.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from xinyidai import bootstrap
from xinyidai.audit import service as audit_service
from xinyidai.backup import archive as archive_file
from xinyidai.backup import files, postgres
from xinyidai.backup import sqlite as sqlite_copy
from xinyidai.backup.archive import DATABASE_POSTGRES, DATABASE_SQLITE, Progress, percent
from xinyidai.backup.content import (
    DatabaseContent,
    connected,
    database_kind,
    first_table_with_rows,
    own_engine,
    read_content,
    sqlite_path,
)
from xinyidai.backup.schemas import DatabaseKind, DatabaseState, LedgerState, Manifest
from xinyidai.consent import service as consent_service
from xinyidai.core import clock, migrate
from xinyidai.core.db import engine_for
from xinyidai.core.errors import Conflict, ValidationFailed, XydError
from xinyidai.core.settings import get_settings
from xinyidai.ledger.verify import verify_ledger
from xinyidai.records import service as records_service

# The services whose rows the ledger's verification checks against their leaves register
# their sources when imported: a restore verifies every one of them.
LEDGER_SOURCES = (audit_service, consent_service, records_service)

__all__ = ["Progress", "create_backup", "describe", "restore_backup"]


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    size: int


@dataclass
class Check:
    """One line of a restore's report."""

    name: str
    ok: bool
    detail: str


@dataclass
class RestoreReport:
    manifest: Manifest
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def xyd_version() -> str:
    try:
        return importlib.metadata.version("xinyidai")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown"


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%SZ")


def default_archive_name(node_name: str, stamp: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", node_name).strip(".-") or "xyd"
    return f"xyd-backup-{safe}-{stamp}.tar"


def _archive_path(out: Path | None, node_name: str) -> Path:
    name = default_archive_name(node_name, _stamp())
    path = (out / name if out.is_dir() else out) if out is not None else Path.cwd() / name
    path = path.absolute()
    if path.exists():
        raise archive_file.exists_already(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise archive_file.cannot_write(path, str(exc)) from exc
    return path


# --- backup ------------------------------------------------------------------------------


def _dump_sqlite(
    url: str, staging: Path, progress: Progress
) -> tuple[Path, DatabaseContent, DatabaseState]:
    source = sqlite_path(url)
    copy = staging / archive_file.staged_name(DATABASE_SQLITE)
    progress(f"copying the SQLite database {source} (online)")
    sqlite_copy.copy_online(
        source,
        copy,
        progress=lambda done, total: progress(
            f"copying the database: {percent(done, total)}", transient=True
        ),
    )
    engine = own_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            content = read_content(connection)
    finally:
        engine.dispose()
    packed = staging / DATABASE_SQLITE
    progress(f"compressing the copy ({copy.stat().st_size / (1 << 20):,.1f} MiB)")
    archive_file.gzip_file(copy, packed, progress)
    copy.unlink()
    return packed, content, DatabaseState(kind=DatabaseKind.SQLITE, revision=content.revision)


def _dump_postgres(
    url: str, staging: Path, progress: Progress
) -> tuple[Path, DatabaseContent, DatabaseState]:
    pg_dump = postgres.tool("pg_dump")
    out = staging / DATABASE_POSTGRES
    engine = own_engine(url)
    try:
        with connected(engine) as plain:
            connection = plain.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(text("SET TRANSACTION READ ONLY"))
                server = postgres.server_version(connection)
                dumped_by = postgres.check_can_dump(pg_dump, server)
                # pg_dump reads this transaction's snapshot: the counts below and the dump
                # see the same rows, while writers go on.
                snapshot = postgres.export_snapshot(connection)
                content = read_content(connection)
                progress(f"dumping the PostgreSQL database with pg_dump {dumped_by}")
                postgres.dump(
                    url,
                    out=out,
                    snapshot=snapshot,
                    pg_dump=pg_dump,
                    progress=lambda table: progress(f"dumping {table}", transient=True),
                )
    finally:
        engine.dispose()
    state = DatabaseState(
        kind=DatabaseKind.POSTGRESQL,
        revision=content.revision,
        server_version=server,
        dump_version=dumped_by,
    )
    return out, content, state


def create_backup(
    *,
    out: Path | None = None,
    url: str | None = None,
    include_secrets: bool = True,
    progress: Progress = archive_file.silent,
) -> BackupResult:
    """Write one archive of the node at ``out`` (a file, or a folder for the default name;
    default: the current folder), mode 0600, and return its manifest."""
    settings = get_settings()
    url = url or settings.effective_database_url
    kind = database_kind(url)
    path = _archive_path(out, settings.node_name)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".xyd-backup-", dir=path.parent))  # mode 0700
    except OSError as exc:
        raise archive_file.cannot_write(path, str(exc)) from exc
    try:
        if kind == DatabaseKind.SQLITE:
            member = DATABASE_SQLITE
            database, content, state = _dump_sqlite(url, staging, progress)
        else:
            member = DATABASE_POSTGRES
            database, content, state = _dump_postgres(url, staging, progress)
        # The files are read after the database: a tag secret added meanwhile is in the
        # archive too (a superset of what the dumped leaves need).
        vkey, tag_ids = files.ledger_identity()
        staged = {member: database} | files.stage(staging, include_secrets=include_secrets)
        manifest = Manifest(
            node_name=settings.node_name,
            created_at=clock.now(),
            xyd_version=xyd_version(),
            database=state,
            counts=content.counts,
            ledger=LedgerState(
                size=content.ledger_size,
                root_hash=content.ledger_root,
                pending=content.ledger_pending,
                vkey=vkey,
                tag_secret_ids=tag_ids,
            ),
            secrets_included=include_secrets,
            members={name: archive_file.digest(source) for name, source in staged.items()},
        )
        progress(f"writing {path}")
        size = archive_file.write(path, manifest, staged, progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(path=path, manifest=manifest, size=size)


# --- restore -----------------------------------------------------------------------------


def _check_restorable(manifest: Manifest, kind: DatabaseKind) -> None:
    """``Conflict`` for an archive this code cannot restore into the configured database."""
    revision = manifest.database.revision
    if not all(migrate.is_known_revision(part.strip()) for part in revision.split(",")):
        raise Conflict(
            "the archive is at schema revision {revision}, which this XYD ({version}) does not "
            "know: restore it with the XYD that made it ({made_by}) or a newer one",
            field="archive",
            revision=revision,
            version=xyd_version(),
            made_by=manifest.xyd_version,
        )
    if manifest.database.kind != kind:
        raise Conflict(
            "the archive holds a {archived} database and the configured database is {configured}",
            field="database_url",
            archived=manifest.database.kind,
            configured=kind,
        )
    member = DATABASE_SQLITE if kind == DatabaseKind.SQLITE else DATABASE_POSTGRES
    if member not in manifest.members:
        raise ValidationFailed(
            "the archive lacks {member}, which its manifest lists", field="archive", member=member
        )


def _check_target(url: str, kind: DatabaseKind, *, force: bool) -> None:
    """``Conflict`` when the target database holds data and ``force`` is not given."""
    if kind == DatabaseKind.SQLITE and not sqlite_path(url).exists():
        return
    engine = own_engine(url)
    try:
        with connected(engine) as connection:
            table = first_table_with_rows(connection)
    finally:
        engine.dispose()
    if table is not None and not force:
        raise Conflict(
            "the database holds data ({table} has rows): restore over it with --force",
            field="database_url",
            table=table,
        )


def _restore_sqlite(url: str, staged: Path, progress: Progress) -> None:
    target = sqlite_path(url)
    engine_for(url).dispose()  # this process's own pooled connections to the file
    progress(f"restoring the SQLite database {target}")
    sqlite_copy.copy_back(
        staged,
        target,
        progress=lambda done, total: progress(
            f"restoring the database: {percent(done, total)}", transient=True
        ),
    )


def _restore_postgres(url: str, staged: Path, pg_restore: Path, progress: Progress) -> None:
    engine = own_engine(url)
    try:
        with connected(engine) as connection, connection.begin():
            postgres.clear_schema(connection)
        progress("restoring the PostgreSQL database with pg_restore")
        postgres.restore(
            url,
            dump_file=staged,
            pg_restore=pg_restore,
            progress=lambda table: progress(f"restoring {table}", transient=True),
        )
        progress("analyzing the restored tables")
        with connected(engine) as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _content_checks(url: str, manifest: Manifest) -> list[Check]:
    """Revision, row counts and ledger head of the restored database against the manifest."""
    engine = own_engine(url)
    try:
        with connected(engine) as connection:
            content = read_content(connection)
    finally:
        engine.dispose()
    archived = manifest.database.revision
    checks = [
        Check(
            "schema revision",
            content.revision == archived,
            f"{content.revision}"
            + ("" if content.revision == archived else f" (the archive: {archived})"),
        )
    ]
    differ = [
        f"{name} {content.counts.get(name)} (the archive: {count})"
        for name, count in manifest.counts.items()
        if content.counts.get(name) != count
    ]
    total = sum(manifest.counts.values())
    same = f"{len(manifest.counts)} tables, {total:,} rows, as in the archive"
    checks.append(Check("row counts", not differ, "; ".join(differ) or same))
    ledger = manifest.ledger
    restored = (content.ledger_size, content.ledger_root)
    detail = f"size {content.ledger_size}, root {content.ledger_root[:16]}…"
    if restored != (ledger.size, ledger.root_hash):
        detail += f" (the archive: size {ledger.size}, root {ledger.root_hash[:16]}…)"
    if content.ledger_pending:
        detail += f", {content.ledger_pending} entries pending"
    checks.append(Check("ledger head", restored == (ledger.size, ledger.root_hash), detail))
    return checks


def _upgrade(url: str, manifest: Manifest) -> Check:
    head = migrate.head_revision()
    try:
        bootstrap.initialize(url)
    except Exception as exc:  # any migration error, reported as the check that failed
        reason = archive_file.first_line(exc)
        return Check("schema upgrade", False, f"to {head} failed: {reason}")
    return Check("schema upgrade", True, f"from {manifest.database.revision} to {head}")


def _verify(url: str) -> Check:
    engine = own_engine(url)
    try:
        with Session(engine) as session:
            report = verify_ledger(session)
    except XydError as exc:
        return Check("ledger verify", False, exc.translated("en"))
    finally:
        engine.dispose()
    if not report.ok:
        first = report.problems[0].what
        return Check("ledger verify", False, f"{len(report.problems)} problems, first: {first}")
    return Check(
        "ledger verify",
        True,
        f"{report.size} leaves, {report.checkpoints} checkpoints, "
        f"{report.cosignatures} cosignatures, {report.pending} pending",
    )


def restore_backup(
    *,
    archive: Path,
    url: str | None = None,
    force: bool = False,
    progress: Progress = archive_file.silent,
) -> RestoreReport:
    """Restore ``archive`` into the configured database and data folder, then verify it.

    Every refusal comes before anything on the node changes. The report holds one check per
    line; the restore succeeded when every check is ok. Stop the node's processes first.
    """
    settings = get_settings()
    url = url or settings.effective_database_url
    kind = database_kind(url)
    manifest = archive_file.read_manifest(archive)
    _check_restorable(manifest, kind)
    pg_restore = None
    if kind == DatabaseKind.POSTGRESQL:
        pg_restore = postgres.tool("pg_restore")
        postgres.check_can_restore(pg_restore, manifest.database.dump_version)
    _check_target(url, kind, force=force)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".xyd-restore-", dir=settings.data_dir))  # 0700
    try:
        progress(f"checking {archive}")
        unpacked, staged = archive_file.unpack(archive, staging, progress)
        if unpacked != manifest:
            raise archive_file.unreadable(archive, "it changed while it was read")
        placements = files.plan(manifest, staged, force=force)
        # Nothing has changed so far; from here the node's state is replaced.
        if kind == DatabaseKind.SQLITE:
            _restore_sqlite(url, staged[DATABASE_SQLITE], progress)
        else:
            assert pg_restore is not None
            _restore_postgres(url, staged[DATABASE_POSTGRES], pg_restore, progress)
        report = RestoreReport(manifest=manifest)
        made = f"{manifest.created_at:%Y-%m-%d %H:%M:%S %Z}"
        report.checks.append(Check("database", True, f"{kind}, as it was at {made}"))
        stamp = _stamp()
        for placement in placements:
            try:
                report.checks.append(
                    Check(placement.label, True, files.place(placement, stamp=stamp))
                )
            except OSError as exc:
                reason = f"cannot write {placement.target}: {exc.strerror or exc}"
                report.checks.append(Check(placement.label, False, reason))
        report.checks.extend(_content_checks(url, manifest))
        if manifest.database.revision != migrate.head_revision():
            progress(f"upgrading the schema from {manifest.database.revision}")
            report.checks.append(_upgrade(url, manifest))
        progress("verifying the ledger")
        report.checks.append(_verify(url))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def describe(manifest: Manifest) -> list[str]:
    """The manifest in a few lines, for the operator."""
    ledger = manifest.ledger
    database = manifest.database
    made = f"{manifest.created_at:%Y-%m-%d %H:%M:%S %Z}"
    server = (
        f" (PostgreSQL {database.server_version}, pg_dump {database.dump_version})"
        if database.kind == DatabaseKind.POSTGRESQL
        else ""
    )
    secrets = (
        "the ledger's signing key and tag secret are in the archive"
        if manifest.secrets_included
        else "the ledger's key files were left out (--no-secrets)"
    )
    return [
        f"node {manifest.node_name}, XYD {manifest.xyd_version}, made {made}",
        f"database {database.kind} at revision {database.revision}{server}",
        f"{sum(manifest.counts.values()):,} rows in {len(manifest.counts)} main tables; ledger "
        f"of {ledger.size} leaves ({ledger.pending} pending), root {ledger.root_hash[:16]}…",
        secrets,
    ]
