"""The demo's risk sharing: one 4:3:2:1 scheme, the province's pool, every demo loan
enrolled, claims under review and paid and recovering; made once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.iam.service import DemoAccount
from xinyidai.market.models import Loan
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.sharing.models import Claim, ClaimShare, ClaimState, Enrolment, Pool
from xinyidai.sharing.service.demo import ensure_demo_sharing


def test_the_demo_shows_a_scheme_a_pool_and_claims(
    session: Session, demo: list[DemoAccount]
) -> None:
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    ensure_demo_market(session, enterprise_codes=codes)
    session.commit()
    made = ensure_demo_sharing(session)
    session.commit()
    assert made.created
    loans = session.scalar(select(func.count()).select_from(Loan))
    assert session.scalar(select(func.count()).select_from(Enrolment)) == loans == made.enrolled
    states = {claim.state for claim in session.scalars(select(Claim))}
    assert states == {ClaimState.UNDER_REVIEW, ClaimState.RECOVERING}
    paid = session.scalar(select(Claim).where(Claim.state == ClaimState.RECOVERING))
    assert paid is not None
    shares = list(session.scalars(select(ClaimShare).where(ClaimShare.claim_id == paid.id)))
    assert sum((s.amount for s in shares), Decimal(0)) == paid.approved_loss
    assert [s.share for s in shares] == [Decimal(40), Decimal(30), Decimal(20), Decimal(10)]
    pool = session.scalar(select(Pool))
    assert pool is not None
    assert pool.balance > 0
    assert pool.reserved > 0
    assert not ensure_demo_sharing(session).created
