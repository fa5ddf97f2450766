"""Registering for a credit code is a claim; only the operator's approval makes it the
code's account (issue 16, item 7).

The attack: an anonymous registration for someone else's (public) credit code left a
pending organization; the real owner then got 409, still after the operator rejected the
squatter, and the pending squatter signed the credit commitment in that company's name.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE, token_for
from tests.web.conftest import csrf_of
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import CommitmentSignature
from xinyidai.core import db as core_db
from xinyidai.core.errors import Forbidden
from xinyidai.iam import service
from xinyidai.iam.models import Organization
from xinyidai.ledger.models import LedgerEntry
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

Headers = Callable[[str], dict[str, str]]
PASSWORD = "a-good-password"


def _claim(client: TestClient, username: str, name: str = "柳州新材料有限公司") -> dict[str, str]:
    response = client.post(
        "/api/v1/registrations/enterprise",
        json={
            "credit_code": OTHER_CODE,
            "enterprise_name": name,
            "contact_name": "王经理",
            "username": username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["organization"])


def _headers(client: TestClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, username, PASSWORD)}"}


def _signatures(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(CommitmentSignature)) or 0)


def test_a_squatters_pending_claim_does_not_block_the_owner(
    client: TestClient, demo: object
) -> None:
    squatter = _claim(client, "squatter", name="冒名公司")
    owner = _claim(client, "liuzhou-owner")
    assert squatter["state"] == owner["state"] == "pending"
    assert squatter["credit_code"] == owner["credit_code"] == OTHER_CODE
    # Each claim to a code still unverified in the registry keeps the name its claimant gave.
    assert (squatter["name"], owner["name"]) == ("冒名公司", "柳州新材料有限公司")


def test_a_pending_claim_cannot_sign_the_commitment_or_act_for_the_enterprise(
    client: TestClient, demo: object, session: Session
) -> None:
    _claim(client, "squatter")
    squatter = _headers(client, "squatter")
    before = (_signatures(session), session.scalar(select(func.count()).select_from(LedgerEntry)))
    acts = {
        "sign the commitment": client.post(
            "/api/v1/me/commitment", json={"version": 1}, headers=squatter
        ),
        "read the signatures": client.get("/api/v1/me/commitment", headers=squatter),
        "grant a letter": client.post(
            "/api/v1/letters",
            json={"grantee_id": "org_x", "categories": ["tax_payment"], "purpose": "verification"},
            headers=squatter,
        ),
        "post a need": client.post("/api/v1/needs", json={}, headers=squatter),
        "apply": client.post("/api/v1/applications", json={}, headers=squatter),
        "read its records": client.get(
            f"/api/v1/enterprises/{OTHER_CODE}/records", headers=squatter
        ),
        "read its access log": client.get("/api/v1/me/access-log", headers=squatter),
    }
    refused = {
        act: (response.status_code, response.json()["error"]["code"])
        for act, response in acts.items()
    }
    assert refused == dict.fromkeys(acts, (403, "organization_inactive"))
    # Nor through the services the portal calls.
    organization = service.list_organizations(session, q="柳州")[0][0]
    principal = service.principal_for_user(organization.users[0])
    with pytest.raises(Forbidden) as caught:
        consent_service.sign(session, principal=principal, version=1)
    assert caught.value.code == "organization_inactive"
    session.rollback()
    after = (_signatures(session), session.scalar(select(func.count()).select_from(LedgerEntry)))
    assert after == before


def test_approving_the_owner_closes_the_squatters_claim(
    client: TestClient, auth: Headers, session: Session
) -> None:
    squatter = _claim(client, "squatter", name="冒名公司")
    owner = _claim(client, "liuzhou-owner")
    operator = auth("operator")
    approved = client.post(f"/api/v1/organizations/{owner['public_id']}/approve", headers=operator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "active"

    closed = client.get(f"/api/v1/organizations/{squatter['public_id']}", headers=operator).json()
    assert closed["state"] == "rejected"
    assert closed["state_changed_by"] == "user:operator"
    assert closed["state_reason"] == "another claim to this credit code was approved"
    org = service.get_organization_or_raise(session, public_id=squatter["public_id"])
    changes = service.state_changes(session, subject_type="organization", subject_id=org.id)
    assert [(c.transition, c.to_state) for c in changes] == [
        ("create", "pending"),
        ("close", "rejected"),
    ]
    signed_out = client.post(
        "/api/v1/auth/token", data={"username": "squatter", "password": PASSWORD}
    )
    assert signed_out.status_code == 403
    assert signed_out.json()["error"]["code"] == "organization_inactive"

    # The closed claim cannot be approved any more, and the code now refuses new claims.
    again = client.post(f"/api/v1/organizations/{squatter['public_id']}/approve", headers=operator)
    assert again.status_code == 409
    late = client.post(
        "/api/v1/registrations/enterprise",
        json={
            "credit_code": OTHER_CODE,
            "enterprise_name": "又一家",
            "contact_name": "赵",
            "username": "latecomer",
            "password": PASSWORD,
        },
    )
    assert late.status_code == 409
    assert late.json()["error"]["field"] == "credit_code"
    assert late.json()["error"]["message"] == (
        f"统一社会信用代码 {OTHER_CODE} 已有经审核确认的企业账号，可请该账号的管理员将您添加为成员"
    )

    # The owner, approved, signs the commitment in its enterprise's name.
    signed = client.post(
        "/api/v1/me/commitment", json={"version": 1}, headers=_headers(client, "liuzhou-owner")
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["credit_code"] == OTHER_CODE


def test_a_rejected_claim_never_blocks_the_code(
    client: TestClient, auth: Headers, session: Session
) -> None:
    squatter = _claim(client, "squatter", name="冒名公司")
    operator = auth("operator")
    rejected = client.post(
        f"/api/v1/organizations/{squatter['public_id']}/reject",
        json={"reason": "营业执照与代码不符"},
        headers=operator,
    )
    assert rejected.json()["state"] == "rejected"
    owner = _claim(client, "liuzhou-owner")
    approved = client.post(f"/api/v1/organizations/{owner['public_id']}/approve", headers=operator)
    assert approved.json()["state"] == "active"
    assert service.get_enterprise_organization(session, credit_code=OTHER_CODE) is not None
    assert (
        service.get_enterprise_organization(session, credit_code=OTHER_CODE).public_id  # type: ignore[union-attr]
        == owner["public_id"]
    )


def test_a_suspended_account_still_holds_its_code(
    client: TestClient, auth: Headers, session: Session
) -> None:
    enterprise = service.get_enterprise_organization(session, credit_code=ENTERPRISE_CODE)
    assert enterprise is not None
    suspended = client.post(
        f"/api/v1/organizations/{enterprise.public_id}/suspend",
        json={"reason": "核查中"},
        headers=auth("operator"),
    )
    assert suspended.json()["state"] == "suspended"
    response = client.post(
        "/api/v1/registrations/enterprise",
        json={
            "credit_code": ENTERPRISE_CODE,
            "contact_name": "钱",
            "username": "takeover",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "credit_code"


def _insert_claim(session: Session, state: str, number: int) -> None:
    session.add(
        Organization(
            public_id=f"org_claim{number}",
            kind="enterprise",
            name=f"claim {number}",
            state=state,
            credit_code=OTHER_CODE,
        )
    )
    session.flush()


def _one_approved_account_per_code(session: Session) -> None:
    for number, state in enumerate(["pending", "pending", "rejected", "active"]):
        _insert_claim(session, state, number)
    with pytest.raises(IntegrityError):
        _insert_claim(session, "suspended", 9)
    session.rollback()


def test_the_database_keeps_one_approved_account_per_code(session: Session) -> None:
    _one_approved_account_per_code(session)


@pytest.mark.postgres
def test_the_database_keeps_one_approved_account_per_code_on_postgres(pg_url: str) -> None:
    session = core_db.new_session()
    try:
        _one_approved_account_per_code(session)
    finally:
        session.close()


def test_registering_in_the_portal_signs_nothing_until_approved(
    client: TestClient, demo: object, session: Session
) -> None:
    registry_service.create(
        session,
        data=EnterpriseIn(
            credit_code=OTHER_CODE,
            name="柳州新材料有限公司",
            legal_representative="覃立新",
            registered_capital="8800000",
        ),
    )
    session.commit()
    page = client.get("/register/enterprise")
    assert 'data-testid="commitment-later"' in page.text
    registered = client.post(
        "/register/enterprise",
        data={
            "csrf_token": csrf_of(page.text),
            "credit_code": OTHER_CODE,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "commitment": "yes",
            "commitment_version": "1",
        },
    )
    assert 'data-testid="pending-notice"' in registered.text
    assert "您即可以企业名义签署信用承诺书" in registered.text
    # The claim's dashboard shows its own organization, nothing of the enterprise's file.
    assert "柳州新材料有限公司" in registered.text
    assert 'data-testid="registry-facts"' not in registered.text
    assert "覃立新" not in registered.text
    assert _signatures(session) == 0
    commitment = client.get("/consent/commitment")
    assert commitment.status_code == 403
    signing = client.post(
        "/consent/commitment",
        data={"csrf_token": csrf_of(registered.text), "agree": "yes", "version": "1"},
    )
    assert signing.status_code == 403
    assert _signatures(session) == 0
