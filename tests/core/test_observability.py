"""What the operations team sees: /metrics, /readyz, access lines, request ids, 401s."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.accounts import ENTERPRISE_CODE, token_for
from tests.conftest import XydEnv
from xinyidai import observability
from xinyidai.core import logs
from xinyidai.iam.service.demo import DemoAccount

TOKEN = "scrape-token-of-the-test"


@pytest.fixture
def watched(db_url: str, xyd_env: XydEnv) -> Iterator[TestClient]:
    """The app with a metrics token set, as an operator would configure it."""
    xyd_env(XYD_WEB_METRICS_TOKEN=TOKEN)
    from xinyidai.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_are_off_without_a_token(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_metrics_refuse_a_wrong_token_with_a_challenge(watched: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        response = watched.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "xyd_" not in response.text


def test_metrics_count_requests_decisions_and_read_the_database(
    watched: TestClient, demo: list[DemoAccount]
) -> None:
    headers = {"Authorization": f"Bearer {token_for(watched, 'operator')}"}
    assert watched.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/report", headers=headers).is_success
    assert watched.get("/api/v1/products").is_success
    text = scrape(watched)
    # requests by route template (never the path with its credit code) and status
    assert 'handler="/api/v1/enterprises/{code}/report"' in text
    assert ENTERPRISE_CODE not in text
    assert 'http_requests_total{handler="/api/v1/products",method="GET",status="200"}' in text
    # the decision the report took
    assert 'xyd_access_decisions_total{channel="api:report",outcome="allow"}' in text
    # gauges the database answers, each reader up
    for name in ("xyd_ledger_size", "xyd_ledger_sequencer_lag_seconds", "xyd_queue_pending"):
        assert f"\n{name} " in text
    assert 'xyd_ingest_rows_total{result="accepted"}' in text
    for reader in ("jobs", "ledger", "ingest", "webhooks"):
        assert f'xyd_metrics_reader_up{{reader="{reader}"}} 1.0' in text

    def gauge(name: str) -> float:
        return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name))

    # the report's access event is a leaf, in the tree or waiting for its place
    assert gauge("xyd_ledger_size ") + gauge("xyd_ledger_unsequenced ") >= 1


def test_readiness_needs_a_worker_then_is_ready(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["queue"]["status"] == "ok"
    assert checks["worker"]["status"] == "error"
    assert "worker" in checks["worker"]["error"]
    observability.beat()  # what the worker's periodic task does every minute
    response = client.get("/readyz")
    assert response.json()["checks"]["worker"]["status"] == "ok"
    assert response.status_code == (
        200 if response.json()["checks"]["ledger_key"]["status"] == "ok" else 503
    )


def test_readiness_names_a_missing_ledger_key(db_url: str, xyd_env: XydEnv, tmp_path) -> None:
    xyd_env(XYD_LEDGER_KEY_FILE=str(tmp_path / "nowhere" / "log.key"))
    observability.beat()
    ready, checks = observability.readiness()
    assert not ready
    assert checks["ledger_key"]["status"] == "error"
    assert "xyd ledger init" in checks["ledger_key"]["error"]


def test_a_401_carries_the_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="xyd", error="invalid_token"'
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith('Bearer realm="xyd"')


def test_text_answers_are_compressed_for_who_accepts_it(client: TestClient) -> None:
    response = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["info"]["title"]  # the client unpacked it


def test_access_lines_carry_ids_but_nothing_personal(
    client: TestClient, demo: list[DemoAccount], xyd_env: XydEnv
) -> None:
    xyd_env(XYD_LOG_FORMAT="json")
    out = io.StringIO()
    handler = logs.configure(stream=out)
    try:
        headers = {"Authorization": f"Bearer {token_for(client, 'enterprise')}"}
        headers["X-Request-ID"] = "req-observability-1"
        response = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/report", headers=headers)
        assert response.status_code == 200
        refused = client.get(
            f"/api/v1/enterprises/{ENTERPRISE_CODE}/records?category=nope", headers=headers
        )
        assert refused.status_code >= 400
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]
    report = next(line for line in access if line["route"].endswith("/report"))
    assert report["request_id"] == "req-observability-1"
    assert report["route"] == "/api/v1/enterprises/{code}/report"
    assert report["status"] == 200
    assert report["method"] == "GET"
    assert report["user"].startswith("usr_")
    assert report["organization"]
    assert report["organization_kind"] == "enterprise"
    assert isinstance(report["latency_ms"], float)
    everything = out.getvalue()
    for personal in (ENTERPRISE_CODE, "南宁示范科技有限公司", "enterprise", "demo-password"):
        if personal == "enterprise":  # the kind is logged; the username must not be
            assert '"user": "enterprise"' not in everything
            continue
        assert personal not in everything, personal
    assert "Bearer" not in everything


def test_text_lines_on_a_terminal_json_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert logs.wants_json("auto", io.StringIO())
    assert not logs.wants_json("auto", Terminal())
    assert logs.wants_json("json", Terminal())
    assert not logs.wants_json("text", io.StringIO())
