"""The demo accounts' shared facts for tests: their password, the demo enterprise, tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from xinyidai.registry import creditcode

DEMO_PASSWORD = "demo-password"
ENTERPRISE_CODE = creditcode.make("91450100MA5K00001")
OTHER_CODE = creditcode.make("91450100MA5K00002")


def token_for(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token for a user, through the real token endpoint."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def add_department(session: Session, *, code: str, name: str, username: str) -> None:
    """An active provider organization filing under department ``code`` with an admin user
    ``username`` (the demo password), committed: a department beside the demo's two."""
    from xinyidai.iam import service as iam_service

    organization = iam_service.create_organization(
        session, kind="provider", name=name, actor="test", state="active", department_code=code
    )
    iam_service.create_user(
        session,
        organization=organization,
        username=username,
        display_name=username,
        password=DEMO_PASSWORD,
        actor="test",
        role="admin",
    )
    session.commit()
