"""On PostgreSQL the rating reads records by COPY and writes ratings by COPY: the same
indicators and ratings as on SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core import db as core_db
from xinyidai.core.db import build_engine
from xinyidai.ingest import service as ingest_service
from xinyidai.scoring import features, service
from xinyidai.scoring.models import CreditRating

pytestmark = pytest.mark.postgres

AS_OF = date(2025, 12, 31)


def _load(session: Session, folder: Path) -> None:
    with service.arrival_paused():
        for feed in ingest_service.feeds_in(folder, provider=None, category=None):
            ingest_service.ingest_file(session, feed=feed, actor="test")
            session.commit()


def test_indicators_and_ratings_match_sqlite(
    pg_url: str, region_database: Path, region_folder: Path
) -> None:
    session = core_db.new_session()
    try:
        _load(session, region_folder)
        bulk = features.compute(session, on=AS_OF).sort("credit_code")
        codes = bulk["credit_code"].to_list()
        some = features.compute(session, on=AS_OF, credit_codes=codes[::3]).sort("credit_code")
        assert_frame_equal(some, bulk.filter(bulk["credit_code"].is_in(codes[::3])))
        run = service.rate_all(session, on=AS_OF, actor="test")
        session.commit()
        assert run.rated == bulk.height
        stored = session.scalar(select(func.count()).select_from(CreditRating))
        assert stored == bulk.height
        stored_ratings = list(session.scalars(select(CreditRating)))
        rating = next(r for r in stored_ratings if r.reasons)
        shown = service.rating_out(session, rating, locale="en")
        assert len(shown.reasons) == len(rating.reasons)
        on_postgres = {r.credit_code: (r.score, r.grade) for r in stored_ratings}
    finally:
        session.close()

    engine = build_engine(f"sqlite:///{region_database}")
    try:
        with Session(engine) as lite:
            same = features.compute(lite, on=AS_OF).sort("credit_code")
            table = service._rating_frame(
                same, service.platform_model.current(), trigger="run", run_id=None
            )[0]
    finally:
        engine.dispose()
    assert_frame_equal(bulk, same)
    assert on_postgres == {
        code: (score, grade)
        for code, score, grade in zip(
            table["credit_code"], table["score"], table["grade"], strict=True
        )
    }
