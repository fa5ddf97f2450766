"""Fixtures shared by every test: a fresh migrated database per test, the real app.

SQLite by default: the schema is migrated once into a template file and copied for each
test. Tests marked ``postgres`` get a database of their own on the server named by
``XYD_TEST_POSTGRES_URL``; without it they are skipped, except under ``CI=true`` where a
missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ["XYD_ENV"] = "test"
os.environ["XYD_QUEUE_IMMEDIATE"] = "true"
os.environ.pop("XYD_REDIS_URL", None)
# Every test calls from one address, and some walk the whole API: the API's rate limits are
# set out of reach, except where a test sets them (tests/core/test_rate_limit.py).
os.environ["XYD_WEB_API_RATE_LIMIT"] = "1000000/minute"
os.environ["XYD_WEB_API_RATE_LIMIT_ANONYMOUS"] = "1000000/minute"

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, token_for
from tests.consent.world import World, build_world
from xinyidai import bootstrap
from xinyidai.core import db as core_db
from xinyidai.core.settings import Settings, get_settings, normalize_database_url
from xinyidai.iam.service import DemoAccount
from xinyidai.jobs import load_all_tasks

load_all_tasks()  # services queue tasks by name, as in the app and the command line

# Property tests check what holds, never how fast: no per-example deadline (a loaded CI
# machine would turn it into a flaky timing assertion).
hypothesis_settings.register_profile("xyd", deadline=None)
hypothesis_settings.load_profile("xyd")

POSTGRES_URL = os.environ.get("XYD_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    if IN_CI:
        raise pytest.UsageError("CI=true but XYD_TEST_POSTGRES_URL is not set")
    skip = pytest.mark.skip(reason="XYD_TEST_POSTGRES_URL not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    bootstrap.initialize(f"sqlite:///{path}")
    return path


@pytest.fixture(autouse=True)
def _settings_read_again_after_each_test() -> Iterator[None]:
    """No test sees the settings another test changed."""
    yield
    get_settings.cache_clear()


XydEnv = Callable[..., Settings]


@pytest.fixture
def xyd_env() -> Iterator[XydEnv]:
    """The one way a test changes settings: ``xyd_env(XYD_LEDGER_MAX_ENTRIES="4")`` sets
    the variables as an operator would (``None`` removes one), reads the settings again and
    returns them; after the test the variables are as they were and the settings read again.
    """
    with pytest.MonkeyPatch.context() as patch:

        def set_variables(**variables: str | None) -> Settings:
            for name, value in variables.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            get_settings.cache_clear()
            return get_settings()

        yield set_variables
    get_settings.cache_clear()


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path) -> None:
    monkeypatch.setenv("XYD_DATABASE_URL", url)
    monkeypatch.setenv("XYD_DATA_DIR", str(data_dir))
    core_db.reset_engines()


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated SQLite database for this test, made the configured one."""
    path = tmp_path / "xyd.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    _use_database(monkeypatch, url, tmp_path)
    yield url
    core_db.get_engine().dispose()
    core_db.reset_engines()


@pytest.fixture
def pg_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("XYD_TEST_POSTGRES_URL not set")
    admin = create_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"xyd_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalize_database_url(POSTGRES_URL).rsplit("/", 1)[0] + f"/{name}"
    try:
        bootstrap.initialize(url)
        _use_database(monkeypatch, url, tmp_path)
        yield url
    finally:
        core_db.get_engine().dispose()
        core_db.reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """Makes further empty PostgreSQL databases for this test (not migrated, not made the
    configured one: a restore's target), each dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("XYD_TEST_POSTGRES_URL not set")
    admin = create_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"xyd_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return normalize_database_url(POSTGRES_URL).rsplit("/", 1)[0] + f"/{name}"

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on the test's database; the test commits what it wants the app to see."""
    s = core_db.new_session()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """The real app over the test's database."""
    from xinyidai.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def demo(session: Session) -> list[DemoAccount]:
    """The six demo accounts over a registry holding the demo enterprise, committed."""
    from xinyidai.iam import service as iam_service
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    registry_service.create(
        session,
        data=EnterpriseIn(
            credit_code=ENTERPRISE_CODE,
            name="南宁示范科技有限公司",
            region_code="450100",
            registered_capital="12345678.50",
        ),
    )
    accounts = iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    session.commit()
    return accounts


@pytest.fixture
def world(session: Session, demo: list[DemoAccount]) -> World:
    """The consent tests' world over the demo accounts: a platform and a second bank, and the
    demo enterprise's records in public, restricted and confidential categories, committed."""
    return build_world(session)


@pytest.fixture
def auth(client: TestClient, demo: list[DemoAccount]) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a demo username."""

    def headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(client, username)}"}

    return headers
