"""Optional OpenTelemetry traces: off by default; when on, a span per request named by its
route, and nothing a caller asked for (a credit code in the path, search text in the query)
in any span."""

from __future__ import annotations

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from xinyidai.core.settings import Settings, TracingSettings
from xinyidai.iam.service.demo import DemoAccount
from xinyidai.tracing import OFF, telemetry_config


def test_tracing_is_off_by_default() -> None:
    assert telemetry_config(Settings()) == OFF
    assert TracingSettings().enabled is False


def test_requests_are_traced_by_route_and_nothing_personal_leaves(
    db_url: str, xyd_env: XydEnv, demo: list[DemoAccount]
) -> None:
    xyd_env(XYD_TRACING_ENABLED="true")
    from xinyidai.app import create_app

    spans = InMemorySpanExporter()
    with TestClient(create_app(span_exporter=spans)) as client:
        assert client.get(f"/api/v1/credit-codes/{ENTERPRISE_CODE}").status_code == 200
        assert client.get("/api/v1/registry/enterprises", params={"q": "黄海"}).is_success
        assert client.get("/healthz").status_code == 200
    finished = spans.get_finished_spans()
    servers = [s for s in finished if s.kind.name == "SERVER"]
    routes = [s.attributes.get("http.route") for s in servers if s.attributes]
    assert routes == ["/api/v1/credit-codes/{code}", "/api/v1/registry/enterprises"]
    assert all(s.resource.attributes["service.name"] == "xyd" for s in finished)
    for span in finished:
        text = repr(dict(span.attributes or {})) + span.name
        assert ENTERPRISE_CODE not in text
        assert "黄海" not in text
        assert "%E9%BB%84" not in text
    assert servers[0].attributes["url.path"] == "[redacted]"  # type: ignore[index]
    assert len(finished) > len(servers)  # the endpoint and its dependencies have spans too
