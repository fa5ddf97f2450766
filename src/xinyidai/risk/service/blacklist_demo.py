"""The demo's blacklist and fraud story: the demo applications scanned (a fraud case under
investigation) and a defaulted loan's lender proposing a listing that the operator
noticed, so the enterprise sits in its objection window."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.market import service as market_service
from xinyidai.market.models import Loan, LoanState
from xinyidai.risk.models import FraudCase, FraudCaseState, Listing, ListingBasis
from xinyidai.risk.schemas_blacklist import ListingIn
from xinyidai.risk.service import blacklist, fraud, fraud_cases

DEMO = "demo"


@dataclass(frozen=True)
class DemoRisk:
    scanned: int
    cases: int
    listing_id: str | None
    created: bool


def ensure_demo_risk(session: Session) -> DemoRisk:
    """Scan the demo's applications, put one case under investigation and bring one
    defaulted borrower to its objection window (once; again it changes nothing)."""
    existing = session.scalar(select(Listing.public_id).limit(1))
    if existing is not None:
        return DemoRisk(scanned=0, cases=0, listing_id=existing, created=False)
    scanned = fraud.scan_pending(session)
    cases = list(session.scalars(select(FraudCase).order_by(FraudCase.id)))
    first = next((c for c in cases if c.state == FraudCaseState.OPEN), None)
    if first is not None:
        lender = dataclasses.replace(
            market_service.rules.rules_principal(session, institution_id=first.institution_id),
            system=DEMO,
        )
        fraud_cases.act(
            session,
            principal=lender,
            case=first,
            action="investigate",
            note="已联系企业核实多头申请情况",
        )
    loan = session.scalar(
        select(Loan).where(Loan.state == LoanState.DEFAULTED).order_by(Loan.id).limit(1)
    )
    listing_id = None
    if loan is not None:
        lender = dataclasses.replace(
            market_service.rules.rules_principal(session, institution_id=loan.institution_id),
            system=DEMO,
        )
        listing = blacklist.propose(
            session,
            principal=lender,
            data=ListingIn(
                credit_code=loan.credit_code,
                basis=ListingBasis.DEFAULT,
                loan_id=loan.public_id,
                reason="贷款逾期违约，经多次催收仍未还款",
            ),
        )
        blacklist.review(
            session,
            principal=consent_service.console_principal(session, name=DEMO),
            listing=listing,
            outcome="notice",
            reason="证据充分，告知企业并进入异议期",
        )
        listing_id = listing.public_id
    return DemoRisk(scanned=len(scanned), cases=len(cases), listing_id=listing_id, created=True)
