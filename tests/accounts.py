"""The demo accounts' shared facts for tests: their password, the demo enterprise, tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from xinyidai.registry import creditcode

DEMO_PASSWORD = "demo-password"
ENTERPRISE_CODE = creditcode.make("91450100MA5K00001")
OTHER_CODE = creditcode.make("91450100MA5K00002")


def token_for(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token for a user, through the real token endpoint."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
