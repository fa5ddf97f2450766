"""The financing part of the panoramic profile: the enterprise and the operator see all its
applications and loans; an institution sees only those it received and made."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth, apply, publish

URL = f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile"


def _financing(client: TestClient, headers: dict[str, str]) -> dict:
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["financing"])


def test_each_viewer_sees_the_financing_it_is_party_to(
    client: TestClient, auth: Auth, signed: None
) -> None:
    product = publish(client, auth("bank"))
    app = apply(client, auth("enterprise"), product["id"])
    decided = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve", "amount": "300000.00", "rate": "4.2000", "term_months": 12},
        headers=auth("bank"),
    )
    assert decided.status_code == 200, decided.text
    loan = client.post(f"/api/v1/applications/{app['id']}/disburse", headers=auth("bank"))
    assert loan.status_code == 201, loan.text
    other = publish(client, auth("bank2"), name="第二银行信用贷")
    pending = apply(client, auth("enterprise"), other["id"])

    own = _financing(client, auth("enterprise"))
    assert own["scope"] == "all"
    assert {a["id"] for a in own["applications"]} == {app["id"], pending["id"]}
    assert own["approved"] == 1
    assert [x["id"] for x in own["loans"]] == [loan.json()["id"]]
    assert own["outstanding"] == "300000.00"
    assert own["in_default"] == 0
    assert _financing(client, auth("operator"))["applications"] == own["applications"]

    bank = _financing(client, auth("bank"))
    assert bank["scope"] == "own"
    assert [a["id"] for a in bank["applications"]] == [app["id"]]
    assert len(bank["loans"]) == 1

    second = _financing(client, auth("bank2"))
    assert [a["id"] for a in second["applications"]] == [pending["id"]]
    assert second["loans"] == []
    assert second["outstanding"] == "0"
