"""Fixtures of the marketplace tests: the demo accounts, a second bank, product payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE
from tests.conftest import XydEnv
from tests.consent.world import seed_records
from tests.fake_dns import FakeDNS
from xinyidai.consent import service as consent_service
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service import DemoAccount
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.supervision.service import demo as supervision_demo

Auth = Callable[[str], dict[str, str]]


def product_payload(**overrides: Any) -> dict[str, Any]:
    """A pure credit loan open to every region and industry."""
    body: dict[str, Any] = {
        "name": "信易贷·纯信用贷",
        "product_type": "credit",
        "description": "面向小微企业的纯信用贷款",
        "amount_min": "100000.00",
        "amount_max": "3000000.00",
        "term_min": 6,
        "term_max": 36,
        "rate_min": "3.4500",
        "rate_max": "6.0000",
        "repayment_methods": ["equal_instalment", "interest_only"],
        "regions": ["450000"],
        "industries": [],
        "collateral": [],
        "eligibility": {"no_dishonest": True},
        "documents": ["营业执照", "近一年财务报表"],
        "zones": ["fast"],
    }
    body.update(overrides)
    return body


def need_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": "500000.00",
        "term_months": 12,
        "purpose": "采购原材料",
        "max_rate": "5.0000",
        "collateral": [],
        "urgency": "urgent",
    }
    body.update(overrides)
    return body


@pytest.fixture
def market(session: Session, demo: list[DemoAccount]) -> None:
    """The demo enterprise registered in Nanning in manufacturing since 2015, and a second
    active bank (``bank2``)."""
    registry_service.upsert(
        session,
        data=EnterpriseIn(
            credit_code=ENTERPRISE_CODE,
            name="南宁示范科技有限公司",
            region_code="450103",
            industry_code="3911",
            established_on="2015-03-01",  # type: ignore[arg-type]
        ),
    )
    bank2 = iam_service.create_organization(
        session,
        kind="institution",
        name="第二商业银行",
        actor="test",
        state="active",
        institution_type="bank",
        licence_number="B0000H000000002",
    )
    # fit to read: the confidentiality agreement signed, an assessment passed
    supervision_demo.certify(session, bank2)
    iam_service.create_user(
        session,
        organization=bank2,
        username="bank2",
        display_name="bank2",
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    session.commit()


def publish(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Draft and publish a product through the API; the published product."""
    created = client.post("/api/v1/products", json=product_payload(**overrides), headers=headers)
    assert created.status_code == 201, created.text
    published = client.post(f"/api/v1/products/{created.json()['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return dict(published.json())


def principal_of(session: Session, username: str) -> Principal:
    return iam_service.principal_for_user(
        iam_service.get_user_or_raise(session, username=username), via="token"
    )


@pytest.fixture
def signed(session: Session, market: None) -> None:
    """The demo enterprise signed the credit commitment and has records in seven categories."""
    consent_service.sign(
        session,
        principal=principal_of(session, "enterprise"),
        version=consent_service.latest_text_or_raise(session).version,
    )
    seed_records(session)
    session.commit()


def application_payload(product_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_id": product_id,
        "amount": "500000.00",
        "term_months": 12,
        "repayment_method": "equal_instalment",
        "purpose": "采购原材料",
        "authorize": True,
    }
    body.update(overrides)
    return body


def apply(
    client: TestClient, headers: dict[str, str], product_id: str, **overrides: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/applications", json=application_payload(product_id, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def loopback_allowed(db_url: str, xyd_env: XydEnv) -> None:
    """Outbound requests may reach this machine (the tests' local receivers), as a developer
    allows with ``XYD_OUTBOUND_ALLOW_LOOPBACK``."""
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """Host names the test makes resolve where it wants."""
    return FakeDNS(monkeypatch)
