"""Nobody changes the state of their own account: one rule, the same refusal (403, field
``state``) from the API and the portal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.conftest import csrf_of, sign_in
from xinyidai.iam import service

Headers = Callable[[str], dict[str, str]]


def _state(session: Session, username: str) -> str:
    session.expire_all()
    return service.get_user_or_raise(session, username=username).state


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("operator", "/api/v1/users/{id}/lock"),
        ("operator", "/api/v1/users/{id}/disable"),
        ("bank", "/api/v1/my-organization/users/{id}/disable"),
    ],
)
def test_the_api_refuses_a_change_to_ones_own_account(
    client: TestClient, auth: Headers, session: Session, username: str, path: str
) -> None:
    own = service.get_user_or_raise(session, username=username).public_id
    refused = client.post(path.format(id=own), params={"lang": "en"}, headers=auth(username))
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("forbidden", "state")
    assert error["message"] == "you cannot change your own account's state"
    assert _state(session, username) == "active"


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("operator", "/admin/users/{id}/disable"),
        ("enterprise", "/account/members/{id}/disable"),
    ],
)
def test_the_portal_refuses_it_the_same_way(
    client: TestClient, demo: object, session: Session, username: str, path: str
) -> None:
    assert sign_in(client, username).status_code == 303  # type: ignore[attr-defined]
    own = service.get_user_or_raise(session, username=username).public_id
    token = csrf_of(client.get("/dashboard").text)
    refused = client.post(path.format(id=own), data={"csrf_token": token})
    assert refused.status_code == 403, refused.text
    assert "不能更改自己账号的状态" in refused.text
    assert _state(session, username) == "active"
