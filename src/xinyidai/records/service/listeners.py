"""Who hears of records as they are stored, without records knowing them.

A domain above (the rating) registers a listener; ``store`` tells every listener the facts
of one category it stored as new versions (new or changed), inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

from xinyidai.records.schemas import Fact

StoredListener = Callable[[Session, str, Sequence[Fact]], None]
_stored_listeners: list[StoredListener] = []


def on_stored(listener: StoredListener) -> None:
    """Call ``listener(session, category, facts)`` whenever facts are stored as new versions."""
    if listener not in _stored_listeners:
        _stored_listeners.append(listener)


def off_stored(listener: StoredListener) -> None:
    """Stop calling ``listener`` (nothing happens if it was not registered)."""
    if listener in _stored_listeners:
        _stored_listeners.remove(listener)


_listeners_paused: ContextVar[bool] = ContextVar("xyd_records_listeners_paused", default=False)


@contextmanager
def listeners_paused() -> Iterator[None]:
    """Store without telling the listeners: a bulk load whose caller catches up once after
    (a full rating run instead of re-rating every chunk's subjects as they arrive)."""
    token = _listeners_paused.set(True)
    try:
        yield
    finally:
        _listeners_paused.reset(token)


def listener_modules() -> list[str]:
    """The modules that registered listeners: a fresh process imports them to listen too."""
    return sorted({listener.__module__ for listener in _stored_listeners})


def tell(session: Session, category: str, stored: Sequence[Fact]) -> None:
    """Tell every listener of facts just stored as new versions (unless paused)."""
    if not stored or not _stored_listeners or _listeners_paused.get():
        return
    for listener in list(_stored_listeners):
        listener(session, category, stored)
