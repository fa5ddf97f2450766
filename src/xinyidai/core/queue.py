"""The task queue: huey, with SQLite embedded by default and Redis in production.

``XYD_REDIS_URL`` set → Redis; otherwise a SQLite file beside the database. With
``XYD_QUEUE_IMMEDIATE=true`` (tests) a task runs at once in the caller.

A task that reads rows the caller is writing is enqueued with ``on_commit``: the queue's
worker then never looks for a row before it is committed, and nothing is enqueued for a
transaction that rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from xinyidai.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

_AFTER_COMMIT = "xyd_after_commit"


def build_huey(settings: Settings) -> Huey:
    if settings.queue_immediate:
        return MemoryHuey("xyd", immediate=True)
    if settings.redis_url:
        return RedisHuey("xyd", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("xyd", filename=str(settings.queue_path))


huey: Huey = build_huey(get_settings())


def backend_name() -> str:
    return type(huey.storage).__name__


def on_commit(session: Session, enqueue: Callable[[], object]) -> None:
    """Call ``enqueue`` (which hands a task to the queue) once ``session``'s transaction has
    committed; forget it if the transaction rolls back."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before any write still forgets it
    session.info.setdefault(_AFTER_COMMIT, []).append(enqueue)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for enqueue in session.info.pop(_AFTER_COMMIT, []):
        try:
            enqueue()
        except Exception:  # the rows are committed; a periodic sweep picks them up again
            log.exception("could not enqueue a task after commit")


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the transaction on
        session.info.pop(_AFTER_COMMIT, None)
