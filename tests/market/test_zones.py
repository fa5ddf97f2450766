"""The first-loan and renewal zones and the rules they carry, and policy products linked to
the risk-sharing and subsidy schemes they are eligible for."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.market.conftest import (
    Auth,
    application_payload,
    apply,
    need_payload,
    product_payload,
    publish,
)
from tests.sharing.conftest import create_scheme, disbursed_loan


def _need(client: TestClient, auth: Auth) -> dict[str, Any]:
    response = client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _checks(client: TestClient, headers: dict[str, str], need_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/needs/{need_id}/matches?lang=en", headers=headers)
    assert response.status_code == 200, response.text
    return {
        m["product"]["id"]: {c["rule"]: c for c in m["checks"]} for m in response.json()["items"]
    }


def test_a_first_loan_product_takes_an_enterprise_without_a_loan(
    client: TestClient, auth: Auth, signed: None
) -> None:
    first = publish(client, auth("bank2"), name="首贷通", zones=["first_loan"])
    need = _need(client, auth)
    checks = _checks(client, auth("enterprise"), need["id"])[first["id"]]
    assert checks["first_loan"]["passed"] is True
    assert apply(client, auth("enterprise"), first["id"])["state"] == "submitted"


def test_a_first_loan_product_refuses_an_enterprise_that_borrowed_here(
    client: TestClient, auth: Auth, signed: None
) -> None:
    disbursed_loan(client, auth)
    first = publish(client, auth("bank2"), name="首贷通", zones=["first_loan"])
    need = _need(client, auth)
    checks = _checks(client, auth("enterprise"), need["id"])[first["id"]]
    assert checks["first_loan"]["passed"] is False
    assert checks["first_loan"]["reason"] == "has had a loan on the platform: not a first loan"
    refused = client.post(
        "/api/v1/applications", json=application_payload(first["id"]), headers=auth("enterprise")
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "product_id"


def test_a_renewal_needs_a_current_loan_in_good_standing(
    client: TestClient, auth: Auth, signed: None
) -> None:
    renewal = publish(client, auth("bank"), name="无还本续贷", zones=["renewal"])
    refused = client.post(
        "/api/v1/applications",
        json=application_payload(renewal["id"]),
        headers=auth("enterprise"),
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "product_id"
    disbursed_loan(client, auth)
    need = _need(client, auth)
    assert _checks(client, auth("enterprise"), need["id"])[renewal["id"]]["renewal"]["passed"]
    assert apply(client, auth("enterprise"), renewal["id"])["state"] == "submitted"


def test_an_institution_does_not_learn_another_lenders_loans(
    client: TestClient, auth: Auth, signed: None
) -> None:
    disbursed_loan(client, auth)  # the demo bank's loan
    first = publish(client, auth("bank2"), name="首贷通", zones=["first_loan"])
    _need(client, auth)
    response = client.get("/api/v1/institution/matches?eligible_only=false", headers=auth("bank2"))
    assert response.status_code == 200, response.text
    rows = [m for m in response.json()["items"] if m["product_id"] == first["id"]]
    assert rows
    rule = next(c for c in rows[0]["checks"] if c["rule"] == "first_loan")
    assert rule["passed"] is None


def test_a_policy_product_names_open_schemes_and_is_found_by_them(
    client: TestClient, auth: Auth, signed: None
) -> None:
    unknown = client.post(
        "/api/v1/products",
        json=product_payload(policy_schemes=["sch_nothing"]),
        headers=auth("bank"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "policy_schemes"
    scheme = create_scheme(client, auth, None)
    policy = publish(client, auth("bank"), name="政策性担保贷", policy_schemes=[scheme["id"]])
    plain = publish(client, auth("bank"), name="普通贷")
    assert policy["policy_schemes"] == [scheme["id"]]
    found = client.get("/api/v1/products?policy=true").json()["items"]
    assert [p["id"] for p in found] == [policy["id"]]
    others = client.get("/api/v1/products?policy=false").json()["items"]
    assert plain["id"] in [p["id"] for p in others]
    assert policy["id"] not in [p["id"] for p in others]
    page = client.get("/market?policy=yes")
    assert page.status_code == 200
    assert scheme["name"] in page.text
