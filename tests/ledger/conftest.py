"""Fixtures of the ledger tests: a signing key under the test's data dir, helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from xinyidai.core import clock
from xinyidai.ledger import keys, note, service, tree
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.schemas import LedgerEvent


@pytest.fixture
def ledger_key(db_url: str) -> note.Signer:
    """The log's key, made as ``xyd ledger init`` would, in the test's data dir."""
    return keys.create_key()


@pytest.fixture
def no_checkpoint_interval(xyd_env: XydEnv) -> None:
    xyd_env(XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS="0")


def salt_of(i: int) -> bytes:
    """A fixed salt per test event, so a test can recompute what its leaf commits to."""
    return hashlib.sha256(f"salt {i}".encode()).digest()[:16]


def events(n: int, *, kind: str = "record.version", start: int = 0) -> list[LedgerEvent]:
    return [
        LedgerEvent(
            kind=kind,
            actor="org:test",
            subject=f"91110000{i:010d}",
            ref=f"rec-{i}",
            body={"value": i, "secret": f"s{i}"},
            salt=salt_of(i),
        )
        for i in range(start, start + n)
    ]


def committed(event: LedgerEvent) -> str:
    """The commitment the leaf of a test event carries."""
    assert event.salt is not None
    return service.commitment(
        kind=event.kind,
        ref=event.ref,
        subject=event.subject,
        actor=event.actor,
        salt=event.salt,
        digest=event.digest or service.digest_of(event.body),
    )


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
    """Sources a test registers are forgotten after it, and those it replaced come back
    (the records' own ``record.version`` source among them)."""
    before = service.sources()
    yield
    for kind in set(service.sources()) - set(before):
        service.unregister_source(kind)
    for kind, fetch in before.items():
        service.register_source(kind, fetch)


# Subjects and refs as departments might spell them: plain ASCII (the verbatim path), and
# text that JSON must escape or that COPY's text format must escape (quotes, backslashes,
# tabs, newlines, Chinese, a leading space).
AWKWARD = (
    "plain-1",
    'quo"te',
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "企业",
    " lead",
    "x" * 200,
)


Item = tuple[str, str, str, bytes]


def digest_items(n: int) -> list[Item]:
    """``(subject, ref, digest, salt)`` for ``append_digests``, some of them awkward."""
    return [
        (
            f"91110000{i:010d}" if i % 3 else AWKWARD[i % len(AWKWARD)],
            f"rec-{i}:1" if i % 4 else AWKWARD[(i + 1) % len(AWKWARD)],
            hashlib.sha256(str(i).encode()).hexdigest(),
            salt_of(i),
        )
        for i in range(n)
    ]


def plain_digest_items(n: int) -> list[Item]:
    """Items as a chunk of an ingest has them: credit codes, record refs, hex digests (each
    its own JSON spelling, so ``append_digests`` checks and spells the chunk at once)."""
    return [
        (
            f"91110000{i:010d}",
            f"{i:032x}:{1 + i % 3}",
            hashlib.sha256(str(i).encode()).hexdigest(),
            salt_of(i),
        )
        for i in range(n)
    ]


def assert_same_leaves_as_append_many(session: Session, items: list[Item]) -> None:
    """``append_digests`` stores, entry for entry, what ``append_many`` stores."""

    def stored(after: int) -> list[tuple[bytes, bytes, bytes, str | None]]:
        rows = session.execute(
            select(LedgerEntry.digest, LedgerEntry.leaf, LedgerEntry.leaf_hash, LedgerEntry.ref)
            .where(LedgerEntry.id > after)
            .order_by(LedgerEntry.id)
        )
        return [(bytes(d), bytes(leaf), bytes(h), ref) for d, leaf, h, ref in rows]

    def last_id() -> int:
        return session.scalar(select(func.max(LedgerEntry.id))) or 0

    with clock.frozen_at(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)):
        start = last_id()
        written = service.append_many(
            session,
            events=[
                LedgerEvent("record.version", "provider:tax", s, r, b"", d, salt)
                for s, r, d, salt in items
            ],
        )
        middle = last_id()
        fast = service.append_digests(
            session, kind="record.version", actor="provider:tax", items=items
        )
    assert written == fast == len(items)
    expected, got = stored(start)[: len(items)], stored(middle)
    assert got == expected
    for (digest, leaf, leaf_hash, ref), (subject, item_ref, item_digest, salt) in zip(
        got, items, strict=True
    ):
        assert leaf_hash == tree.leaf_hash(leaf)
        assert service.decode_leaf(leaf)["digest"] == digest.hex()
        assert ref == item_ref  # kept by the node, not in the leaf
        assert digest.hex() == service.commitment(
            kind="record.version",
            ref=item_ref,
            subject=subject,
            actor="provider:tax",
            salt=salt,
            digest=item_digest,
        )
