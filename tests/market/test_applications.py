"""Applications through the API: the letter granted on applying, the report through the
access decision, every guarded transition, idempotent submission, and each bad input
refused with its field and nothing changed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth, application_payload, apply, publish
from xinyidai.audit.models import AccessEvent
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.core.transitions import Transition
from xinyidai.iam import service as iam_service
from xinyidai.market.models import Application


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _application_moves(session: Session) -> int:
    """Recorded transitions of applications (products record theirs in the same table)."""
    session.expire_all()
    stmt = select(func.count()).where(Transition.subject_kind == "application")
    return int(session.scalar(stmt) or 0)


def test_the_story_from_application_to_approval(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    need = client.post(
        "/api/v1/needs",
        json={"amount": "500000.00", "term_months": 12, "purpose": "采购原材料"},
        headers=auth("enterprise"),
    ).json()
    app = apply(client, auth("enterprise"), product["id"], need_id=need["id"])
    assert app["state"] == "submitted"
    assert app["need_id"] == need["id"]
    letter = session.scalar(
        select(AuthorizationLetter).where(AuthorizationLetter.public_id == app["letter_id"])
    )
    assert letter is not None
    assert letter.grantee_id == product["institution_id"]
    assert letter.purpose == "loan_application"
    assert letter.state == "active"
    assert app["id"] in (letter.note or "")

    # the institution reads the credit report under the application's letter, logged
    before = _count(session, AccessEvent)
    report = client.get(f"/api/v1/applications/{app['id']}/report", headers=auth("bank"))
    assert report.status_code == 200, report.text
    assert {s["category"] for s in report.json()["sections"]} >= {"registration", "tax_payment"}
    assert all(
        s["letter_id"] == app["letter_id"]
        for s in report.json()["sections"]
        if s["basis"] == "letter"
    )
    assert _count(session, AccessEvent) == before + 1
    # another bank sees neither the application nor the report
    assert client.get(f"/api/v1/applications/{app['id']}", headers=auth("bank2")).status_code == 404
    assert (
        client.get(f"/api/v1/applications/{app['id']}/report", headers=auth("bank2")).status_code
        == 404
    )

    def post(path: str, who: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/applications/{app['id']}/{path}", json=body, headers=auth(who)
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert post("accept", "bank")["state"] == "accepted"
    asked = post("request-info", "bank", {"note": "请补充近三个月银行流水"})
    assert asked["state"] == "info_requested"
    assert asked["info_request"] == "请补充近三个月银行流水"
    assert post("supply-info", "enterprise", {"note": "已上传"})["state"] == "accepted"
    decided = post(
        "decision",
        "bank",
        {"outcome": "approve", "amount": "400000.00", "rate": "3.8500", "term_months": 12},
    )
    assert decided["state"] == "approved"
    assert decided["decision_mode"] == "manual"
    assert (decided["decided_amount"], decided["decided_rate"]) == ("400000.00", "3.8500")
    assert decided["decision_ms"] is not None
    assert [t["transition"] for t in decided["transitions"]] == [
        "submit",
        "accept",
        "request_info",
        "supply_info",
        "approve",
    ]
    assert decided["transitions"][-1]["actor"] == "user:bank"
    mine = client.get("/api/v1/applications", headers=auth("enterprise")).json()
    assert [(a["id"], a["state"]) for a in mine["items"]] == [(app["id"], "approved")]
    queue = client.get("/api/v1/applications?state=approved", headers=auth("bank")).json()
    assert queue["total"] == 1
    times = {
        t["mode"]: t
        for t in client.get("/api/v1/market/decision-times", headers=auth("bank")).json()
    }
    assert times["manual"]["count"] == 1
    assert times["manual"]["median_ms"] == decided["decision_ms"]
    assert times["automatic"]["count"] == 0


def test_submission_is_idempotent(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    body = application_payload(product["id"])
    headers = auth("enterprise") | {"Idempotency-Key": "order-20261123-1"}
    first = client.post("/api/v1/applications", json=body, headers=headers)
    again = client.post("/api/v1/applications", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post(
        "/api/v1/applications", json=body | {"amount": "600000.00"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert _count(session, Application) == 1
    assert _count(session, AuthorizationLetter) == 1


def test_bad_applications_are_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    cases = [
        ({"authorize": False}, 422, "authorize"),
        ({"amount": "5000000.00"}, 422, "amount"),
        ({"amount": "-1"}, 422, "amount"),
        ({"term_months": 60}, 422, "term_months"),
        ({"repayment_method": "equal_principal"}, 422, "repayment_method"),
        ({"product_id": "prd_missing"}, 404, "product_id"),
        ({"need_id": "ned_missing"}, 404, "need_id"),
    ]
    for change, status, field in cases:
        response = client.post(
            "/api/v1/applications",
            json=application_payload(product["id"]) | change,
            headers=auth("enterprise"),
        )
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    refused = client.post(
        "/api/v1/applications", json=application_payload(product["id"]), headers=auth("bank")
    )
    assert refused.status_code == 403
    assert _count(session, Application) == 0
    assert _count(session, AuthorizationLetter) == 0
    assert _application_moves(session) == 0


def test_applying_twice_to_the_same_product_is_a_conflict(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    first = apply(client, auth("enterprise"), product["id"])
    twice = client.post(
        "/api/v1/applications", json=application_payload(product["id"]), headers=auth("enterprise")
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["field"] == "product_id"
    assert first["id"] in twice.json()["error"]["message"]
    assert _count(session, Application) == 1


def test_paused_products_and_suspended_institutions_take_no_applications(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    paused = publish(client, auth("bank"))
    client.post(f"/api/v1/products/{paused['id']}/pause", headers=auth("bank"))
    response = client.post(
        "/api/v1/applications", json=application_payload(paused["id"]), headers=auth("enterprise")
    )
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "product_id"
    theirs = publish(client, auth("bank2"))
    bank2 = iam_service.get_user_or_raise(session, username="bank2").organization
    iam_service.suspend_organization(session, organization=bank2, actor="test", reason="review")
    session.commit()
    response = client.post(
        "/api/v1/applications", json=application_payload(theirs["id"]), headers=auth("enterprise")
    )
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "product_id"
    assert (
        "not active"
        in client.post(
            "/api/v1/applications?lang=en",
            json=application_payload(theirs["id"]),
            headers=auth("enterprise"),
        ).json()["error"]["message"]
    )
    assert _count(session, Application) == 0


def test_bad_decisions_are_refused_and_change_nothing(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    app = apply(client, auth("enterprise"), product["id"])
    url = f"/api/v1/applications/{app['id']}/decision"
    cases = [
        ({"outcome": "approve", "rate": "9.0000"}, 422, "rate"),
        ({"outcome": "approve", "rate": "3.0000"}, 422, "rate"),
        ({"outcome": "approve", "amount": "600000.00"}, 422, "amount"),
        ({"outcome": "approve", "term_months": 48}, 422, "term_months"),
        ({"outcome": "reject"}, 422, "reason"),
        ({"outcome": "maybe"}, 422, "outcome"),
    ]
    for body, status, field in cases:
        response = client.post(url, json=body, headers=auth("bank"))
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["field"] == field, body
    assert (
        client.post(url, json={"outcome": "approve"}, headers=auth("enterprise")).status_code == 403
    )
    assert client.post(url, json={"outcome": "approve"}, headers=auth("bank2")).status_code == 404
    session.expire_all()
    row = session.scalar(select(Application).where(Application.public_id == app["id"]))
    assert row is not None
    assert row.state == "submitted"
    assert row.decided_amount is None
    assert _application_moves(session) == 1

    done = client.post(
        url, json={"outcome": "reject", "reason": "经营年限不足"}, headers=auth("bank")
    )
    assert done.status_code == 200
    assert done.json()["decision_reason"] == "经营年限不足"
    twice = client.post(url, json={"outcome": "approve"}, headers=auth("bank"))
    assert twice.status_code == 409
    assert twice.json()["error"]["field"] == "state"


def test_a_withdrawn_application_cannot_be_decided(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    app = apply(client, auth("enterprise"), product["id"])
    gone = client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=auth("enterprise"))
    assert gone.json()["state"] == "withdrawn"
    late = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        json={"outcome": "approve"},
        headers=auth("bank"),
    )
    assert late.status_code == 409
    assert late.json()["error"]["field"] == "state"
    assert (
        client.post(f"/api/v1/applications/{app['id']}/accept", headers=auth("bank")).status_code
        == 409
    )
    # the enterprise cannot accept its own application, nor the bank withdraw it
    other = apply(client, auth("enterprise"), product["id"])
    assert (
        client.post(
            f"/api/v1/applications/{other['id']}/accept", headers=auth("enterprise")
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/applications/{other['id']}/withdraw", headers=auth("bank")
        ).status_code
        == 403
    )
    info = client.post(
        f"/api/v1/applications/{other['id']}/request-info", json={}, headers=auth("bank")
    )
    assert info.status_code == 422
    assert info.json()["error"]["field"] == "note"


def test_a_revoked_letter_refuses_the_report(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    app = apply(client, auth("enterprise"), product["id"])
    revoked = client.post(
        f"/api/v1/letters/{app['letter_id']}/revoke", json={}, headers=auth("enterprise")
    )
    assert revoked.status_code == 200, revoked.text
    before = _count(session, AccessEvent)
    report = client.get(f"/api/v1/applications/{app['id']}/report", headers=auth("bank"))
    assert report.status_code == 403
    assert _count(session, AccessEvent) == before + 1  # the refusal is logged too


def test_open_applications_expire(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    from datetime import timedelta

    from xinyidai.core import clock
    from xinyidai.market import service

    product = publish(client, auth("bank"))
    app = apply(client, auth("enterprise"), product["id"])
    with clock.frozen_at(clock.now() + timedelta(days=31)):
        assert service.applications.expire_due(session) == 1
    session.commit()
    expired = client.get(f"/api/v1/applications/{app['id']}", headers=auth("enterprise")).json()
    assert expired["state"] == "expired"
    assert expired["transitions"][-1]["actor"] == "system:expiry"
