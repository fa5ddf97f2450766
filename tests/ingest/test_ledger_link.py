"""Every stored record version is a leaf of the ledger, and verify notices one that is not."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.ingest import service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.verify import verify_ledger
from xinyidai.records.models import CreditRecord, RecordVersion


def _ingest(session: Session, path: Path) -> None:
    service.ingest_file(
        session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="test"
    )
    session.commit()


def test_each_record_version_appends_one_leaf_without_the_data(
    session: Session, tmp_path: Path
) -> None:
    keys.create_key()
    _ingest(session, write(tmp_path / "a", "csv", HEADERS, [good_row(n) for n in range(1, 4)]))
    _ingest(session, write(tmp_path / "b", "csv", HEADERS, [good_row(1, "5.00")]))
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    leaves = [ledger.decode_leaf(bytes(e.leaf)) for e in session.scalars(select(LedgerEntry))]
    assert len(leaves) == 4
    assert {leaf["kind"] for leaf in leaves} == {"record.version"}
    assert all("兴庆区" not in str(leaf) and "1200.50" not in str(leaf) for leaf in leaves)
    # Three current versions (the records' rows) and the one the update left behind.
    digests = {r.digest for r in session.scalars(select(CreditRecord))}
    digests |= {v.digest for v in session.scalars(select(RecordVersion))}
    assert len(digests) == 4
    assert {leaf["digest"] for leaf in leaves} == digests
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert report.sources["record.version"] == 4


def test_verify_names_a_record_version_changed_behind_the_ledger(
    session: Session, tmp_path: Path
) -> None:
    keys.create_key()
    _ingest(session, write(tmp_path / "a", "csv", HEADERS, [good_row(n) for n in range(1, 3)]))
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    victim = session.scalars(select(CreditRecord).limit(1)).one()
    session.execute(
        update(CreditRecord).where(CreditRecord.id == victim.id).values(digest="0" * 64)
    )
    session.commit()
    report = verify_ledger(session)
    assert not report.ok
    assert any(f"{victim.id}:1" in problem.what for problem in report.problems)


def test_verify_names_a_past_version_changed_behind_the_ledger(
    session: Session, tmp_path: Path
) -> None:
    keys.create_key()
    _ingest(session, write(tmp_path / "a", "csv", HEADERS, [good_row(1, "100.00")]))
    _ingest(session, write(tmp_path / "b", "csv", HEADERS, [good_row(1, "250.00")]))
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    assert verify_ledger(session).ok
    past = session.scalars(select(RecordVersion)).one()
    session.execute(
        update(RecordVersion).where(RecordVersion.id == past.id).values(digest="0" * 64)
    )
    session.commit()
    report = verify_ledger(session)
    assert not report.ok
    assert any(f"{past.record_id}:1" in problem.what for problem in report.problems)
