"""On PostgreSQL: China's day, the stored rows equal to what every source recomputes, and
a refresh after new events equal to a rebuild."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from tests.stats.test_china_day import check_days
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.risk.service.demo import ensure_demo_alerts
from xinyidai.stats.models import FigureRow
from xinyidai.stats.service import refresh
from xinyidai.stats.sources import SOURCES

pytestmark = pytest.mark.postgres


def test_china_day_on_postgres(pg_url: str) -> None:
    session = core_db.new_session()
    try:
        check_days(session)
    finally:
        session.rollback()
        session.close()


def test_the_summary_is_what_the_sources_recompute_on_postgres(pg_url: str) -> None:
    session = core_db.new_session()
    try:
        registry_service.create(
            session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        session.commit()
        seed_records(session)
        codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
        session.commit()
        ensure_demo_market(session, enterprise_codes=codes)
        session.commit()
        ensure_demo_alerts(session)
        session.commit()
        refresh.rebuild(session)
        session.commit()
        for source in SOURCES:
            assert refresh.stored(session, source.stored, None, None) == refresh.recompute(
                session, source, None, None
            ), source.name
        register(session, 41, region="450102")
        session.commit()
        refresh.refresh(session)
        session.commit()
        refreshed = {
            (r.figure, r.dimension, r.key, r.day): r.value
            for r in session.scalars(select(FigureRow))
        }
        refresh.rebuild(session)
        session.commit()
        session.expire_all()
        assert refreshed == {
            (r.figure, r.dimension, r.key, r.day): r.value
            for r in session.scalars(select(FigureRow))
        }
    finally:
        session.close()
