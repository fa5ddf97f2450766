"""Marketplace pages: the whole story through the portal for each role, and bad input
shown next to its field with nothing stored."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth, publish
from tests.web.conftest import csrf_of, sign_in
from xinyidai.market.models import Application, Loan, Product


def _as(client: TestClient, username: str) -> str:
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303  # type: ignore[attr-defined]
    return csrf_of(client.get("/dashboard").text)


def _post(client: TestClient, path: str, token: str, data: dict[str, object]) -> object:
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_the_market_story_through_the_portal(
    client: TestClient, signed: None, session: Session
) -> None:
    token = _as(client, "bank")
    assert "/market/my-products" in client.get("/dashboard").text
    drafted = _post(
        client,
        "/market/my-products",
        token,
        {
            "name": "税易贷",
            "product_type": "tax",
            "amount_min": "100000",
            "amount_max": "2000000",
            "term_min": "6",
            "term_max": "24",
            "rate_min": "3.6",
            "rate_max": "5.5",
            "repayment_methods": ["equal_principal", "interest_only"],
            "zones": ["fast"],
            "regions": "450000",
            "no_dishonest": "yes",
        },
    )
    assert drafted.status_code == 303, drafted.text  # type: ignore[attr-defined]
    product_path = drafted.headers["location"]  # type: ignore[attr-defined]
    product_id = product_path.rsplit("/", 1)[-1]
    assert _post(client, f"/market/my-products/{product_id}/publish", token, {}).status_code == 303  # type: ignore[attr-defined]

    client.cookies.clear()
    shelf = client.get("/market?type=tax")
    assert shelf.status_code == 200
    assert "税易贷" in shelf.text

    token = _as(client, "enterprise")
    need = _post(
        client,
        "/market/needs",
        token,
        {"amount": "300000", "term_months": "12", "purpose": "支付货款", "urgency": "urgent"},
    )
    assert need.status_code == 303  # type: ignore[attr-defined]
    matches = client.get(need.headers["location"])  # type: ignore[attr-defined]
    assert f'data-product="{product_id}" data-eligible="true"' in matches.text
    form = {
        "amount": "300000",
        "term_months": "12",
        "repayment_method": "equal_principal",
        "purpose": "支付货款",
    }
    refused = _post(client, f"/market/products/{product_id}/apply", token, form)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'data-error-for="authorize"' in refused.text  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(Application)) == 0
    applied = _post(
        client, f"/market/products/{product_id}/apply", token, form | {"authorize": "yes"}
    )
    assert applied.status_code == 303  # type: ignore[attr-defined]
    app_path = applied.headers["location"]  # type: ignore[attr-defined]
    assert 'data-testid="application-state"' in client.get(app_path).text

    token = _as(client, "bank")
    page = client.get(app_path)
    assert 'data-testid="decision-form"' in page.text
    report = client.get(app_path + "/report")
    assert report.status_code == 200
    assert 'data-category="registration"' in report.text
    assert _post(client, app_path + "/accept", token, {}).status_code == 303  # type: ignore[attr-defined]
    bad = _post(client, app_path + "/decide", token, {"outcome": "approve", "rate": "9"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert 'data-error-for="rate"' in bad.text  # type: ignore[attr-defined]
    decided = _post(
        client,
        app_path + "/decide",
        token,
        {"outcome": "approve", "amount": "300000", "rate": "3.9", "term_months": "12"},
    )
    assert decided.status_code == 303  # type: ignore[attr-defined]
    loan = _post(client, app_path + "/disburse", token, {"contract_number": "HT-PORTAL-1"})
    assert loan.status_code == 303  # type: ignore[attr-defined]
    loan_path = loan.headers["location"]  # type: ignore[attr-defined]
    too_much = _post(client, loan_path + "/repay", token, {"amount": "999999999"})
    assert too_much.status_code == 422  # type: ignore[attr-defined]
    assert 'data-error-for="amount"' in too_much.text  # type: ignore[attr-defined]
    paid = _post(client, loan_path + "/repay", token, {"amount": "25975.00"})
    assert paid.status_code == 303  # type: ignore[attr-defined]
    book = client.get("/market/loans")
    assert "HT-PORTAL-1" in book.text
    assert client.get("/market/incoming").status_code == 200

    _as(client, "operator")
    overview = client.get("/market/overview")
    assert overview.status_code == 200
    assert 'id="market-chart-data"' in overview.text
    assert re.search(r"演示商业银行</th><td>1</td><td>1</td><td>1</td>", overview.text)
    assert session.scalar(select(func.count()).select_from(Loan)) == 1
    assert session.scalar(select(func.count()).select_from(Product)) == 1


def test_pages_refuse_the_wrong_role(client: TestClient, signed: None) -> None:
    _as(client, "enterprise")
    assert client.get("/market/my-products", follow_redirects=False).status_code == 403
    assert client.get("/market/overview", follow_redirects=False).status_code == 403
    _as(client, "bank")
    assert client.get("/market/needs", follow_redirects=False).status_code == 403


def test_a_products_page_offers_the_moves_its_state_allows_and_shows_its_progress(
    client: TestClient, auth: Auth, signed: None
) -> None:
    product = publish(client, auth("bank"))
    pid = product["id"]
    assert client.post(f"/api/v1/products/{pid}/pause", headers=auth("bank")).status_code == 200
    _as(client, "bank")
    page = client.get(f"/market/products/{pid}")
    assert page.status_code == 200
    assert 'data-action="publish"' in page.text
    assert 'data-action="withdraw"' in page.text
    assert 'data-action="pause"' not in page.text  # a paused product is not paused again
    history = page.text.split('data-testid="product-history"', 1)[1].split("</ol>", 1)[0]
    assert history.count("<li>") == 3
    assert all(word in history for word in ("创建", "发布", "暂停"))
    assert "user:bank" in history
    _as(client, "operator")
    assert 'data-testid="product-history"' in client.get(f"/market/products/{pid}").text
    assert client.post(f"/api/v1/products/{pid}/publish", headers=auth("bank")).status_code == 200
    _as(client, "enterprise")
    shelf = client.get(f"/market/products/{pid}")
    assert shelf.status_code == 200
    assert 'data-testid="product-history"' not in shelf.text
    assert 'data-action="withdraw"' not in shelf.text
