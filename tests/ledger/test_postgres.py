"""PostgreSQL: concurrent appenders and sequencers, and the COPY bulk path."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.ledger.conftest import (
    assert_same_leaves_as_append_many,
    digest_items,
    events,
    plain_digest_items,
)
from xinyidai.core import db as core_db
from xinyidai.ledger import keys, note, service, tree
from xinyidai.ledger.models import LedgerEntry, LedgerNode
from xinyidai.ledger.verify import verify_ledger

pytestmark = pytest.mark.postgres


def _run_together(work: list[object]) -> None:
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def runner(task: object) -> None:
        try:
            barrier.wait()
            task()  # type: ignore[operator]
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(task,)) for task in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]


def test_concurrent_appends_and_sequencers_give_consecutive_unique_indexes(pg_url: str) -> None:
    def appender(offset: int) -> None:
        for i in range(20):
            with core_db.session_scope() as session:
                service.append(
                    session, kind="k", actor="a", subject="s", ref=f"{offset}-{i}", body=b"x"
                )
                if i % 5 == 4:
                    service.integrate(session)

    _run_together([lambda: appender(0), lambda: appender(1), lambda: appender(2)])
    with core_db.session_scope() as session:
        service.integrate(session)
    with core_db.session_scope() as session:
        indexes = session.scalars(select(LedgerEntry.idx).order_by(LedgerEntry.idx)).all()
        assert indexes == list(range(60))
        assert service.head(session).size == 60
        leaves = session.scalars(select(LedgerEntry.leaf).order_by(LedgerEntry.idx)).all()
        assert service.head(session).root_hash == tree.root_of([tree.leaf_hash(x) for x in leaves])


def test_two_sequencers_at_once_do_not_collide(pg_url: str) -> None:
    with core_db.session_scope() as session:
        service.append_many(session, events=events(500))

    def sequencer() -> None:
        with core_db.session_scope() as session:
            service.integrate(session, limit=100)

    _run_together([sequencer, sequencer, sequencer])
    with core_db.session_scope() as session:
        indexes = session.scalars(
            select(LedgerEntry.idx).where(LedgerEntry.idx.is_not(None)).order_by(LedgerEntry.idx)
        ).all()
        assert indexes == list(range(300))


def test_a_busy_head_is_skipped_without_waiting(pg_url: str) -> None:
    holder = core_db.new_session()
    try:
        assert service.lock_head(holder) is not None
        with core_db.session_scope() as session:
            assert service.lock_head(session, wait=False) is None
    finally:
        holder.rollback()
        holder.close()


def test_bulk_append_with_copy_builds_a_verifiable_tree(pg_url: str) -> None:
    keys.create_key()
    with core_db.session_scope() as session:
        for start in range(0, 3000, 1000):
            service.append_many(session, events=events(1000, start=start))
            service.integrate(session)
            service.publish_checkpoint(session)
    with core_db.session_scope() as session:
        assert service.head(session).size == 3000
        nodes = session.scalar(select(func.count()).select_from(LedgerNode))
        assert nodes == 2 * 3000 - bin(3000).count("1")
        proof = service.inclusion_proof(session, index=1234, tree_size=3000)
        leaf = session.scalar(select(LedgerEntry.leaf).where(LedgerEntry.idx == 1234))
        assert leaf is not None
        tree.verify_inclusion(
            1234, 3000, tree.leaf_hash(leaf), proof, service.head(session).root_hash
        )
        report = verify_ledger(session)
        assert report.ok, report.problems
        assert report.checkpoints == 3
        signed = service.latest_checkpoint_or_raise(session).note
        assert (
            note.parse_checkpoint(note.verify_note(signed, keys.load_key().verifier)).size == 3000
        )


def test_append_digests_by_copy_writes_the_leaves_append_many_writes(pg_url: str) -> None:
    keys.create_key()
    with core_db.session_scope() as session:
        assert_same_leaves_as_append_many(session, digest_items(60))
    with core_db.session_scope() as session:
        assert_same_leaves_as_append_many(session, plain_digest_items(50))
    with core_db.session_scope() as session:
        service.integrate(session)
        service.publish_checkpoint(session)
    with core_db.session_scope() as session:
        report = verify_ledger(session)
        assert report.ok, report.problems
        assert service.head(session).size == 220
