"""need.matched webhooks: signed the Standard Webhooks way, sent to a local receiver,
logged with every attempt; only institutions with a matching product hear of a need.

The attacks replayed: an institution registers an endpoint inside the platform's network
(loopback, private, link-local metadata, names that resolve there) and the platform would
post to it; a host that resolved to a public address at registration resolves to a private
one at send time. Secrets are shown once and rotate with a grace period; failed deliveries
back off over more than a day and can be sent again by hand."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import XydEnv
from tests.fake_dns import PUBLIC_ADDRESS, FakeDNS
from tests.market.conftest import Auth, need_payload, publish
from xinyidai.core import clock, queue
from xinyidai.core.transitions import Transition
from xinyidai.market import jobs
from xinyidai.market.models import WebhookDelivery, WebhookEndpoint
from xinyidai.market.service import webhooks


class Receiver:
    """A local HTTP server that records what it is sent and answers with ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        self.location: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks"
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


def _register(client: TestClient, headers: dict[str, str], url: str) -> Any:
    return client.post("/api/v1/institution/webhooks", json={"url": url}, headers=headers)


def _deliveries(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/institution/webhooks/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _detail(client: TestClient, headers: dict[str, str], delivery_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/institution/webhooks/deliveries/{delivery_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --------------------------------------------------------------------------- delivery


def test_a_matching_need_is_pushed_signed_to_the_institution(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    product = publish(client, auth("bank"))
    publish(client, auth("bank2"), regions=["640000"])  # bank2 does not serve Nanning
    mine = _register(client, auth("bank"), receiver.url)
    assert mine.status_code == 201, mine.text
    secret = mine.json()["secret"]
    assert secret.startswith("whsec_")
    theirs = _register(client, auth("bank2"), receiver.url + "/b2")
    assert theirs.status_code == 201
    need = client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise")).json()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "need.matched"
    assert payload["data"]["need_id"] == need["id"]
    assert payload["data"]["product_ids"] == [product["id"]]
    with pytest.raises(WebhookVerificationError):
        Webhook(theirs.json()["secret"]).verify(body, headers)
    log = _deliveries(client, auth("bank"))
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 1, 204)]
    assert log[0]["id"] == headers["webhook-id"]
    assert log[0]["next_attempt_at"] is None
    [attempt] = _detail(client, auth("bank"), log[0]["id"])["history"]
    assert (attempt["number"], attempt["outcome"], attempt["status_code"]) == (1, "delivered", 204)
    assert _deliveries(client, auth("bank2")) == []


def test_a_refused_delivery_is_logged_and_retried_until_accepted(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    receiver.status = 500
    posted_at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with clock.frozen_at(posted_at):
        client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    assert (log["state"], log["last_status"]) == ("pending", 500)
    receiver.status = 200
    with clock.frozen_at(posted_at + timedelta(seconds=1)):
        assert jobs.deliver_now(log["id"]) is None  # not due yet: the retry waits its turn
    with clock.frozen_at(datetime.fromisoformat(log["next_attempt_at"])):
        assert jobs.deliver_now(log["id"]) == "delivered"
    detail = _detail(client, auth("bank"), log["id"])
    assert [(a["outcome"], a["status_code"]) for a in detail["history"]] == [
        ("rejected", 500),
        ("delivered", 200),
    ]
    assert json.loads(receiver.received[-1][1])["data"] == log["payload"]["data"]


def test_redirects_are_not_followed(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    receiver.status = 307
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    assert len(receiver.received) == 1
    assert (log["state"], log["last_status"]) == ("pending", 307)
    assert "not followed" in log["last_error"]


# --------------------------------------------------------------------------- addresses


ATTACK_URLS = [
    "http://127.0.0.1:8000/internal-admin",
    "http://10.0.0.5/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost/",
    "http://100.100.100.200/latest/meta-data/",  # a cloud metadata service in CGNAT space
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://2130706433/",  # 127.0.0.1 written as one number
    "file:///etc/passwd",
    "http://user:pass@example.com/",
    "gopher://example.com/",
]


@pytest.mark.parametrize("url", ATTACK_URLS)
def test_an_endpoint_inside_the_platforms_network_is_refused(
    client: TestClient, auth: Auth, market: None, url: str
) -> None:
    refused = _register(client, auth("bank"), url)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "url"
    assert client.get("/api/v1/institution/webhooks", headers=auth("bank")).json()["items"] == []


def test_the_refusal_says_why(client: TestClient, auth: Auth, market: None) -> None:
    english = {**auth("bank"), "Accept-Language": "en"}
    reasons = {
        "http://127.0.0.1:8000/internal-admin": "loopback",
        "http://10.0.0.5/": "private network",
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://0.0.0.0/": "unspecified",
        "http://user:pass@example.com/": "user name or password",
    }
    for url, reason in reasons.items():
        message = _register(client, english, url).json()["error"]["message"]
        assert reason in message, message
    chinese = _register(client, auth("bank"), "http://10.0.0.5/").json()["error"]["message"]
    assert "内部网络" in chinese


def test_a_host_that_resolves_to_a_private_address_is_refused(
    client: TestClient, auth: Auth, market: None, dns: FakeDNS
) -> None:
    dns.answers["hooks.bank.example"] = ["10.1.2.3"]
    dns.answers["mixed.bank.example"] = [PUBLIC_ADDRESS, "192.168.1.20"]
    dns.answers["hooks.rebind.example"] = ["::ffff:169.254.169.254"]
    for host in ("hooks.bank.example", "mixed.bank.example", "hooks.rebind.example"):
        refused = _register(client, auth("bank"), f"https://{host}/events")
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "url"
        assert host in refused.json()["error"]["message"]
    dns.answers["hooks.bank.example"] = [PUBLIC_ADDRESS]
    assert _register(client, auth("bank"), "https://hooks.bank.example/events").status_code == 201


def test_a_host_that_does_not_resolve_is_refused(
    client: TestClient, auth: Auth, market: None, dns: FakeDNS
) -> None:
    dns.answers["gone.bank.example"] = []
    refused = _register(client, auth("bank"), "https://gone.bank.example/events")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "url"


def test_loopback_is_allowed_only_when_the_setting_says_so(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    xyd_env: XydEnv,
) -> None:
    assert _register(client, auth("bank"), receiver.url).status_code == 422
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    assert _register(client, auth("bank"), receiver.url).status_code == 201
    assert _register(client, auth("bank"), "http://10.0.0.5/").status_code == 422
    xyd_env(XYD_ENV="production", XYD_OUTBOUND_REQUIRE_HTTPS="false")
    refused = _register(client, auth("bank"), receiver.url)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "url"
    assert "环回" in refused.json()["error"]["message"]
    settings = xyd_env(XYD_SECRET_KEY="a-long-random-production-key")
    with pytest.raises(RuntimeError, match="XYD_OUTBOUND_ALLOW_LOOPBACK"):
        settings.check_production()


def test_a_delivery_whose_host_now_resolves_privately_is_refused_at_send_time(
    client: TestClient, auth: Auth, market: None, dns: FakeDNS, receiver: Receiver
) -> None:
    publish(client, auth("bank"))
    dns.answers["hooks.bank.example"] = [PUBLIC_ADDRESS]
    assert _register(client, auth("bank"), "http://hooks.bank.example/events").status_code == 201
    dns.answers["hooks.bank.example"] = ["127.0.0.1"]  # DNS rebinding after the check
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    assert receiver.received == []
    assert log["state"] == "pending"
    assert log["last_status"] is None
    [attempt] = _detail(client, auth("bank"), log["id"])["history"]
    assert attempt["outcome"] == "refused"
    assert "loopback" in attempt["error"]
    assert attempt["next_attempt_at"] is not None


def test_an_attempt_connects_to_the_address_it_checked(
    client: TestClient,
    auth: Auth,
    market: None,
    dns: FakeDNS,
    receiver: Receiver,
    loopback_allowed: None,
) -> None:
    """The host is resolved once per attempt; the connection goes to that answer, with the
    name kept in the Host header, however the name resolves a moment later."""
    publish(client, auth("bank"))
    dns.answers["hooks.bank.example"] = ["127.0.0.1"]
    url = f"http://hooks.bank.example:{receiver.port}/events"
    created = _register(client, auth("bank"), url)
    assert created.status_code == 201
    lookups = len(dns.lookups)

    class Rebinding(list[str]):
        """127.0.0.1 for the check, then a private address for any later lookup."""

        def __iter__(self) -> Iterator[str]:
            answer = ["127.0.0.1"] if len(dns.lookups) == lookups + 1 else ["10.9.9.9"]
            return iter(answer)

    dns.answers["hooks.bank.example"] = Rebinding()
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    assert dns.lookups.count("hooks.bank.example") == lookups + 1
    [(headers, body)] = receiver.received
    assert headers["host"] == f"hooks.bank.example:{receiver.port}"
    Webhook(created.json()["secret"]).verify(body, headers)


# --------------------------------------------------------------------------- secrets


def test_the_secret_is_shown_in_the_registration_answer_and_never_again(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    loopback_allowed: None,
    session: Session,
) -> None:
    publish(client, auth("bank"))
    created = _register(client, auth("bank"), receiver.url)
    assert created.headers["cache-control"] == "no-store"
    secret = created.json()["secret"]
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    listed = client.get("/api/v1/institution/webhooks", headers=auth("bank"))
    assert [set(e) for e in listed.json()["items"]] == [
        {"id", "url", "active", "created_at", "secret_rotated_at", "previous_secret_expires_at"}
    ]
    [delivery] = _deliveries(client, auth("bank"))
    reads = [
        listed.text,
        client.get("/api/v1/institution/webhooks/deliveries", headers=auth("bank")).text,
        client.get(
            f"/api/v1/institution/webhooks/deliveries/{delivery['id']}", headers=auth("bank")
        ).text,
        client.delete(
            f"/api/v1/institution/webhooks/{created.json()['id']}", headers=auth("bank")
        ).text,
    ]
    assert not any(secret in read for read in reads)
    # A database reader finds no usable secret either: it is stored sealed.
    stored = " ".join(
        str(value)
        for row in session.execute(text("SELECT * FROM market_webhook_endpoint")).all()
        for value in row
    )
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored


def test_after_rotation_both_secrets_verify_during_the_grace_period(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    loopback_allowed: None,
    session: Session,
) -> None:
    publish(client, auth("bank"))
    created = _register(client, auth("bank"), receiver.url).json()
    old = created["secret"]
    rotated = client.post(
        f"/api/v1/institution/webhooks/{created['id']}/rotate-secret", headers=auth("bank")
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert expires - datetime.fromisoformat(rotated.json()["secret_rotated_at"]) == timedelta(
        hours=24
    )
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [(headers, body)] = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(body, headers)["type"] == "need.matched"
    assert Webhook(new).verify(body, headers)["type"] == "need.matched"
    listed = client.get("/api/v1/institution/webhooks", headers=auth("bank")).text
    assert old not in listed
    assert new not in listed

    endpoint = session.scalar(select(WebhookEndpoint))
    assert endpoint is not None
    assert webhooks.signing_secrets(endpoint, at=expires - timedelta(seconds=1)) == [new, old]
    assert webhooks.signing_secrets(endpoint, at=expires) == [new]


def test_a_rotation_without_grace_retires_the_old_secret_at_once(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    created = _register(client, auth("bank"), receiver.url).json()
    rotated = client.post(
        f"/api/v1/institution/webhooks/{created['id']}/rotate-secret",
        json={"grace_hours": 0},
        headers=auth("bank"),
    ).json()
    assert rotated["previous_secret_expires_at"] is None
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [(headers, body)] = receiver.received
    Webhook(rotated["secret"]).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(body, headers)
    other = client.post(
        f"/api/v1/institution/webhooks/{created['id']}/rotate-secret", headers=auth("bank2")
    )
    assert other.status_code == 404


# --------------------------------------------------------------------------- retries


def test_the_back_off_schedule_spans_more_than_a_day() -> None:
    middle = [webhooks.retry_delay(n, draw=0.5) for n in range(1, webhooks.MAX_ATTEMPTS)]
    assert middle == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert webhooks.retry_delay(webhooks.MAX_ATTEMPTS, draw=0.5) is None
    assert webhooks.MAX_ATTEMPTS == 8
    for draw in (0.0, 0.25, 0.999999):
        for n, base in enumerate(middle, start=1):
            wait = webhooks.retry_delay(n, draw=draw)
            assert wait is not None
            assert base * 0.9 <= wait <= base * 1.1
    shortest = sum(
        (webhooks.retry_delay(n, draw=0.0) or timedelta() for n in range(1, 8)), timedelta()
    )
    assert shortest > timedelta(days=1)
    assert webhooks.retry_delay(1, draw=0.0) != webhooks.retry_delay(1, draw=0.9)


def test_failed_attempts_are_retried_on_the_schedule_then_the_delivery_fails(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    loopback_allowed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webhooks, "jitter_draw", lambda: 0.5)
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    receiver.status = 503
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    moment = start
    for wait in webhooks.RETRY_DELAYS:
        expected = moment + wait
        assert datetime.fromisoformat(log["next_attempt_at"]) == expected
        with clock.frozen_at(expected - timedelta(seconds=1)):
            assert jobs.deliver_now(log["id"]) is None  # early: nothing is sent
        moment = expected
        with clock.frozen_at(moment):
            jobs.deliver_now(log["id"])
        [log] = _deliveries(client, auth("bank"))
    assert (log["state"], log["attempts"], log["next_attempt_at"]) == ("failed", 8, None)
    assert len(receiver.received) == 8
    history = _detail(client, auth("bank"), log["id"])["history"]
    assert [a["number"] for a in history] == list(range(1, 9))
    assert {(a["outcome"], a["status_code"]) for a in history} == {("rejected", 503)}
    times = [datetime.fromisoformat(a["attempted_at"]) for a in history]
    nexts = [a["next_attempt_at"] and datetime.fromisoformat(a["next_attempt_at"]) for a in history]
    assert nexts == [*times[1:], None]
    assert times[-1] - times[0] > timedelta(days=1)


def test_an_unreachable_endpoint_fails_after_its_attempts(
    client: TestClient, auth: Auth, market: None, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    _register(client, auth("bank"), "http://127.0.0.1:9/none")
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    while log["state"] == "pending":
        with clock.frozen_at(datetime.fromisoformat(log["next_attempt_at"])):
            jobs.deliver_now(log["id"])
        [log] = _deliveries(client, auth("bank"))
    assert (log["state"], log["attempts"]) == ("failed", webhooks.MAX_ATTEMPTS)
    assert "Connect" in log["last_error"]
    history = _detail(client, auth("bank"), log["id"])["history"]
    assert {a["outcome"] for a in history} == {"unreachable"}


def test_an_attempt_runs_once_however_often_it_is_queued(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    assert jobs.deliver_now(log["id"]) is None  # delivered already: a duplicate job does nothing
    assert len(receiver.received) == 1


# --------------------------------------------------------------------------- redelivery


def test_manual_redelivery_queues_a_new_attempt(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    loopback_allowed: None,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    receiver.status = 500
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    while log["state"] == "pending":  # every attempt fails: the delivery fails
        with clock.frozen_at(datetime.fromisoformat(log["next_attempt_at"])):
            jobs.deliver_now(log["id"])
        [log] = _deliveries(client, auth("bank"))
    assert log["state"] == "failed"

    queued: list[str] = []
    enqueue = queue.enqueue
    monkeypatch.setattr(
        queue, "enqueue", lambda name, delivery_id, at=None: queued.append(delivery_id)
    )
    path = f"/api/v1/institution/webhooks/deliveries/{log['id']}/redeliver"
    assert client.post(path, headers=auth("bank2")).status_code == 404
    again = client.post(path, headers=auth("bank"))
    assert again.status_code == 202, again.text
    assert queued == [log["id"]]  # handed to the queue once the request committed
    assert again.json()["state"] == "pending"
    monkeypatch.setattr(queue, "enqueue", enqueue)

    receiver.status = 204
    assert jobs.deliver_now(log["id"]) == "delivered"
    detail = _detail(client, auth("bank"), log["id"])
    assert detail["attempts"] == webhooks.MAX_ATTEMPTS + 1
    assert detail["history"][-1]["outcome"] == "delivered"
    [moved] = session.scalars(
        select(Transition).where(
            Transition.subject_id == log["id"], Transition.transition == "redeliver"
        )
    ).all()
    assert (moved.from_state, moved.to_state, moved.actor) == ("failed", "pending", "user:bank")


def test_a_failed_redelivery_starts_a_new_round_of_retries(
    client: TestClient,
    auth: Auth,
    market: None,
    receiver: Receiver,
    loopback_allowed: None,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webhooks, "jitter_draw", lambda: 0.5)
    publish(client, auth("bank"))
    _register(client, auth("bank"), receiver.url)
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    assert log["state"] == "delivered"
    receiver.status = 502
    moment = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(moment):
        again = client.post(
            f"/api/v1/institution/webhooks/deliveries/{log['id']}/redeliver", headers=auth("bank")
        )
    assert again.status_code == 202
    detail = _detail(client, auth("bank"), log["id"])
    assert detail["state"] == "pending"
    assert detail["history"][-1]["outcome"] == "rejected"
    assert datetime.fromisoformat(detail["next_attempt_at"]) == moment + timedelta(seconds=5)
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery is not None
    assert (delivery.attempts, delivery.round_attempts) == (2, 1)


def test_a_deactivated_endpoint_gets_nothing_more(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    publish(client, auth("bank"))
    created = _register(client, auth("bank"), receiver.url).json()
    receiver.status = 500
    client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    [log] = _deliveries(client, auth("bank"))
    client.delete(f"/api/v1/institution/webhooks/{created['id']}", headers=auth("bank"))
    with clock.frozen_at(datetime.fromisoformat(log["next_attempt_at"])):
        assert jobs.deliver_now(log["id"]) is None
    [log] = _deliveries(client, auth("bank"))
    assert log["state"] == "failed"
    assert len(receiver.received) == 1
    refused = client.post(
        f"/api/v1/institution/webhooks/deliveries/{log['id']}/redeliver", headers=auth("bank")
    )
    assert refused.status_code == 409


def test_bad_endpoints_are_refused(client: TestClient, auth: Auth, market: None) -> None:
    for url in ("ftp://example.com/x", "not a url", "", "http://"):
        response = _register(client, auth("bank"), url)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "url"
    assert client.get("/api/v1/institution/webhooks", headers=auth("bank")).json()["items"] == []
    refused = client.post(
        "/api/v1/institution/webhooks",
        json={"url": "https://hooks.bank.example/x"},
        headers=auth("enterprise"),
    )
    assert refused.status_code == 403


def test_https_is_required_where_the_node_says_so(
    client: TestClient, auth: Auth, market: None, dns: FakeDNS, xyd_env: XydEnv
) -> None:
    dns.answers["hooks.bank.example"] = [PUBLIC_ADDRESS]
    xyd_env(XYD_OUTBOUND_REQUIRE_HTTPS="true")
    refused = _register(client, auth("bank"), "http://hooks.bank.example/events")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "url"
    assert _register(client, auth("bank"), "https://hooks.bank.example/events").status_code == 201


# --------------------------------------------------------------------------- portal


def test_the_portal_shows_a_secret_once_rotates_it_and_redelivers(
    client: TestClient, auth: Auth, market: None, receiver: Receiver, loopback_allowed: None
) -> None:
    from tests.web.conftest import csrf_of, sign_in

    publish(client, auth("bank"))
    client.cookies.clear()
    assert sign_in(client, "bank").status_code == 303  # type: ignore[attr-defined]
    page = client.get("/market/webhooks")
    assert page.status_code == 200
    assert 'href="/market/webhooks"' in client.get("/dashboard").text
    token = csrf_of(page.text)

    def post(path: str, **data: str) -> Any:
        return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    refused = post("/market/webhooks", url="http://169.254.169.254/latest/meta-data/")
    assert refused.status_code == 422
    assert 'data-error-for="url"' in refused.text
    assert "链路本地" in refused.text

    created = post("/market/webhooks", url=receiver.url)
    assert created.status_code == 200, created.text
    secret = _shown_secret(created.text)
    assert secret.startswith("whsec_")
    again = client.get("/market/webhooks")
    assert receiver.url in again.text
    assert secret not in again.text
    assert 'data-testid="new-secret"' not in again.text

    endpoint_id = _between(again.text, 'data-endpoint="', '"')
    rotated = post(f"/market/webhooks/{endpoint_id}/rotate")
    assert rotated.status_code == 200
    new = _shown_secret(rotated.text)
    assert new != secret
    assert new not in client.get("/market/webhooks").text

    receiver.status = 500
    enterprise = {"Authorization": auth("enterprise")["Authorization"]}
    client.post("/api/v1/needs", json=need_payload(), headers=enterprise)
    log = client.get("/market/webhooks").text
    delivery_id = _between(log, 'data-delivery="', '"')
    detail = client.get(f"/market/webhooks/deliveries/{delivery_id}")
    assert detail.text.count('data-outcome="rejected"') == 1
    assert "采购原材料" in detail.text  # the payload, readable
    receiver.status = 204
    sent = post(f"/market/webhooks/deliveries/{delivery_id}/redeliver")
    assert sent.status_code == 303
    detail = client.get(sent.headers["location"])
    assert detail.text.count('data-outcome="rejected"') == 1
    assert detail.text.count('data-outcome="delivered"') == 1
    headers, body = receiver.received[-1]
    Webhook(new).verify(body, headers)

    deactivated = post(f"/market/webhooks/{endpoint_id}/deactivate")
    assert deactivated.status_code == 303
    assert 'data-action="rotate"' not in client.get("/market/webhooks").text


def _between(text: str, start: str, end: str) -> str:
    head = text.index(start) + len(start)
    return text[head : text.index(end, head)]


def _shown_secret(html: str) -> str:
    return _between(html, 'data-testid="new-secret">', "<")
