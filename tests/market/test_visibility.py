"""Who lists which applications, loans and needs: one rule for the API and the portal, and
every list paged in the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.market.conftest import Auth, apply, need_payload, publish
from tests.web.conftest import csrf_of, sign_in


def _as(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303  # type: ignore[attr-defined]
    csrf_of(client.get("/dashboard").text)


def _ids(client: TestClient, path: str, headers: dict[str, str]) -> set[str]:
    response = client.get(path, params={"size": 200}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "page", "size"}
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _on_page(client: TestClient, path: str, marker: str) -> set[str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return set(re.findall(rf'data-{marker}="([^"]+)"', page.text))


def _story(client: TestClient, auth: Auth) -> dict[str, Any]:
    """Two applications of the demo enterprise, one to each bank; the first paid out."""
    first = publish(client, auth("bank"))
    second = publish(client, auth("bank2"), name="第二银行信用贷")
    to_bank = apply(client, auth("enterprise"), first["id"])
    to_bank2 = apply(client, auth("enterprise"), second["id"])
    decided = client.post(
        f"/api/v1/applications/{to_bank['id']}/decision",
        json={"outcome": "approve", "amount": "300000.00", "rate": "4.2000", "term_months": 12},
        headers=auth("bank"),
    )
    assert decided.status_code == 200, decided.text
    loan = client.post(f"/api/v1/applications/{to_bank['id']}/disburse", headers=auth("bank"))
    assert loan.status_code == 201, loan.text
    need = client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    assert need.status_code == 201, need.text
    return {
        "to_bank": to_bank["id"],
        "to_bank2": to_bank2["id"],
        "loan": loan.json()["id"],
        "need": need.json()["id"],
    }


def test_the_api_and_the_portal_list_the_same_rows_for_each_member(
    client: TestClient, auth: Auth, signed: None
) -> None:
    story = _story(client, auth)
    both = {story["to_bank"], story["to_bank2"]}
    expected = {
        "enterprise": (both, {story["loan"]}),
        "bank": ({story["to_bank"]}, {story["loan"]}),
        "bank2": ({story["to_bank2"]}, set()),
        "operator": (both, {story["loan"]}),
    }
    for username, (applications, loans) in expected.items():
        headers = auth(username)
        assert _ids(client, "/api/v1/applications", headers) == applications, username
        assert _ids(client, "/api/v1/loans", headers) == loans, username
        _as(client, username)
        assert _on_page(client, "/market/applications", "application") == applications, username
        assert _on_page(client, "/market/loans", "loan") == loans, username
    # needs: the enterprise its own, institutions and the operator the open ones
    for username in ("enterprise", "bank", "operator"):
        assert _ids(client, "/api/v1/needs", auth(username)) == {story["need"]}, username


@pytest.mark.parametrize("username", ["provider-tax", "auditor"])
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/applications", "applications are for enterprises, institutions and the operator"),
        ("/api/v1/loans", "loans are for enterprises, institutions and the operator"),
        ("/api/v1/needs", "financing needs are for enterprises, institutions and the operator"),
    ],
)
def test_any_other_member_is_refused_the_lists(
    client: TestClient, auth: Auth, signed: None, username: str, path: str, message: str
) -> None:
    _story(client, auth)
    refused = client.get(path, params={"lang": "en"}, headers=auth(username))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    assert refused.json()["error"]["message"] == message
    chinese = client.get(path, headers=auth(username))
    assert chinese.json()["error"]["message"] != message  # translated


def test_applications_and_loans_are_paged_in_the_database(
    client: TestClient, auth: Auth, signed: None
) -> None:
    products = [publish(client, auth("bank"), name=f"信用贷{n}") for n in range(3)]
    made = [apply(client, auth("enterprise"), p["id"])["id"] for p in products]
    pages = [
        client.get("/api/v1/applications", params={"page": n, "size": 2}, headers=auth("bank"))
        for n in (1, 2, 3)
    ]
    bodies = [page.json() for page in pages]
    assert [(b["total"], b["page"], b["size"], len(b["items"])) for b in bodies] == [
        (3, 1, 2, 2),
        (3, 2, 2, 1),
        (3, 3, 2, 0),
    ]
    assert [a["id"] for b in bodies for a in b["items"]] == made[::-1]  # newest first
    only = client.get(
        "/api/v1/applications", params={"state": "approved"}, headers=auth("bank")
    ).json()
    assert (only["total"], only["items"]) == (0, [])
    _as(client, "bank")
    assert _on_page(client, "/market/applications?page=2", "application") == set()
    assert _on_page(client, "/market/applications?page=1", "application") == set(made)


def test_the_supermarket_filters_in_the_database(
    client: TestClient, auth: Auth, market: None
) -> None:
    city = publish(client, auth("bank"), name="南宁城区贷", regions=["450100"])
    county = publish(client, auth("bank"), name="青秀区贷", regions=["450103"])
    anywhere = publish(client, auth("bank2"), name="全国通", regions=[])
    publish(client, auth("bank2"), name="宁夏贷", regions=["640000"])

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/products?{query}")
        assert response.status_code == 200, response.text
        return sorted(p["name"] for p in response.json()["items"])

    assert names("region=450103") == sorted([city["name"], county["name"], anywhere["name"]])
    assert names("region=450102") == sorted([city["name"], anywhere["name"]])
    assert names("q=%25") == []  # a wildcard is a character like any other
    assert names("q=第二商业") == [anywhere["name"], "宁夏贷"]  # the institution's name
    assert names("q=城区") == [city["name"]]
    paged = client.get("/api/v1/products", params={"size": 3, "page": 2}).json()
    assert (paged["total"], len(paged["items"])) == (4, 1)
