"""The demo's post-loan monitoring: alerts about the demo loans' borrowers in every inbox
state, made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.iam.service import DemoAccount
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.risk.models import Alert, AlertState
from xinyidai.risk.service.demo import ensure_demo_alerts


def test_the_demo_shows_alerts_in_every_state(session: Session, demo: list[DemoAccount]) -> None:
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    ensure_demo_market(session, enterprise_codes=codes)
    session.commit()
    made = ensure_demo_alerts(session)
    session.commit()
    assert made.created
    assert made.raised >= 4
    raised = list(session.scalars(select(Alert)))
    assert {a.state for a in raised} == set(AlertState)
    assert {a.action for a in raised if a.action} == {"contact", "reduce_limit"}
    assert not ensure_demo_alerts(session).created
