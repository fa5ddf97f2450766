"""Rate limits per caller, counted by the ``limits`` library.

The counters live in Redis when ``XYD_REDIS_URL`` is set, so that every web process of a
node shares them (the web tier keeps no state of its own), and in the process's memory
otherwise (development, tests, a one-process node). One ``RateLimits`` is made per
application. A limit is the library's notation: ``"60/minute"``, ``"1000/hour"``.

A counter store that cannot be reached lets the request through and logs a warning: a
limit protects against bulk reading of public pages, it is not an access rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio import strategies as aio_strategies
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from xinyidai.core.i18n import gettext, locale_from_accept_language
from xinyidai.core.settings import Settings

log = logging.getLogger(__name__)

NAMESPACE = "xyd"


class RateLimits:
    """The node's counters: ``hit`` counts one request of a caller against a limit."""

    def __init__(self, *, storage_url: str, node: str) -> None:
        self.storage_url = storage_url
        self.node = node
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(storage_url=settings.redis_url or "memory://", node=settings.node_name)

    def hit(self, limit: str, scope: str, caller: str) -> int | None:
        """Count one request of ``caller`` in ``scope`` against ``limit``: None while within
        it, otherwise the whole seconds until the caller may try again (at least 1)."""
        item = parse(limit)
        key = (NAMESPACE, self.node, scope, caller)
        try:
            if self._limiter.hit(item, *key):
                return None
            reset_at = self._limiter.get_window_stats(item, *key).reset_time
        except Exception:  # a store down must not take the pages down with it
            log.warning("rate limit store %s unreachable; request let through", self.storage_url)
            return None
        return max(1, math.ceil(reset_at - time.time()))


# --------------------------------------------------------------------------- the API's limit

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOO_MANY = "too many requests; try again in {seconds} seconds"
API_SCOPE = "api"


@dataclass(frozen=True)
class Policy:
    """A limit with the name its ``RateLimit`` headers carry."""

    name: str
    limit: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.limit)


class ApiRateLimit:
    """Every request to the API counted against a limit: per credential when it presents
    one (a bearer token or an ``X-API-Key``), per client address when it does not. Past the
    limit, 429 with ``Retry-After`` in the API's error shape; every API answer carries the
    ``RateLimit-Policy`` and ``RateLimit`` headers of the IETF draft
    (draft-ietf-httpapi-ratelimit-headers): the quota, the window, what remains and the
    seconds until it resets.

    A credential is counted by its hash before it is checked: checking it would cost a
    database read before the limit could refuse anything. A caller inventing credentials
    gets only 401s. Plain ASGI and asynchronous, so a counter in Redis does not hold the
    event loop; a store that cannot be reached lets the request through (logged).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        storage_url: str,
        node: str,
        per_key: str | None,
        per_address: str | None,
        prefix: str = "/api/",
        request_id: Callable[[], str | None] | None = None,
    ) -> None:
        self.app = app
        self.storage_url = storage_url
        self.node = node
        self.per_key = Policy("per-key", per_key) if per_key else None
        self.per_address = Policy("per-address", per_address) if per_address else None
        self.prefix = prefix
        self.request_id = request_id
        self._limiter: aio_strategies.SlidingWindowCounterRateLimiter | None = None

    def _strategy(self) -> aio_strategies.SlidingWindowCounterRateLimiter:
        # Made on first use, inside the server's event loop (an async client binds to it).
        if self._limiter is None:
            url = self.storage_url
            options: dict[str, Any] = {}
            if url.startswith(("redis://", "rediss://")):
                url, options = f"async+{url}", {"implementation": "redispy"}
            elif url.startswith("memory://"):
                url = "async+memory://"
            storage = storage_from_string(url, **options)
            self._limiter = aio_strategies.SlidingWindowCounterRateLimiter(storage)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        policy, caller = self._caller(scope, headers)
        if policy is None:
            await self.app(scope, receive, send)
            return
        counted = await self._hit(policy, caller)
        if counted is None:  # the store is down: let it through
            await self.app(scope, receive, send)
            return
        allowed, remaining, reset = counted
        fields = [
            (b"ratelimit-policy", f'"{policy.name}";q={policy.item.amount};w={_window(policy)}'),
            (b"ratelimit", f'"{policy.name}";r={remaining};t={reset}'),
        ]
        extra = [(name, value.encode("latin-1")) for name, value in fields]
        if not allowed:
            await self._refuse(send, headers, reset, extra)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, sending)

    def _caller(self, scope: Scope, headers: dict[str, str]) -> tuple[Policy | None, str]:
        credential = headers.get("x-api-key") or headers.get("authorization")
        if credential:
            digest = hashlib.sha256(credential.strip().encode("utf-8")).hexdigest()[:32]
            return self.per_key, f"key:{digest}"
        client = scope.get("client")
        return self.per_address, f"address:{client[0] if client else '-'}"

    async def _hit(self, policy: Policy, caller: str) -> tuple[bool, int, int] | None:
        """(allowed, requests remaining, seconds until the window resets), or None when the
        store cannot be reached."""
        item = policy.item
        key = (NAMESPACE, self.node, API_SCOPE, caller)
        try:
            limiter = self._strategy()
            allowed = await limiter.hit(item, *key)
            stats = await limiter.get_window_stats(item, *key)
        except Exception:  # a store down must not take the API down with it
            log.warning("rate limit store %s unreachable; request let through", self.storage_url)
            return None
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return allowed, max(0, stats.remaining), reset

    async def _refuse(
        self, send: Send, headers: dict[str, str], seconds: int, extra: list[tuple[bytes, bytes]]
    ) -> None:
        locale = locale_from_accept_language(headers.get("accept-language"))
        rid = self.request_id() if self.request_id else None
        message = gettext(TOO_MANY, locale, seconds=seconds)
        error = {"code": "too_many_requests", "message": message, "field": None, "request_id": rid}
        body = json.dumps({"error": error}, ensure_ascii=False).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(seconds).encode()),
                    (b"cache-control", b"no-store"),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _window(policy: Policy) -> int:
    item = policy.item
    return int(item.get_expiry())
