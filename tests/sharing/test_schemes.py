"""Schemes as data: drafted, activated, edited into a new version while the loans enrolled
keep theirs, closed; a guarantor enrolls a loan after disbursement."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.market.conftest import Auth
from tests.sharing.conftest import create_pool, disbursed_loan, scheme_payload


def test_editing_an_active_scheme_makes_a_version_and_loans_keep_theirs(
    client: TestClient, auth: Auth, scheme: dict[str, Any]
) -> None:
    first = disbursed_loan(client, auth)
    edited = client.put(
        f"/api/v1/sharing/schemes/{scheme['id']}",
        json=scheme_payload(scheme["guarantor_id"], fee_rate="1.5000"),
        headers=auth("operator"),
    )
    assert edited.status_code == 200, edited.text
    following = edited.json()
    assert following["id"] != scheme["id"]
    assert following["family_id"] == scheme["family_id"]
    assert following["version"] == 2
    assert following["state"] == "active"
    old = client.get(f"/api/v1/sharing/schemes/{scheme['id']}", headers=auth("bank")).json()
    assert old["state"] == "closed"
    assert old["state_reason"] == "version 2"
    second = disbursed_loan(client, auth)
    kept = client.get(f"/api/v1/sharing/loans/{first['id']}", headers=auth("bank")).json()
    assert kept["scheme_version"] == 1
    assert kept["fee_rate"] == "1.0000"
    new = client.get(f"/api/v1/sharing/loans/{second['id']}", headers=auth("bank")).json()
    assert new["scheme_version"] == 2
    assert new["fee"] == "900.00"
    closed = client.put(
        f"/api/v1/sharing/schemes/{scheme['id']}",
        json=scheme_payload(scheme["guarantor_id"]),
        headers=auth("operator"),
    )
    assert closed.status_code == 409
    assert closed.json()["error"]["field"] == "state"


def test_a_draft_is_edited_in_place_activated_and_closed(
    client: TestClient, auth: Auth, guarantor: str
) -> None:
    draft = client.post(
        "/api/v1/sharing/schemes", json=scheme_payload(guarantor), headers=auth("operator")
    ).json()
    assert draft["state"] == "draft"
    edited = client.put(
        f"/api/v1/sharing/schemes/{draft['id']}",
        json=scheme_payload(guarantor, name="新名称"),
        headers=auth("operator"),
    ).json()
    assert edited["id"] == draft["id"]
    assert edited["name"] == "新名称"
    assert edited["version"] == 1
    wrong = client.post(
        f"/api/v1/sharing/schemes/{draft['id']}/transitions",
        json={"transition": "supersede"},
        headers=auth("operator"),
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "transition"
    for transition, state in (("activate", "active"), ("close", "closed")):
        moved = client.post(
            f"/api/v1/sharing/schemes/{draft['id']}/transitions",
            json={"transition": transition},
            headers=auth("operator"),
        )
        assert moved.json()["state"] == state
    again = client.post(
        f"/api/v1/sharing/schemes/{draft['id']}/transitions",
        json={"transition": "activate"},
        headers=auth("operator"),
    )
    assert again.status_code == 409
    listed = client.get("/api/v1/sharing/schemes?state=closed", headers=auth("bank")).json()
    assert [item["id"] for item in listed["items"]] == [draft["id"]]


def test_the_guarantor_enrols_a_loan_after_disbursement(
    client: TestClient, auth: Auth, guarantor: str
) -> None:
    create_pool(client, auth)
    loan = disbursed_loan(client, auth)  # no scheme yet: not enrolled
    assert (
        client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank")).status_code == 404
    )
    draft = client.post(
        "/api/v1/sharing/schemes", json=scheme_payload(guarantor), headers=auth("operator")
    ).json()
    body = {"loan_id": loan["id"], "scheme_id": draft["id"]}
    inactive = client.post("/api/v1/sharing/enrolments", json=body, headers=auth("guarantor1"))
    assert inactive.status_code == 409
    assert inactive.json()["error"]["field"] == "scheme_id"
    client.post(
        f"/api/v1/sharing/schemes/{draft['id']}/transitions",
        json={"transition": "activate"},
        headers=auth("operator"),
    )
    assert (
        client.post("/api/v1/sharing/enrolments", json=body, headers=auth("bank")).status_code
        == 403
    )
    enrolled = client.post("/api/v1/sharing/enrolments", json=body, headers=auth("guarantor1"))
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["guarantor_id"] == guarantor
    assert enrolled.json()["reguarantee"] is True
    unknown = client.post(
        "/api/v1/sharing/enrolments",
        json={"loan_id": "loan_nothing", "scheme_id": draft["id"]},
        headers=auth("guarantor1"),
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "loan_id"
    twice = client.post("/api/v1/sharing/enrolments", json=body, headers=auth("guarantor1"))
    assert twice.status_code == 409
    assert twice.json()["error"]["field"] == "loan_id"
    mine = client.get("/api/v1/sharing/enrolments", headers=auth("guarantor1")).json()
    assert mine["total"] == 1
    assert client.get("/api/v1/sharing/enrolments", headers=auth("bank2")).json()["total"] == 0
