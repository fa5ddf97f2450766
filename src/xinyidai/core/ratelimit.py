"""Rate limits per caller, counted by the ``limits`` library.

The counters live in Redis when ``XYD_REDIS_URL`` is set, so that every web process of a
node shares them (the web tier keeps no state of its own), and in the process's memory
otherwise (development, tests, a one-process node). One ``RateLimits`` is made per
application. A limit is the library's notation: ``"60/minute"``, ``"1000/hour"``.

A counter store that cannot be reached lets the request through and logs a warning: a
limit protects against bulk reading of public pages, it is not an access rule.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

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
