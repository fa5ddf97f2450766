"""The demo's risk story: after the demo market, a fraud case under investigation and a
listing in its objection window, made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.core import clock
from xinyidai.iam.service import DemoAccount
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.risk.models import FraudCase, Listing
from xinyidai.risk.service.blacklist_demo import ensure_demo_risk


def test_the_demo_shows_a_fraud_case_and_a_listing_in_its_window(
    session: Session, demo: list[DemoAccount]
) -> None:
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    ensure_demo_market(session, enterprise_codes=codes)
    session.commit()
    story = ensure_demo_risk(session)
    session.commit()
    assert story.created
    cases = list(session.scalars(select(FraudCase)))
    assert cases
    assert "investigating" in {c.state for c in cases}
    listing = session.scalar(select(Listing))
    assert listing is not None
    assert listing.state == "notice"
    assert listing.objection_until is not None
    assert clock.as_utc(listing.objection_until) > clock.now()
    again = ensure_demo_risk(session)
    assert not again.created
