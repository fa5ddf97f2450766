"""Risk sharing in the demo: one 4:3:2:1 scheme (the demo guarantor 40%, the provincial
re-guarantor 30%, the bank 20%, the county treasury 10% paid from the pool) over the demo
loans' province and product types, the province's compensation pool, every demo loan
enrolled, and the claims of the defaulted and written-off loans at different points: one
under review and endorsed by the guarantor, one paid out and recovering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Loan, LoanState
from xinyidai.sharing.models import LossBasis, Scheme
from xinyidai.sharing.schemas import PartyIn, PoolIn, SchemeIn
from xinyidai.sharing.service import claims, enrolment, pools, schemes

DEMO_ACTOR = "system:demo"
POOL_MONEY = Decimal("5000000.00")


@dataclass(frozen=True)
class DemoSharing:
    scheme_id: str | None
    enrolled: int
    claims: int
    created: bool


def _user(session: Session, username: str) -> Principal | None:
    user = iam_service.get_user(session, username=username)
    return None if user is None else iam_service.principal_for_user(user, via="token")


def ensure_demo_sharing(session: Session) -> DemoSharing:
    """Set up the demo's risk sharing once (nothing when a scheme exists or there are no
    demo loans)."""
    if session.scalar(select(Scheme.id).limit(1)) is not None:
        return DemoSharing(scheme_id=None, enrolled=0, claims=0, created=False)
    operator, bank, guarantor = (_user(session, name) for name in ("operator", "bank", "guarantor"))
    loans = list(session.scalars(select(Loan).order_by(Loan.id)))
    if operator is None or bank is None or not loans:
        return DemoSharing(scheme_id=None, enrolled=0, claims=0, created=False)
    region = next((loan.region_code for loan in loans if loan.region_code), "450100") or "450100"
    province = f"{region[:2]}0000"
    pool = pools.of_region(session, region_code=province) or pools.create(
        session,
        principal=operator,
        data=PoolIn(region_code=province, name="风险补偿资金池", floor=Decimal("100000.00")),
    )
    pools.top_up(
        session, principal=operator, pool_id=pool.public_id, amount=POOL_MONEY, note="财政注资"
    )
    guarantor_id = None if guarantor is None else guarantor.organization_public_id
    scheme = schemes.create(
        session,
        principal=operator,
        data=SchemeIn(
            name="政银担 4:3:2:1 风险分担",
            region_code=province,
            product_types=sorted({loan.product_type for loan in loans}),
            parties=[
                PartyIn(
                    role="guarantor",
                    name="南宁市融资担保有限公司",
                    organization_id=guarantor_id,
                    share=Decimal(40),
                ),
                PartyIn(role="reguarantor", name="广西再担保有限公司", share=Decimal(30)),
                PartyIn(
                    role="bank",
                    name="合作银行",
                    organization_id=bank.organization_public_id,
                    share=Decimal(20),
                ),
                PartyIn(role="treasury", name="市县政府", share=Decimal(10), pool_pays=True),
            ],
            cap_per_loan=Decimal("5000000.00"),
            loss_basis=LossBasis.PRINCIPAL_INTEREST,
            interest_days=90,
            claim_deadline_days=180,
            guarantor_id=guarantor_id,
            fee_rate=Decimal("1.0000"),
            valid_from=date(2020, 1, 1),
        ),
    )
    schemes.move(
        session, principal=operator, scheme_id=scheme.public_id, transition="activate", reason=None
    )
    enrolled = 0
    for loan in loans:
        if enrolment.of_loan(session, loan_id=loan.public_id) is None:
            enrolment.enrol(session, loan=loan, scheme=scheme, actor=DEMO_ACTOR)
            enrolled += 1
    filed = 0
    lenders: dict[str, Principal] = {}
    for loan in loans:
        if loan.state not in claims.CLAIMABLE_LOAN_STATES:
            continue
        lender = lenders.get(loan.institution_id)
        if lender is None:
            lender = _lender(session, loan, bank)
            lenders[loan.institution_id] = lender
        claim, _ = claims.file(session, principal=lender, loan_id=loan.public_id)
        filed += 1
        reviewer = guarantor or operator
        claims.move(session, principal=reviewer, claim_id=claim.public_id, transition="review")
        if guarantor is not None:
            claims.move(
                session, principal=guarantor, claim_id=claim.public_id, transition="endorse"
            )
        if loan.state == LoanState.WRITTEN_OFF:
            claims.move(session, principal=operator, claim_id=claim.public_id, transition="approve")
            claims.move(session, principal=operator, claim_id=claim.public_id, transition="pay")
            recovered = (claim.paid_total / 10).quantize(Decimal("0.01"))
            claims.recover(
                session,
                principal=lender,
                claim_id=claim.public_id,
                amount=recovered,
                note="处置抵债资产",
            )
    session.flush()
    return DemoSharing(scheme_id=scheme.public_id, enrolled=enrolled, claims=filed, created=True)


def _lender(session: Session, loan: Loan, bank: Principal) -> Principal:
    """A member of the loan's lender (the demo bank, or the first user of another lender)."""
    if loan.institution_id == bank.organization_public_id:
        return bank
    organization = iam_service.get_organization_or_raise(session, public_id=loan.institution_id)
    users, _ = iam_service.list_users(session, organization_id=organization.id, size=1)
    return iam_service.principal_for_user(users[0], via="token") if users else bank
