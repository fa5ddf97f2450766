"""The outage drill on a scratch PostgreSQL database: departments push records with
``Idempotency-Key`` while the database's backends are killed and, for a moment, new
connections refused. Every push a client was told succeeded is stored once; a push retried
with its key after an error is never stored twice; the server answers errors, never a hang,
and serves again when the database is back, with no restart."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.servers import serving
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.ingest.models import Batch, IdempotencyKey
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres

CLIENTS = 6
PUSHES = 8  # per client
ATTEMPTS = 40


@pytest.fixture
def server(pg_url: str) -> Iterator[str]:
    from xinyidai.app import create_app

    with serving(create_app(), log_level="critical") as base:
        yield base


@dataclass
class Outcome:
    key: str
    batch_id: str | None = None
    statuses: list[str] = field(default_factory=list)


def _rows(number: int) -> list[dict[str, Any]]:
    return [
        {
            "credit_code": ENTERPRISE_CODE,
            "tax_item": "增值税",
            "period_start": f"2025-{1 + number % 12:02d}-01",
            "tax_paid": f"{1000 + number}.00",
            "region_code": "450103",
        }
    ]


def test_killed_backends_and_refused_connections_lose_and_double_nothing(
    pg_url: str, server: str
) -> None:
    session: Session = core_db.new_session()
    registry_service.create(
        session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
    )
    iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
    tax = iam_service.get_user_or_raise(session, username="provider-tax")
    token = iam_service.issue_tokens(session, user=tax).access_token
    session.commit()
    session.close()
    database = make_url(pg_url).database
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    stop = threading.Event()
    kills = 0

    def saboteur() -> None:
        nonlocal kills
        began = time.monotonic()
        refused = False
        with admin.connect() as conn:
            while not stop.is_set():
                elapsed = time.monotonic() - began
                refuse = 1.0 < elapsed < 2.0
                if refuse != refused:
                    allow = "false" if refuse else "true"
                    conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allow}'))
                    refused = refuse
                kills += conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                ).scalar_one()
                if elapsed > 3.0:
                    break
                time.sleep(0.15)
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))

    def push(number: int) -> Outcome:
        outcome = Outcome(key=f"drill-{number}-{uuid.uuid4().hex[:8]}")
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": outcome.key}
        with httpx.Client(base_url=server, timeout=60) as client:
            for _ in range(ATTEMPTS):
                try:
                    answer = client.post(
                        "/api/v1/ingest/records?category=tax_payment",
                        json=_rows(number),
                        headers=headers,
                    )
                except httpx.TransportError as exc:
                    outcome.statuses.append(type(exc).__name__)
                    time.sleep(0.1)
                    continue
                outcome.statuses.append(str(answer.status_code))
                if answer.status_code in (200, 201):
                    outcome.batch_id = answer.json()["batch_id"]
                    return outcome
                assert answer.status_code >= 500, answer.text  # the caller did nothing wrong
                assert answer.json()["error"]["code"]  # an error shape, not a bare 500 text
                time.sleep(0.1)
        return outcome

    sabotage = threading.Thread(target=saboteur)
    sabotage.start()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(push, range(CLIENTS * PUSHES)))
    stop.set()
    sabotage.join(timeout=30)
    admin.dispose()

    assert kills > 0, "the drill killed nothing: it tested nothing"
    troubled = [o for o in outcomes if len(o.statuses) > 1]
    assert troubled, "no push met the outage: the drill tested nothing"
    assert all(o.batch_id for o in outcomes), [o.statuses for o in outcomes if not o.batch_id]
    core_db.get_engine().dispose()
    check = core_db.new_session()
    try:
        stored = set(check.scalars(select(Batch.id)))
        # every acknowledged push is stored, and nothing else: no push stored twice
        assert stored == {o.batch_id for o in outcomes}
        keys = check.scalar(select(func.count()).select_from(IdempotencyKey))
        assert keys == len(outcomes)
    finally:
        check.close()
    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/healthz").status_code == 200  # back, with no restart
