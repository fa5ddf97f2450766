"""On PostgreSQL: a ring sharing one phone is flagged whole, its case confirmed and used as
evidence for a listing that goes through notice, objection and decision, then expires."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import principal_of, product_payload
from tests.risk.fraud_world import applicant, apply_as, register
from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.market import service as market_service
from xinyidai.market.schemas import ProductIn
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.risk.models import FraudCase, ListingBasis
from xinyidai.risk.schemas_blacklist import ListingIn
from xinyidai.risk.service import blacklist, fraud_cases

pytestmark = pytest.mark.postgres


def test_a_ring_its_case_and_a_listing_on_postgres(pg_url: str) -> None:
    session = core_db.new_session()
    try:
        registry_service.create(
            session,
            data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司"),
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        bank = principal_of(session, "bank")
        product = market_service.products.create(
            session, principal=bank, data=ProductIn.model_validate(product_payload())
        )
        market_service.products.move(session, principal=bank, product=product, transition="publish")
        ring = [register(session, n, phone="13900139000") for n in (91, 92, 93)]
        session.commit()
        made = [apply_as(session, applicant(session, code), product.public_id) for code in ring]
        session.expire_all()
        cases = {c.application_id: c for c in session.scalars(select(FraudCase))}
        assert set(cases) == {a.public_id for a in made}
        case = cases[made[0].public_id]
        fraud_cases.act(session, principal=bank, case=case, action="confirm", note="团伙骗贷")
        listing = blacklist.propose(
            session,
            principal=bank,
            data=ListingIn(
                credit_code=ring[0],
                basis=ListingBasis.FRAUD,
                case_id=case.public_id,
                reason="团伙骗贷",
                term_days=30,
            ),
        )
        operator = consent_service.console_principal(session, name="test")
        blacklist.review(
            session, principal=operator, listing=listing, outcome="notice", reason=None
        )
        session.commit()
        with clock.frozen_at(clock.now() + timedelta(days=16)):
            blacklist.decide(
                session, principal=operator, listing=listing, outcome="list", reason=None
            )
            session.commit()
            assert blacklist.is_listed(session, ring[0])
        with clock.frozen_at(clock.now() + timedelta(days=47)):
            assert blacklist.expire_due(session) == 1
            session.commit()
        assert [s.transition for s in blacklist.history(session, listing=listing)] == [
            "propose",
            "notice",
            "list",
            "expire",
        ]
        assert made[0].amount == Decimal("500000.00")
    finally:
        session.rollback()
        session.close()
