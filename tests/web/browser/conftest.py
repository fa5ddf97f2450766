"""A real server for browser tests: uvicorn in a thread over a fresh migrated SQLite database
with the demo accounts, and Playwright pointed at Debian's chromium (never a download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.accounts import ENTERPRISE_CODE
from tests.servers import serving
from xinyidai.core import db as core_db
from xinyidai.core import migrate
from xinyidai.iam import service as iam_service
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

# The machine running the tests may be busy: wait up to 30 s instead of Playwright's 5 s.
expect.set_options(timeout=30_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the real app serving a fresh database with the demo accounts."""
    data_dir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{data_dir / 'xyd.db'}"
    saved = {key: os.environ.get(key) for key in ("XYD_DATABASE_URL", "XYD_DATA_DIR")}
    os.environ["XYD_DATABASE_URL"] = url
    os.environ["XYD_DATA_DIR"] = str(data_dir)
    core_db.reset_engines()
    migrate.upgrade(url)
    with core_db.session_scope() as session:
        registry_service.create(
            session,
            data=EnterpriseIn(
                credit_code=ENTERPRISE_CODE,
                name="南宁示范科技有限公司",
                registered_capital="5000000",
            ),
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)

    from xinyidai.app import create_app

    try:
        with serving(create_app(), start_within=20) as base:
            yield base
    finally:
        core_db.get_engine().dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        core_db.reset_engines()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A browser in China: Chinese first, so the portal's default language is what is seen."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
