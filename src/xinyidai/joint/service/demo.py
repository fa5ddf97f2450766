"""The demo's joint-modelling story: the demo enterprise lets the demo bank verify
thresholds and use it in joint modelling; the bank asks two threshold questions and aligns
its customers (the demo enterprise among strangers) with the center. Made once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import JOINT_MODELLING, VERIFICATION, LetterIn
from xinyidai.core import clock
from xinyidai.iam.schemas import Principal
from xinyidai.joint import psi
from xinyidai.joint.models import ThresholdAnswer, ThresholdQuestion
from xinyidai.joint.service import alignment, thresholds
from xinyidai.registry import creditcode

# Customers of the bank the center has no letter for (valid codes, not in the region).
STRANGERS = tuple(creditcode.make(f"91450100MA5KY{i:04d}") for i in range(3))


@dataclass(frozen=True)
class DemoJoint:
    created: bool
    answers: int = 0
    alignment_id: str | None = None
    matched: int = 0


def ensure_demo_joint(session: Session, *, enterprise: Principal, bank: Principal) -> DemoJoint:
    """Letters for verification and joint modelling, two answers, one alignment; once."""
    if session.scalar(select(ThresholdAnswer.id).limit(1)) is not None:
        return DemoJoint(created=False)
    code = enterprise.credit_code or ""
    for purpose, categories, note in (
        (
            VERIFICATION,
            ["tax_payment", "social_insurance", "housing_fund", "utility_payment"],
            "演示：可验证不可见",
        ),
        (JOINT_MODELLING, ["tax_payment", "social_insurance"], "演示：联合建模"),
    ):
        consent_service.grant(
            session,
            principal=enterprise,
            data=LetterIn(
                grantee_id=bank.organization_public_id,
                categories=categories,
                purpose=purpose,
                valid_until=clock.now() + timedelta(days=180),
                fetch_mode="on_demand",
                data_life_days=30,
                note=note,
            ),
        )
    asked = [
        thresholds.answer(
            session, actor=bank, credit_code=code, question=ThresholdQuestion.NO_ARREARS
        ),
        thresholds.answer(
            session,
            actor=bank,
            credit_code=code,
            question=ThresholdQuestion.TAX_PAID_LAST_YEAR,
            threshold="100000",
        ),
    ]
    secret = psi.new_secret()
    sent = psi.shuffled([code, *STRANGERS])
    row, answer, offered = alignment.offer(
        session, actor=bank, points=psi.blind_identifiers(secret, sent)
    )
    matches = psi.intersect(secret, sent, answer, offered)
    alignment.match(
        session, actor=bank, public_id=row.public_id, positions=[m.position for m in matches]
    )
    return DemoJoint(
        created=True, answers=len(asked), alignment_id=row.public_id, matched=len(matches)
    )
