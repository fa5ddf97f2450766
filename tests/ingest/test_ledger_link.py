"""Every stored record version is a leaf of the ledger (a salted commitment, tagged for its
subject and department), and verify notices one that is not."""

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
from xinyidai.records import service as records
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
    entries = session.scalars(select(LedgerEntry)).all()
    leaves = [ledger.decode_leaf(bytes(e.leaf)) for e in entries]
    assert len(leaves) == 4
    assert {leaf["kind"] for leaf in leaves} == {"record.version"}
    assert {leaf["v"] for leaf in leaves} == {2}
    # Three current versions (the records' rows) and the one the update left behind, each
    # with its own salt; the leaves hold their commitments, not the data's digests.
    versions = [
        (r.id, r.version, r.subject_code, r.provider, r.digest, r.salt)
        for r in session.scalars(select(CreditRecord))
    ]
    versions += [
        (v.record_id, v.version, v.subject_code, v.provider, v.digest, v.salt)
        for v in session.scalars(select(RecordVersion))
    ]
    assert len(versions) == 4
    assert all(salt is not None and len(salt) == 16 for *_, salt in versions)
    assert len({salt for *_, salt in versions}) == 4
    commitments = {
        records.leaf_digest(
            record_id=rid, version=n, subject_code=code, provider=dept, digest=digest, salt=salt
        )
        for rid, n, code, dept, digest, salt in versions
    }
    assert {leaf["digest"] for leaf in leaves} == commitments
    assert not commitments & {digest for *_, digest, _ in versions}
    for (rid, _, code, dept, _, _), entry in zip(versions, entries, strict=False):
        text = bytes(entry.leaf).decode()
        for name in (rid, code, dept):
            assert name not in text
    assert all("兴庆区" not in str(leaf) and "1200.50" not in str(leaf) for leaf in leaves)
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


def test_verify_names_a_record_whose_data_or_salt_was_edited(
    session: Session, tmp_path: Path
) -> None:
    keys.create_key()
    _ingest(session, write(tmp_path / "a", "csv", HEADERS, [good_row(n) for n in range(1, 4)]))
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    assert verify_ledger(session).ok
    first, second = session.scalars(select(CreditRecord).order_by(CreditRecord.id).limit(2))
    # The data changed, its digest column left alone (dedup would not even notice).
    session.execute(
        update(CreditRecord)
        .where(CreditRecord.id == first.id)
        .values(data={**first.data, "amount": "1.00"})
    )
    # Only the salt changed.
    session.execute(
        update(CreditRecord).where(CreditRecord.id == second.id).values(salt=b"\x00" * 16)
    )
    session.commit()
    report = verify_ledger(session)
    assert not report.ok
    named = " ".join(problem.what for problem in report.problems)
    assert f"{first.id}:1" in named
    assert f"{second.id}:1" in named
