"""A pending organization may sign in and see where its application stands, nothing more.

Replays issue 16, item 10: a pending institution called ``POST /api/v1/verify`` and got an
answer. Every API route is walked with a pending institution's and a pending enterprise's
token: a route that needs signing in refuses them (403 ``organization_inactive``), a public
route answers them as it answers anyone, and only the routes listed here do more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE, token_for

Headers = Callable[[str], dict[str, str]]
PASSWORD = "a-good-password"

# The routes a pending organization may use with its token, and why.
PENDING_MAY = {
    ("POST", "/api/v1/auth/token"): "sign in, to see where the application stands",
    ("POST", "/api/v1/auth/revoke"): "sign out",
    ("GET", "/api/v1/me"): "its own account and its organization's state (onboarding status)",
    ("POST", "/api/v1/me/password"): "its own password",
    ("POST", "/api/v1/registrations/enterprise"): "onboarding (anonymous; the token is ignored)",
    ("POST", "/api/v1/registrations/institution"): "onboarding (anonymous; the token is ignored)",
    # an applicant institution signs the agreement and is assessed before it is approved
    ("GET", "/api/v1/supervision/agreement"): "the agreement to sign before approval",
    ("POST", "/api/v1/supervision/agreement/signatures"): "signing it",
    ("GET", "/api/v1/supervision/agreement/signatures"): "its own signatures",
    ("GET", "/api/v1/supervision/checklist"): "the security checklist it answers",
    ("GET", "/api/v1/supervision/assessments"): "its own assessments",
    ("POST", "/api/v1/supervision/assessments"): "opening its onboarding assessment",
    ("GET", "/api/v1/supervision/assessments/{assessment_id}"): "its own assessment",
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/answers"): "answering it",
    ("GET", "/api/v1/supervision/assessments/{assessment_id}/answers/{item_code}/evidence"): (
        "its own evidence"
    ),
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/submit"): "handing it in",
    ("GET", "/api/v1/supervision/findings"): "its own findings",
    ("GET", "/api/v1/supervision/findings/{finding_id}"): "its own finding",
}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def _url(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ENTERPRISE_CODE if m.group(1) == "code" else "x1", path)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> object:
    if method in ("POST", "PUT", "PATCH"):
        return client.request(method, _url(path), json={}, headers=headers)
    return client.request(method, _url(path), headers=headers)


@pytest.fixture
def pending(client: TestClient, demo: object) -> dict[str, dict[str, str]]:
    """Bearer headers of a pending institution and a pending enterprise."""
    applied = client.post(
        "/api/v1/registrations/institution",
        json={
            "name": "北部湾村镇银行",
            "institution_type": "bank",
            "licence_number": "S0001H245010001",
            "contact_name": "李行长",
            "username": "beibu-bank",
            "password": PASSWORD,
        },
    )
    assert applied.status_code == 201, applied.text
    registered = client.post(
        "/api/v1/registrations/enterprise",
        json={
            "credit_code": OTHER_CODE,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou-materials",
            "password": PASSWORD,
        },
    )
    assert registered.status_code == 201, registered.text
    return {
        "institution": {"Authorization": f"Bearer {token_for(client, 'beibu-bank', PASSWORD)}"},
        "enterprise": {
            "Authorization": f"Bearer {token_for(client, 'liuzhou-materials', PASSWORD)}"
        },
    }


def test_a_pending_institution_cannot_verify_facts(
    client: TestClient, pending: dict[str, dict[str, str]]
) -> None:
    response = client.post(
        "/api/v1/verify",
        json={"credit_code": ENTERPRISE_CODE, "category": "registration", "op": "exists"},
        headers=pending["institution"],
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "organization_inactive"
    assert response.json()["error"]["message"] == "贵机构正在等待信用中心审核，审核通过后方可使用"


def test_a_pending_organization_sees_its_own_account(
    client: TestClient, pending: dict[str, dict[str, str]]
) -> None:
    for kind, headers in pending.items():
        me = client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200
        assert me.json()["organization"]["kind"] == kind
        assert me.json()["organization"]["state"] == "pending"


@pytest.mark.parametrize("kind", ["institution", "enterprise"])
def test_every_route_refuses_a_pending_organization_or_answers_it_as_anyone(
    client: TestClient, pending: dict[str, dict[str, str]], kind: str
) -> None:
    routes = _routes(client)
    assert set(PENDING_MAY) <= set(routes)
    let_through = []
    for method, path in routes:
        if (method, path) in PENDING_MAY:
            continue
        anonymous = _call(client, method, path, {})
        again = _call(client, method, path, {})
        answered = _call(client, method, path, pending[kind])
        status = answered.status_code  # type: ignore[attr-defined]
        if anonymous.status_code == 401:  # type: ignore[attr-defined]
            code = answered.json()["error"]["code"] if status == 403 else None  # type: ignore[attr-defined]
            if (status, code) != (403, "organization_inactive"):
                let_through.append((method, path, status, code))
        elif status != anonymous.status_code or (  # type: ignore[attr-defined]
            anonymous.content == again.content  # type: ignore[attr-defined]
            and answered.content != anonymous.content  # type: ignore[attr-defined]
        ):
            let_through.append((method, path, status, "answered unlike anyone"))
    assert let_through == []
