"""Every way into the API: passwords, throttling, tokens, refresh, API keys, roles, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD, token_for
from xinyidai.core import clock
from xinyidai.core.api import install_error_handlers, install_request_ids
from xinyidai.iam import security, service
from xinyidai.iam.auth import CSRF_HEADER, SESSION_COOKIE, ProviderPrincipal
from xinyidai.iam.models import ApiKey, AuthSession, LoginFailure
from xinyidai.iam.schemas import Principal

Headers = Callable[[str], dict[str, str]]


def _token(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "request_id"}
    error = dict(body["error"])
    assert error.pop("request_id") == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    return error


def test_password_grant_returns_a_short_lived_token_and_a_refresh_token(
    client: TestClient, demo: object
) -> None:
    response = _token(client, "operator", DEMO_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert body["access_token"] != body["refresh_token"]


def test_tokens_are_stored_only_as_hashes(
    client: TestClient, demo: object, session: Session
) -> None:
    body = _token(client, "operator", DEMO_PASSWORD).json()
    stored = set(session.scalars(select(AuthSession.token_hash)))
    assert body["access_token"] not in stored
    assert body["refresh_token"] not in stored
    assert len(stored) == 2


def test_wrong_password_is_refused_and_counted(
    client: TestClient, demo: object, session: Session
) -> None:
    response = _token(client, "operator", "not-the-password")
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "invalid_credentials"
    assert error["field"] == "password"
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 1
    assert session.scalar(select(func.count()).select_from(AuthSession)) == 0


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, demo: object
) -> None:
    unknown = _token(client, "nobody-here", DEMO_PASSWORD)
    wrong = _token(client, "operator", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert _error(unknown) == _error(wrong)


def test_errors_are_in_chinese_by_default_and_english_on_request(
    client: TestClient, demo: object
) -> None:
    chinese = _token(client, "operator", "not-the-password")
    english = client.post(
        "/api/v1/auth/token?lang=en", data={"username": "operator", "password": "nope-nope"}
    )
    assert _error(chinese)["message"] == "用户名或密码错误"
    assert _error(english)["message"] == "wrong username or password"


def test_a_throttled_username_does_not_hold_up_another(client: TestClient, demo: object) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(5):
            _token(client, "bank", "wrong-password")
        assert _token(client, "bank", DEMO_PASSWORD).status_code == 429
        assert _token(client, "auditor", DEMO_PASSWORD).status_code == 200


def test_a_success_forgets_earlier_failures(client: TestClient, demo: object) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(4):
            _token(client, "bank", "wrong-password")
        assert _token(client, "bank", DEMO_PASSWORD).status_code == 200
        for _ in range(4):
            _token(client, "bank", "wrong-password")
        assert _token(client, "bank", DEMO_PASSWORD).status_code == 200


def test_an_expired_access_token_is_refused(client: TestClient, demo: object) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        token = token_for(client, "operator")
    headers = {"Authorization": f"Bearer {token}"}
    with clock.frozen_at(start + timedelta(minutes=14)):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    with clock.frozen_at(start + timedelta(minutes=16)):
        response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_token"


def test_refresh_rotates_and_a_spent_refresh_token_ends_the_family(
    client: TestClient, demo: object
) -> None:
    first = _token(client, "operator", DEMO_PASSWORD).json()
    second = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    new_headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    old_headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert client.get("/api/v1/me", headers=old_headers).status_code == 401

    replay = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert replay.status_code == 401
    assert _error(replay)["code"] == "invalid_grant"
    assert client.get("/api/v1/me", headers=new_headers).status_code == 401


def test_an_expired_refresh_token_is_refused(client: TestClient, demo: object) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        refresh = _token(client, "operator", DEMO_PASSWORD).json()["refresh_token"]
    with clock.frozen_at(start + timedelta(days=31)):
        response = client.post(
            "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
        )
    assert response.status_code == 401


def test_revoking_a_token_ends_it(client: TestClient, demo: object) -> None:
    token = token_for(client, "operator")
    assert client.post("/api/v1/auth/revoke", data={"token": token}).status_code == 204
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_me_names_the_user_role_and_enterprise_credit_code(
    client: TestClient, auth: Headers
) -> None:
    body = client.get("/api/v1/me", headers=auth("enterprise")).json()
    assert body["user"]["username"] == "enterprise"
    assert body["user"]["role"] == "admin"
    assert body["organization"]["kind"] == "enterprise"
    assert body["organization"]["credit_code"] == "91450100MA5K00001E"
    assert "password_hash" not in body["user"]


def test_me_without_credentials_is_unauthorized(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_a_made_up_bearer_token_is_unauthorized(client: TestClient, demo: object) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401


def test_wrong_role_is_forbidden_in_the_error_shape(client: TestClient, auth: Headers) -> None:
    response = client.get("/api/v1/organizations", headers=auth("enterprise"))
    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "forbidden"
    assert error["field"] is None


def test_read_only_operator_member_cannot_create_organizations(
    client: TestClient, demo: object, session: Session, auth: Headers
) -> None:
    operator = service.get_user_or_raise(session, username="operator").organization
    service.create_user(
        session,
        organization=operator,
        username="viewer",
        display_name="Viewer",
        password="viewer-password",
        role="read_only",
        actor="test",
    )
    session.commit()
    headers = {"Authorization": f"Bearer {token_for(client, 'viewer', 'viewer-password')}"}
    assert client.get("/api/v1/organizations", headers=headers).status_code == 200
    response = client.post(
        "/api/v1/organizations", json={"kind": "provider", "name": "人社局"}, headers=headers
    )
    assert response.status_code == 403
    assert service.list_organizations(session, q="人社局")[1] == 0


def test_disabling_a_user_ends_its_tokens_and_sign_in(
    client: TestClient, demo: object, session: Session, auth: Headers
) -> None:
    bank_headers = auth("bank")
    bank = service.get_user_or_raise(session, username="bank")
    response = client.post(f"/api/v1/users/{bank.public_id}/disable", headers=auth("operator"))
    assert response.status_code == 200
    assert response.json()["state"] == "disabled"
    assert client.get("/api/v1/me", headers=bank_headers).status_code == 401
    refused = _token(client, "bank", DEMO_PASSWORD)
    assert refused.status_code == 403
    assert _error(refused)["code"] == "account_disabled"


def _create_key(client: TestClient, headers: dict[str, str], scopes: list[str]) -> dict[str, str]:
    response = client.post(
        "/api/v1/api-keys", json={"name": "tax system", "scopes": scopes}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_api_key_is_shown_once_and_stored_hashed(
    client: TestClient, auth: Headers, session: Session
) -> None:
    headers = auth("provider-tax")
    created = _create_key(client, headers, ["ingest:write"])
    key = created["key"]
    assert key.startswith(f"xyd_{created['prefix']}_")
    row = session.scalar(select(ApiKey))
    assert row is not None
    assert row.key_hash != key
    assert key not in row.key_hash
    listed = client.get("/api/v1/api-keys", headers=headers).json()["items"]
    assert [item["public_id"] for item in listed] == [created["public_id"]]
    assert "key" not in listed[0]


def _scoped_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_request_ids(app)

    @app.post("/push")
    def push(principal: ProviderPrincipal) -> dict[str, str]:
        return {
            "organization": principal.organization_name,
            "department": principal.organization_code or "",
            "via": principal.via,
        }

    return app


def test_provider_principal_admits_a_key_with_the_scope_and_records_its_use(
    client: TestClient, auth: Headers, session: Session
) -> None:
    key = _create_key(client, auth("provider-tax"), ["ingest:write"])["key"]
    scoped = TestClient(_scoped_app())
    response = scoped.post("/push", headers={"X-API-Key": key})
    assert response.status_code == 200
    assert response.json() == {"organization": "税务局", "department": "tax", "via": "api_key"}
    assert scoped.post("/push", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    session.expire_all()
    row = session.scalar(select(ApiKey))
    assert row is not None
    assert row.last_used_at is not None


def test_provider_principal_refuses_a_key_without_the_scope(
    client: TestClient, auth: Headers
) -> None:
    key = _create_key(client, auth("auditor"), ["ledger:witness"])["key"]
    response = TestClient(_scoped_app()).post("/push", headers={"X-API-Key": key})
    assert response.status_code == 403
    assert _error(response)["code"] == "forbidden"


def test_provider_principal_admits_provider_users_but_not_enterprises(
    client: TestClient, auth: Headers
) -> None:
    scoped = TestClient(_scoped_app())
    assert scoped.post("/push", headers=auth("provider-market")).status_code == 200
    assert scoped.post("/push", headers=auth("enterprise")).status_code == 403


def test_a_revoked_api_key_is_refused(client: TestClient, auth: Headers) -> None:
    headers = auth("provider-tax")
    created = _create_key(client, headers, ["ingest:write"])
    revoked = client.delete(f"/api/v1/api-keys/{created['public_id']}", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = TestClient(_scoped_app()).post("/push", headers={"X-API-Key": created["key"]})
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_api_key"
    again = client.delete(f"/api/v1/api-keys/{created['public_id']}", headers=headers)
    assert again.status_code == 409


def test_a_forged_key_with_a_real_prefix_is_refused(client: TestClient, auth: Headers) -> None:
    created = _create_key(client, auth("provider-tax"), ["ingest:write"])
    forged = f"xyd_{created['prefix']}_{'A' * 43}"
    response = TestClient(_scoped_app()).post("/push", headers={"X-API-Key": forged})
    assert response.status_code == 401


def test_a_scope_the_organization_may_not_hold_is_refused_and_nothing_stored(
    client: TestClient, auth: Headers, session: Session
) -> None:
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "sneaky", "scopes": ["federation"]},
        headers=auth("provider-tax"),
    )
    assert response.status_code == 422
    assert _error(response)["field"] == "scopes"
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_enterprises_hold_no_scopes_so_get_no_api_keys(
    client: TestClient, auth: Headers, session: Session
) -> None:
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["ingest:write"]},
        headers=auth("enterprise"),
    )
    assert response.status_code == 422
    assert _error(response)["field"] == "scopes"
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_an_api_key_cannot_act_as_a_user(client: TestClient, auth: Headers) -> None:
    key = _create_key(client, auth("provider-tax"), ["ingest:write"])["key"]
    response = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert response.status_code == 403


def test_suspending_an_organization_stops_its_keys_and_tokens(
    client: TestClient, auth: Headers, session: Session
) -> None:
    provider_headers = auth("provider-tax")
    key = _create_key(client, provider_headers, ["ingest:write"])["key"]
    org = service.get_user_or_raise(session, username="provider-tax").organization
    response = client.post(
        f"/api/v1/organizations/{org.public_id}/suspend",
        json={"reason": "data quality review"},
        headers=auth("operator"),
    )
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=provider_headers).status_code == 401
    assert TestClient(_scoped_app()).post("/push", headers={"X-API-Key": key}).status_code == 401
    assert _token(client, "provider-tax", DEMO_PASSWORD).status_code == 403


def _portal_session(client: TestClient, session: Session, username: str) -> AuthSession:
    user = service.get_user_or_raise(session, username=username)
    token, row = service.start_portal_session(session, user=user)
    session.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return row


def test_cookie_requests_without_the_csrf_token_are_refused(
    client: TestClient, demo: object, session: Session
) -> None:
    _portal_session(client, session, "enterprise")
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "a-new-password"},
    )
    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "csrf"
    assert error["field"] == "csrf_token"
    session.expire_all()
    user = service.get_user_or_raise(session, username="enterprise")
    assert security.verify_password(user.password_hash, DEMO_PASSWORD)


def test_cookie_requests_with_the_csrf_token_pass(
    client: TestClient, demo: object, session: Session
) -> None:
    row = _portal_session(client, session, "enterprise")
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "a-new-password"},
        headers={CSRF_HEADER: row.csrf_token or ""},
    )
    assert response.status_code == 204
    assert _token(client, "enterprise", "a-new-password").status_code == 200


def test_changing_password_needs_the_current_one_and_changes_nothing_otherwise(
    client: TestClient, auth: Headers, session: Session
) -> None:
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": "wrong-current", "new_password": "a-new-password"},
        headers=auth("bank"),
    )
    assert response.status_code == 422
    assert _error(response)["field"] == "current_password"
    assert _token(client, "bank", DEMO_PASSWORD).status_code == 200


def test_principal_actor_names_the_user() -> None:
    principal = Principal(
        organization_id=1,
        organization_public_id="org_x",
        organization_kind="operator",
        organization_name="x",
        organization_state="active",
        role="admin",
        user_id=1,
        username="alice",
    )
    assert principal.actor == "user:alice"
    assert principal.is_admin
    assert principal.can_write
