"""The alert inbox and the watch list over the API: paged lists with filters, an alert's
details through the access decision, the moves new → acknowledged → acted → closed with
their history, and bad input refused with the field and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import push
from tests.market.conftest import Auth, principal_of
from tests.risk.conftest import BASE, alerts_of, lend, penalty
from tests.worlds import demo_enterprise_in_a_circle
from xinyidai.audit.models import AccessEvent
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import LetterIn
from xinyidai.core import clock
from xinyidai.risk.models import AlertState

TODAY = clock.today().isoformat()


def _one_alert(client: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    lend(client, auth)
    penalty(session)
    listed = client.get("/api/v1/risk/alerts", headers=auth("bank"))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["total"], body["page"]) == (1, 1)
    return dict(body["items"][0])


def test_the_inbox_lists_reads_and_moves_an_alert(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    item = _one_alert(client, auth, session)
    assert (item["kind"], item["category"], item["severity"], item["state"]) == (
        "negative_record",
        "admin_penalty",
        "medium",
        "new",
    )
    assert item["credit_code"] == ENTERPRISE_CODE
    detail = client.get(f"/api/v1/risk/alerts/{item['id']}", headers=auth("bank")).json()
    assert detail["detailed"] is True  # a penalty is public: shown in full
    [record] = detail["detail"]["records"]
    assert record["data"]["decision_number"] == "南青市监罚〔2026〕88号"
    assert "ledger_index" in record
    assert [t["to_state"] for t in detail["transitions"]] == ["new"]
    event = session.scalar(
        select(AccessEvent).where(AccessEvent.public_id == detail["access_event"])
    )
    assert event is not None
    assert (event.purpose, event.subject, event.outcome) == (
        "post_loan_monitoring",
        ENTERPRISE_CODE,
        "allow",
    )
    url = f"/api/v1/risk/alerts/{item['id']}"
    moved = client.post(f"{url}/acknowledge", headers=auth("bank"))
    assert moved.status_code == 200, moved.text
    acted = client.post(
        f"{url}/act", json={"action": "contact", "note": "已电话联系企业"}, headers=auth("bank")
    )
    assert acted.status_code == 200, acted.text
    assert (acted.json()["state"], acted.json()["action"]) == ("acted", "contact")
    closed = client.post(f"{url}/close", headers=auth("bank")).json()
    assert closed["state"] == "closed"
    assert [t["transition"] for t in closed["transitions"]] == [
        "raise",
        "acknowledge",
        "act",
        "close",
    ]
    for state, total in (("closed", 1), ("new", 0)):
        page = client.get(f"/api/v1/risk/alerts?state={state}", headers=auth("bank")).json()
        assert page["total"] == total


def test_filters_and_paging(client: TestClient, auth: Auth, signed: None, session: Session) -> None:
    lend(client, auth)
    penalty(session, "罚1")
    penalty(session, "罚2")
    push(
        session,
        "court",
        "dishonest_debtor",
        [
            BASE
            | {
                "case_number": "(2026)桂0103执1号",
                "published_on": TODAY,
                "region_code": "450103",
                "amount": "50000.00",
            }
        ],
    )
    session.commit()
    headers = auth("bank")
    everything = client.get("/api/v1/risk/alerts?size=2", headers=headers).json()
    assert (everything["total"], len(everything["items"]), everything["size"]) == (3, 2, 2)
    high = client.get("/api/v1/risk/alerts?severity=high", headers=headers).json()
    assert [a["category"] for a in high["items"]] == ["dishonest_debtor"]
    mine = client.get(f"/api/v1/risk/alerts?enterprise={ENTERPRISE_CODE}", headers=headers).json()
    assert mine["total"] == 3
    watch = client.get("/api/v1/risk/watchlist", headers=headers).json()
    assert [(w["credit_code"], w["relation"]) for w in watch["items"]] == [
        (ENTERPRISE_CODE, "borrower")
    ]
    assert client.get("/api/v1/risk/watchlist", headers=auth("bank2")).json()["total"] == 0


def test_bad_filters_name_the_field(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    for query, field in (("severity=dire", "severity"), ("state=open", "state")):
        response = client.get(f"/api/v1/risk/alerts?{query}", headers=auth("bank"))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    response = client.get("/api/v1/risk/watchlist?relation=cousin", headers=auth("bank"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "relation"


def test_refusals_change_nothing(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    item = _one_alert(client, auth, session)
    url = f"/api/v1/risk/alerts/{item['id']}"
    cases = [
        ("get", "/api/v1/risk/alerts/alt_nothing", "bank", None, 404, "alert_id"),
        ("post", "/api/v1/risk/alerts/alt_nothing/acknowledge", "bank", None, 404, "alert_id"),
        ("get", url, "bank2", None, 403, "alert_id"),
        ("post", f"{url}/acknowledge", "bank2", None, 403, "alert_id"),
        ("post", f"{url}/act", "bank", {"action": "contact"}, 409, "state"),
        ("post", f"{url}/close", "bank", None, 409, "state"),
    ]
    for method, path, user, body, status, field in cases:
        response = client.request(method, path, json=body, headers=auth(user))
        assert response.status_code == status, (path, user, response.text)
        assert response.json()["error"]["field"] == field, path
    client.post(f"{url}/acknowledge", headers=auth("bank"))
    for body, field in (
        ({"action": "shout"}, "action"),
        ({"action": ""}, "action"),
    ):
        response = client.post(f"{url}/act", json=body, headers=auth("bank"))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    again = client.post(f"{url}/acknowledge", headers=auth("bank"))
    assert again.status_code == 409
    enterprise = client.get("/api/v1/risk/alerts", headers=auth("enterprise"))
    assert enterprise.status_code == 403
    [alert] = alerts_of(session)
    assert (alert.state, alert.action) == (AlertState.ACKNOWLEDGED, None)


def test_without_a_basis_the_alert_says_what_kind_not_what(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    push(
        session,
        "tax",
        "tax_rating",
        [BASE | {"year": 2025, "grade": "D", "rated_on": TODAY, "region_code": "450103"}],
    )
    session.commit()
    before = _events(session)
    [item] = client.get("/api/v1/risk/alerts?kind=tax_grade_fall", headers=auth("bank")).json()[
        "items"
    ]
    assert (item["kind"], item["category"], item["severity"], item["detailed"]) == (
        "tax_grade_fall",
        "tax_rating",
        "high",
        False,
    )
    # Listing asked the access decision for the enterprise's category, and recorded it.
    listed = _events(session)[len(before) :]
    assert [(e.subject, e.purpose, e.outcome) for e in listed] == [
        (ENTERPRISE_CODE, "post_loan_monitoring", "deny")
    ]
    url = f"/api/v1/risk/alerts/{item['id']}"
    hidden = client.get(url, headers=auth("bank")).json()
    assert (hidden["detailed"], hidden["detail"]) == (False, None)
    assert "D" not in str(hidden)
    refused = session.scalar(
        select(AccessEvent).where(AccessEvent.public_id == hidden["access_event"])
    )
    assert refused is not None
    assert (refused.purpose, refused.outcome) == ("post_loan_monitoring", "deny")
    bank = principal_of(session, "bank")
    consent_service.grant(
        session,
        principal=principal_of(session, "enterprise"),
        data=LetterIn(
            grantee_id=bank.organization_public_id,
            categories=["tax_rating"],
            purpose="post_loan_monitoring",
            valid_until=clock.now() + timedelta(days=30),
            fetch_mode="on_demand",
        ),
    )
    session.commit()
    shown = client.get(url, headers=auth("bank")).json()
    assert shown["detailed"] is True
    assert (shown["detail"]["from_grade"], shown["detail"]["to_grade"]) == ("A", "D")
    [again] = client.get("/api/v1/risk/alerts?kind=tax_grade_fall", headers=auth("bank")).json()[
        "items"
    ]
    assert again["detailed"] is True


def _events(session: Session) -> list[AccessEvent]:
    session.expire_all()
    return list(session.scalars(select(AccessEvent).order_by(AccessEvent.id)))


def _letter(session: Session, categories: list[str], purpose: str) -> None:
    bank = principal_of(session, "bank")
    consent_service.grant(
        session,
        principal=principal_of(session, "enterprise"),
        data=LetterIn(
            grantee_id=bank.organization_public_id,
            categories=categories,
            purpose=purpose,
            valid_until=clock.now() + timedelta(days=30),
            fetch_mode="on_demand",
        ),
    )
    session.commit()


def test_a_letter_for_another_purpose_is_no_basis(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    push(
        session,
        "tax",
        "tax_rating",
        [BASE | {"year": 2025, "grade": "C", "rated_on": TODAY, "region_code": "450103"}],
    )
    session.commit()
    _letter(session, ["tax_rating"], "loan_application")
    [item] = client.get("/api/v1/risk/alerts?kind=tax_grade_fall", headers=auth("bank")).json()[
        "items"
    ]
    hidden = client.get(f"/api/v1/risk/alerts/{item['id']}", headers=auth("bank")).json()
    assert hidden["detailed"] is False
    _letter(session, ["tax_rating"], "post_loan_monitoring")
    shown = client.get(f"/api/v1/risk/alerts/{item['id']}", headers=auth("bank")).json()
    assert shown["detailed"] is True


def test_a_guarantee_partner_is_named_only_with_a_basis_for_the_guarantees(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    partner = demo_enterprise_in_a_circle(session)
    session.commit()
    lend(client, auth)
    penalty(session, code=partner)
    headers = auth("bank")
    watch = client.get("/api/v1/risk/watchlist?relation=guarantee", headers=headers).json()
    assert [(w["credit_code"], w["relation"]) for w in watch["items"]] == [(None, "guarantee")]
    [alert] = client.get("/api/v1/risk/alerts", headers=headers).json()["items"]
    assert (alert["credit_code"], alert["enterprise_name"]) == (None, None)
    detail = client.get(f"/api/v1/risk/alerts/{alert['id']}", headers=headers).json()
    assert (detail["credit_code"], detail["detailed"]) == (None, False)
    # Filtering by the partner's code tells nothing: its rows are left out.
    for path in ("/api/v1/risk/watchlist", "/api/v1/risk/alerts"):
        assert client.get(f"{path}?enterprise={partner}", headers=headers).json()["total"] == 0
    _letter(session, ["guarantee"], "post_loan_monitoring")
    watch = client.get("/api/v1/risk/watchlist?relation=guarantee", headers=headers).json()
    assert [w["credit_code"] for w in watch["items"]] == [partner]
    found = client.get(f"/api/v1/risk/alerts?enterprise={partner}", headers=headers).json()
    assert found["total"] == 1
    detail = client.get(f"/api/v1/risk/alerts/{alert['id']}", headers=headers).json()
    assert (detail["credit_code"], detail["detailed"]) == (partner, True)
