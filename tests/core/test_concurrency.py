"""The real server under more concurrent clients than it has database connections: every
request is answered (none times out, none fails: a request holds one connection at a time
and commits before it answers, so no request waits for a connection another waiting
request holds), and a letter's uses are all counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from tests.consent.world import World, grant
from tests.servers import free_port, serving
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service

POOL = 3
CLIENTS = 24
REQUESTS = 96


@dataclass
class Server:
    base: str
    peak_connections: int = 0
    checked_out: int = 0


@pytest.fixture
def server(world: World, xyd_env: XydEnv) -> Iterator[Server]:
    """``xyd serve``'s app on a free port, with as many slots as pooled connections (3) and
    no connection beyond the pool; the peak of connections in use is counted."""
    core_db.get_engine().dispose()
    core_db.reset_engines()
    xyd_env(
        XYD_WEB_MAX_CONCURRENCY=str(POOL),
        XYD_DB_POOL_SIZE=str(POOL),
        XYD_DB_POOL_OVERFLOW="0",
        XYD_DB_POOL_TIMEOUT_SECONDS="5.0",
    )
    engine = core_db.get_engine()
    assert engine.pool.size() == POOL  # type: ignore[attr-defined]
    port = free_port()
    found = Server(base=f"http://127.0.0.1:{port}")
    lock = threading.Lock()

    def checkout(*_: object) -> None:
        with lock:
            found.checked_out += 1
            found.peak_connections = max(found.peak_connections, found.checked_out)

    def checkin(*_: object) -> None:
        with lock:
            found.checked_out -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    from xinyidai.app import create_app

    with serving(create_app(), port=port):
        yield found


def test_more_clients_than_connections_are_all_answered_on_one_letter(
    server: Server, world: World, session: Session
) -> None:
    letter = grant(session, world)
    bank = iam_service.get_user_or_raise(session, username="bank")
    token = iam_service.issue_tokens(session, user=bank).access_token
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.base}/api/v1/enterprises/{ENTERPRISE_CODE}/report"

    def read(_: int) -> int:
        with httpx.Client(timeout=60) as client:
            return client.get(url, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(read, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    assert server.peak_connections <= POOL
    session.refresh(letter)
    assert letter.queries_used == REQUESTS
