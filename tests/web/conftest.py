"""Fixtures of the portal tests: demo accounts and a signed-in portal client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.accounts import DEMO_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match, "page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


@pytest.fixture
def portal(client: TestClient, demo: object) -> Callable[[str], TestClient]:
    """The test client, signed in to the portal as a demo username."""

    def as_user(username: str) -> TestClient:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text  # type: ignore[attr-defined]
        return client

    return as_user
