"""The iam migration applies and reverts cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from xinyidai.core import migrate

IAM_TABLES = {
    "iam_organization",
    "iam_user",
    "iam_session",
    "iam_api_key",
    "iam_login_failure",
    "iam_state_change",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_iam_migration_upgrades_and_downgrades_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "0003_iam")
    assert _tables(url) >= IAM_TABLES
    migrate.downgrade(url, "0002_ledger")
    assert not IAM_TABLES & _tables(url)


@pytest.mark.postgres
def test_iam_tables_exist_on_postgres(pg_url: str) -> None:
    assert _tables(pg_url) >= IAM_TABLES


@pytest.mark.postgres
def test_sign_in_refresh_and_throttling_work_on_postgres(pg_url: str) -> None:
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE
    from xinyidai.app import create_app
    from xinyidai.core import clock
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    with session_scope() as session:
        registry_service.create(session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="E"))
        service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    with TestClient(create_app()) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "enterprise", "password": DEMO_PASSWORD}
        ).json()
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.json()["organization"]["credit_code"] == ENTERPRISE_CODE
        refreshed = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        )
        assert refreshed.status_code == 200
        start = clock.now()
        with clock.frozen_at(start):
            for _ in range(5):
                client.post(
                    "/api/v1/auth/token", data={"username": "bank", "password": "nope-nope"}
                )
            held = client.post(
                "/api/v1/auth/token", data={"username": "bank", "password": DEMO_PASSWORD}
            )
        assert held.status_code == 429
        assert held.headers["Retry-After"] == "1"
        with clock.frozen_at(start + timedelta(seconds=1)):
            signed_in = client.post(
                "/api/v1/auth/token", data={"username": "bank", "password": DEMO_PASSWORD}
            )
        assert signed_in.status_code == 200
