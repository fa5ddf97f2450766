"""``verify`` recomputes the tree and names what was changed behind the log's back."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tests.ledger.conftest import events, fill
from xinyidai.ledger import note, service
from xinyidai.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.ledger.verify import verify_ledger

SIZE = 23


@pytest.fixture
def filled(session: Session, ledger_key: note.Signer) -> Session:
    fill(session, SIZE, checkpoint_every=5)
    return session


def _report(session: Session) -> object:
    session.expire_all()
    return verify_ledger(session)


def test_an_untouched_ledger_verifies(filled: Session) -> None:
    report = verify_ledger(filled)
    assert report.ok, report.problems
    assert report.size == SIZE
    assert report.checkpoints == 5


def test_an_edited_leaf_is_named(filled: Session) -> None:
    leaf = filled.scalar(select(LedgerEntry.leaf).where(LedgerEntry.idx == 7))
    assert leaf is not None
    filled.execute(
        update(LedgerEntry)
        .where(LedgerEntry.idx == 7)
        .values(leaf=leaf.replace(b"record.version", b"record.forged"))
    )
    filled.commit()
    report = verify_ledger(filled)
    assert not report.ok
    assert report.first_bad_index == 7


def test_an_edited_leaf_with_its_hash_recomputed_is_still_named(filled: Session) -> None:
    from xinyidai.ledger import tree

    leaf = filled.scalar(select(LedgerEntry.leaf).where(LedgerEntry.idx == 12))
    assert leaf is not None
    forged = leaf.replace(b"record.version", b"record.forged")
    filled.execute(
        update(LedgerEntry)
        .where(LedgerEntry.idx == 12)
        .values(leaf=forged, leaf_hash=tree.leaf_hash(forged))
    )
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == 12


def test_a_deleted_row_is_named(filled: Session) -> None:
    filled.execute(delete(LedgerEntry).where(LedgerEntry.idx == 9))
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == 9
    assert any("leaf 9 is missing" in p.what for p in report.problems)


def test_deleting_the_last_row_is_noticed(filled: Session) -> None:
    filled.execute(delete(LedgerEntry).where(LedgerEntry.idx == SIZE - 1))
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == SIZE - 1


def test_two_reordered_rows_are_named(filled: Session) -> None:
    # Swap the positions of leaves 3 and 17 (through a free index: idx is unique).
    filled.execute(update(LedgerEntry).where(LedgerEntry.idx == 3).values(idx=-1))
    filled.execute(update(LedgerEntry).where(LedgerEntry.idx == 17).values(idx=3))
    filled.execute(update(LedgerEntry).where(LedgerEntry.idx == -1).values(idx=17))
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == 3
    bad = {p.index for p in report.problems if "stored node 0/" in p.what}
    assert bad == {3, 17}


def test_an_edited_stored_node_is_named(filled: Session) -> None:
    filled.execute(
        update(LedgerNode)
        .where(LedgerNode.level == 2, LedgerNode.idx == 3)
        .values(hash=b"\x00" * 32)
    )
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == 12
    assert any("stored node 2/3" in p.what for p in report.problems)


def test_an_edited_checkpoint_is_caught(filled: Session) -> None:
    row = filled.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.size == 15))
    assert row is not None
    row.note = row.note.replace("\n15\n", "\n14\n")
    filled.commit()
    report = verify_ledger(filled)
    assert not report.ok
    assert any("size 15" in p.what and "signature" in p.what for p in report.problems)


def test_rewriting_leaves_nodes_and_head_is_caught_by_the_signed_checkpoints(
    filled: Session,
) -> None:
    # An insider rebuilds everything consistently from a forged leaf 16 onwards; only
    # the signed checkpoints still remember the truth.
    from xinyidai.ledger import tree
    from xinyidai.ledger.models import LedgerHead

    rows = filled.scalars(select(LedgerEntry).order_by(LedgerEntry.idx)).all()
    forged = rows[16].leaf.replace(b"record.version", b"record.forged")
    filled.execute(
        update(LedgerEntry)
        .where(LedgerEntry.idx == 16)
        .values(leaf=forged, leaf_hash=tree.leaf_hash(forged))
    )
    filled.execute(delete(LedgerNode))
    hashes = [tree.leaf_hash(forged if r.idx == 16 else r.leaf) for r in rows]
    created, root = tree.append_nodes(0, {}, hashes)
    filled.add_all(LedgerNode(level=lv, idx=ix, hash=h) for (lv, ix), h in created.items())
    filled.execute(update(LedgerHead).values(root_hash=root))
    filled.commit()
    report = verify_ledger(filled)
    assert not report.ok
    assert report.first_bad_index == 15
    assert any("[15, 20)" in p.what for p in report.problems)


def _stored(i: int, body: dict[str, object] | None = None, **changes: object) -> StoredEvent:
    event = events(1, start=i)[0]
    stored = StoredEvent(
        event.ref,
        service.digest_of(body or event.body),  # type: ignore[arg-type]
        event.salt,
        event.subject,
        event.actor,
    )
    return stored._replace(**changes)


def test_a_registered_source_must_have_its_leaves(filled: Session, clean_sources: None) -> None:
    records = [_stored(1)]

    def fetch(_session: Session) -> Iterable[StoredEvent]:
        return list(records)

    service.register_source("record.version", fetch)
    assert verify_ledger(filled).ok
    records.append(StoredEvent("rec-999", service.digest_of(b"never logged"), b"s" * 16, "x", "y"))
    report = verify_ledger(filled)
    assert not report.ok
    assert any("rec-999" in p.what for p in report.problems)
    assert report.sources["record.version"] == 2


@pytest.mark.parametrize(
    "changed",
    [
        _stored(2, {"value": 2, "secret": "x"}),  # the body
        _stored(2, salt=b"\x00" * 16),  # the salt
        _stored(2, ref="rec-3"),  # the ref the row claims
        _stored(2, subject="91110000000000009X"),  # the subject it names
    ],
)
def test_a_changed_record_no_longer_matches_its_leaf(
    filled: Session, clean_sources: None, changed: StoredEvent
) -> None:
    service.register_source("record.version", lambda _s: [_stored(1), changed])
    report = verify_ledger(filled)
    assert [p.what.split(" (")[0] for p in report.problems] == [f"record.version {changed.ref}"]


def test_a_row_stripped_of_its_salt_is_named(filled: Session, clean_sources: None) -> None:
    # Posing as a row written before salts: a format-1 leaf with its digest must exist.
    service.register_source("record.version", lambda _s: [_stored(4, salt=None)])
    report = verify_ledger(filled)
    assert any("rec-4" in p.what for p in report.problems)


def test_text_written_into_a_binary_column_is_named_not_a_crash(filled: Session) -> None:
    from sqlalchemy import text

    filled.execute(text("UPDATE ledger_entry SET leaf = 'tampered' WHERE idx = 4"))
    filled.commit()
    report = verify_ledger(filled)
    assert report.first_bad_index == 4
