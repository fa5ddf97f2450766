"""Authorization letters and the commitment through the API: granting, asking, answering,
every transition recorded once, and every bad input a clear error that stores nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import Auth, World, count, events, grant, report
from xinyidai.audit.models import AccessEvent
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import AuthorizationLetter, CommitmentSignature, LetterTransition
from xinyidai.core import clock
from xinyidai.ledger.models import LedgerEntry


def _terms(world: World, **more: Any) -> dict[str, Any]:
    return {
        "grantee_id": world.bank_id,
        "categories": ["tax_payment"],
        "purpose": "loan_application",
        "fetch_mode": "on_demand",
        "valid_until": (clock.now() + timedelta(days=30)).isoformat(),
    } | more


def _stored(session: Session) -> tuple[int, int, int, int]:
    return (
        count(session, AuthorizationLetter),
        count(session, LetterTransition),
        count(session, AccessEvent),
        count(session, LedgerEntry),
    )


def test_the_enterprise_grants_lists_and_revokes_a_letter(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    granted = client.post("/api/v1/letters", json=_terms(world), headers=auth("enterprise"))
    assert granted.status_code == 201, granted.text
    letter = granted.json()
    assert (letter["state"], letter["grantee_name"], letter["credit_code"]) == (
        "active",
        "演示商业银行",
        ENTERPRISE_CODE,
    )
    mine = client.get("/api/v1/letters", headers=auth("enterprise")).json()
    held = client.get("/api/v1/letters", headers=auth("bank")).json()
    assert [item["id"] for item in mine["items"]] == [letter["id"]]
    assert [item["id"] for item in held["items"]] == [letter["id"]]
    assert client.get("/api/v1/letters", headers=auth("bank2")).json()["total"] == 0
    assert report(client, auth("bank")).json()["basis"] == "letter"
    revoked = client.post(
        f"/api/v1/letters/{letter['id']}/revoke",
        json={"reason": "I chose another bank"},
        headers=auth("enterprise"),
    )
    assert revoked.status_code == 200
    assert (revoked.json()["state"], revoked.json()["state_reason"]) == (
        "revoked",
        "I chose another bank",
    )
    after = report(client, auth("bank"), letter=letter["id"])
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "letter_revoked"
    detail = client.get(f"/api/v1/letters/{letter['id']}", headers=auth("bank")).json()
    assert [(t["transition"], t["from_state"], t["to_state"]) for t in detail["transitions"]] == [
        ("grant", None, "active"),
        ("revoke", "active", "revoked"),
    ]
    assert all(t["actor"] == "user:enterprise" for t in detail["transitions"])
    uses = client.get(f"/api/v1/letters/{letter['id']}/uses", headers=auth("enterprise")).json()
    assert [(u["outcome"], u["organization_name"]) for u in uses["items"]] == [
        ("deny", "演示商业银行"),
        ("allow", "演示商业银行"),
    ]


def test_an_institution_asks_and_the_enterprise_rejects(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    asked = client.post(
        "/api/v1/letters/requests",
        json=_terms(world, credit_code=ENTERPRISE_CODE) | {"grantee_id": None},
        headers=auth("bank2"),
    )
    assert asked.status_code == 201, asked.text
    assert (asked.json()["grantee_name"], asked.json()["state"]) == ("第二商业银行", "pending")
    pending = client.get(
        "/api/v1/letters", params={"state": "pending"}, headers=auth("enterprise")
    ).json()
    assert [item["id"] for item in pending["items"]] == [asked.json()["id"]]
    rejected = client.post(
        f"/api/v1/letters/{asked.json()['id']}/reject",
        json={"reason": "not now"},
        headers=auth("enterprise"),
    )
    assert rejected.json()["state"] == "rejected"
    again = client.post(f"/api/v1/letters/{asked.json()['id']}/approve", headers=auth("enterprise"))
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "state"


def test_pause_and_resume(client: TestClient, auth: Auth, world: World, session: Session) -> None:
    letter = grant(session, world)
    url = f"/api/v1/letters/{letter.public_id}"
    assert client.post(f"{url}/pause", headers=auth("enterprise")).json()["state"] == "paused"
    assert report(client, auth("bank")).json()["withheld"]["tax_payment"] == "letter_paused"
    assert client.post(f"{url}/resume", headers=auth("enterprise")).json()["state"] == "active"
    assert report(client, auth("bank")).json()["basis"] == "letter"


def test_granting_needs_the_signed_commitment(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    session.query(CommitmentSignature).delete()
    session.commit()
    before = _stored(session)
    refused = client.post("/api/v1/letters", json=_terms(world), headers=auth("enterprise"))
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "commitment"
    assert _stored(session) == before
    text = client.get("/api/v1/commitment").json()
    assert text["title"] == "信用承诺书"
    signed = client.post(
        "/api/v1/me/commitment", json={"version": text["version"]}, headers=auth("enterprise")
    )
    assert signed.status_code == 201
    assert (signed.json()["text_version"], signed.json()["text_digest"]) == (
        text["version"],
        text["digest"],
    )
    twice = client.post(
        "/api/v1/me/commitment", json={"version": text["version"]}, headers=auth("enterprise")
    )
    assert twice.status_code == 409
    mine = client.get("/api/v1/me/commitment", headers=auth("enterprise")).json()["items"]
    assert [s["signed_by"] for s in mine] == ["user:enterprise"]
    assert (
        client.post("/api/v1/letters", json=_terms(world), headers=auth("enterprise")).status_code
        == 201
    )


def test_the_operator_publishes_a_new_commitment_version(
    client: TestClient, auth: Auth, world: World
) -> None:
    published = client.post(
        "/api/v1/commitment",
        json={"title": "信用承诺书", "body": "第二版承诺内容"},
        headers=auth("operator"),
    )
    assert published.status_code == 201
    assert published.json()["version"] == 2
    assert client.get("/api/v1/commitment").json()["version"] == 2
    empty = client.post(
        "/api/v1/commitment", json={"title": "信用承诺书", "body": " "}, headers=auth("operator")
    )
    assert (empty.status_code, empty.json()["error"]["field"]) == (422, "body")
    assert (
        client.post(
            "/api/v1/commitment", json={"title": "t", "body": "b"}, headers=auth("enterprise")
        ).status_code
        == 403
    )


BAD_GRANTS = {
    "an unknown institution": ({"grantee_id": "org_nobody"}, 422, "grantee_id"),
    "an enterprise as grantee": ({"grantee_id": "ENTERPRISE"}, 422, "grantee_id"),
    "dates out of order": (
        {
            "valid_from": (clock.now() + timedelta(days=20)).isoformat(),
            "valid_until": (clock.now() + timedelta(days=10)).isoformat(),
        },
        422,
        "valid_until",
    ),
    "a validity in the past": (
        {"valid_until": (clock.now() - timedelta(days=1)).isoformat()},
        422,
        "valid_until",
    ),
    "data dates out of order": (
        {"data_from": "2025-06-01", "data_until": "2025-01-01"},
        422,
        "data_until",
    ),
    "a category not in the catalogue": (
        {"categories": ["tax_payment", "horoscope"]},
        422,
        "categories.1",
    ),
    "an unknown level": ({"levels": ["secret"]}, 422, "levels.0"),
    "nothing covered": ({"categories": [], "levels": []}, 422, "categories"),
    "an unknown purpose": ({"purpose": "marketing"}, 422, "purpose"),
    "a periodic letter without a period": ({"fetch_mode": "periodic"}, 422, "fetch_period_days"),
    "zero queries": ({"max_queries": 0}, 422, "max_queries"),
    "no data life": ({"data_life_days": 0}, 422, "data_life_days"),
    "any institution for monitoring": (
        {"grantee_scope": "any_institution", "grantee_id": None, "purpose": "post_loan_monitoring"},
        422,
        "grantee_scope",
    ),
}


@pytest.mark.parametrize(("change", "status", "field"), BAD_GRANTS.values(), ids=list(BAD_GRANTS))
def test_a_bad_letter_is_refused_with_its_field_and_nothing_is_stored(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    if change.get("grantee_id") == "ENTERPRISE":
        change = {"grantee_id": world.enterprise_id}
    before = _stored(session)
    response = client.post(
        "/api/v1/letters", json=_terms(world, **change), headers=auth("enterprise")
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"]
    assert _stored(session) == before


def test_revoking_someone_elses_letter_is_refused_and_changes_nothing(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    before = _stored(session)
    for username in ("bank", "bank2"):
        response = client.post(f"/api/v1/letters/{letter.public_id}/revoke", headers=auth(username))
        assert response.status_code == 403
    from xinyidai.iam import service as iam_service

    other = iam_service.create_organization(
        session,
        kind="enterprise",
        name="南宁另一科技有限公司",
        actor="test",
        state="active",
        credit_code=OTHER_CODE,
    )
    iam_service.create_user(
        session,
        organization=other,
        username="other-enterprise",
        display_name="x",
        password="demo-password",
        actor="test",
        role="admin",
    )
    session.commit()
    response = client.post(
        f"/api/v1/letters/{letter.public_id}/revoke", headers=auth("other-enterprise")
    )
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "letter_id"
    assert letter.public_id in response.json()["error"]["message"]
    assert _stored(session) == before
    session.refresh(letter)
    assert letter.state == "active"
    hidden = client.get(f"/api/v1/letters/{letter.public_id}", headers=auth("other-enterprise"))
    assert hidden.status_code == 404


def test_using_a_revoked_or_expired_letter_stores_only_the_refusal(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    consent_service.revoke(
        session, principal=world.principal(session, "enterprise"), letter=letter, reason=None
    )
    session.commit()
    letters, transitions, accesses, leaves = _stored(session)
    refused = report(client, auth("bank"), letter=letter.public_id)
    assert refused.status_code == 403
    assert _stored(session) == (letters, transitions, accesses + 1, leaves + 1)
    [event] = events(session)
    assert (event.outcome, event.reason, event.letter_id) == (
        "deny",
        "letter_revoked",
        letter.public_id,
    )
    session.refresh(letter)
    assert letter.queries_used == 0


def test_an_unknown_letter_or_category_is_bad_input_and_logs_nothing(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    before = _stored(session)
    unknown = report(client, auth("bank"), letter="aut_nothing")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "letter_id")
    wrong = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": "horoscope"},
        headers=auth("bank"),
    )
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (422, "category")
    purpose = report(client, auth("bank"), purpose="curiosity")
    assert (purpose.status_code, purpose.json()["error"]["field"]) == (422, "purpose")
    nobody = report(client, auth("bank"), code="91450100MA5K0000XX")
    assert nobody.status_code in (404, 422)
    assert _stored(session) == before


def test_expired_letters_are_swept_by_the_clock(world: World, session: Session) -> None:
    letter = grant(session, world, valid_until=clock.now() + timedelta(hours=1))
    with clock.frozen_at(clock.now() + timedelta(hours=2)):
        assert consent_service.expire_due(session) == 1
    session.commit()
    session.refresh(letter)
    assert (letter.state, letter.state_changed_by) == ("expired", "system:expiry")


def test_a_bad_request_is_refused_with_its_field_and_nothing_is_stored(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    from tests.accounts import OTHER_CODE
    from xinyidai.registry import creditcode

    before = _stored(session)
    cases = [
        ({"credit_code": creditcode.make("91450100MA5K99999")}, 404, "credit_code"),
        ({"credit_code": OTHER_CODE}, 422, "credit_code"),  # no enterprise account to answer
        ({"credit_code": ENTERPRISE_CODE, "categories": ["horoscope"]}, 422, "categories.0"),
        (
            {
                "credit_code": ENTERPRISE_CODE,
                "valid_from": (clock.now() + timedelta(days=5)).isoformat(),
                "valid_until": (clock.now() + timedelta(days=1)).isoformat(),
            },
            422,
            "valid_until",
        ),
    ]
    for change, status, field in cases:
        response = client.post(
            "/api/v1/letters/requests",
            json=_terms(world, **change) | {"grantee_id": None},
            headers=auth("bank"),
        )
        assert (response.status_code, response.json()["error"]["field"]) == (status, field), change
    refused = client.post(
        "/api/v1/letters/requests",
        json=_terms(world, credit_code=ENTERPRISE_CODE),
        headers=auth("enterprise"),
    )
    assert refused.status_code == 403
    assert _stored(session) == before
