"""Control characters on PostgreSQL: a row with NUL (which PostgreSQL text cannot hold) or
another control character is rejected with its reason like on SQLite; the file goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.ingest import hostile
from xinyidai.core.db import new_session
from xinyidai.ingest import service
from xinyidai.ingest.models import Rejection
from xinyidai.records.models import CreditRecord
from xinyidai.registry.models import Enterprise

pytestmark = pytest.mark.postgres


def test_a_nul_after_the_first_4_kib_is_a_rejected_row(pg_url: str, tmp_path: Path) -> None:
    path, line, good = hostile.nul_csv(tmp_path / "nul.csv", after_bytes=5000)
    session = new_session()
    try:
        assert session.get_bind().dialect.name == "postgresql"
        batch = service.ingest_file(
            session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="t"
        )
        session.commit()
        assert (batch.state, batch.accepted, batch.rejected) == ("done", good, 1)
        rejection = session.scalars(select(Rejection)).one()
        assert (rejection.position, rejection.field) == (line, "enterprise_name")
        assert rejection.errors[0]["params"] == {"code": "0000", "position": 3}
        assert rejection.errors[1]["params"] == {"code": "0007", "position": 4}
        assert rejection.raw["被执行人名称"] == "宁夏\ufffd测试有限公司"
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == good
        names = session.scalars(select(Enterprise.name)).all()
        assert len(names) == good
        assert not any("\x00" in name for name in names)
    finally:
        session.close()
