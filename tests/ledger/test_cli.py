"""``xyd ledger init|checkpoint|verify|add-witness|witness-key`` and ``xyd witness``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from tests.ledger.conftest import events
from xinyidai.cli import app
from xinyidai.cli import ledger as ledger_cli
from xinyidai.ledger import keys, note, service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.records.models import CreditRecord

runner = CliRunner()


def test_init_writes_a_private_key_file_and_prints_the_vkey(db_url: str) -> None:
    result = runner.invoke(app, ["ledger", "init"])
    assert result.exit_code == 0, result.output
    path = keys.key_path()
    assert path.stat().st_mode & 0o777 == 0o600
    assert result.stdout.strip().endswith(keys.load_key().verifier.vkey)
    again = runner.invoke(app, ["ledger", "init"])
    assert again.exit_code == 0
    assert keys.load_key().verifier.vkey in again.stdout


def test_key_file_setting_moves_the_key(db_url: str, tmp_path: Path, xyd_env: XydEnv) -> None:
    target = tmp_path / "elsewhere" / "ledger.key"
    xyd_env(XYD_LEDGER_KEY_FILE=str(target))
    assert runner.invoke(app, ["ledger", "init"]).exit_code == 0
    assert target.exists()


def test_checkpoint_then_verify(session: Session, ledger_key: note.Signer) -> None:
    service.append_many(session, events=events(11))
    session.commit()
    result = runner.invoke(app, ["ledger", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert note.parse_checkpoint(note.verify_note(result.stdout, ledger_key.verifier)).size == 11
    verified = runner.invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert '"ok": true' in verified.stdout
    assert "reading every leaf" in verified.output  # its progress, on standard error
    assert "reading every leaf" not in verified.stdout


def test_verify_fails_naming_the_first_bad_index(session: Session, ledger_key: note.Signer) -> None:
    service.append_many(session, events=events(11))
    session.commit()
    runner.invoke(app, ["ledger", "checkpoint"])
    session.execute(update(LedgerEntry).where(LedgerEntry.idx == 4).values(digest=b"\x00" * 32))
    session.commit()
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 1
    assert "first bad index 4" in result.output


def test_add_witness_validates_the_key(session: Session, tmp_path: Path) -> None:
    key_file = tmp_path / "w.key"
    made = runner.invoke(app, ["ledger", "witness-key", "w.test/one", "--out", str(key_file)])
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip()
    assert runner.invoke(app, ["ledger", "add-witness", "w.test/one", vkey]).exit_code == 0
    assert service.get_witness(session, name="w.test/one") is not None
    duplicate = runner.invoke(app, ["ledger", "add-witness", "w.test/one", vkey])
    assert duplicate.exit_code == 1
    note_key = note.generate_signer("w.test/two").verifier.vkey
    wrong_type = runner.invoke(app, ["ledger", "add-witness", "w.test/two", note_key])
    assert wrong_type.exit_code == 1
    assert service.get_witness(session, name="w.test/two") is None


def test_witness_command_cosigns_once(
    client: Any,
    session: Session,
    ledger_key: note.Signer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "w.key"
    vkey = runner.invoke(
        app, ["ledger", "witness-key", "w.test/one", "--out", str(key_file)]
    ).stdout
    service.add_witness(session, name="w.test/one", vkey=vkey.strip())
    service.append_many(session, events=events(3))
    session.commit()

    class _Client:
        def __init__(self, **_kwargs: Any) -> None:
            pass

        def __enter__(self) -> Any:
            return client

        def __exit__(self, *_exc: object) -> None:
            return None

    monkeypatch.setattr(ledger_cli.httpx, "Client", _Client)
    state = tmp_path / "state.json"
    result = runner.invoke(
        app,
        [
            "witness",
            "--log",
            "http://log.test",
            "--key",
            str(key_file),
            "--state",
            str(state),
            "--once",
        ],
    )
    assert result.exit_code == 0, result.output
    assert state.exists()
    assert "w.test/one" in client.get("/api/v1/ledger/checkpoint").text
    # A log that now shows a smaller tree than the witness saw is refused with evidence.
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "size": saved["size"] + 5}))
    refused = runner.invoke(
        app,
        ["witness", "--log", "http://log.test", "--key", str(key_file), "--state", str(state),
         "--once"],
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "refused to cosign" in refused.output
    assert list(tmp_path.glob("ledger-evidence-*.json"))


def _tax_rows(months: int) -> list[dict[str, str]]:
    return [
        {
            "credit_code": ENTERPRISE_CODE,
            "enterprise_name": "南宁示范科技有限公司",
            "tax_item": "增值税",
            "period_start": f"2025-{month:02d}-01",
            "tax_paid": f"{1000 + month}.00",
            "region_code": "450103",
        }
        for month in range(1, months + 1)
    ]


def _verify() -> tuple[Any, dict[str, Any]]:
    result = runner.invoke(app, ["ledger", "verify"])
    return result, json.loads(result.stdout)


def test_verify_right_after_an_ingest_with_no_worker_says_how_many_are_pending(
    client: Any, auth: Any, session: Session, ledger_key: note.Signer
) -> None:
    pushed = client.post(
        "/api/v1/ingest/records?category=tax_payment",
        json=_tax_rows(3),
        headers=auth("provider-tax") | {"Idempotency-Key": "before-any-checkpoint"},
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["accepted"] == 3
    pending = session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.idx.is_(None))
    )
    assert pending is not None
    assert pending >= 3  # no worker ran: nothing is sequenced yet

    result, summary = _verify()
    assert result.exit_code == 0, result.output
    assert summary["ok"] is True
    assert (summary["size"], summary["pending"]) == (0, pending)
    # the records pushed, and the demo institutions' certification (supervision) before them
    assert summary["awaiting"]["record.version"] == 3
    assert set(summary["awaiting"]) <= {
        "record.version",
        "supervision.assessment",
        "supervision.agreement",
    }
    assert summary["sources"]["record.version"] == 3
    assert summary["problems"] == []
    assert f"{pending} ledger entries are pending" in result.stderr
    waiting = sum(summary["awaiting"].values())
    assert f"{waiting} stored records wait for theirs" in result.stderr

    # A record changed behind the ledger while its entry waits is still named.
    record = session.scalars(select(CreditRecord).where(CreditRecord.category == "tax_payment"))
    first = next(iter(record))
    original = dict(first.data)
    first.data = original | {"tax_paid": "1.00"}
    session.commit()
    tampered, report = _verify()
    assert tampered.exit_code == 1
    assert any(first.id in problem["what"] for problem in report["problems"])
    first.data = original
    session.commit()

    # Once sequenced, every record is checked against the tree, and nothing is pending.
    assert runner.invoke(app, ["ledger", "checkpoint"]).exit_code == 0
    after, sequenced = _verify()
    assert after.exit_code == 0, after.output
    assert (sequenced["size"], sequenced["pending"]) == (pending, 0)
    assert sequenced["awaiting"] == {}
    assert sequenced["sources"]["record.version"] == 3
    assert sequenced["checkpoints"] == 1
    assert "pending" not in after.stderr


def test_a_pending_entry_whose_leaf_was_edited_is_named(
    session: Session, ledger_key: note.Signer
) -> None:
    service.append_many(session, events=events(4))
    session.commit()
    entry = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).first()
    assert entry is not None
    assert entry.idx is None
    session.execute(
        update(LedgerEntry).where(LedgerEntry.id == entry.id).values(leaf=b"{}" + entry.leaf)
    )
    session.commit()
    result, summary = _verify()
    assert result.exit_code == 1
    assert summary["pending"] == 4
    assert any(f"pending entry {entry.id}" in p["what"] for p in summary["problems"])
