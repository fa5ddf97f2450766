"""Errors nobody handled answer the one error shape with a request id (a page for the
portal's browsers), never a bare 500 text; every response carries its request id."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from xinyidai.app import create_app
from xinyidai.registry import service as registry_service

OURS = re.compile(r"[0-9a-f]{32}")
SECRET = "connection string postgresql://xyd:hunter2@db/xyd"


@pytest.fixture
def app(db_url: str) -> FastAPI:
    """The real app with two routes that fail as a bug would: one in the API, one page."""
    application = create_app()

    @application.get("/api/v1/test-only/failure")
    def api_failure() -> None:
        raise RuntimeError(SECRET)

    @application.get("/test-only/failure")
    def page_failure() -> None:
        raise RuntimeError(SECRET)

    return application


@pytest.fixture
def server(app: FastAPI) -> Iterator[TestClient]:
    """A client that sees what the server sends for an unhandled error, as a browser would."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _assert_internal(response: object, request_id: str | None = None) -> str:
    assert response.status_code == 500  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "field", "request_id"}
    assert (error["code"], error["field"]) == ("internal", None)
    header = response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert error["request_id"] == header
    assert header in error["message"]
    assert "hunter2" not in response.text  # type: ignore[attr-defined]
    if request_id is not None:
        assert header == request_id
    return str(header)


def test_an_unexpected_error_answers_the_error_shape_with_a_request_id(
    server: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="xinyidai.core.api"):
        response = server.get("/api/v1/test-only/failure")
    rid = _assert_internal(response)
    assert OURS.fullmatch(rid)
    assert "系统发生意外错误" in response.json()["error"]["message"]
    logged = [r for r in caplog.records if r.name == "xinyidai.core.api"]
    assert len(logged) == 1
    assert rid in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert SECRET in str(logged[0].exc_info[1])


def test_a_failing_service_behind_a_real_route_answers_the_error_shape(
    server: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(registry_service, "search_statement", broken)
    response = server.get(
        "/api/v1/registry/enterprises", headers={"Accept-Language": "en", "X-Request-ID": "r-1"}
    )
    _assert_internal(response, "r-1")
    assert "unexpected error" in response.json()["error"]["message"]


def test_the_callers_request_id_is_echoed_on_every_answer(server: TestClient) -> None:
    rid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert server.get("/healthz", headers={"X-Request-ID": rid}).headers["X-Request-ID"] == rid
    missing = server.get("/api/v1/registry/enterprises/91640104MA0000000X")
    assert missing.status_code in (404, 422)
    assert missing.json()["error"]["request_id"] == missing.headers["X-Request-ID"]
    unknown = server.get("/api/v1/no-such-route", headers={"X-Request-ID": "trace.42:a_b"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["request_id"] == "trace.42:a_b"
    assert unknown.headers["X-Request-ID"] == "trace.42:a_b"
    _assert_internal(server.get("/api/v1/test-only/failure", headers={"X-Request-ID": rid}), rid)
    fresh = server.get("/healthz").headers["X-Request-ID"]
    assert OURS.fullmatch(fresh)


@pytest.mark.parametrize(
    "hostile",
    [
        b"a" * 129,  # too long
        b"abc\x01def",  # control characters
        b"abc\x7fdef",
        b"abc\tdef",
        b"<script>alert(1)</script>",
        b"id with spaces",
        b"-starts-with-a-dash",
        "é-not-ascii".encode(),
    ],
)
def test_a_hostile_request_id_is_replaced(server: TestClient, hostile: bytes) -> None:
    response = server.get("/api/v1/test-only/failure", headers={"X-Request-ID": hostile})
    assert OURS.fullmatch(_assert_internal(response))
    echoed = server.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
    assert OURS.fullmatch(echoed)


def test_a_portal_page_that_fails_shows_a_chinese_error_page_with_the_request_id(
    server: TestClient,
) -> None:
    response = server.get(
        "/test-only/failure", headers={"Accept": "text/html", "X-Request-ID": "page-1"}
    )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["X-Request-ID"] == "page-1"
    assert "出错了" in response.text
    assert '<code data-testid="request-id">page-1</code>' in response.text
    assert "hunter2" not in response.text
    # the same route asked for by a program answers the API's shape
    _assert_internal(server.get("/test-only/failure", headers={"Accept": "application/json"}))
