"""Every integer a caller sends is bounded: one too large for the database is a 422 naming
the field (never an ``OverflowError`` or ``integer out of range`` answered as a 500), and
the OpenAPI document publishes both bounds of every integer parameter and body field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from xinyidai.core.bounds import BIGINT_MAX, BIGINT_MIN, INT_MAX, INT_MIN
from xinyidai.iam.service import DemoAccount

Auth = Callable[[str], dict[str, str]]

HUGE = 10**20  # the page=99999999999999999999 and commitment version 10^20
VERY_NEGATIVE = -(23 * 10**31)  # the conflict id of -2.3 × 10^32


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _integers(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every integer schema inside ``schema``, with where it is."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        schema = _resolve(document, schema)
    if schema.get("type") == "integer":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _integers(document, option, where, seen)
    for name, child in schema.get("properties", {}).items():
        yield from _integers(document, child, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _integers(document, schema[key], f"{where}[]", seen)


def test_every_integer_the_api_takes_has_both_bounds(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    found: list[str] = []
    unbounded: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            places: list[tuple[str, dict[str, Any]]] = [
                (f"{parameter['in']} {parameter['name']}", parameter.get("schema", {}))
                for parameter in operation.get("parameters", [])
            ]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                places.append(("body", media.get("schema", {})))
            for where, schema in places:
                for name, integer in _integers(document, schema, where, set()):
                    label = f"{method.upper()} {path} {name}"
                    found.append(label)
                    low, high = integer.get("minimum"), integer.get("maximum")
                    if low is None or high is None or low < BIGINT_MIN or high > BIGINT_MAX:
                        unbounded.append(label)
    assert len(found) > 20  # pages, sizes, ledger indexes, terms, days, versions, ids
    assert unbounded == []


def _invalid(response: Any, field: str, *, reason: str | None = None) -> None:
    """A 422 in the error shape naming ``field``; its message names it too (``field:
    reason``), or is ``reason`` when a service gave it."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    if reason is None:
        assert error["message"].startswith(field)  # "page：Input should be less than…"
    else:
        assert error["message"] == reason


def test_a_huge_page_number_is_refused_naming_the_page(client: TestClient) -> None:
    _invalid(client.get("/api/v1/products", params={"page": "9" * 20}), "page")
    _invalid(client.get("/api/v1/products", params={"page": INT_MAX + 1}), "page")
    last = client.get("/api/v1/products", params={"page": INT_MAX})
    assert last.status_code == 200, last.text
    assert last.json()["items"] == []


def test_a_huge_commitment_version_is_refused_and_nothing_is_signed(
    client: TestClient, auth: Auth, demo: list[DemoAccount]
) -> None:
    headers = auth("enterprise")
    for version in (HUGE, INT_MAX + 1, INT_MIN - 1):
        response = client.post("/api/v1/me/commitment", json={"version": version}, headers=headers)
        _invalid(response, "version")
    assert client.get("/api/v1/me/commitment", headers=headers).json()["items"] == []
    missing = client.post("/api/v1/me/commitment", json={"version": INT_MAX}, headers=headers)
    assert missing.status_code == 404, missing.text


def test_a_huge_conflict_id_is_refused_naming_it(client: TestClient, auth: Auth) -> None:
    headers = auth("operator")
    for conflict in (VERY_NEGATIVE, BIGINT_MAX + 1):
        response = client.post(f"/api/v1/records/conflicts/{conflict}/resolve", headers=headers)
        _invalid(response, "conflict_id")
    missing = client.post(f"/api/v1/records/conflicts/{BIGINT_MIN}/resolve", headers=headers)
    assert missing.status_code == 404, missing.text


def test_ledger_indexes_past_bigint_are_refused(client: TestClient) -> None:
    _invalid(client.get("/api/v1/ledger/entries", params={"start": BIGINT_MAX + 1}), "start")
    _invalid(
        client.get("/api/v1/ledger/proof/inclusion", params={"index": HUGE, "tree_size": 1}),
        "index",
    )
    _invalid(
        client.get("/api/v1/ledger/proof/consistency", params={"first": 1, "second": HUGE}),
        "second",
    )


def test_body_integers_past_the_column_are_refused_naming_them(
    client: TestClient, auth: Auth
) -> None:
    need = {"amount": "100000", "term_months": HUGE, "purpose": "流动资金"}
    _invalid(client.post("/api/v1/needs", json=need, headers=auth("enterprise")), "term_months")
    enterprise = auth("enterprise")
    letter = {
        "grantee_scope": "any_institution",
        "categories": ["tax_payment"],
        "purpose": "loan_application",
        "valid_until": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
        "max_queries": HUGE,
    }
    _invalid(client.post("/api/v1/letters", json=letter, headers=enterprise), "max_queries")
    # within an integer, but a period no letter lives (and past the range of a date when
    # added to the last use): refused, not a 500 at the next use
    periodic = letter | {"max_queries": 3, "fetch_mode": "periodic", "fetch_period_days": INT_MAX}
    _invalid(
        client.post("/api/v1/letters", json=periodic, headers=enterprise),
        "fetch_period_days",
        reason="必须在 1 到 1830 之间",
    )
    assert client.get("/api/v1/letters", headers=enterprise).json()["total"] == 0


def test_a_resubmitted_rejection_id_past_bigint_is_refused(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/ingest/batches/bat_x/resubmit",
        json={"rows": [{"rejection_id": HUGE, "案号": "x"}]},
        headers=auth("provider-tax"),
    )
    _invalid(response, "rows.0.rejection_id", reason="第 0 行：rejection_id 超出范围")


@pytest.mark.postgres
def test_the_bounds_themselves_never_reach_an_error_on_postgres(pg_url: str) -> None:
    """At the bounds the database answers (an empty page, nothing found), never overflows:
    PostgreSQL's ``integer`` and ``bigint`` are the narrowest columns the values reach."""
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
        operator = {"Authorization": f"Bearer {token_for(client, 'operator')}"}
        enterprise = {"Authorization": f"Bearer {token_for(client, 'enterprise')}"}
        page = client.get("/api/v1/products", params={"page": INT_MAX})
        assert (page.status_code, page.json()["items"]) == (200, [])
        for conflict in (BIGINT_MIN, BIGINT_MAX):
            answer = client.post(f"/api/v1/records/conflicts/{conflict}/resolve", headers=operator)
            assert answer.status_code == 404, answer.text
        for version in (INT_MIN, INT_MAX):
            answer = client.post(
                "/api/v1/me/commitment", json={"version": version}, headers=enterprise
            )
            assert answer.status_code == 404, answer.text
        proof = client.get(
            "/api/v1/ledger/proof/inclusion", params={"index": BIGINT_MAX - 1, "tree_size": 1}
        )
        assert proof.status_code in (404, 422), proof.text
        _invalid(client.get("/api/v1/products", params={"page": HUGE}), "page")
