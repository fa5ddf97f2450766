"""The demo market: products of every type and zone, applications and loans in every state."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.iam.service import DemoAccount
from xinyidai.market.models import Application, ApplicationState, Loan, LoanState, Product
from xinyidai.market.schemas import PRODUCT_TYPES, ZONES
from xinyidai.market.service.demo import ensure_demo_market


def test_the_demo_market_tells_the_whole_story(session: Session, demo: list[DemoAccount]) -> None:
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    market = ensure_demo_market(session, enterprise_codes=codes)
    session.commit()
    assert market.created
    products = list(session.scalars(select(Product)))
    assert len(products) >= 10
    assert {p.product_type for p in products} == set(PRODUCT_TYPES)
    assert set().union(*(p.zones for p in products)) == set(ZONES)
    assert len({p.institution_id for p in products}) >= 3
    states = {a.state for a in session.scalars(select(Application))}
    assert states == set(ApplicationState)
    assert any(a.decision_mode == "automatic" for a in session.scalars(select(Application)))
    assert {loan.state for loan in session.scalars(select(Loan))} == set(LoanState)
    again = ensure_demo_market(session, enterprise_codes=codes)
    assert not again.created
