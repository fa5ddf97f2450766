"""``xyd serve --workers 2`` on PostgreSQL: two web processes answer reports on one letter
and sequence the ledger while they do; every use is counted once, every access event has
its leaf, the indexes are dense and the log verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import build_world, grant
from tests.servers import free_port
from xinyidai.audit.models import AccessEvent
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.verify import verify_ledger
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres

REPORTS = 120
CHECKPOINTS = 40


@pytest.fixture
def served(pg_url: str, tmp_path: Path) -> Iterator[str]:
    """Two web processes on the test's database (the keys made first, as ``xyd ledger
    init`` would on a real node)."""
    keys.create_key()
    keys.tag_secrets()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    xyd = Path(sys.executable).parent / "xyd"
    server = subprocess.Popen(
        [str(xyd), "serve", "--port", str(port), "--workers", "2"],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_two_web_processes_count_every_use_and_keep_one_log(served: str) -> None:
    session: Session = core_db.new_session()
    try:
        registry_service.create(
            session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        session.commit()
        world = build_world(session)
        letter = grant(session, world)
        token = iam_service.issue_tokens(
            session, user=iam_service.get_user_or_raise(session, username="bank")
        ).access_token
        session.commit()
        before = session.scalar(select(func.count()).select_from(AccessEvent)) or 0

        def call(number: int) -> int:
            with httpx.Client(base_url=served, timeout=60) as client:
                if number % 4 == 3:  # readers of the checkpoint run the sequencer
                    return client.get("/api/v1/ledger/checkpoint").status_code
                return client.get(
                    f"/api/v1/enterprises/{ENTERPRISE_CODE}/report",
                    headers={"Authorization": f"Bearer {token}"},
                ).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(call, range(REPORTS + CHECKPOINTS)))
        assert set(statuses) == {200}
        reports = sum(1 for n in range(REPORTS + CHECKPOINTS) if n % 4 != 3)

        session.expire_all()
        session.refresh(letter)
        assert letter.queries_used == reports
        events = session.scalar(select(func.count()).select_from(AccessEvent))
        assert events == before + reports
        ledger_service.integrate(session)
        ledger_service.publish_checkpoint(session)
        session.commit()
        indexes = list(session.scalars(select(LedgerEntry.idx).order_by(LedgerEntry.idx)))
        assert indexes == list(range(len(indexes)))  # dense, none given twice
        report = verify_ledger(session)
        assert report.ok, report.problems
        assert report.sources["audit.access"] == events
    finally:
        session.close()
