"""Fixtures of the backup tests: a small node built through the services and the app (the
demo accounts, two enterprises' records, a signed commitment, a letter, reports read, the
ledger sequenced and checkpointed), what it serves, and moves to a fresh database and data
folder as a new machine would have them."""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE, token_for
from tests.consent.world import build_world, grant
from tests.ledger.conftest import events
from xinyidai.backup.content import DatabaseContent, read_content
from xinyidai.cli import app
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.registry import creditcode
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

# What differs between two reads of the same report: the read itself.
VOLATILE = {"access_event", "report_number", "generated_at", "delete_by", "request_id"}


@dataclass
class Served:
    """What the node serves about the demo enterprise: the bank's report under its letter,
    the enterprise's own report, and the enterprise's key to the public ledger."""

    bank_report: dict[str, Any]
    own_report: dict[str, Any]
    ledger_key: dict[str, Any]


def _stable(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _stable(v) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [_stable(v) for v in body]
    return body


def served(letter: str) -> Served:
    """Read the views through the real app over the configured database."""
    from xinyidai.app import create_app

    with TestClient(create_app()) as client:

        def get(username: str, path: str, **params: Any) -> Any:
            token = token_for(client, username)
            response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            return _stable(response.json())

        report = f"/api/v1/enterprises/{ENTERPRISE_CODE}/report"
        return Served(
            bank_report=get("bank", report, letter=letter),
            own_report=get("enterprise", report),
            ledger_key=get("enterprise", "/api/v1/me/ledger-key"),
        )


def sequence(session: Session) -> None:
    """Sequence what is pending and sign a checkpoint, committed."""
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()


def populate(session: Session) -> str:
    """A small node in the configured database: returns the bank's letter id."""
    keys.create_key()
    registry_service.create(
        session,
        data=EnterpriseIn(
            credit_code=ENTERPRISE_CODE,
            name="南宁示范科技有限公司",
            region_code="450100",
            registered_capital="12345678.50",
        ),
    )
    iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    session.commit()
    world = build_world(session)
    letter = grant(session, world, categories=["tax_payment", "social_insurance"])
    sequence(session)
    return letter.public_id


@dataclass
class Node:
    url: str
    data_dir: Path
    letter: str
    served: Served


def switch_to(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path) -> None:
    """Make ``url`` and ``data_dir`` the configured database and data folder."""
    core_db.get_engine().dispose()
    monkeypatch.setenv("XYD_DATABASE_URL", url)
    monkeypatch.setenv("XYD_DATA_DIR", str(data_dir))
    core_db.reset_engines()


def build_node(url: str, data_dir: Path) -> Node:
    """Populate the configured database (``url``), read its views once (access events that
    the archive then holds) and sequence them."""
    with core_db.session_scope() as session:
        letter = populate(session)
    first = served(letter)
    with core_db.session_scope() as session:
        sequence(session)
    return Node(url=url, data_dir=data_dir, letter=letter, served=first)


@pytest.fixture
def sqlite_node(db_url: str, tmp_path: Path) -> Node:
    return build_node(db_url, tmp_path)


def new_machine(monkeypatch: pytest.MonkeyPatch, folder: Path, url: str | None = None) -> Path:
    """Make ``folder`` the data folder of a new machine, its database ``url`` (default: a
    SQLite file in it, not there yet), the configured ones."""
    switch_to(monkeypatch, url or f"sqlite:///{folder / 'xyd.db'}", folder)
    return folder


def count(model: type) -> int:
    with core_db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def rewrite_member(archive: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of ``archive`` with member ``name`` changed (its manifest left as it was)."""
    copy = archive.with_name(f"changed-{archive.name}")
    with tarfile.open(archive) as source, tarfile.open(copy, "w") as target:
        for entry in source.getmembers():
            handle = source.extractfile(entry)
            assert handle is not None
            data = handle.read()
            if entry.name == name:
                data = change(data)
            entry.size = len(data)
            target.addfile(entry, io.BytesIO(data))
    return copy


LATE_CODE = creditcode.make("91450100MA5K00003")


class Writer:
    """Commits one round of writes (an enterprise, ledger entries sequenced) from another
    thread and connection when a backup first reports a step starting with ``when``: a step
    after the backup took its snapshot, so the archive must not have them."""

    def __init__(self, when: str) -> None:
        self.when = when
        self.rounds = 0
        self.errors: list[BaseException] = []

    def _round(self) -> None:
        try:
            with core_db.session_scope() as session:
                registry_service.create(
                    session,
                    data=EnterpriseIn(
                        credit_code=LATE_CODE, name="南宁后来科技有限公司", region_code="450100"
                    ),
                )
                ledger_service.append_many(session, events=events(4, kind="backup.test"))
                ledger_service.integrate(session)
        except BaseException as exc:  # re-raised in the test's thread
            self.errors.append(exc)

    def progress(self, message: str, *, transient: bool = False) -> None:
        if message.startswith(self.when) and self.rounds == 0:
            self.rounds += 1
            thread = threading.Thread(target=self._round)
            thread.start()
            thread.join(60)
            if self.errors:
                raise self.errors[0]


def database_content() -> DatabaseContent:
    """Revision, row counts and ledger head of the configured database now."""
    with core_db.get_engine().connect() as connection:
        return read_content(connection)


def restore_and_check(archive: Path, *, expected: DatabaseContent, force: bool = False) -> str:
    """``xyd restore`` into the configured database: every check passes, and the database
    holds what ``expected`` says and passes ``xyd ledger verify``. Returns its output."""
    restored = CliRunner().invoke(app, ["restore", str(archive), *(["--force"] if force else [])])
    assert restored.exit_code == 0, restored.output
    checks = [line.split()[:2] for line in restored.stdout.splitlines()]
    assert all(mark == "ok" for mark, _ in checks), restored.stdout
    named = " ".join(line[3:] for line in restored.stdout.splitlines())
    for check in ("database", "schema revision", "row counts", "ledger head", "ledger verify"):
        assert check in named
    assert database_content() == expected
    verified = CliRunner().invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    return restored.output
