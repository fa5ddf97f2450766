"""On PostgreSQL the bulk path uses COPY; the result must equal the SQLite path's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.core.db import new_session
from xinyidai.ingest import service
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord, RecordVersion

pytestmark = pytest.mark.postgres


def test_copy_path_stores_records_versions_and_updates(pg_url: str, tmp_path: Path) -> None:
    session = new_session()
    try:
        assert session.get_bind().dialect.name == "postgresql"
        rows = [good_row(n) for n in range(1, 51)]
        rows[10][4] = "2024-02-30"
        first = write(tmp_path / "one", "csv", HEADERS, rows)
        batch = service.ingest_file(
            session, feed=service.FeedFile(first, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (batch.accepted, batch.rejected) == (49, 1)
        changed = [good_row(n, "9.99") for n in range(1, 3)]
        second = write(tmp_path / "two", "csv", HEADERS, changed)
        again = service.ingest_file(
            session, feed=service.FeedFile(second, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (again.accepted, again.updated) == (0, 2)
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == 49
        assert session.scalar(select(func.count()).select_from(RecordVersion)) == 51
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.version == 2).limit(1)
        ).one()
        assert record.data["amount"] == "9.99"
        assert record.sources == ["court"]
        history = records.versions_of(session, record_id=record.id)
        assert [v.data["amount"] for v in history] == ["9.99", "1200.50"]
    finally:
        session.close()
