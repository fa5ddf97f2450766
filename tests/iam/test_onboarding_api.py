"""Registration, institution applications, the operator's decisions and partner organizations."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE, token_for
from xinyidai.core.api import install_error_handlers
from xinyidai.iam import service
from xinyidai.iam.auth import CurrentUser, InstitutionUser
from xinyidai.iam.models import Organization, StateChange, User
from xinyidai.registry import service as registry_service
from xinyidai.supervision.service import demo as supervision_demo

Headers = Callable[[str], dict[str, str]]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _enterprise_form(**overrides: str) -> dict[str, str]:
    form = {
        "credit_code": OTHER_CODE,
        "enterprise_name": "柳州新材料有限公司",
        "contact_name": "王经理",
        "contact_email": "wang@example.cn",
        "username": "liuzhou-materials",
        "password": "a-good-password",
    }
    form.update(overrides)
    return form


def _institution_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "北部湾村镇银行",
        "institution_type": "bank",
        "licence_number": "S0001H245010001",
        "contact_name": "李行长",
        "username": "beibu-bank",
        "password": "a-good-password",
    }
    form.update(overrides)
    return form


def test_a_second_account_for_the_same_credit_code_is_refused(
    client: TestClient, demo: object, session: Session
) -> None:
    response = client.post(
        "/api/v1/registrations/enterprise",
        json=_enterprise_form(credit_code=ENTERPRISE_CODE, username="nanning-demo-2"),
    )
    # The demo enterprise already has an account: a second one for the same code is refused.
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "credit_code"


def test_an_unknown_code_registers_pending_and_creates_a_pending_subject(
    client: TestClient, demo: object, session: Session
) -> None:
    response = client.post("/api/v1/registrations/enterprise", json=_enterprise_form())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organization"]["state"] == "pending"
    assert body["organization"]["credit_code"] == OTHER_CODE
    assert body["user"]["role"] == "admin"
    subject = registry_service.get_by_code(session, credit_code=OTHER_CODE)
    assert subject is not None
    assert subject.status == "pending_verification"
    headers = {
        "Authorization": f"Bearer {token_for(client, 'liuzhou-materials', 'a-good-password')}"
    }
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["organization"]["kind"] == "enterprise"


def test_a_known_registry_subject_registers_pending_under_its_registered_name(
    client: TestClient, auth: Headers, session: Session
) -> None:
    from xinyidai.registry.schemas import EnterpriseIn

    registry_service.create(session, data=EnterpriseIn(credit_code=OTHER_CODE, name="登记在册公司"))
    session.commit()
    response = client.post(
        "/api/v1/registrations/enterprise", json=_enterprise_form(enterprise_name="")
    )
    assert response.status_code == 201, response.text
    organization = response.json()["organization"]
    assert organization["state"] == "pending"
    assert organization["name"] == "登记在册公司"

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/my-records")
    def my_records(principal: CurrentUser) -> dict[str, str]:
        return {"credit_code": principal.credit_code or ""}

    records = TestClient(app)
    applicant = {
        "Authorization": f"Bearer {token_for(client, 'liuzhou-materials', 'a-good-password')}"
    }
    assert records.get("/my-records", headers=applicant).status_code == 403
    approved = client.post(
        f"/api/v1/organizations/{organization['public_id']}/approve", headers=auth("operator")
    )
    assert approved.json()["state"] == "active"
    assert records.get("/my-records", headers=applicant).json() == {"credit_code": OTHER_CODE}


def test_a_wrong_check_character_is_refused_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    bad = OTHER_CODE[:17] + ("0" if OTHER_CODE[17] != "0" else "1")
    response = client.post(
        "/api/v1/registrations/enterprise", json=_enterprise_form(credit_code=bad)
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "credit_code"
    assert _count(session, Organization) == 0
    assert _count(session, User) == 0
    assert registry_service.count(session) == 0


def test_a_taken_username_is_refused_and_nothing_is_stored(
    client: TestClient, demo: object, session: Session
) -> None:
    before = (_count(session, Organization), _count(session, User), registry_service.count(session))
    response = client.post(
        "/api/v1/registrations/enterprise", json=_enterprise_form(username="operator")
    )
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "username"
    after = (_count(session, Organization), _count(session, User), registry_service.count(session))
    assert after == before


def test_a_short_password_is_refused(client: TestClient, session: Session) -> None:
    response = client.post(
        "/api/v1/registrations/enterprise", json=_enterprise_form(password="short")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "password"
    assert _count(session, User) == 0


def test_an_institution_applies_and_the_operator_approves(
    client: TestClient, auth: Headers, session: Session
) -> None:
    applied = client.post("/api/v1/registrations/institution", json=_institution_form())
    assert applied.status_code == 201, applied.text
    organization = applied.json()["organization"]
    assert organization["state"] == "pending"
    assert organization["institution_type"] == "bank"

    applicant = {"Authorization": f"Bearer {token_for(client, 'beibu-bank', 'a-good-password')}"}
    assert client.get("/api/v1/me", headers=applicant).status_code == 200

    operator = auth("operator")
    pending = client.get("/api/v1/organizations?state=pending", headers=operator).json()
    assert [item["public_id"] for item in pending["items"]] == [organization["public_id"]]

    # onboarding waits for a passed security assessment
    early = client.post(
        f"/api/v1/organizations/{organization['public_id']}/approve", headers=operator
    )
    assert early.status_code == 409
    assert early.json()["error"]["field"] == "assessment"
    supervision_demo.certify(
        session, service.get_organization_or_raise(session, public_id=organization["public_id"])
    )
    session.commit()

    approved = client.post(
        f"/api/v1/organizations/{organization['public_id']}/approve", headers=operator
    )
    assert approved.status_code == 200
    assert approved.json()["state"] == "active"
    assert approved.json()["state_changed_by"] == "user:operator"

    again = client.post(
        f"/api/v1/organizations/{organization['public_id']}/approve", headers=operator
    )
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "state"

    org = service.get_organization_or_raise(session, public_id=organization["public_id"])
    changes = service.state_changes(session, subject_type="organization", subject_id=org.id)
    assert [(c.transition, c.to_state, c.actor) for c in changes] == [
        ("create", "pending", "user:beibu-bank"),
        ("approve", "active", "user:operator"),
    ]


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(
    client: TestClient, auth: Headers, session: Session
) -> None:
    public_id = client.post("/api/v1/registrations/institution", json=_institution_form()).json()[
        "organization"
    ]["public_id"]
    operator = auth("operator")
    response = client.post(
        f"/api/v1/organizations/{public_id}/reject", json={"reason": "  "}, headers=operator
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "reason"
    org = service.get_organization_or_raise(session, public_id=public_id)
    assert org.state == "pending"
    rejected = client.post(
        f"/api/v1/organizations/{public_id}/reject",
        json={"reason": "licence not found"},
        headers=operator,
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["state_reason"] == "licence not found"
    refused = client.post(
        "/api/v1/auth/token", data={"username": "beibu-bank", "password": "a-good-password"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "organization_inactive"


def test_a_pending_institution_cannot_use_institution_endpoints(
    client: TestClient, demo: object
) -> None:
    client.post("/api/v1/registrations/institution", json=_institution_form())
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/products")
    def products(principal: InstitutionUser) -> dict[str, str]:
        return {"name": principal.organization_name}

    market = TestClient(app)
    pending = {"Authorization": f"Bearer {token_for(client, 'beibu-bank', 'a-good-password')}"}
    response = market.get("/products", headers=pending)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "organization_inactive"
    active = {"Authorization": f"Bearer {token_for(client, 'bank')}"}
    assert market.get("/products", headers=active).json() == {"name": "演示商业银行"}


def test_an_unknown_institution_type_is_refused_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/registrations/institution", json=_institution_form(institution_type="casino")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "institution_type"
    assert _count(session, Organization) == 0
    assert _count(session, User) == 0


def test_the_operator_creates_a_provider_and_its_user(
    client: TestClient, auth: Headers, session: Session
) -> None:
    operator = auth("operator")
    created = client.post(
        "/api/v1/organizations",
        json={
            "kind": "provider",
            "name": "人力资源和社会保障局",
            "department_code": "hrss",
            "contact_name": "张科长",
        },
        headers=operator,
    )
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["state"] == "active"
    user = client.post(
        f"/api/v1/organizations/{org['public_id']}/users",
        json={"username": "hrss", "display_name": "张科长", "password": "hrss-password"},
        headers=operator,
    )
    assert user.status_code == 201, user.text
    assert user.json()["role"] == "staff"
    me = client.get(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {token_for(client, 'hrss', 'hrss-password')}"},
    ).json()
    assert me["organization"]["name"] == "人力资源和社会保障局"


def test_a_provider_needs_a_free_department_code_and_nothing_is_stored_without(
    client: TestClient, auth: Headers, session: Session
) -> None:
    operator = auth("operator")
    before = _count(session, Organization)
    missing = client.post(
        "/api/v1/organizations", json={"kind": "provider", "name": "海关"}, headers=operator
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "department_code"
    taken = client.post(
        "/api/v1/organizations",
        json={"kind": "provider", "name": "另一个税务局", "department_code": "tax"},
        headers=operator,
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["field"] == "department_code"
    assert _count(session, Organization) == before


def test_the_operator_cannot_create_enterprises_directly(
    client: TestClient, auth: Headers, session: Session
) -> None:
    before = _count(session, Organization)
    response = client.post(
        "/api/v1/organizations", json={"kind": "enterprise", "name": "X"}, headers=auth("operator")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "kind"
    assert _count(session, Organization) == before


def test_organizations_are_paged_and_counted(client: TestClient, auth: Headers) -> None:
    operator = auth("operator")
    page = client.get("/api/v1/organizations?size=2&page=2", headers=operator).json()
    assert page["total"] == 6
    assert page["page"] == 2
    assert page["size"] == 2
    assert len(page["items"]) == 2
    counts = client.get("/api/v1/organization-counts", headers=operator).json()
    assert sum(row["count"] for row in counts) == 6
    assert {"kind": "provider", "state": "active", "count": 2} in counts


def test_a_user_transition_is_recorded_with_its_actor(
    client: TestClient, auth: Headers, session: Session
) -> None:
    bank = service.get_user_or_raise(session, username="bank")
    operator = auth("operator")
    assert (
        client.post(f"/api/v1/users/{bank.public_id}/lock", headers=operator).json()["state"]
        == "locked"
    )
    assert client.post(f"/api/v1/users/{bank.public_id}/lock", headers=operator).status_code == 409
    assert (
        client.post(f"/api/v1/users/{bank.public_id}/unlock", headers=operator).status_code == 200
    )
    changes = session.scalars(
        select(StateChange).where(
            StateChange.subject_type == "user", StateChange.subject_id == bank.id
        )
    ).all()
    assert [(c.transition, c.actor) for c in changes] == [
        ("create", "system:demo"),
        ("lock", "user:operator"),
        ("unlock", "user:operator"),
    ]


def test_an_organization_admin_manages_its_own_members_only(
    client: TestClient, auth: Headers, session: Session
) -> None:
    bank = auth("bank")
    added = client.post(
        "/api/v1/my-organization/users",
        json={"username": "loan-officer", "display_name": "信贷员", "password": "officer-pass"},
        headers=bank,
    )
    assert added.status_code == 201, added.text
    officer = added.json()
    listed = client.get("/api/v1/my-organization/users", headers=bank).json()
    assert sorted(item["username"] for item in listed["items"]) == ["bank", "loan-officer"]

    officer_headers = {
        "Authorization": f"Bearer {token_for(client, 'loan-officer', 'officer-pass')}"
    }
    refused = client.get("/api/v1/my-organization/users", headers=officer_headers)
    assert refused.status_code == 403

    auditor_id = service.get_user_or_raise(session, username="auditor").public_id
    other = client.post(f"/api/v1/my-organization/users/{auditor_id}/disable", headers=bank)
    assert other.status_code == 404
    session.expire_all()
    assert service.get_user_or_raise(session, username="auditor").state == "active"

    disabled = client.post(
        f"/api/v1/my-organization/users/{officer['public_id']}/disable", headers=bank
    )
    assert disabled.json()["state"] == "disabled"
    assert client.get("/api/v1/me", headers=officer_headers).status_code == 401
