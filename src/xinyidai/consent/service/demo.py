"""The demo's consent story: the demo enterprise signed the commitment, granted the demo bank
a letter, and the bank has read its report once, so a new user sees every page filled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.consent.models import AuthorizationLetter
from xinyidai.consent.schemas import LetterIn
from xinyidai.consent.service.commitment import has_signed, latest_text_or_raise, sign
from xinyidai.consent.service.decision import decide
from xinyidai.consent.service.letters import grant
from xinyidai.core import clock
from xinyidai.iam.schemas import Principal

DEMO_CATEGORIES = ["tax_rating", "tax_payment", "social_insurance", "housing_fund"]


@dataclass(frozen=True)
class DemoConsent:
    letter_id: str
    created: bool
    events: int


def ensure_demo_consent(session: Session, *, enterprise: Principal, bank: Principal) -> DemoConsent:
    """Sign, grant and query once for the demo; idempotent (an existing letter is kept)."""
    code = enterprise.credit_code or ""
    if not has_signed(session, credit_code=code):
        sign(session, principal=enterprise, version=latest_text_or_raise(session).version)
    existing = session.scalar(
        select(AuthorizationLetter).where(
            AuthorizationLetter.credit_code == code,
            AuthorizationLetter.grantee_id == bank.organization_public_id,
        )
    )
    if existing is not None:
        return DemoConsent(letter_id=existing.public_id, created=False, events=0)
    letter = grant(
        session,
        principal=enterprise,
        data=LetterIn(
            grantee_id=bank.organization_public_id,
            categories=DEMO_CATEGORIES,
            purpose="loan_application",
            valid_until=clock.now() + timedelta(days=180),
            fetch_mode="on_demand",
            max_queries=50,
            data_life_days=90,
            note="演示：申请流动资金贷款",
        ),
    )
    decisions = [
        decide(session, actor=bank, subject=code, channel="demo"),
        decide(
            session,
            actor=bank,
            subject=code,
            categories=["social_insurance"],
            purpose="post_loan_monitoring",
            channel="demo",
        ),
        decide(session, actor=enterprise, subject=code, channel="demo"),
    ]
    return DemoConsent(letter_id=letter.public_id, created=True, events=len(decisions))
