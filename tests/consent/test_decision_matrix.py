"""The access decision, role by basis by letter state: allow or deny, and what each field shows.

Each case reads the demo enterprise's credit report through the API and checks the outcome,
the basis, the reason of a refusal, and how the test fields look: the legal representative
(a person's name, public registration), the tax paid (money, confidential), the property's
location (an address, confidential). Every case leaves exactly one audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import (
    ADDRESS,
    LEGAL_REPRESENTATIVE,
    LOCATION,
    PHONE,
    TAX_PAID,
    Auth,
    World,
    events,
    grant,
    report,
)
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.core import clock

MASKED_NAME = "李**"
MASKED_PHONE = "138****5678"
TAX_BUCKET = "100000-500000"
CUT_LOCATION = "广西壮族自治区南宁市西乡塘区"


def _section(body: dict[str, Any], category: str) -> dict[str, Any] | None:
    return next((s for s in body["sections"] if s["category"] == category), None)


def _value(body: dict[str, Any], category: str, name: str) -> Any:
    section = _section(body, category)
    if section is None:
        return None
    return section["records"][0]["data"].get(name)


def _tax_paid(body: dict[str, Any]) -> set[Any]:
    section = _section(body, "tax_payment")
    return {r["data"]["tax_paid"] for r in section["records"]} if section else set()


# --------------------------------------------------------------------------- roles × bases


@dataclass
class Case:
    username: str
    purpose: str | None
    basis: str
    person: str  # the legal representative's name: published with the registration (公示)
    tax: set[str] = field(default_factory=set)  # tax paid values shown
    location: str | None = None
    phone: str | None = None


ROLE_CASES = {
    "the enterprise itself": Case(
        "enterprise", None, "self", LEGAL_REPRESENTATIVE, {TAX_PAID, "99000.00"}, LOCATION, PHONE
    ),
    "the operator on duty": Case(
        "operator",
        "supervision",
        "operator_duty",
        LEGAL_REPRESENTATIVE,
        {TAX_PAID, "99000.00"},
        LOCATION,
        PHONE,
    ),
    "a bank without a letter": Case(
        "bank", None, "public", LEGAL_REPRESENTATIVE, set(), None, MASKED_PHONE
    ),
    "a platform without a letter": Case(
        "platform", None, "public", LEGAL_REPRESENTATIVE, set(), None, MASKED_PHONE
    ),
    "an auditor": Case("auditor", None, "public", LEGAL_REPRESENTATIVE, set(), None, MASKED_PHONE),
    "the operator for a loan": Case(
        "operator", "loan_application", "public", LEGAL_REPRESENTATIVE, set(), None, MASKED_PHONE
    ),
}


@pytest.mark.parametrize("case", ROLE_CASES.values(), ids=list(ROLE_CASES))
def test_each_role_reads_on_its_own_basis_and_sees_its_view(
    client: TestClient, auth: Auth, world: World, session: Session, case: Case
) -> None:
    params = {"purpose": case.purpose} if case.purpose else {}
    response = report(client, auth(case.username), **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["basis"] == case.basis
    assert _value(body, "registration", "legal_representative") == case.person
    assert _value(body, "registration", "phone") == case.phone
    assert _tax_paid(body) == case.tax
    assert _value(body, "real_estate", "location") == case.location
    assert _value(body, "registration", "address") == ADDRESS  # public registration fact
    [event] = events(session)
    assert (event.outcome, event.basis, event.subject) == ("allow", case.basis, ENTERPRISE_CODE)
    assert event.public_id == body["access_event"]


def test_a_department_reads_only_what_it_sent(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    """Its own categories raw; public ones as anyone sees them; other departments'
    restricted and confidential categories not at all."""
    body = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records", headers=auth("provider-tax")
    ).json()
    assert {g["category"] for g in body} == {
        "tax_rating",
        "tax_payment",
        "registration",
        "shareholder",
        "admin_penalty",
    }
    tax = next(g for g in body if g["category"] == "tax_payment")
    assert {r["data"]["tax_paid"] for r in tax["records"]} == {TAX_PAID, "99000.00"}
    registration = next(g for g in body if g["category"] == "registration")
    assert registration["records"][0]["data"]["phone"] == MASKED_PHONE  # as anyone sees it
    [event] = events(session)
    assert (event.basis, event.purpose) == ("provider_own", "data_maintenance")
    not_public = {c: b for c, b in event.granted.items() if b != "public"}
    assert not_public == {c: "provider_own" for c in ("tax_rating", "tax_payment", "tax_arrears")}
    assert not {"social_insurance", "real_estate", "housing_fund", "guarantee"} & set(event.granted)


# --------------------------------------------------------------------------- letter states


def _to_state(session: Session, letter: AuthorizationLetter, world: World, state: str) -> None:
    enterprise = world.principal(session, "enterprise")
    if state == "revoked":
        consent_service.revoke(session, principal=enterprise, letter=letter, reason="loan refused")
    elif state == "paused":
        consent_service.pause(session, principal=enterprise, letter=letter, reason=None)
    elif state == "expired":
        session.execute(
            update(AuthorizationLetter)
            .where(AuthorizationLetter.id == letter.id)
            .values(valid_until=clock.now() - timedelta(minutes=1))
        )
    session.commit()


@pytest.mark.parametrize(
    ("state", "reason"),
    [("revoked", "letter_revoked"), ("expired", "letter_expired"), ("paused", "letter_paused")],
)
def test_a_letter_that_cannot_be_used_refuses_and_is_logged(
    client: TestClient, auth: Auth, world: World, session: Session, state: str, reason: str
) -> None:
    letter = grant(session, world)
    _to_state(session, letter, world, state)
    named = report(client, auth("bank"), letter=letter.public_id)
    assert named.status_code == 403
    error = named.json()["error"]
    assert (error["code"], error["field"]) == (reason, "letter_id")
    assert letter.public_id in error["message"]
    unnamed = report(client, auth("bank"))  # without naming it: public data only
    assert unnamed.status_code == 200
    assert unnamed.json()["basis"] == "public"
    assert unnamed.json()["withheld"]["tax_payment"] == reason
    refused, answered = events(session)
    assert (refused.outcome, refused.reason, refused.letter_id) == (
        "deny",
        reason,
        letter.public_id,
    )
    assert (answered.outcome, answered.basis) == ("allow", "public")
    session.refresh(letter)
    assert letter.state == state
    assert letter.queries_used == 0


def test_an_active_letter_shows_what_it_covers_and_counts_the_use(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=["tax_payment", "real_estate"])
    body = report(client, auth("bank")).json()
    assert body["basis"] == "letter"
    assert body["letter_id"] == letter.public_id
    assert _tax_paid(body) == {TAX_PAID, "99000.00"}
    assert _value(body, "real_estate", "location") == LOCATION
    assert _value(body, "registration", "legal_representative") == LEGAL_REPRESENTATIVE
    assert _value(body, "registration", "phone") == MASKED_PHONE
    assert "social_insurance" in body["withheld"]
    assert body["retain_until"] == (clock.today() + timedelta(days=30)).isoformat()
    tax = _section(body, "tax_payment")
    assert tax is not None
    assert (tax["basis"], tax["fields"]["tax_paid"]["view"]) == ("letter", "raw")
    session.refresh(letter)
    assert (letter.queries_used, letter.state) == (1, "active")
    [event] = events(session)
    assert (event.basis, event.letter_id) == ("letter", letter.public_id)
    assert event.granted["tax_payment"] == "letter"
    assert event.granted["registration"] == "public"


def test_a_letter_covering_personal_information_shows_names_raw(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    before = report(client, auth("bank")).json()
    assert _value(before, "shareholder", "shareholder_name") == MASKED_NAME
    grant(session, world, categories=["registration", "shareholder"], levels=["personal"])
    body = report(client, auth("bank")).json()
    assert _value(body, "registration", "legal_representative") == LEGAL_REPRESENTATIVE
    assert _value(body, "registration", "phone") == PHONE
    assert _value(body, "shareholder", "shareholder_name") == LEGAL_REPRESENTATIVE


def test_a_desensitized_letter_buckets_amounts_and_cuts_addresses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(
        session,
        world,
        grantee=world.platform_id,
        categories=["tax_payment", "real_estate"],
        purpose="joint_modelling",
    )
    body = report(client, auth("platform"), purpose="joint_modelling").json()
    assert body["basis"] == "letter"
    assert _tax_paid(body) == {TAX_BUCKET, "50000-100000"}
    assert _value(body, "real_estate", "location") == CUT_LOCATION
    fields = _section(body, "tax_payment")["fields"]  # type: ignore[index]
    assert (fields["tax_paid"]["view"], fields["tax_paid"]["rule"]) == ("masked", "money")


def test_a_letter_used_up_refuses_the_next_query(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, max_queries=2)
    assert report(client, auth("bank")).json()["basis"] == "letter"
    assert report(client, auth("bank")).json()["basis"] == "letter"
    session.refresh(letter)
    assert (letter.state, letter.queries_used) == ("used_up", 2)
    refused = report(client, auth("bank"), letter=letter.public_id)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "letter_used_up"
    assert [e.outcome for e in events(session)] == ["allow", "allow", "deny"]


def test_a_letter_for_one_fetch_is_used_up_by_it(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, fetch_mode="once")
    assert report(client, auth("bank")).json()["basis"] == "letter"
    session.refresh(letter)
    assert letter.state == "used_up"
    assert report(client, auth("bank")).json()["withheld"]["tax_payment"] == "letter_used_up"


def test_a_periodic_letter_refuses_a_second_fetch_within_its_period(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(
        session,
        world,
        purpose="post_loan_monitoring",
        fetch_mode="periodic",
        fetch_period_days=30,
        valid_until=clock.now() + timedelta(days=365),
    )
    first = report(client, auth("bank"), purpose="post_loan_monitoring", letter=letter.public_id)
    assert first.status_code == 200
    again = report(client, auth("bank"), purpose="post_loan_monitoring", letter=letter.public_id)
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "too_frequent"
    later = clock.now() + timedelta(days=31)
    with clock.frozen_at(later):
        third = report(
            client, auth("bank"), purpose="post_loan_monitoring", letter=letter.public_id
        )
    assert third.status_code == 200


def test_a_letter_for_another_purpose_refuses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, purpose="post_loan_monitoring")
    refused = report(client, auth("bank"), purpose="loan_application", letter=letter.public_id)
    assert refused.status_code == 403
    assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == (
        "wrong_purpose",
        "purpose",
    )
    unnamed = report(client, auth("bank"), purpose="loan_application").json()
    assert unnamed["withheld"]["tax_payment"] == "wrong_purpose"
    session.refresh(letter)
    assert letter.queries_used == 0


def test_a_letter_to_another_organization_refuses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, grantee=world.other_bank_id)
    refused = report(client, auth("bank"), letter=letter.public_id)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "wrong_grantee"
    assert report(client, auth("bank")).json()["basis"] == "public"
    assert report(client, auth("bank2")).json()["basis"] == "letter"


def test_a_letter_not_yet_valid_refuses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, valid_from=clock.now() + timedelta(days=2))
    refused = report(client, auth("bank"), letter=letter.public_id)
    assert refused.json()["error"]["code"] == "letter_not_yet_valid"


def test_a_pending_request_refuses_until_the_enterprise_approves(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    asked = client.post(
        "/api/v1/letters/requests",
        json={
            "credit_code": ENTERPRISE_CODE,
            "categories": ["tax_payment"],
            "purpose": "loan_application",
            "fetch_mode": "on_demand",
            "valid_until": (clock.now() + timedelta(days=10)).isoformat(),
        },
        headers=auth("bank"),
    )
    assert asked.status_code == 201, asked.text
    letter_id = asked.json()["id"]
    assert asked.json()["state"] == "pending"
    refused = report(client, auth("bank"), letter=letter_id)
    assert refused.json()["error"]["code"] == "letter_pending"
    approved = client.post(f"/api/v1/letters/{letter_id}/approve", headers=auth("enterprise"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "active"
    assert report(client, auth("bank"), letter=letter_id).json()["basis"] == "letter"


def test_a_letter_to_any_institution_serves_every_bank_for_an_application(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, grantee_scope="any_institution", grantee_id=None)
    assert report(client, auth("bank")).json()["basis"] == "letter"
    assert report(client, auth("bank2")).json()["basis"] == "letter"
    assert report(client, auth("platform")).json()["basis"] == "public"


def test_a_letter_limits_the_data_to_its_date_range(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, data_from=clock.today() - timedelta(days=90))
    body = report(client, auth("bank")).json()
    assert _tax_paid(body) == {TAX_PAID}


def test_named_categories_are_refused_as_a_whole(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world)
    url = f"/api/v1/enterprises/{ENTERPRISE_CODE}/records"
    allowed = client.get(
        url, params={"category": ["tax_payment", "registration"]}, headers=auth("bank")
    )
    assert allowed.status_code == 200
    refused = client.get(
        url, params={"category": ["tax_payment", "social_insurance"]}, headers=auth("bank")
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("category_not_covered", "category")
    assert "social_insurance" in error["message"]
    assert [e.outcome for e in events(session)] == ["allow", "deny"]


def test_verification_answers_only_with_a_basis_and_is_logged(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    ask = {"credit_code": ENTERPRISE_CODE, "category": "tax_payment", "op": "exists"}
    refused = client.post("/api/v1/verify", json=ask, headers=auth("bank"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_basis"
    grant(session, world, purpose="verification")
    answered = client.post("/api/v1/verify", json=ask, headers=auth("bank"))
    assert answered.status_code == 200
    assert answered.json()["holds"] is True
    public = client.post(
        "/api/v1/verify",
        json=ask | {"category": "admin_penalty", "op": "gt", "field": "fine_amount", "value": 1000},
        headers=auth("bank"),
    )
    assert public.json()["holds"] is True
    logged = events(session)
    assert [(e.outcome, e.purpose, e.basis) for e in logged] == [
        ("deny", "verification", None),
        ("allow", "verification", "letter"),
        ("allow", "verification", "public"),
    ]


def test_a_named_letter_that_does_not_cover_the_category_refuses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    refused = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": "social_insurance", "letter": letter.public_id},
        headers=auth("bank"),
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("category_not_covered", "category")
    assert letter.public_id in error["message"]
    [event] = events(session)
    assert (event.outcome, event.letter_id) == ("deny", letter.public_id)
    session.refresh(letter)
    assert letter.queries_used == 0
