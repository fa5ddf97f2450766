"""A log holding leaves written before format 2 and after: both verify, and an edit to a
stored record of either is still named by ``xyd ledger verify``.

The database is taken to migration 0013 and a tax grade is stored there as the code of
that time stored it (the record row, and a format-1 leaf with its plain digest, the credit
code, the department and the record id in clear); then it is migrated to the head and the
same department sends a new grade for the same year and another enterprise's grade.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from xinyidai import bootstrap
from xinyidai.core import db as core_db
from xinyidai.core import migrate
from xinyidai.ingest import service as ingest_service
from xinyidai.ledger import keys, tree
from xinyidai.ledger import service as ledger
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.verify import verify_ledger
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord, RecordVersion

OLD = {
    "credit_code": ENTERPRISE_CODE,
    "enterprise_name": "南宁示范科技有限公司",
    "grade": "A",
    "rated_on": "2024-04-01",
    "region_code": "450103",
    "year": 2023,
}
BEFORE = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _store_as_before_format_2(url: str) -> str:
    """One tax grade and its format-1 leaf, written at migration 0013; its record id."""
    text = json.dumps(OLD, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    rid = records.record_id("tax_rating", [ENTERPRISE_CODE, 2023])
    leaf = ledger.build_leaf_v1(
        kind="record.version",
        actor="provider:tax",
        subject=ENTERPRISE_CODE,
        ref=f"{rid}:1",
        digest=digest,
        time="2025-01-02T03:04:05.678901Z",
    )
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(CreditRecord.__table__).values(
                id=rid,
                category="tax_rating",
                subject_code=ENTERPRISE_CODE,
                data=OLD,
                digest=digest,
                event_on=date(2024, 4, 1),
                category_version=1,
                version=1,
                provider="tax",
                sources=["tax"],
                batch_id=None,
                created_at=BEFORE,
                updated_at=BEFORE,
                change_id=1,
            )
        )
        connection.execute(
            insert(LedgerEntry.__table__).values(
                digest=bytes.fromhex(digest),
                leaf=leaf,
                leaf_hash=tree.leaf_hash(leaf),
                created_at=BEFORE,
            )
        )
    engine.dispose()
    return rid


@pytest.fixture
def mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Session, str]]:
    url = f"sqlite:///{tmp_path / 'mixed.db'}"
    migrate.upgrade(url, "0013_records_current_version")
    rid = _store_as_before_format_2(url)
    bootstrap.initialize(url)
    monkeypatch.setenv("XYD_DATABASE_URL", url)
    monkeypatch.setenv("XYD_DATA_DIR", str(tmp_path))
    core_db.reset_engines()
    session = core_db.new_session()
    keys.create_key()
    base = {"enterprise_name": "南宁示范科技有限公司", "rated_on": "2025-04-01"}
    rows = [
        base
        | {"credit_code": ENTERPRISE_CODE, "year": 2023, "grade": "B", "region_code": "450103"},
        base | {"credit_code": OTHER_CODE, "year": 2024, "grade": "C", "region_code": "450103"},
    ]
    batch = ingest_service.push_rows(
        session, provider="tax", category="tax_rating", rows=rows, actor="test"
    )
    assert batch.rejected == 0
    session.commit()
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    try:
        yield session, rid
    finally:
        session.close()
        core_db.get_engine().dispose()
        core_db.reset_engines()


def test_leaves_of_both_formats_verify_side_by_side(mixed: tuple[Session, str]) -> None:
    session, rid = mixed
    leaves = [
        ledger.decode_leaf(bytes(leaf))
        for leaf in session.scalars(select(LedgerEntry.leaf).order_by(LedgerEntry.idx))
    ]
    assert [ledger.leaf_format(event) for event in leaves] == [1, 2, 2]
    assert leaves[0]["subject"] == ENTERPRISE_CODE  # written before: left as it was
    # The old version moved to the past versions, without a salt; the new one has one.
    past = session.scalars(select(RecordVersion)).one()
    current = session.scalars(select(CreditRecord).where(CreditRecord.id == rid)).one()
    assert (past.record_id, past.version, past.salt) == (rid, 1, None)
    assert (current.version, current.data["grade"]) == (2, "B")
    assert current.salt is not None
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert report.sources["record.version"] == 3


def test_an_edited_record_of_either_format_is_named(mixed: tuple[Session, str]) -> None:
    session, rid = mixed
    other = session.scalars(select(CreditRecord).where(CreditRecord.subject_code == OTHER_CODE))
    newer = other.one()
    session.execute(
        update(RecordVersion)
        .where(RecordVersion.record_id == rid)
        .values(data=OLD | {"grade": "D"})
    )
    session.execute(
        update(CreditRecord)
        .where(CreditRecord.id == newer.id)
        .values(data=newer.data | {"grade": "A"})
    )
    session.commit()
    report = verify_ledger(session)
    named = [p.what for p in report.problems]
    assert any(f"{rid}:1" in what for what in named), named
    assert any(f"{newer.id}:1" in what for what in named), named
    assert not any(f"{rid}:2" in what for what in named), named
