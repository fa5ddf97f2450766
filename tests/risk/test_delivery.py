"""Alerts leave as signed ``alert.raised`` webhooks, retried on the marketplace's schedule
until the receiver takes them; a sweep killed midway loses and doubles nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from tests.accounts import ENTERPRISE_CODE
from tests.market.conftest import Auth
from tests.market.test_webhooks import Receiver
from tests.risk.conftest import alerts_of, lend, penalty
from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.market import jobs as market_jobs
from xinyidai.market.models import WebhookDelivery
from xinyidai.risk import jobs
from xinyidai.risk.service import alerts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _deliveries(session: Session) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.event_type == "alert.raised")
            .order_by(WebhookDelivery.id)
        )
    )


def test_a_receiver_down_for_an_hour_still_gets_every_alert(
    client: TestClient,
    auth: Auth,
    signed: None,
    session: Session,
    receiver: Receiver,
    loopback_allowed: None,
) -> None:
    registered = client.post(
        "/api/v1/institution/webhooks", json={"url": receiver.url}, headers=auth("bank")
    )
    assert registered.status_code == 201, registered.text
    secret = registered.json()["secret"]
    lend(client, auth)
    receiver.status = 503
    down_at = clock.now()
    for n in range(3):
        penalty(session, f"南青市监罚〔2026〕{n}号")
    raised = {a.public_id for a in alerts_of(session)}
    assert len(raised) == 3
    pending = _deliveries(session)
    assert [(d.state, d.attempts) for d in pending] == [("pending", 1)] * 3
    back_at = down_at + timedelta(hours=1)
    for _ in range(10):  # follow each delivery's schedule on the clock
        due = [d for d in _deliveries(session) if d.state == "pending"]
        if not due:
            break
        for delivery in due:
            moment = clock.as_utc(delivery.next_attempt_at or clock.now())
            receiver.status = 204 if moment >= back_at else 503
            with clock.frozen_at(moment):
                market_jobs.deliver_now(delivery.public_id)
    settled = _deliveries(session)
    assert [d.state for d in settled] == ["delivered"] * 3
    assert all(d.attempts >= 4 for d in settled)  # 0 s, 5 s, 5 min, 35 min all failed
    delivered = [(headers, body) for headers, body in receiver.received if json.loads(body)["data"]]
    seen = set()
    for headers, body in delivered[-3:]:
        # Signed at the (frozen) time of the attempt: the signature is checked as a receiver
        # does, over the id, the timestamp sent and the body.
        sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
        expected = Webhook(secret).sign(headers["webhook-id"], sent_at, body.decode())
        assert expected in headers["webhook-signature"].split(" ")
        payload = json.loads(body)
        assert payload["type"] == "alert.raised"
        assert payload["data"]["credit_code"] == ENTERPRISE_CODE
        assert payload["data"]["category"] == "admin_penalty"
        seen.add(payload["data"]["alert_id"])
    assert seen == raised


def test_a_sweep_killed_midway_loses_and_doubles_nothing(
    client: TestClient,
    auth: Auth,
    signed: None,
    session: Session,
    receiver: Receiver,
    loopback_allowed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.post("/api/v1/institution/webhooks", json={"url": receiver.url}, headers=auth("bank"))
    lend(client, auth)
    monkeypatch.setattr(alerts, "on_records_stored", lambda *args: None)
    from xinyidai.records.service import listeners

    monkeypatch.setattr(
        listeners,
        "_stored_listeners",
        [f for f in listeners._stored_listeners if f.__module__ != alerts.__name__],
    )
    for n in range(3):
        penalty(session, f"南青市监罚〔2026〕{n}号")
    assert alerts_of(session) == []  # nothing scanned on arrival: the sweep must find them
    calls = {"n": 0}
    real = alerts.announce

    def dies_on_the_second(*args: object, **kwargs: object) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(alerts, "announce", dies_on_the_second)
    with pytest.raises(SystemExit):
        jobs.sweep()
    assert alerts_of(session) == []  # the unit of work died whole
    assert _deliveries(session) == []
    monkeypatch.setattr(alerts, "announce", real)
    first = jobs.sweep()
    again = jobs.sweep()
    assert (len(first.raised), len(again.raised)) == (3, 0)
    raised = alerts_of(session)
    assert len(raised) == 3
    assert len({a.key for a in raised}) == 3
    assert len(_deliveries(session)) == 3


def test_the_sweep_command_runs_it_by_hand(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    from typer.testing import CliRunner

    from xinyidai.cli import app

    lend(client, auth)
    with session_scope() as other:
        assert alerts.watched_codes(other) == [ENTERPRISE_CODE]
    result = CliRunner().invoke(app, ["risk", "sweep", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"scanned": 1, "raised": 0, "deliveries": 0}
