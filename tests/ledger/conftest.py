"""Fixtures of the ledger tests: a signing key under the test's data dir, helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from xinyidai.ledger import keys, note, service
from xinyidai.ledger.schemas import LedgerEvent


@pytest.fixture
def ledger_key(db_url: str) -> note.Signer:
    """The log's key, made as ``xyd ledger init`` would, in the test's data dir."""
    return keys.create_key()


@pytest.fixture
def no_checkpoint_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS", "0")


def events(n: int, *, kind: str = "record.version", start: int = 0) -> list[LedgerEvent]:
    return [
        LedgerEvent(
            kind=kind,
            actor="org:test",
            subject=f"91110000{i:010d}",
            ref=f"rec-{i}",
            body={"value": i, "secret": f"s{i}"},
        )
        for i in range(start, start + n)
    ]


def fill(session: Session, n: int, *, checkpoint_every: int = 0) -> None:
    """Append ``n`` events, sequence them and sign checkpoints, committing."""
    step = checkpoint_every or n
    done = 0
    while done < n:
        count = min(step, n - done)
        service.append_many(session, events=events(count, start=done))
        service.integrate(session)
        service.publish_checkpoint(session)
        session.commit()
        done += count


@pytest.fixture
def clean_sources() -> Iterator[None]:
    before = service.sources()
    yield
    for kind in set(service.sources()) - set(before):
        service.unregister_source(kind)
