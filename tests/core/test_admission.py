"""Admission control: a bounded number of requests run, a bounded line waits, the rest are
told at once to come back (503 with ``Retry-After``), never left hanging."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from xinyidai.core.admission import AdmissionLimit


class Gate:
    """An app whose requests stay open until the test lets them go."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.entered += 1
        await self.opened.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope(path: str = "/api/v1/products", accept: str = "application/json") -> dict[str, Any]:
    return {
        "type": "http",
        "path": path,
        "headers": [(b"accept", accept.encode()), (b"accept-language", b"zh-CN")],
    }


async def call(app: AdmissionLimit, path: str = "/api/v1/products", **kw: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"headers": {}, "body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    await app(scope(path, **kw), receive, send)
    return answer


def test_requests_beyond_the_line_are_refused_at_once_and_the_line_is_served() -> None:
    async def story() -> None:
        gate = Gate()
        app = AdmissionLimit(
            gate, active=1, waiting=1, wait_seconds=30, request_id=lambda: "rid-test"
        )
        running = asyncio.create_task(call(app))
        waiting = asyncio.create_task(call(app))
        await asyncio.sleep(0.01)
        assert gate.entered == 1  # the second waits in line, not in the app
        refused = await call(app)  # nobody more may wait: answered now
        assert refused["status"] == 503
        assert refused["headers"]["retry-after"].isdigit()
        error = json.loads(refused["body"])["error"]
        assert error["code"] == "busy"
        assert error["request_id"] == "rid-test"
        assert "繁忙" in error["message"]
        gate.opened.set()
        assert (await running)["status"] == 200
        assert (await waiting)["status"] == 200
        assert gate.entered == 2
        assert app.running == 0

    asyncio.run(story())


def test_a_request_that_waited_too_long_is_told_to_come_back() -> None:
    async def story() -> None:
        gate = Gate()
        app = AdmissionLimit(gate, active=1, waiting=10, wait_seconds=0.05)
        running = asyncio.create_task(call(app))
        await asyncio.sleep(0.01)
        late = await call(app)
        assert late["status"] == 503
        assert int(late["headers"]["retry-after"]) >= 1
        gate.opened.set()
        assert (await running)["status"] == 200
        assert gate.entered == 1

    asyncio.run(story())


def test_health_checks_are_answered_when_every_slot_is_taken() -> None:
    async def story() -> None:
        gate = Gate()
        app = AdmissionLimit(gate, active=1, waiting=0, wait_seconds=1, exempt=("/healthz",))
        running = asyncio.create_task(call(app))
        await asyncio.sleep(0.01)
        health = asyncio.create_task(call(app, "/healthz"))
        await asyncio.sleep(0.01)
        assert gate.entered == 2  # let through without a slot
        gate.opened.set()
        assert (await health)["status"] == 200
        assert (await running)["status"] == 200

    asyncio.run(story())


def test_a_browser_gets_a_page_that_reloads_itself() -> None:
    async def story() -> None:
        gate = Gate()
        app = AdmissionLimit(gate, active=1, waiting=0, wait_seconds=1)
        running = asyncio.create_task(call(app, "/market/products"))
        await asyncio.sleep(0.01)
        page = await call(app, "/market/products", accept="text/html,application/xhtml+xml")
        assert page["status"] == 503
        assert page["headers"]["content-type"].startswith("text/html")
        seconds = page["headers"]["retry-after"]
        assert f'http-equiv="refresh" content="{seconds}"' in page["body"].decode()
        gate.opened.set()
        await running

    asyncio.run(story())


def test_a_slot_is_given_back_when_the_app_fails() -> None:
    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    async def story() -> None:
        app = AdmissionLimit(failing, active=1, waiting=0, wait_seconds=1)
        for _ in range(3):
            with contextlib.suppress(RuntimeError):
                await call(app)
        assert app.running == 0
        assert not app._semaphore().locked()

    asyncio.run(story())
