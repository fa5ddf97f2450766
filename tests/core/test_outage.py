"""While the database cannot be reached the platform says so: the API answers 503 with
``Retry-After`` in its one error shape, the portal a readable page (503, Retry-After), and
``/healthz`` 503; once the database is back everything answers again, with no restart. A
database error that is not an outage (a statement at fault) stays a 500 of ours."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from tests.web.conftest import sign_in
from xinyidai.app import create_app
from xinyidai.core import db as core_db
from xinyidai.core.api import DATABASE_RETRY_AFTER
from xinyidai.iam.service import DemoAccount
from xinyidai.registry import service as registry_service


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Outage = Callable[[], None]


@pytest.fixture(params=["postgres-refused", "sqlite-unopenable"])
def outage(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Outage]:
    """Makes the configured database unreachable: a PostgreSQL server whose port refuses
    connections, or a SQLite file that cannot be opened (a folder stands where it should
    be). The test's own database comes back at the end."""

    def start() -> None:
        if request.param == "postgres-refused":
            url = f"postgresql://xyd@127.0.0.1:{_closed_port()}/xyd"
        else:
            folder = tmp_path / "not-a-database.db"
            folder.mkdir()
            url = f"sqlite:///{folder}"
        monkeypatch.setenv("XYD_DATABASE_URL", url)
        core_db.reset_engines()

    yield start
    _restore(db_url, monkeypatch)


def _restore(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XYD_DATABASE_URL", db_url)
    core_db.reset_engines()


def _assert_unavailable(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER)  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "field", "request_id"}
    assert (error["code"], error["field"]) == ("unavailable", None)
    assert error["request_id"] == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert "127.0.0.1" not in error["message"]  # the driver's text goes to the log only


def test_the_api_answers_503_with_retry_after_while_the_database_is_unreachable(
    client: TestClient,
    demo: list[DemoAccount],
    outage: Outage,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": "demo-password"}
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    outage()
    _assert_unavailable(client.get("/api/v1/catalog/categories"))  # public, a read
    _assert_unavailable(client.get("/api/v1/enterprises", headers=bearer))  # signed in
    _assert_unavailable(
        client.post("/api/v1/auth/token", data={"username": "operator", "password": "x"})
    )
    english = client.get("/api/v1/catalog/categories", headers={"Accept-Language": "en"})
    _assert_unavailable(english)
    assert english.json()["error"]["message"] == (
        f"the platform cannot reach its database just now; try again in "
        f"{DATABASE_RETRY_AFTER} seconds"
    )
    chinese = client.get("/api/v1/catalog/categories")
    assert "暂时无法连接数据库" in chinese.json()["error"]["message"]
    assert client.get("/healthz").status_code == 503
    _restore(db_url, monkeypatch)
    assert client.get("/api/v1/catalog/categories").status_code == 200  # back, no restart
    assert client.get("/api/v1/enterprises", headers=bearer).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_the_portal_shows_a_readable_page_while_the_database_is_unreachable(
    client: TestClient,
    demo: list[DemoAccount],
    outage: Outage,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert sign_in(client, "enterprise").status_code == 303  # type: ignore[attr-defined]
    outage()
    page = client.get("/dashboard", headers={"Accept": "text/html", "X-Request-ID": "outage-1"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert page.headers["X-Request-ID"] == "outage-1"
    assert "暂时无法访问" in page.text
    assert f"平台暂时无法连接数据库，请 {DATABASE_RETRY_AFTER} 秒后重试" in page.text
    assert '<code data-testid="request-id">outage-1</code>' in page.text
    # the same page asked for by a program answers the API's shape
    _assert_unavailable(client.get("/dashboard", headers={"Accept": "application/json"}))
    _restore(db_url, monkeypatch)
    assert client.get("/dashboard", headers={"Accept": "text/html"}).status_code == 200


@pytest.fixture
def server(db_url: str) -> Iterator[TestClient]:
    """A client that sees what the server sends for an unhandled error."""
    app: FastAPI = create_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_statement_at_fault_is_still_a_500_not_an_outage(
    server: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        with core_db.session_scope() as own:
            own.execute(text("SELECT * FROM no_such_table"))  # SQLite: an OperationalError

    monkeypatch.setattr(registry_service, "search_statement", broken)
    response = server.get("/api/v1/registry/enterprises")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "Retry-After" not in response.headers


def test_an_exhausted_pool_is_an_outage_to_wait_out(
    server: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 5 overflow 5 reached")

    monkeypatch.setattr(registry_service, "search_statement", exhausted)
    _assert_unavailable(server.get("/api/v1/registry/enterprises"))


def test_which_database_errors_are_an_outage(db_url: str, tmp_path: Path) -> None:
    engine = core_db.get_engine()
    with pytest.raises(sa_exc.OperationalError) as statement, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not core_db.database_unavailable(statement.value)
    folder = tmp_path / "folder.db"
    folder.mkdir()
    unopenable = core_db.build_engine(f"sqlite:///{folder}")
    with pytest.raises(sa_exc.OperationalError) as cannot_open, unopenable.connect():
        pass
    assert core_db.database_unavailable(cannot_open.value)
    refused = core_db.build_engine(f"postgresql://xyd@127.0.0.1:{_closed_port()}/xyd")
    with pytest.raises(sa_exc.OperationalError) as refusal, refused.connect():
        pass
    assert core_db.database_unavailable(refusal.value)
    assert core_db.database_unavailable(sa_exc.TimeoutError("pool exhausted"))
    assert not core_db.database_unavailable(ValueError("not a database error"))
    assert not core_db.database_unavailable(
        sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    )
