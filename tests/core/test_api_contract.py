"""What the schemathesis runs found, each held here: a body field's own narrower bounds
survive the integer bounds, a day or a time sent as a number is refused naming the field,
every error is documented as the JSON it is whatever the route answers on success, and text
holding the NUL character (which PostgreSQL's text cannot hold) is refused naming the
field wherever a request carries it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]


def test_a_fields_own_bounds_are_the_ones_checked_and_published(
    client: TestClient, auth: Auth
) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    chain = schemas["AnalysisIn"]["properties"]["min_chain"]
    assert (chain["minimum"], chain["maximum"]) == (2, 20)
    years = schemas["Eligibility"]["properties"]["min_years"]["anyOf"][0]
    assert (years["minimum"], years["maximum"]) == (0, 100)
    disclosure = schemas["CategorySpec"]["properties"]["disclosure_days"]["anyOf"][0]
    assert (disclosure["minimum"], disclosure["maximum"]) == (1, 36_500)
    size = next(
        p["schema"]
        for p in document["paths"]["/api/v1/products"]["get"]["parameters"]
        if p["name"] == "size"
    )
    assert (size["minimum"], size["maximum"]) == (1, 200)
    for chain_length in (0, 1, 21):
        refused = client.post(
            "/api/v1/graph/analyses", json={"min_chain": chain_length}, headers=auth("operator")
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "min_chain"
    refused = client.post(
        "/api/v1/graph/analyses", json={"min_chain": False}, headers=auth("operator")
    )
    assert refused.status_code == 422
    assert client.get("/api/v1/graph/analyses", headers=auth("operator")).json()["items"] == []


def test_a_yes_or_no_is_true_or_false_not_a_number_or_a_word(
    client: TestClient, auth: Auth
) -> None:
    for value in (0, 1, "true", "off", None):
        refused = client.post(
            "/api/v1/graph/analyses",
            json={"include_released": value},
            headers=auth("operator") | {"Accept-Language": "en"},
        )
        assert refused.status_code == 422, (value, refused.text)
        error = refused.json()["error"]
        assert error["field"] == "include_released"
        assert error["message"].endswith("must be true or false")
        in_chinese = client.post(
            "/api/v1/graph/analyses", json={"include_released": value}, headers=auth("operator")
        ).json()["error"]
        assert in_chinese["message"] == "include_released：应为 true 或 false"
    assert client.get("/api/v1/graph/analyses", headers=auth("operator")).json()["items"] == []
    # a query parameter keeps the usual reading of "true" and "1"
    listed = client.get(
        "/api/v1/ingest/batches/bat_x/rejections",
        params={"open_only": "1"},
        headers=auth("provider-tax"),
    )
    assert listed.status_code == 404, listed.text


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    assert "ISO 8601" in error["message"]


def test_a_day_or_a_time_sent_as_a_number_is_refused_naming_it(
    client: TestClient, auth: Auth
) -> None:
    operator = auth("operator")
    for number in (0, 1_700_000_000, 20261123, 1.5, True):
        _refused(
            client.post("/api/v1/ratings/runs", json={"as_of": number}, headers=operator), "as_of"
        )
    assert client.get("/api/v1/ratings/runs", headers=operator).json()["total"] == 0
    enterprise = auth("enterprise")
    letter = {
        "grantee_scope": "any_institution",
        "categories": ["tax_payment"],
        "purpose": "loan_application",
        "valid_until": 1_900_000_000,
    }
    _refused(client.post("/api/v1/letters", json=letter, headers=enterprise), "valid_until")
    dated = letter | {"valid_until": "2099-01-01T00:00:00Z", "data_from": 0}
    _refused(client.post("/api/v1/letters", json=dated, headers=enterprise), "data_from")
    assert client.get("/api/v1/letters", headers=enterprise).json()["total"] == 0


def test_every_error_is_documented_as_json_whatever_the_route_answers(
    client: TestClient, auth: Auth
) -> None:
    document = client.get("/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.isdigit() and int(status) >= 400:
                    checked += 1
                    assert "application/json" in response.get("content", {}), (method, path)
    assert checked > 1000
    # a route that answers a file on success answers its errors in the error shape
    refused = client.get("/api/v1/institution/loan-book", headers=auth("enterprise"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["error"]["code"] == "forbidden"


def _nul_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    assert error["message"] == "不能包含 NUL 字符（U+0000）"


def _nul_everywhere(client: TestClient, auth: Auth) -> None:
    """Text holding NUL, wherever a request carries it, is refused naming the field."""
    operator = auth("operator")
    _nul_refused(
        client.get("/api/v1/catalog/categories", params={"provider": "t\x00x"}), "provider"
    )
    _nul_refused(client.get("/api/v1/registry/enterprises/9145%00"), "code")
    _nul_refused(
        client.post("/api/v1/auth/token", data={"username": "operator\x00", "password": "x"}),
        "username",
    )
    need = {"amount": "100000", "term_months": 12, "purpose": "流动\x00资金"}
    _nul_refused(client.post("/api/v1/needs", json=need, headers=auth("enterprise")), "purpose")
    pushed = client.post(
        "/api/v1/ingest/records?category=tax_payment",
        json=[{"credit_code": "x"}, {"credit_code": "x", "案号": "a\x00"}],
        headers=auth("provider-tax") | {"Idempotency-Key": "nul-1"},
    )
    _nul_refused(pushed, "1.案号")
    assert client.get("/api/v1/ingest/batches", headers=operator).json()["total"] == 0
    assert client.get("/api/v1/needs", headers=auth("enterprise")).json()["items"] == []
    # an escaped backslash before "u0000" is text, not NUL
    fine = client.get("/api/v1/catalog/categories", params={"provider": "\\u0000"})
    assert fine.status_code == 200


def test_text_holding_nul_is_refused_naming_the_field(client: TestClient, auth: Auth) -> None:
    _nul_everywhere(client, auth)


@pytest.mark.postgres
def test_text_holding_nul_never_reaches_postgres(pg_url: str) -> None:
    """PostgreSQL's text cannot hold NUL: before the check it failed there, a 500."""
    from tests.accounts import ENTERPRISE_CODE, token_for
    from xinyidai.app import create_app
    from xinyidai.core import db as core_db
    from xinyidai.iam import service as iam_service
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    session = core_db.new_session()
    registry_service.create(
        session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
    )
    iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    session.commit()
    session.close()
    with TestClient(create_app()) as client:

        def auth(username: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token_for(client, username)}"}

        _nul_everywhere(client, auth)
