"""Applicants for the fraud tests: enterprises registered by the market department, each
with an active account that signed the commitment, applying through the marketplace."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD
from tests.graph.records import _push, code
from xinyidai.consent import service as consent_service
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.market import service as market_service
from xinyidai.market.models import Application
from xinyidai.market.schemas import ApplicationIn


def register(session: Session, n: int, **facts: Any) -> str:
    """Register test enterprise ``n`` (its own phone, address and representative unless
    told otherwise); its code. Not committed."""
    subject = code(n, "450103")
    row = {
        "credit_code": subject,
        "enterprise_name": f"南宁反欺诈测试{n}有限公司",
        "legal_representative": f"测试人{n}",
        "registered_capital": "1000000.00",
        "established_on": "2016-05-01",
        "region_code": "450103",
        "address": f"南宁市青秀区测试路{n}号",
        "phone": f"139{n:08d}",
    }
    row.update(facts)
    _push(session, "market", "registration", [row])
    return subject


def applicant(session: Session, credit_code: str) -> Principal:
    """An active enterprise account for ``credit_code`` that signed the commitment."""
    organization = iam_service.create_organization(
        session,
        kind="enterprise",
        name=f"企业{credit_code[-6:]}",
        actor="test",
        state="active",
        credit_code=credit_code,
    )
    user = iam_service.create_user(
        session,
        organization=organization,
        username=f"e{credit_code[-8:].lower()}",
        display_name="applicant",
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    principal = iam_service.principal_for_user(user, via="token")
    consent_service.sign(
        session,
        principal=principal,
        version=consent_service.latest_text_or_raise(session).version,
    )
    return principal


def apply_as(
    session: Session, principal: Principal, product_id: str, amount: str = "500000.00"
) -> Application:
    """Apply to the product and commit (the scan runs after the commit)."""
    application, _ = market_service.rules.submit_and_decide(
        session,
        principal=principal,
        data=ApplicationIn(
            product_id=product_id,
            amount=Decimal(amount),
            term_months=12,
            repayment_method="equal_instalment",
            purpose="采购原材料",
            authorize=True,
        ),
    )
    public_id = application.public_id
    session.commit()
    found = market_service.applications.get(session, application_id=public_id)
    assert found is not None
    return found
