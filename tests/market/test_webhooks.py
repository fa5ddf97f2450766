"""need.matched webhooks: signed the Standard Webhooks way, sent to a local receiver,
logged with every attempt; only institutions with a matching product hear of a need."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from tests.market.conftest import Auth, need_payload, publish
from xinyidai.market.service import webhooks


class Receiver:
    """A local HTTP server that records what it is sent and answers with ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_a_matching_need_is_pushed_signed_to_the_institution(
    client: TestClient, auth: Auth, market: None, receiver: Receiver
) -> None:
    product = publish(client, auth("bank"))
    publish(client, auth("bank2"), regions=["640000"])  # bank2 does not serve Nanning
    mine = client.post(
        "/api/v1/institution/webhooks", json={"url": receiver.url}, headers=auth("bank")
    )
    assert mine.status_code == 201, mine.text
    secret = mine.json()["secret"]
    assert secret.startswith("whsec_")
    theirs = client.post(
        "/api/v1/institution/webhooks", json={"url": receiver.url + "/b2"}, headers=auth("bank2")
    )
    assert theirs.status_code == 201
    need = client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise")).json()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "need.matched"
    assert payload["data"]["need_id"] == need["id"]
    assert payload["data"]["product_ids"] == [product["id"]]
    with pytest.raises(Exception):  # noqa: B017, PT011 - any verification failure
        Webhook(theirs.json()["secret"]).verify(body, headers)
    log = client.get("/api/v1/institution/webhooks/deliveries", headers=auth("bank")).json()
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 1, 204)]
    assert log[0]["id"] == headers["webhook-id"]
    assert client.get("/api/v1/institution/webhooks/deliveries", headers=auth("bank2")).json() == []


def test_a_refused_delivery_is_logged_and_retried_until_accepted(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, session: Session
) -> None:
    publish(client, auth("bank"))
    client.post("/api/v1/institution/webhooks", json={"url": receiver.url}, headers=auth("bank"))
    receiver.status = 500
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    log = client.get("/api/v1/institution/webhooks/deliveries", headers=auth("bank")).json()
    assert log[0]["state"] == "pending"
    assert log[0]["last_status"] == 500
    receiver.status = 200
    delivery = webhooks.attempt(session, delivery_id=log[0]["id"])
    session.commit()
    assert delivery.state == "delivered"
    assert delivery.attempts == log[0]["attempts"] + 1
    assert json.loads(receiver.received[-1][1])["data"] == log[0]["payload"]["data"]


def test_an_unreachable_endpoint_fails_after_its_attempts(
    client: TestClient, auth: Auth, market: None, session: Session
) -> None:
    publish(client, auth("bank"))
    client.post(
        "/api/v1/institution/webhooks",
        json={"url": "http://127.0.0.1:9/none"},
        headers=auth("bank"),
    )
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    log = client.get("/api/v1/institution/webhooks/deliveries", headers=auth("bank")).json()
    for _ in range(webhooks.MAX_ATTEMPTS):
        delivery = webhooks.attempt(session, delivery_id=log[0]["id"])
    session.commit()
    assert delivery.state == "failed"
    assert delivery.last_error
    assert "Connect" in delivery.last_error


def test_bad_endpoints_are_refused(client: TestClient, auth: Auth, market: None) -> None:
    for url in ("ftp://example.com/x", "not a url", ""):
        response = client.post(
            "/api/v1/institution/webhooks", json={"url": url}, headers=auth("bank")
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "url"
    assert client.get("/api/v1/institution/webhooks", headers=auth("bank")).json() == []
    refused = client.post(
        "/api/v1/institution/webhooks",
        json={"url": "http://127.0.0.1/x"},
        headers=auth("enterprise"),
    )
    assert refused.status_code == 403
