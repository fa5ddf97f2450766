"""Fixtures of the risk-sharing tests: a guarantor, a 4:3:2:1 scheme with its pool, and
loans disbursed, defaulted and claimed through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD
from tests.market.conftest import Auth, apply, market, publish, signed  # noqa: F401
from tests.web.conftest import portal  # noqa: F401
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.supervision.service import demo as supervision_demo


@pytest.fixture
def guarantor(session: Session, signed: None) -> str:  # noqa: F811
    """An active guarantor institution with a user ``guarantor1``; its id."""
    org = iam_service.create_organization(
        session,
        kind="institution",
        name="广西融资担保有限公司",
        actor="test",
        state="active",
        institution_type="guarantor",
        licence_number="G0000H000000001",
    )
    # fit to read: the confidentiality agreement signed, an assessment passed
    supervision_demo.certify(session, org)
    iam_service.create_user(
        session,
        organization=org,
        username="guarantor1",
        display_name="guarantor1",
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    session.commit()
    return org.public_id


def scheme_payload(guarantor_id: str | None, **overrides: Any) -> dict[str, Any]:
    """The 4:3:2:1 scheme over credit loans in Guangxi: the county treasury's tenth paid by
    the pool."""
    body: dict[str, Any] = {
        "name": "政银担 4:3:2:1 风险分担",
        "region_code": "450000",
        "product_types": ["credit"],
        "parties": [
            {
                "role": "guarantor",
                "name": "政府性融资担保机构",
                "organization_id": guarantor_id,
                "share": "40",
            },
            {"role": "reguarantor", "name": "省级再担保机构", "share": "30"},
            {"role": "bank", "name": "合作银行", "share": "20"},
            {"role": "treasury", "name": "市县政府", "share": "10", "pool_pays": True},
        ],
        "loss_basis": "principal_interest",
        "interest_days": 90,
        "claim_deadline_days": 180,
        "guarantor_id": guarantor_id,
        "fee_rate": "1.0000",
        "valid_from": "2020-01-01",
    }
    body.update(overrides)
    return body


def create_scheme(
    client: TestClient, auth: Auth, guarantor_id: str | None, **overrides: Any
) -> dict[str, Any]:
    created = client.post(
        "/api/v1/sharing/schemes",
        json=scheme_payload(guarantor_id, **overrides),
        headers=auth("operator"),
    )
    assert created.status_code == 201, created.text
    active = client.post(
        f"/api/v1/sharing/schemes/{created.json()['id']}/transitions",
        json={"transition": "activate"},
        headers=auth("operator"),
    )
    assert active.status_code == 200, active.text
    return dict(active.json())


def create_pool(
    client: TestClient, auth: Auth, amount: str = "1000000.00", **overrides: Any
) -> dict[str, Any]:
    body = {"region_code": "450000", "name": "广西风险补偿资金池", "floor": "0.00", **overrides}
    created = client.post("/api/v1/sharing/pools", json=body, headers=auth("operator"))
    assert created.status_code == 201, created.text
    topped = client.post(
        f"/api/v1/sharing/pools/{created.json()['id']}/top-ups",
        json={"amount": amount, "note": "财政注资"},
        headers=auth("operator"),
    )
    assert topped.status_code == 200, topped.text
    return dict(topped.json())


@pytest.fixture
def scheme(client: TestClient, auth: Auth, guarantor: str) -> dict[str, Any]:
    """An active 4:3:2:1 scheme and its region's pool holding 1,000,000 yuan."""
    pool = create_pool(client, auth)
    found = create_scheme(client, auth, guarantor)
    found["pool"] = pool
    return found


def disbursed_loan(client: TestClient, auth: Auth, amount: str = "120000.00") -> dict[str, Any]:
    """A credit loan of the demo bank to the demo enterprise, paid out today."""
    product = publish(client, auth("bank"), repayment_methods=["equal_principal"])
    app = apply(client, auth("enterprise"), product["id"], repayment_method="equal_principal")
    decided = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve", "amount": amount, "rate": "4.0000", "term_months": 6},
        headers=auth("bank"),
    )
    assert decided.status_code == 200, decided.text
    loan = client.post(f"/api/v1/applications/{app['id']}/disburse", headers=auth("bank"))
    assert loan.status_code == 201, loan.text
    return dict(loan.json())


DEFAULT_AFTER = timedelta(days=45)


def later() -> datetime:
    return clock.now() + DEFAULT_AFTER


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with clock.frozen_at(moment):
        yield


def declare_default(client: TestClient, auth: Auth, loan_id: str) -> None:
    """The bank declares the loan defaulted (the clock frozen past its first due day)."""
    response = client.post(
        f"/api/v1/loans/{loan_id}/default", json={"reason": "逾期超过 30 天"}, headers=auth("bank")
    )
    assert response.status_code == 200, response.text


def file_claim(client: TestClient, auth: Auth, loan_id: str, **body: Any) -> Any:
    return client.post(
        "/api/v1/sharing/claims", json={"loan_id": loan_id, **body}, headers=auth("bank")
    )


def move(
    client: TestClient, auth: Auth, who: str, claim_id: str, transition: str, **body: Any
) -> Any:
    return client.post(
        f"/api/v1/sharing/claims/{claim_id}/transitions",
        json={"transition": transition, **body},
        headers=auth(who),
    )
