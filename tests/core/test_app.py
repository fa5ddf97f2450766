import gc
import weakref

from fastapi.testclient import TestClient

from tests.conftest import XydEnv
from xinyidai.app import create_app


def test_healthz_reports_database_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] == "sqlite"


def test_openapi_document_lists_api_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/credit-codes/{code}" in paths


def test_an_app_that_served_requests_is_freed_when_dropped(db_url: str, xyd_env: XydEnv) -> None:
    """Nothing global keeps an app alive once it is dropped (FastAPI caches every endpoint
    it has called, so an endpoint closing over its app would keep the app and all it holds:
    about 28 MB a test client, until a long test run runs out of memory)."""
    xyd_env(XYD_WEB_METRICS_TOKEN="t" * 32)
    app = create_app()
    with TestClient(app) as client:
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/", "/login"):
            client.get(path, headers={"Authorization": "Bearer " + "t" * 32})
        client.get("/api/v1/products")
    dropped = weakref.ref(app)
    del app, client
    gc.collect()
    assert dropped() is None, [type(r).__name__ for r in gc.get_referrers(dropped())]
