"""The API-wide rate limit: per credential, per address without one, RateLimit headers on
every API answer, 429 with Retry-After in the one error shape past it, counters shared
through Redis, and a store that is down letting requests through."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.accounts import token_for
from tests.conftest import XydEnv
from xinyidai.core.ratelimit import ApiRateLimit
from xinyidai.core.settings import WebSettings
from xinyidai.iam.service.demo import DemoAccount

POLICY = re.compile(r'^"(per-key|per-address)";q=(\d+);w=(\d+)$')
REMAINING = re.compile(r'^"(per-key|per-address)";r=(\d+);t=(\d+)$')


@pytest.fixture
def limited(db_url: str, xyd_env: XydEnv) -> Iterator[TestClient]:
    """The app with small limits, as an operator might set them."""
    xyd_env(XYD_WEB_API_RATE_LIMIT="3/minute", XYD_WEB_API_RATE_LIMIT_ANONYMOUS="4/minute")
    from xinyidai.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def remaining(response: Any) -> tuple[str, int, int]:
    match = REMAINING.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return match.group(1), int(match.group(2)), int(match.group(3))


def test_a_credential_counts_against_its_own_limit(
    limited: TestClient, demo: list[DemoAccount]
) -> None:
    bank = {"Authorization": f"Bearer {token_for(limited, 'bank')}"}
    seen = []
    for _ in range(3):
        response = limited.get("/api/v1/products", headers=bank)
        assert response.status_code == 200
        assert POLICY.match(response.headers["ratelimit-policy"]).groups() == (  # type: ignore[union-attr]
            "per-key",
            "3",
            "60",
        )
        policy, left, reset = remaining(response)
        assert policy == "per-key"
        assert 1 <= reset <= 60
        seen.append(left)
    assert seen == [2, 1, 0]

    refused = limited.get("/api/v1/products", headers=bank)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["message"].startswith("请求过于频繁")
    assert error["request_id"] == refused.headers["x-request-id"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert remaining(refused)[1] == 0

    # Another credential, and a caller without one, have limits of their own (signing in
    # is a call without one: two so far).
    operator = {"Authorization": f"Bearer {token_for(limited, 'operator')}"}
    assert limited.get("/api/v1/products", headers=operator).status_code == 200
    anonymous = limited.get("/api/v1/products")
    assert anonymous.status_code == 200
    assert remaining(anonymous)[0] == "per-address"


def test_callers_without_a_credential_count_per_address_in_their_language(
    limited: TestClient,
) -> None:
    for _ in range(4):
        assert limited.get("/api/v1/products").status_code == 200
    refused = limited.get("/api/v1/products", headers={"Accept-Language": "en"})
    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("too many requests; try again in")
    # The portal, health and readiness are not the API: not counted, no headers.
    page = limited.get("/")
    assert page.status_code == 200
    assert "ratelimit" not in page.headers
    assert limited.get("/healthz").status_code == 200


def test_an_invented_credential_is_counted_too(limited: TestClient) -> None:
    """A credential is counted before it is checked: inventing keys buys only 401s."""
    headers = {"X-API-Key": "xyd_not-a-real-key"}
    statuses = [limited.get("/api/v1/letters", headers=headers).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_an_empty_limit_turns_it_off(db_url: str, xyd_env: XydEnv) -> None:
    xyd_env(XYD_WEB_API_RATE_LIMIT="", XYD_WEB_API_RATE_LIMIT_ANONYMOUS="")
    from xinyidai.app import create_app

    with TestClient(create_app()) as client:
        for _ in range(5):
            response = client.get("/api/v1/products")
            assert response.status_code == 200
            assert "ratelimit" not in response.headers


def test_a_limit_must_be_a_rate() -> None:
    with pytest.raises(ValueError, match="is not a rate limit"):
        WebSettings(api_rate_limit="plenty")
    assert WebSettings(api_rate_limit="").api_rate_limit is None


# --------------------------------------------------------------------------- the middleware alone


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _call(app: ApiRateLimit, *, key: str | None = None, client: str = "10.0.0.1") -> Any:
    headers = [(b"x-api-key", key.encode())] if key else []
    scope = {
        "type": "http",
        "path": "/api/v1/products",
        "headers": headers,
        "client": (client, 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


def test_a_store_that_cannot_be_reached_lets_requests_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ApiRateLimit(
        _ok,
        storage_url="redis://127.0.0.1:1/0",
        node="test",
        per_key="1/minute",
        per_address="1/minute",
    )

    async def three() -> list[int]:
        return [(await _call(app))[0] for _ in range(3)]

    assert asyncio.run(three()) == [200, 200, 200]
    assert "unreachable; request let through" in caplog.text


REDIS_URL = os.environ.get("XYD_TEST_REDIS_URL", "")


@pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true", reason="XYD_TEST_REDIS_URL not set"
)
def test_web_processes_share_their_counters_through_redis() -> None:
    node = f"test-{uuid.uuid4().hex}"
    first, second = (
        ApiRateLimit(
            _ok, storage_url=REDIS_URL, node=node, per_key="2/minute", per_address="5/minute"
        )
        for _ in range(2)
    )

    async def calls() -> None:  # one event loop: an async Redis client belongs to its loop
        assert (await _call(first, key="k1"))[0] == 200
        assert (await _call(second, key="k1"))[0] == 200
        status, headers = await _call(first, key="k1")
        assert status == 429
        assert headers["ratelimit"].startswith('"per-key";r=0;')
        assert (await _call(second, key="k2"))[0] == 200

    asyncio.run(calls())
