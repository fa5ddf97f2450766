"""A department reads as its own only the categories it is the source of.

Replays the attack of the market regulator reading, for data maintenance, the guarantee
edges of an enterprise (the finance department's confidential category) and a rating whose
reasons cite social-insurance arrears: what a department sees of an enterprise — records,
associations, rating, profile — is its own categories and public ones, as anyone without a
letter sees them; a view built from a category it may not see is refused or left out. Each
read is an access event.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE, add_department
from tests.consent.world import Auth, World, events, push

CODE = ENTERPRISE_CODE
MARKET_OWN = {"registration", "shareholder", "serious_dishonesty", "abnormal_operation"}


@pytest.fixture
def guarantees(world: World, session: Session) -> None:
    """The enterprise guarantees the other one's loan (the finance department's record), and
    owes social insurance (the social-insurance department's)."""
    push(
        session,
        "finance",
        "guarantee",
        [
            {
                "credit_code": CODE,
                "enterprise_name": "南宁示范科技有限公司",
                "borrower_code": OTHER_CODE,
                "borrower_name": "南宁另一科技有限公司",
                "contract_number": "DB-2025-001",
                "amount": "3000000.00",
                "start_on": "2025-01-01",
                "end_on": "2027-01-01",
                "status": "正常",
                "region_code": "450103",
            }
        ],
    )
    push(
        session,
        "hrss",
        "social_insurance",
        [
            {
                "credit_code": CODE,
                "enterprise_name": "南宁示范科技有限公司",
                "year": 2024,
                "due_amount": "80000",
                "paid_amount": "50000",
                "arrears_amount": "30000",
                "arrears_months": 5,
                "as_of": "2024-12-31",
                "region_code": "450103",
            }
        ],
    )
    session.commit()


def _get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    return client.get(f"/api/v1/enterprises/{CODE}{path}", params=params, headers=headers)


def _guarantee_edges(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body["edges"] if e["kind"] == "guarantee"]


def _one_new_event(session: Session, before: int, *, outcome: str, channel: str) -> Any:
    found = events(session)
    assert len(found) == before + 1
    event = found[-1]
    assert (event.outcome, event.channel, event.subject) == (outcome, channel, CODE)
    return event


def test_a_department_sees_no_guarantee_edges_of_another_department(
    client: TestClient, auth: Auth, session: Session, guarantees: None
) -> None:
    operator = _get(client, auth("operator"), "/associations")
    assert operator.status_code == 200, operator.text
    assert _guarantee_edges(operator.json())  # the edge is there to be seen

    before = len(events(session))
    market = _get(client, auth("provider-market"), "/associations")
    assert market.status_code == 403
    error = market.json()["error"]
    assert (error["code"], error["field"]) == ("no_basis", "category")
    assert "guarantee" in error["message"]
    event = _one_new_event(session, before, outcome="deny", channel="api:associations")
    assert event.organization_name == "市场监督管理局"

    # the finance department, the guarantees' source, sees them as its own
    add_department(session, code="finance", name="地方金融监督管理局", username="provider-finance")
    before = len(events(session))
    finance = _get(client, auth("provider-finance"), "/associations")
    assert finance.status_code == 200, finance.text
    assert _guarantee_edges(finance.json())
    event = _one_new_event(session, before, outcome="allow", channel="api:associations")
    assert event.granted["guarantee"] == "provider_own"


def test_a_department_is_refused_a_rating_built_from_other_departments_data(
    client: TestClient, auth: Auth, session: Session, guarantees: None
) -> None:
    operator = _get(client, auth("operator"), "/rating")
    assert operator.status_code == 200, operator.text
    assert operator.json()["grade"]

    for path, channel in (("/rating", "api:rating"), ("/rating/history", "api:rating.history")):
        before = len(events(session))
        market = _get(client, auth("provider-market"), path)
        assert market.status_code == 403, (path, market.text)
        assert market.json()["error"]["code"] == "no_basis"
        assert "grade" not in market.text
        assert "reasons" not in market.text
        _one_new_event(session, before, outcome="deny", channel=channel)


def test_a_departments_profile_holds_its_own_and_public_categories_only(
    client: TestClient, auth: Auth, session: Session, guarantees: None
) -> None:
    before = len(events(session))
    response = _get(client, auth("provider-market"), "/profile")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rating"] is None
    assert body["rating_trend"] == []
    assert body["associations"] is None
    assert body["withheld"]["rating"] == "no_basis"
    assert body["withheld"]["associations"] == "no_basis"
    sections = {s["category"]: s["basis"] for s in body["report"]["sections"]}
    assert sections == {
        "registration": "provider_own",
        "shareholder": "provider_own",
        "admin_penalty": "public",
    }
    for withheld in ("guarantee", "social_insurance", "tax_payment", "tax_rating", "real_estate"):
        assert body["report"]["withheld"][withheld] == "no_basis"
    assert "DB-2025-001" not in response.text
    assert "arrears_amount" not in response.text
    event = _one_new_event(session, before, outcome="allow", channel="api:profile")
    assert event.basis == "provider_own"
    assert {c for c, b in event.granted.items() if b == "provider_own"} == MARKET_OWN
    assert set(event.granted.values()) == {"provider_own", "public"}


def test_a_department_asking_for_another_departments_records_is_refused(
    client: TestClient, auth: Auth, session: Session, guarantees: None
) -> None:
    before = len(events(session))
    named = _get(client, auth("provider-market"), "/records", category="guarantee")
    assert named.status_code == 403
    assert named.json()["error"]["code"] == "no_basis"
    _one_new_event(session, before, outcome="deny", channel="api:records")
    unnamed = _get(client, auth("provider-market"), "/records")
    assert unnamed.status_code == 200
    shown = {g["category"] for g in unnamed.json()}
    assert shown == {"registration", "shareholder", "admin_penalty"}
