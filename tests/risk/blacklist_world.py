"""What the blacklist and fraud tests build: a defaulted loan of the demo bank to the demo
enterprise, and helpers counting what a refused request must leave unchanged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth, apply, publish
from xinyidai.core import clock
from xinyidai.ledger.models import LedgerEntry
from xinyidai.risk.models import Listing, ListingDocument, ListingStep


def approved_loan(client: TestClient, auth: Auth, **product: Any) -> dict[str, Any]:
    """A loan of the demo bank to the demo enterprise, disbursed today."""
    made = publish(client, auth("bank"), repayment_methods=["equal_principal"], **product)
    app = apply(client, auth("enterprise"), made["id"], repayment_method="equal_principal")
    decided = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve", "amount": "120000.00", "rate": "4.0000", "term_months": 6},
        headers=auth("bank"),
    )
    assert decided.status_code == 200, decided.text
    loan = client.post(f"/api/v1/applications/{app['id']}/disburse", headers=auth("bank"))
    assert loan.status_code == 201, loan.text
    return dict(loan.json())


def defaulted_loan(client: TestClient, auth: Auth) -> dict[str, Any]:
    """The demo bank's loan to the demo enterprise, declared in default 45 days on."""
    loan = approved_loan(client, auth)
    with clock.frozen_at(clock.now() + timedelta(days=45)):
        response = client.post(
            f"/api/v1/loans/{loan['id']}/default",
            json={"reason": "逾期超过 30 天"},
            headers=auth("bank"),
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts(session: Session) -> tuple[int, int, int, int]:
    """Listings, their steps, their documents and ledger entries: what a refusal keeps."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Listing)) or 0,
        session.scalar(select(func.count()).select_from(ListingStep)) or 0,
        session.scalar(select(func.count()).select_from(ListingDocument)) or 0,
        session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
    )


def error_of(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])
