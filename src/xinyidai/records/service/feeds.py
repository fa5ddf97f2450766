"""Feeds of what other nodes must hear of about records, declared by the domains above.

A domain above the records (subject rights: corrections and repairs) keeps an outbox of
its own and declares it here with ``register_feed``; the network of platforms reads every
feed by name through ``feed_after`` without importing the domain that writes it (both sit
on one layer). An entry's ``id`` only grows: a reader keeps the last id it passed on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed: its id (growing), kind, subject (a credit code) and payload."""

    id: int
    kind: str
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)


FeedReader = Callable[[Session, int, int], Sequence[FeedEntry]]
_feeds: dict[str, FeedReader] = {}


def register_feed(name: str, reader: FeedReader) -> None:
    """Declare the feed ``name``: ``reader(session, after, limit)`` returns its entries
    after the id ``after``, oldest first, at most ``limit``."""
    _feeds[name] = reader


def feed_names() -> list[str]:
    """The feeds declared in this process, sorted."""
    return sorted(_feeds)


def feed_after(session: Session, *, name: str, after: int, limit: int) -> list[FeedEntry]:
    """The entries of the feed ``name`` after ``after`` (none when nobody declared it)."""
    reader = _feeds.get(name)
    return [] if reader is None else list(reader(session, after, limit))
