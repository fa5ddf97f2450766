"""``xyd backup`` and ``xyd restore`` on SQLite: a node taken to a new machine serves what it
served, a damaged or foreign archive is refused before anything changes, and nothing of a
node in place is overwritten without ``--force``."""

from __future__ import annotations

import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from tests.backup.conftest import (
    Node,
    Writer,
    database_content,
    new_machine,
    restore_and_check,
    rewrite_member,
    sequence,
    served,
)
from tests.ledger.conftest import events
from xinyidai.backup import service
from xinyidai.backup import sqlite as sqlite_copy
from xinyidai.backup.archive import read_manifest
from xinyidai.backup.content import first_table_with_rows
from xinyidai.cli import app
from xinyidai.core import db as core_db
from xinyidai.core import migrate
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service

runner = CliRunner()


def backup(archive: Path, *options: str) -> None:
    made = runner.invoke(app, ["backup", "--out", str(archive), *options])
    assert made.exit_code == 0, made.output


def test_a_restored_node_serves_what_the_original_served(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = database_content()
    key, tags = keys.key_path().read_bytes(), keys.tag_secret_path().read_bytes()
    archive = tmp_path / "node.tar"
    made = runner.invoke(app, ["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert "holds the ledger's signing key and tag secret" in made.output
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert tar.getnames() == [
            "manifest.json",
            "database.sqlite.gz",
            "secrets/log.key",
            "secrets/tags.key",
        ]
    manifest = read_manifest(archive)
    assert manifest.counts == original.counts
    assert manifest.counts["audit_access_event"] == 2  # the two reports read
    assert (manifest.ledger.size, manifest.ledger.root_hash) == (
        original.ledger_size,
        original.ledger_root,
    )
    assert manifest.ledger.vkey == keys.load_key().verifier.vkey
    assert manifest.database.revision == migrate.head_revision()

    new_machine(monkeypatch, tmp_path / "new-machine")
    restore_and_check(archive, expected=original)
    assert keys.key_path().read_bytes() == key
    assert keys.tag_secret_path().read_bytes() == tags
    assert keys.key_path().stat().st_mode & 0o777 == 0o600
    assert served(sqlite_node.letter) == sqlite_node.served


def test_a_backup_while_a_writer_commits_holds_one_instant(
    sqlite_node: Node, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_copy, "PAGES_PER_STEP", 16)  # the writer commits mid-copy
    before = database_content()
    writer = Writer(when="copying the database:")  # between two steps of the copy
    result = service.create_backup(out=tmp_path / "busy.tar", progress=writer.progress)
    assert writer.rounds == 1
    after = database_content()  # the writer's round is in the database, not in the archive
    assert after.counts["enterprise"] == before.counts["enterprise"] + 1
    assert after.ledger_size == before.ledger_size + 4
    assert result.manifest.counts == before.counts
    assert result.manifest.ledger.size == before.ledger_size

    folder = new_machine(monkeypatch, tmp_path / "new-machine")
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "xyd.db")  # as xyd db upgrade leaves it: empty
    restore_and_check(result.path, expected=before)


def test_an_archive_with_a_changed_member_is_refused(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "node.tar"
    backup(archive)
    flipped = rewrite_member(
        archive, "database.sqlite.gz", lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:]
    )
    folder = new_machine(monkeypatch, tmp_path / "new-machine")
    refused = runner.invoke(app, ["restore", str(flipped)])
    assert refused.exit_code == 1
    assert (
        "the archive member database.sqlite.gz does not match its checksum in the manifest"
        in refused.output
    )
    assert refused.output.count("\n") <= 2  # one line, no traceback
    assert not (folder / "xyd.db").exists()
    assert not keys.key_path().exists()

    secret = rewrite_member(archive, "secrets/log.key", lambda data: data.replace(b"+", b"-", 1))
    refused = runner.invoke(app, ["restore", str(secret), "--force"])
    assert refused.exit_code == 1
    assert "secrets/log.key does not match its checksum" in refused.output


def test_restoring_over_a_node_that_holds_data_needs_force(
    sqlite_node: Node, tmp_path: Path
) -> None:
    archive = tmp_path / "node.tar"
    backup(archive)
    original = database_content()
    with core_db.session_scope() as session:  # the node goes on after its backup
        ledger_service.append_many(session, events=events(3))
        sequence(session)
    assert database_content() != original
    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "the database holds data" in refused.output
    assert "--force" in refused.output
    forced = restore_and_check(archive, expected=original, force=True)
    assert "already in place, the same" in forced


def test_an_archive_from_a_newer_schema_is_refused(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "node.tar"
    backup(archive)

    def newer(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["database"]["revision"] = "0099_from_a_newer_xyd"
        return json.dumps(manifest).encode()

    future = rewrite_member(archive, "manifest.json", newer)
    folder = new_machine(monkeypatch, tmp_path / "new-machine")
    refused = runner.invoke(app, ["restore", str(future)])
    assert refused.exit_code == 1
    assert "the archive is at schema revision 0099_from_a_newer_xyd" in refused.output
    assert not (folder / "xyd.db").exists()


def test_an_archive_from_an_older_schema_is_restored_then_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = "0015_iam_enterprise_claims"
    folder = new_machine(monkeypatch, tmp_path / "old-node")
    migrate.upgrade(core_db.get_settings().effective_database_url, older)
    keys.create_key()
    with core_db.session_scope() as session:  # tables 0016 leaves as they were
        ledger_service.append_many(session, events=events(6))
        sequence(session)
    archive = tmp_path / "old.tar"
    backup(archive)
    assert read_manifest(archive).database.revision == older
    assert (folder / "xyd.db").exists()

    new_machine(monkeypatch, tmp_path / "new-machine")
    restored = runner.invoke(app, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    head = migrate.head_revision()
    assert re.search(rf"^ok +schema upgrade +from {older} to {head}$", restored.stdout, re.M)
    assert re.search(r"^ok +ledger verify +6 leaves, 1 checkpoints", restored.stdout, re.M)
    assert migrate.current_revision() == head


def test_without_secrets_the_keys_must_be_in_place(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = database_content()
    key, tags = keys.key_path().read_bytes(), keys.tag_secret_path().read_bytes()
    archive = tmp_path / "node.tar"
    made = runner.invoke(app, ["backup", "--out", str(archive), "--no-secrets"])
    assert made.exit_code == 0, made.output
    assert "holds no key files" in made.output
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["manifest.json", "database.sqlite.gz"]

    folder = new_machine(monkeypatch, tmp_path / "new-machine")
    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "the archive holds no ledger key" in refused.output
    assert not (folder / "xyd.db").exists()

    keys.create_key()  # some other key
    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "is not the key of the archive's node" in refused.output

    keys.key_path().write_bytes(key)
    refused = runner.invoke(app, ["restore", str(archive)])
    assert "lacks secrets of the archive's node" in refused.output
    keys.tag_secret_path().write_bytes(tags)
    restore_and_check(archive, expected=original)
    assert served(sqlite_node.letter) == sqlite_node.served


def test_a_different_key_in_place_is_replaced_only_with_force(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = database_content()
    key = keys.key_path().read_bytes()
    archive = tmp_path / "node.tar"
    backup(archive)

    folder = new_machine(monkeypatch, tmp_path / "new-machine")
    other = keys.create_key()
    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "differs from the archive's ledger key" in refused.output
    assert not (folder / "xyd.db").exists()

    forced = restore_and_check(archive, expected=original, force=True)
    assert "the file it replaced is kept at" in forced
    assert keys.key_path().read_bytes() == key
    [kept] = keys.key_path().parent.glob("log.key.replaced-*")
    assert kept.read_text().strip() == other.text


def test_unreadable_archives_and_taken_names_are_one_line_errors(
    sqlite_node: Node, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive at all\n" * 50)
    for path in (junk, tmp_path / "missing.tar"):
        refused = runner.invoke(app, ["restore", str(path)])
        assert refused.exit_code == 1
        assert f"the archive {path} cannot be read" in refused.output
        assert refused.output.count("\n") == 1
    taken = runner.invoke(app, ["backup", "--out", str(junk)])
    assert taken.exit_code == 1
    assert "exists already" in taken.output

    named = runner.invoke(app, ["backup", "--out", str(tmp_path)])
    assert named.exit_code == 0, named.output
    [made] = tmp_path.glob("xyd-backup-xyd.local-*.tar")
    assert named.stdout.strip() == str(made)


def test_a_restore_that_does_not_match_its_manifest_fails_its_checks(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "node.tar"
    backup(archive)

    def claims_more(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["counts"]["credit_record"] += 1
        manifest["ledger"]["root_hash"] = "0" * 64
        return json.dumps(manifest).encode()

    wrong = rewrite_member(archive, "manifest.json", claims_more)
    new_machine(monkeypatch, tmp_path / "new-machine")
    result = runner.invoke(app, ["restore", str(wrong)])
    assert result.exit_code == 1
    assert re.search(
        r"^FAIL row counts +credit_record \d+ \(the archive: \d+\)$", result.stdout, re.M
    )
    assert re.search(r"^FAIL ledger head ", result.stdout, re.M)
    assert re.search(r"^ok +ledger verify ", result.stdout, re.M)
    assert "the restore did not verify: 2 of 7 checks failed" in result.output


def test_a_freshly_upgraded_database_counts_as_empty(sqlite_template: Path) -> None:
    """Every row a migration seeds is reference data: ``xyd restore`` into what ``xyd db
    upgrade`` leaves needs no ``--force``. A new migration that seeds a table names it in
    ``REFERENCE_TABLES`` or this fails."""
    engine = create_engine(f"sqlite:///{sqlite_template}")
    try:
        with engine.connect() as connection:
            assert first_table_with_rows(connection) is None
    finally:
        engine.dispose()
