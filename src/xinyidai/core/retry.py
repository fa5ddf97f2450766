"""Polite retries for the node's own HTTP clients (witnesses, remote verification).

A server that is busy says so: 503 or 429 with ``Retry-After``. A client that asks again at
once, or all its peers together, keeps it busy. Here a request answered so is sent again
after the wait the server asked for (at most ``longest`` seconds, with up to a tenth more at
random so that clients refused together do not come back together), or after a doubling
wait when the server gave none; a connection that failed is retried the same way. After
``attempts`` tries the last answer (or error) is the caller's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({429, 503})


def wait_of(response: httpx.Response | None, attempt: int, *, longest: float) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's ``Retry-After`` (in
    seconds) when it gave one, else 0.5 s doubled per attempt; at most ``longest``."""
    asked = response.headers.get("retry-after", "") if response is not None else ""
    wait = float(asked) if asked.strip().isdigit() else 0.5 * 2**attempt
    return min(longest, wait)


def with_retries(
    send: Callable[[], httpx.Response],
    *,
    attempts: int = 5,
    longest: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """``send()``, again after a polite wait while the server is busy or unreachable."""
    import httpx

    for attempt in range(attempts):
        last_try = attempt == attempts - 1
        try:
            response = send()
        except httpx.TransportError:
            if last_try:
                raise
            sleep(wait_of(None, attempt, longest=longest) * (1 + random.random() / 10))
            continue
        if response.status_code not in RETRY_STATUSES or last_try:
            return response
        sleep(wait_of(response, attempt, longest=longest) * (1 + random.random() / 10))
    raise AssertionError("unreachable")  # the loop returns or raises on its last try
