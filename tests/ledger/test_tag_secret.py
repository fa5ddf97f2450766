"""The node's tag secret: made by ``xyd ledger init`` (or at first use outside production),
kept out of the database, rotated by adding a newer one; and what verify makes of tags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import XydEnv
from xinyidai.cli import app
from xinyidai.core.errors import Conflict
from xinyidai.ledger import keys, note, service, tree
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.ledger.verify import verify_ledger

runner = CliRunner()
SALT = b"0123456789abcdef"


@pytest.fixture
def production(xyd_env: XydEnv) -> None:
    xyd_env(XYD_ENV="production", XYD_SECRET_KEY="a-production-secret")


def test_init_writes_the_tag_secret_next_to_the_key_never_twice(db_url: str) -> None:
    result = runner.invoke(app, ["ledger", "init"])
    assert result.exit_code == 0, result.output
    path = keys.tag_secret_path()
    assert path == keys.key_path().with_name("tags.key")
    assert path.stat().st_mode & 0o777 == 0o600
    (first,) = keys.tag_secrets()
    assert runner.invoke(app, ["ledger", "init"]).exit_code == 0
    assert keys.tag_secrets() == (first,)


def test_in_production_a_missing_secret_is_an_error_naming_the_fix(
    db_url: str, production: None
) -> None:
    with pytest.raises(Conflict) as caught:
        keys.tag_secrets()
    assert caught.value.field == "tag_secret_file"
    assert "xyd ledger init" in str(caught.value)
    assert not keys.tag_secret_path().exists()


def test_a_damaged_secret_file_is_refused(db_url: str) -> None:
    path = keys.tag_secret_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("XYD-LEDGER-TAG-SECRET not-base64!\n")
    with pytest.raises(Conflict) as caught:
        keys.tag_secrets()
    assert caught.value.field == "tag_secret_file"


def _append(session: Session, ref: str) -> dict[str, str]:
    entry = service.append(
        session, kind="k", actor="provider:tax", subject="91110000600037341L", ref=ref,
        body=ref.encode(), salt=SALT,
    )  # fmt: skip
    return service.decode_leaf(bytes(entry.leaf))


def test_after_rotation_new_leaves_take_the_new_secret_and_old_ones_still_match(
    session: Session, ledger_key: note.Signer, clean_sources: None
) -> None:
    before = _append(session, "r1")
    result = runner.invoke(app, ["ledger", "rotate-tag-secret"])
    assert result.exit_code == 0, result.output
    after = _append(session, "r2")
    session.commit()
    (old_id, old_key), (new_id, new_key) = service.party_keys(
        role="subject", label="91110000600037341L"
    )
    assert old_id != new_id
    assert service.tag(old_key, before["digest"]) == before["subject"]
    assert service.tag(new_key, after["digest"]) == after["subject"]
    assert service.tag(old_key, after["digest"]) != after["subject"]
    service.register_source(
        "k",
        lambda _s: [
            StoredEvent(
                r, service.digest_of(r.encode()), SALT, "91110000600037341L", "provider:tax"
            )
            for r in ("r1", "r2")
        ],
    )
    service.integrate(session)
    service.publish_checkpoint(session)
    session.commit()
    report = verify_ledger(session)
    assert report.ok, report.problems


def test_a_leaf_tagged_for_another_party_is_named(
    session: Session, ledger_key: note.Signer, clean_sources: None
) -> None:
    _append(session, "r1")
    service.integrate(session)
    service.publish_checkpoint(session)
    session.commit()
    stored = StoredEvent("r1", service.digest_of(b"r1"), SALT, "91110000600037341L", "provider:tax")
    service.register_source("k", lambda _s: [stored])
    assert verify_ledger(session).ok
    # An insider re-seals the leaf, same commitment, but tagged for another department.
    forged = service.seal(
        kind="k", actor="provider:court", subject="91110000600037341L", ref="r1",
        digest=stored.digest, salt=SALT, time="2026-01-01T00:00:00.000000Z",
    )  # fmt: skip
    event = service.decode_leaf(forged.leaf)
    value = service.commitment(
        kind="k", ref="r1", subject=stored.subject, actor=stored.actor, salt=SALT,
        digest=stored.digest,
    )  # fmt: skip
    leaf = json.dumps(event | {"digest": value}, sort_keys=True, separators=(",", ":")).encode()
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.idx == 0)
        .values(leaf=leaf, leaf_hash=tree.leaf_hash(leaf), digest=bytes.fromhex(value))
    )
    session.commit()
    report = verify_ledger(session)
    assert any("not tagged for its actor" in p.what for p in report.problems), report.problems


def test_find_from_the_console_is_logged(session: Session, ledger_key: note.Signer) -> None:
    from tests.accounts import ENTERPRISE_CODE
    from xinyidai.audit.models import AccessEvent

    service.append(
        session, kind="record.version", actor="provider:tax", subject=ENTERPRISE_CODE,
        ref="rid:1", body=b"x",
    )  # fmt: skip
    service.append(
        session, kind="record.version", actor="provider:tax", subject="91110000600037341L",
        ref="rid:2", body=b"y",
    )  # fmt: skip
    service.integrate(session)
    session.commit()
    result = runner.invoke(app, ["ledger", "find", "--subject", ENTERPRISE_CODE])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indexes"] == [0]
    by_dept = runner.invoke(app, ["ledger", "find", "--department", "tax"])
    assert json.loads(by_dept.stdout)["indexes"] == [0, 1]
    logged = session.query(AccessEvent).filter(AccessEvent.channel == "cli:ledger.find").all()
    assert [e.subject for e in logged] == [ENTERPRISE_CODE, "tax"]


def test_the_secret_is_not_in_the_database(session: Session, db_url: str) -> None:
    _append(session, "r1")
    session.commit()
    (secret,) = keys.tag_secrets()
    assert secret.secret not in Path(db_url.removeprefix("sqlite:///")).read_bytes()


def test_threads_making_the_first_secret_at_once_agree_on_one(db_url: str) -> None:
    import threading

    barrier = threading.Barrier(6)
    seen: list[tuple[keys.TagSecret, ...]] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(keys.tag_secrets())

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 6
    assert len(set(seen)) == 1
    assert len(seen[0]) == 1
    assert [p.name for p in keys.tag_secret_path().parent.iterdir()] == ["tags.key"]
