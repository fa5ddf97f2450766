"""Needs and matching: products ranked for a need with the reason of every rule, needs
ranked for an institution, and bad needs refused with nothing stored."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import list_as_dishonest
from tests.market.conftest import Auth, need_payload, publish
from xinyidai.market.models import Need


def _post_need(client: TestClient, auth: Auth, **overrides: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/needs", json=need_payload(**overrides), headers=auth("enterprise")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_matches_rank_eligible_products_first_and_say_why(
    client: TestClient, auth: Auth, market: None
) -> None:
    cheap = publish(client, auth("bank"), name="便宜快贷", rate_min="3.2000")
    dear = publish(client, auth("bank2"), name="普通贷", rate_min="4.8000", zones=[])
    too_big = publish(
        client, auth("bank2"), name="大额贷", amount_min="2000000.00", amount_max="9000000.00"
    )
    secured = publish(client, auth("bank"), name="仓单贷", collateral=["warehouse_receipt"])
    veteran = publish(client, auth("bank"), name="老企业贷", eligibility={"min_years": 30})
    need = _post_need(client, auth)
    assert need["region_code"] == "450103"
    response = client.get(f"/api/v1/needs/{need['id']}/matches?lang=en", headers=auth("enterprise"))
    assert response.status_code == 200, response.text
    matches = response.json()["items"]
    order = [m["product"]["id"] for m in matches]
    assert order[:2] == [cheap["id"], dear["id"]]
    assert set(order[2:]) == {too_big["id"], secured["id"], veteran["id"]}
    by_id = {m["product"]["id"]: m for m in matches}
    assert by_id[cheap["id"]]["eligible"] is True
    assert by_id[cheap["id"]]["score"] > by_id[dear["id"]]["score"]

    def failed(product: dict[str, object]) -> dict[str, str]:
        return {c["rule"]: c["reason"] for c in by_id[product["id"]]["checks"] if not c["passed"]}

    assert failed(too_big) == {"amount": "amount outside 2000000.00–9000000.00 yuan"}
    assert failed(secured) == {"collateral": "needs one of: warehouse_receipt"}
    assert failed(veteran) == {"years": "in business fewer than 30 years"}
    only = client.get(
        f"/api/v1/needs/{need['id']}/matches?eligible_only=true", headers=auth("enterprise")
    ).json()["items"]
    assert [m["product"]["id"] for m in only] == [cheap["id"], dear["id"]]
    chinese = client.get(f"/api/v1/needs/{need['id']}/matches", headers=auth("enterprise")).json()[
        "items"
    ]
    reasons = [c["reason"] for m in chinese for c in m["checks"]]
    assert any("不在" in r or "超出" in r or "需要" in r for r in reasons)


def test_a_dishonest_debtor_is_excluded_with_the_reason(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    list_as_dishonest(session, ENTERPRISE_CODE)
    session.commit()
    need = _post_need(client, auth)
    matches = client.get(
        f"/api/v1/needs/{need['id']}/matches?lang=en", headers=auth("enterprise")
    ).json()["items"]
    (match,) = matches
    assert match["product"]["id"] == product["id"]
    assert match["eligible"] is False
    assert {c["rule"]: c["passed"] for c in match["checks"]}["dishonest"] is False


def test_institutions_see_needs_matching_their_products(
    client: TestClient, auth: Auth, market: None
) -> None:
    mine = publish(client, auth("bank"))
    publish(client, auth("bank2"), regions=["640000"])  # does not serve Nanning
    need = _post_need(client, auth)
    seen = client.get("/api/v1/institution/matches", headers=auth("bank")).json()["items"]
    assert [(m["need"]["id"], m["product_id"]) for m in seen] == [(need["id"], mine["id"])]
    assert client.get("/api/v1/institution/matches", headers=auth("bank2")).json()["items"] == []
    everything = client.get(
        "/api/v1/institution/matches?eligible_only=false", headers=auth("bank2")
    ).json()["items"]
    assert [m["eligible"] for m in everything] == [False]
    # an institution sees only its own products among a need's matches
    theirs = client.get(f"/api/v1/needs/{need['id']}/matches", headers=auth("bank")).json()["items"]
    assert [m["product"]["id"] for m in theirs] == [mine["id"]]
    # a closed need is the enterprise's own business again
    closed = client.post(f"/api/v1/needs/{need['id']}/close", headers=auth("enterprise"))
    assert closed.json()["state"] == "closed"
    assert client.get(f"/api/v1/needs/{need['id']}", headers=auth("bank")).status_code == 404
    assert client.get("/api/v1/institution/matches", headers=auth("bank")).json()["items"] == []


def test_bad_needs_are_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    cases = [
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 400}, "term_months"),
        ({"max_rate": "50"}, "max_rate"),
        ({"collateral": ["gold"]}, "collateral"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"purpose": ""}, "purpose"),
    ]
    for change, field in cases:
        response = client.post(
            "/api/v1/needs", json=need_payload(**change), headers=auth("enterprise")
        )
        assert response.status_code == 422, change
        assert response.json()["error"]["field"] == field, change
    refused = client.post("/api/v1/needs", json=need_payload(), headers=auth("bank"))
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Need)) == 0
