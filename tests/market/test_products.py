"""Products through the API: drafting, the publishing guard, the supermarket's filters and
every bad input refused with its field and nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth, product_payload, publish
from xinyidai.core.errors import Forbidden
from xinyidai.iam import service as iam_service
from xinyidai.market.models import Product


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Product)) or 0)


def test_an_institution_drafts_and_publishes_a_product(
    client: TestClient, auth: Auth, market: None
) -> None:
    created = client.post("/api/v1/products", json=product_payload(), headers=auth("bank"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "draft"
    assert body["institution_name"] == "演示商业银行"
    assert body["rate_min"] == "3.4500"
    assert client.get("/api/v1/products").json()["total"] == 0  # a draft is not on the shelf
    assert client.get(f"/api/v1/products/{body['id']}").status_code == 404
    published = client.post(f"/api/v1/products/{body['id']}/publish", headers=auth("bank"))
    assert published.status_code == 200
    assert published.json()["state"] == "published"
    shelf = client.get("/api/v1/products").json()
    assert [p["id"] for p in shelf["items"]] == [body["id"]]


def test_the_supermarket_filters_by_type_zone_region_and_amount(
    client: TestClient, auth: Auth, market: None
) -> None:
    credit = publish(client, auth("bank"))
    green = publish(
        client,
        auth("bank2"),
        name="绿色信贷",
        product_type="supply_receivable",
        zones=["green", "rural"],
        regions=["450100"],
        amount_min="1000000.00",
        amount_max="10000000.00",
        collateral=["receivables"],
    )
    elsewhere = publish(client, auth("bank2"), name="宁夏专属", regions=["640000"], zones=[])

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/products?{query}")
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()["items"]}

    assert ids("") == {credit["id"], green["id"], elsewhere["id"]}
    assert ids("type=supply_receivable") == {green["id"]}
    assert ids("zone=green") == {green["id"]}
    assert ids("zone=fast") == {credit["id"]}
    assert ids("region=450103") == {credit["id"], green["id"]}
    assert ids("region=640104") == {elsewhere["id"]}
    assert ids("amount=5000000") == {green["id"]}
    assert ids("amount=200000&region=450103") == {credit["id"]}


def test_bad_filters_name_the_field(client: TestClient, market: None) -> None:
    for query, field in (
        ("type=mortgage", "type"),
        ("zone=moon", "zone"),
        ("region=999999", "region"),
        ("amount=-5", "amount"),
    ):
        response = client.get(f"/api/v1/products?{query}")
        assert response.status_code == 422, query
        assert response.json()["error"]["field"] == field


def test_bad_products_are_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    cases = [
        ({"product_type": "mortgage"}, "product_type"),
        ({"amount_min": "0"}, "amount_min"),
        ({"amount_max": "50000.00"}, "amount_max"),
        ({"amount_min": "100000.001"}, "amount_min"),
        ({"term_min": 0}, "term_min"),
        ({"term_max": 3}, "term_max"),
        ({"rate_min": "40"}, "rate_min"),
        ({"rate_max": "3.0000"}, "rate_max"),
        ({"repayment_methods": []}, "repayment_methods"),
        ({"repayment_methods": ["balloon"]}, "repayment_methods"),
        ({"regions": ["123456"]}, "regions"),
        ({"industries": ["Z99"]}, "industries"),
        ({"zones": ["moon"]}, "zones"),
        ({"collateral": ["gold"]}, "collateral"),
        ({"eligibility": {"min_grade": "AAAA"}}, "eligibility.min_grade"),
        ({"eligibility": {"min_tax_grade": "Q"}}, "eligibility.min_tax_grade"),
    ]
    for change, field in cases:
        response = client.post(
            "/api/v1/products", json=product_payload(**change), headers=auth("bank")
        )
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    assert _count(session) == 0


def test_only_institutions_manage_products(client: TestClient, auth: Auth, market: None) -> None:
    assert (
        client.post("/api/v1/products", json=product_payload(), headers=auth("enterprise"))
    ).status_code == 403
    assert client.post("/api/v1/products", json=product_payload()).status_code == 401
    mine = publish(client, auth("bank"))
    other = client.post(f"/api/v1/products/{mine['id']}/pause", headers=auth("bank2"))
    assert other.status_code == 403
    assert other.json()["error"]["field"] == "product_id"


def test_product_transitions_are_guarded(client: TestClient, auth: Auth, market: None) -> None:
    product = publish(client, auth("bank"))
    pid = product["id"]
    paused = client.post(f"/api/v1/products/{pid}/pause", headers=auth("bank"))
    assert paused.json()["state"] == "paused"
    assert client.get("/api/v1/products").json()["total"] == 0
    again = client.post(f"/api/v1/products/{pid}/pause", headers=auth("bank"))
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "state"
    assert client.post(f"/api/v1/products/{pid}/publish", headers=auth("bank")).status_code == 200
    assert client.post(f"/api/v1/products/{pid}/withdraw", headers=auth("bank")).status_code == 200
    revived = client.post(f"/api/v1/products/{pid}/publish", headers=auth("bank"))
    assert revived.status_code == 409
    changed = client.put(f"/api/v1/products/{pid}", json=product_payload(), headers=auth("bank"))
    assert changed.status_code == 409
    own = client.get("/api/v1/institution/products", headers=auth("bank")).json()["items"]
    assert [(p["id"], p["state"]) for p in own] == [(pid, "withdrawn")]


def test_a_suspended_institutions_products_leave_the_shelf(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    product = publish(client, auth("bank2"))
    draft = client.post("/api/v1/products", json=product_payload(), headers=auth("bank2")).json()
    bank2 = next(
        o
        for o in iam_service.list_organizations(session, kind="institution", size=50)[0]
        if o.name == "第二商业银行"
    )
    iam_service.suspend_organization(
        session, organization=bank2, actor="test", reason="licence under review"
    )
    session.commit()
    assert product["id"] not in {p["id"] for p in client.get("/api/v1/products").json()["items"]}
    # a suspended institution cannot sign in, let alone publish: the service refuses too
    from xinyidai.core.db import new_session
    from xinyidai.market import service

    with new_session() as other:
        row = service.products.get_or_raise(other, product_id=draft["id"])
        principal = iam_service.principal_for_user(
            iam_service.get_user(other, username="bank2"), via="token"
        )
        with pytest.raises(Forbidden) as refused:
            service.products.move(other, principal=principal, product=row, transition="publish")
        assert refused.value.field == "institution"
        assert row.state == "draft"


def test_a_products_moves_are_recorded_and_shown_to_its_institution_and_the_operator(
    client: TestClient, auth: Auth, market: None
) -> None:
    pid = client.post("/api/v1/products", json=product_payload(), headers=auth("bank")).json()["id"]
    for move in ("publish", "pause", "publish", "withdraw"):
        moved = client.post(f"/api/v1/products/{pid}/{move}", headers=auth("bank"))
        assert moved.status_code == 200, moved.text
    refused = client.post(f"/api/v1/products/{pid}/pause", headers=auth("bank"))
    assert refused.status_code == 409
    history = client.get(f"/api/v1/products/{pid}/transitions", headers=auth("bank"))
    assert history.status_code == 200, history.text
    rows = history.json()
    assert [(r["transition"], r["from_state"], r["to_state"]) for r in rows] == [
        ("create", None, "draft"),
        ("publish", "draft", "published"),
        ("pause", "published", "paused"),
        ("publish", "paused", "published"),
        ("withdraw", "published", "withdrawn"),
    ]  # the refused pause left no row
    assert {r["actor"] for r in rows} == {"user:bank"}
    assert all(r["reason"] is None and r["at"] for r in rows)
    operator = client.get(f"/api/v1/products/{pid}/transitions", headers=auth("operator"))
    assert operator.json() == rows


def test_a_products_history_is_for_its_institution_and_the_operator_only(
    client: TestClient, auth: Auth, market: None
) -> None:
    shelved = publish(client, auth("bank"))
    url = f"/api/v1/products/{shelved['id']}/transitions"
    for who in ("bank2", "enterprise"):
        refused = client.get(url + "?lang=en", headers=auth(who))
        assert refused.status_code == 403, who
        assert refused.json()["error"]["field"] == "product_id"
        assert "history" in refused.json()["error"]["message"]
    assert client.get(url).status_code == 401
    draft = client.post("/api/v1/products", json=product_payload(), headers=auth("bank")).json()
    hidden = client.get(f"/api/v1/products/{draft['id']}/transitions", headers=auth("bank2"))
    assert hidden.status_code == 404  # a draft of another institution is not there at all
    missing = client.get("/api/v1/products/prd_missing/transitions", headers=auth("bank"))
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "product_id"
