"""Fixtures of the statistics tests: the demo marketplace (products, needs, applications in
every state, loans in every state) and its alerts, over the consent world's records."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.iam.service import DemoAccount
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.risk.service.demo import ensure_demo_alerts


@pytest.fixture
def lending(session: Session, demo: list[DemoAccount]) -> list[str]:
    """The demo's marketplace and alerts, committed; the borrowers' credit codes."""
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    ensure_demo_market(session, enterprise_codes=codes)
    session.commit()
    ensure_demo_alerts(session)
    session.commit()
    return codes
