"""Fixtures of the risk tests: the marketplace's demo world (the demo enterprise registered
and signed, a second bank), the portal's signed-in client, loans made through the API, and
records pushed as departments would; for the early warning, the consent world and a small
loan book across two banks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World, grant, push
from tests.market.conftest import Auth, apply, loopback_allowed, market, publish, signed
from tests.risk.loans import make_loan, months_ago
from tests.web.conftest import portal
from xinyidai.core import clock
from xinyidai.market.models import Loan, LoanState
from xinyidai.risk.models import Alert, Watch
from xinyidai.scoring import service as scoring_service

__all__ = ["loopback_allowed", "market", "portal", "signed"]

BASE = {"credit_code": ENTERPRISE_CODE, "enterprise_name": "南宁示范科技有限公司"}


def lend(client: TestClient, auth: Auth, bank: str = "bank", **terms: Any) -> dict[str, Any]:
    """A loan of 120,000 yuan over six months from ``bank`` to the demo enterprise, made
    through the API (product, application, approval, disbursement); the loan."""
    product = publish(client, auth(bank), repayment_methods=["equal_principal"])
    application = apply(
        client,
        auth("enterprise"),
        product["id"],
        repayment_method="equal_principal",
        amount="120000.00",
        term_months=6,
    )
    decided = client.post(
        f"/api/v1/applications/{application['id']}/decision",
        json={"outcome": "approve", "amount": "120000.00", "rate": "4.0000", "term_months": 6},
        headers=auth(bank),
    )
    assert decided.status_code == 200, decided.text
    loan = client.post(
        f"/api/v1/applications/{application['id']}/disburse", json=terms or None, headers=auth(bank)
    )
    assert loan.status_code == 201, loan.text
    return dict(loan.json())


def alerts_of(session: Session, **where: Any) -> list[Alert]:
    session.expire_all()
    stmt = select(Alert).order_by(Alert.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Alert, name) == value)
    return list(session.scalars(stmt))


def watches_of(session: Session, loan_id: str) -> list[Watch]:
    session.expire_all()
    return list(session.scalars(select(Watch).where(Watch.loan_id == loan_id).order_by(Watch.id)))


def penalty(
    session: Session, number: str = "南青市监罚〔2026〕88号", code: str = ENTERPRISE_CODE
) -> None:
    """A new administrative penalty of ``code``, pushed by the credit department, committed."""
    push(
        session,
        "credit",
        "admin_penalty",
        [
            {"credit_code": code, "enterprise_name": "某企业"}
            | {
                "decision_number": number,
                "fine_amount": "50000",
                "decided_on": clock.today().isoformat(),
                "region_code": "450103",
            }
        ],
    )
    session.commit()


def later(days: int) -> datetime:
    return clock.now() + timedelta(days=days)


def loan_row(session: Session, loan_id: str) -> Loan:
    session.expire_all()
    loan = session.scalar(select(Loan).where(Loan.public_id == loan_id))
    assert loan is not None
    return loan


@dataclass
class Book:
    world: World
    troubled: str  # the demo enterprise at the bank: late, and overdue now
    clean: str  # the other enterprise at the bank: paid on time, no letter
    elsewhere: str  # the demo enterprise at the second bank
    repaid: str  # a repaid loan at the bank: no warning


@pytest.fixture
def book(session: Session, world: World) -> Book:
    troubled = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(5),
        paid_late_days={1: 12, 2: 40, 4: None},
    )
    clean = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=OTHER_CODE,
        start_on=months_ago(4),
        principal="300000.00",
    )
    elsewhere = make_loan(
        session,
        institution_id=world.other_bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(2),
        principal="80000.00",
    )
    repaid = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=OTHER_CODE,
        start_on=months_ago(14),
        state=LoanState.REPAID,
    )
    session.commit()
    return Book(world, troubled.public_id, clean.public_id, elsewhere.public_id, repaid.public_id)


@pytest.fixture
def monitoring_letter(session: Session, world: World) -> str:
    """The demo enterprise lets the demo bank monitor it after lending: a letter for
    post-loan monitoring over every category its rating is computed from."""
    letter = grant(
        session,
        world,
        categories=scoring_service.rated_categories(),
        levels=["public", "restricted", "confidential", "personal"],
        purpose="post_loan_monitoring",
        valid_until=clock.now() + timedelta(days=90),
    )
    return letter.public_id
