"""``xyd backup`` and ``xyd restore`` on PostgreSQL: ``pg_dump`` of the backup's own snapshot
while a writer commits, ``pg_restore`` into a new server's database, and the tools' errors
as one line each."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.backup.conftest import (
    Node,
    Writer,
    build_node,
    database_content,
    new_machine,
    restore_and_check,
    rewrite_member,
    served,
)
from tests.conftest import XydEnv
from xinyidai.backup import service
from xinyidai.backup.archive import read_manifest
from xinyidai.cli import app
from xinyidai.core import db as core_db

pytestmark = pytest.mark.postgres

runner = CliRunner()


@pytest.fixture
def pg_node(pg_url: str, tmp_path: Path) -> Node:
    return build_node(pg_url, tmp_path)


def test_a_restored_node_serves_what_the_original_served(
    pg_node: Node,
    pg_database: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = database_content()
    writer = Writer(when="dumping the PostgreSQL database")  # the snapshot taken, pg_dump next
    result = service.create_backup(out=tmp_path / "node.tar", progress=writer.progress)
    assert writer.rounds == 1  # in the database, not in the archive
    after = database_content()
    assert after.counts["enterprise"] == before.counts["enterprise"] + 1
    assert after.ledger_size == before.ledger_size + 4
    manifest = result.manifest
    assert manifest.counts == before.counts
    assert (manifest.ledger.size, manifest.ledger.root_hash) == (
        before.ledger_size,
        before.ledger_root,
    )
    assert manifest.database.kind == "postgresql"
    assert manifest.database.server_version
    assert manifest.database.dump_version
    with tarfile.open(result.path) as tar:
        assert tar.getnames() == [
            "manifest.json",
            "database.pgdump",
            "secrets/log.key",
            "secrets/tags.key",
        ]
    assert result.path.stat().st_mode & 0o777 == 0o600

    new_machine(monkeypatch, tmp_path / "new-machine", pg_database())  # as createdb leaves it
    restore_and_check(result.path, expected=before)
    assert served(pg_node.letter) == pg_node.served


def test_a_changed_member_and_a_node_with_data_are_refused(pg_node: Node, tmp_path: Path) -> None:
    archive = tmp_path / "node.tar"
    made = runner.invoke(app, ["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    original = database_content()
    flipped = rewrite_member(
        archive, "database.pgdump", lambda data: data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]
    )
    refused = runner.invoke(app, ["restore", str(flipped), "--force"])
    assert refused.exit_code == 1
    assert "database.pgdump does not match its checksum in the manifest" in refused.output

    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "the database holds data" in refused.output
    restore_and_check(archive, expected=original, force=True)
    assert read_manifest(archive).counts == original.counts


def test_missing_tools_old_tools_and_wrong_urls_are_one_line_errors(
    pg_url: str, tmp_path: Path, xyd_env: XydEnv
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    xyd_env(XYD_PG_BIN_DIR=str(empty))
    refused = runner.invoke(app, ["backup", "--out", str(tmp_path / "a.tar")])
    assert refused.exit_code == 1
    assert "pg_dump is not installed" in refused.output
    assert refused.output.count("\n") == 1

    old = tmp_path / "old-tools"
    old.mkdir()
    fake = old / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    xyd_env(XYD_PG_BIN_DIR=str(old))
    refused = runner.invoke(app, ["backup", "--out", str(tmp_path / "a.tar")])
    assert refused.exit_code == 1
    assert "pg_dump 9.6.24 cannot dump a PostgreSQL" in refused.output

    xyd_env(
        XYD_PG_BIN_DIR=None,
        XYD_DATABASE_URL=pg_url.rsplit("/", 1)[0] + "/xyd_no_such_database",
    )
    core_db.reset_engines()
    refused = runner.invoke(app, ["backup", "--out", str(tmp_path / "a.tar")])
    assert refused.exit_code == 1
    assert "cannot connect to the database" in refused.output
    assert "xyd_no_such_database" in refused.output
    assert refused.output.count("\n") == 1
    assert not list(tmp_path.glob("*.tar"))
    assert not list(tmp_path.glob(".xyd-backup-*"))
