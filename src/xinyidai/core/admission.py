"""Admission control: a web process serves a bounded number of requests at once.

Without it a burst of clients starts as many requests as the thread pool has threads; each
takes a database connection, the pool runs dry, and requests that hold a lock or a
connection wait for a thread that the waiting requests hold: 500s and minute-long hangs
instead of a queue. Here at most ``active`` requests run; the next ``waiting`` wait in
arrival order for up to ``wait_seconds``; a request beyond that, or one that waited too
long, is answered at once with 503 and ``Retry-After`` in the API's error shape (a short
page that reloads itself for a browser). The database pool and the thread pool are sized
from the same number (``core.db``, ``app``), so a running request always finds both.

Plain ASGI (no framework import), outermost but the request ids, so that a refusal carries
its request id too.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from xinyidai.core.i18n import gettext, locale_from_accept_language

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUSY = "the platform is busy; try again in {seconds} seconds"


class AdmissionLimit:
    """At most ``active`` requests at once, ``waiting`` more in line for ``wait_seconds``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        active: int,
        waiting: int,
        wait_seconds: float,
        exempt: Iterable[str] = (),
        request_id: Callable[[], str] | None = None,
    ) -> None:
        self.app = app
        self.active = active
        self.waiting = waiting
        self.wait_seconds = wait_seconds
        self.exempt = tuple(exempt)
        self.request_id = request_id
        self._slots: asyncio.Semaphore | None = None
        self._in_line = 0
        self.running = 0  # for tests and metrics

    def _semaphore(self) -> asyncio.Semaphore:
        # made on first use, inside the server's event loop
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.active)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        if slots.locked():
            if self._in_line >= self.waiting:
                await self._refuse(scope, send)
                return
            self._in_line += 1
            try:
                await asyncio.wait_for(slots.acquire(), timeout=self.wait_seconds)
            except TimeoutError:
                await self._refuse(scope, send)
                return
            finally:
                self._in_line -= 1
        else:
            await slots.acquire()
        self.running += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running -= 1
            slots.release()

    def retry_after(self) -> int:
        """Seconds a refused client should wait: long enough for the line to move."""
        return max(1, min(30, math.ceil(self.wait_seconds / 4)))

    async def _refuse(self, scope: Scope, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        locale = locale_from_accept_language(headers.get("accept-language"))
        seconds = self.retry_after()
        message = gettext(BUSY, locale, seconds=seconds)
        rid = self.request_id() if self.request_id else None
        wants_page = not scope["path"].startswith("/api/") and "text/html" in headers.get(
            "accept", ""
        )
        if wants_page:
            body = _busy_page(message, seconds, locale).encode("utf-8")
            kind = b"text/html; charset=utf-8"
        else:
            error = {"code": "busy", "message": message, "field": None, "request_id": rid}
            body = json.dumps({"error": error}, ensure_ascii=False).encode("utf-8")
            kind = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(seconds).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _busy_page(message: str, seconds: int, locale: str) -> str:
    """A page that says the platform is busy and reloads itself after ``seconds``."""
    title = gettext("Busy", locale)
    lang = "zh-CN" if locale.startswith("zh") else "en"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{seconds}"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{message}</p></body></html>"
    )
