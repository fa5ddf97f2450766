"""Self-reporting through the real app: the enterprise reports an item (category
``self_reported``) with proof, it is marked self-reported in its views, and a department
confirms it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World
from tests.rights.conftest import PDF, record_of

Auth = Callable[[str], dict[str, str]]


def _marks(client: TestClient, auth: Auth) -> list[list[str]]:
    report = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("enterprise")
    ).json()["report"]
    sections = {s["category"]: s for s in report["sections"]}
    return [r["marks"] for r in sections["self_reported"]["records"]]


def test_enterprise_reports_and_a_department_confirms(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    answer = client.post(
        "/api/v1/rights/self-reports",
        data={"item": "年度营业收入", "content": "12000000"},
        files=[("files", ("审计报告.pdf", PDF, "application/pdf"))],
        headers=auth("enterprise"),
    )
    assert answer.status_code == 201, answer.text
    reported = answer.json()
    assert reported["confirmed_by"] is None
    assert [d["filename"] for d in reported["documents"]] == ["审计报告.pdf"]
    record = record_of(session, "self_reported")
    assert record.data["content"] == "12000000"
    assert record.provider == "enterprise"
    assert _marks(client, auth) == [["self_reported"]]
    csv = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"format": "csv"},
        headers=auth("enterprise"),
    ).text
    assert "_mark,self_reported" in csv

    # only a department confirms
    refused = client.post(
        f"/api/v1/rights/self-reports/{reported['id']}/confirmation", headers=auth("enterprise")
    )
    assert refused.status_code == 403
    confirmed = client.post(
        f"/api/v1/rights/self-reports/{reported['id']}/confirmation", headers=auth("provider-tax")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed_by"] == "tax"
    assert _marks(client, auth) == [["confirmed", "self_reported"]]

    # reported again: a new version, self-reported and no longer confirmed
    again = client.post(
        "/api/v1/rights/self-reports",
        data={"item": "年度营业收入", "content": "13000000"},
        headers=auth("enterprise"),
    )
    assert again.status_code == 201, again.text
    assert _marks(client, auth) == [["self_reported"]]
    late = client.post(
        f"/api/v1/rights/self-reports/{reported['id']}/confirmation", headers=auth("provider-tax")
    )
    assert late.status_code == 409


def test_an_empty_item_is_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    answer = client.post(
        "/api/v1/rights/self-reports",
        data={"item": " ", "content": "x"},
        headers=auth("enterprise"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "item"
    listed = client.get("/api/v1/rights/self-reports", headers=auth("enterprise")).json()
    assert listed["total"] == 0
