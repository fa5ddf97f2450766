"""What the public site shows: region-wide headline figures (never a breakdown), cached for
a minute in the process so that a busy home page costs one read a minute.

Only the ``all`` cell is public: a total over the whole region names nobody. The cache is
the process's own (the web tier keeps no shared state); each process reads at most once a
minute, and the figures themselves move every five minutes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.stats.service import figures

PUBLIC_FIGURES = (
    "enterprises_registered",
    "enterprises_with_data",
    "loans_granted",
    "loans_amount",
    "credit_loans_amount",
    "first_loans",
    "balance",
)
CACHE_SECONDS = 60.0
EPOCH = date(2000, 1, 1)


@dataclass(frozen=True)
class Headline:
    as_of: date
    to_date: dict[str, Decimal | None]
    this_year: dict[str, Decimal | None]


_cache: dict[date, tuple[float, Headline]] = {}
_lock = threading.Lock()


def headline(session: Session) -> Headline:
    """The public headline figures: to date and this year so far."""
    today = clock.today()
    with _lock:
        cached = _cache.get(today)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    found = Headline(
        as_of=today,
        to_date=figures.totals(session, PUBLIC_FIGURES, EPOCH, today),
        this_year=figures.totals(session, PUBLIC_FIGURES, date(today.year, 1, 1), today),
    )
    with _lock:
        _cache.clear()
        _cache[today] = (time.monotonic() + CACHE_SECONDS, found)
    return found


def forget() -> None:
    """Drop the cached figures (after a rebuild by hand, and in tests)."""
    with _lock:
        _cache.clear()
