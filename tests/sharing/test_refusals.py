"""Bad input answered with a clear error naming the field, and nothing changed: a claim on
a current loan, twice, after the deadline, over a cap; a scheme whose shares do not sum to
100%; a loan outside every scheme."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth
from tests.sharing.conftest import (
    at,
    create_pool,
    create_scheme,
    declare_default,
    disbursed_loan,
    file_claim,
    later,
    scheme_payload,
)
from xinyidai.sharing.models import Claim, ClaimShare, Enrolment, Movement, Scheme


def _counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in (Scheme, Enrolment, Claim, ClaimShare, Movement)
    )


def test_shares_not_summing_to_a_hundred_are_refused(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    before = _counts(session)
    body = scheme_payload(guarantor)
    body["parties"][3]["share"] = "9.99"
    refused = client.post("/api/v1/sharing/schemes", json=body, headers=auth("operator"))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "parties"
    assert "99.99" in refused.json()["error"]["message"]
    negative = scheme_payload(guarantor)
    negative["parties"][0]["share"] = "-10"
    negative["parties"][1]["share"] = "80"
    assert (
        client.post("/api/v1/sharing/schemes", json=negative, headers=auth("operator")).json()[
            "error"
        ]["field"]
        == "parties.0.share"
    )
    not_a_guarantor = client.post(
        "/api/v1/sharing/schemes", json=scheme_payload("org_nobody"), headers=auth("operator")
    )
    assert not_a_guarantor.json()["error"]["field"] == "guarantor_id"
    assert (
        client.post(
            "/api/v1/sharing/schemes", json=scheme_payload(guarantor), headers=auth("bank")
        ).status_code
        == 403
    )
    assert _counts(session) == before


def test_a_claim_on_a_current_loan_is_refused(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    loan = disbursed_loan(client, auth)
    before = _counts(session)
    refused = file_claim(client, auth, loan["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "loan_id"
    assert (
        "current" in refused.json()["error"]["message"]
        or "正常" in refused.json()["error"]["message"]
    )
    assert file_claim(client, auth, "loan_nothing").status_code == 404
    assert _counts(session) == before


def test_a_second_claim_for_a_loan_is_refused(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        first = file_claim(client, auth, loan["id"])
        assert first.status_code == 201
        before = _counts(session)
        twice = file_claim(client, auth, loan["id"])
        assert twice.status_code == 409
        assert twice.json()["error"]["field"] == "loan_id"
        assert first.json()["id"] in twice.json()["error"]["message"]
        other_key = file_claim(client, auth, "loan_other", idempotency_key="same")
        assert other_key.status_code == 404
    assert _counts(session) == before


def test_a_claim_after_the_deadline_is_refused(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    create_pool(client, auth)
    create_scheme(client, auth, guarantor, claim_deadline_days=30)
    loan = disbursed_loan(client, auth)
    defaulted_at = later()
    with at(defaulted_at):
        declare_default(client, auth, loan["id"])
    before = _counts(session)
    with at(defaulted_at + timedelta(days=31)):
        late = file_claim(client, auth, loan["id"])
    assert late.status_code == 409
    assert late.json()["error"]["field"] == "loan_id"
    assert (
        "deadline" in late.json()["error"]["message"] or "期限" in late.json()["error"]["message"]
    )
    assert _counts(session) == before


def test_a_claim_over_the_cap_per_loan_is_refused(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    create_pool(client, auth)
    create_scheme(client, auth, guarantor, cap_per_loan="100000.00")
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        before = _counts(session)
        over = file_claim(client, auth, loan["id"])
    assert over.status_code == 409
    assert over.json()["error"]["field"] == "loan_id"
    assert "100000.00" in over.json()["error"]["message"]
    assert _counts(session) == before


def test_claims_over_the_cap_per_enterprise_are_refused(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    create_pool(client, auth)
    create_scheme(client, auth, guarantor, cap_per_enterprise="150000.00")
    first, second = disbursed_loan(client, auth), disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, first["id"])
        declare_default(client, auth, second["id"])
        assert file_claim(client, auth, first["id"]).status_code == 201
        before = _counts(session)
        over = file_claim(client, auth, second["id"])
    assert over.status_code == 409
    assert over.json()["error"]["field"] == "loan_id"
    assert _counts(session) == before


def test_a_loan_no_scheme_covers_is_not_enrolled_and_cannot_be_claimed(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    create_pool(client, auth)
    create_scheme(client, auth, guarantor, product_types=["supply_chain"])
    loan = disbursed_loan(client, auth)
    assert (
        client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank")).status_code == 404
    )
    with at(later()):
        declare_default(client, auth, loan["id"])
        refused = file_claim(client, auth, loan["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "loan_id"


def test_a_pool_below_its_floor_stops_enrolment(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    create_pool(client, auth, amount="1000.00", floor="5000.00")
    create_scheme(client, auth, guarantor)
    loan = disbursed_loan(client, auth)
    assert (
        client.get(f"/api/v1/sharing/loans/{loan['id']}", headers=auth("bank")).status_code == 404
    )
    assert _counts(session)[1] == 0
