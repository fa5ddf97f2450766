"""The task queue: huey, with SQLite embedded by default and Redis in production.

``XYD_REDIS_URL`` set → Redis; otherwise a SQLite file beside the database. With
``XYD_QUEUE_IMMEDIATE=true`` (tests) a task runs at once in the caller.

Work is handed to the queue in one way: a domain's ``jobs`` module declares each task it
runs for others with ``task("domain.action")``, and a service or a route queues it by that
name with ``enqueue_after_commit(session, "domain.action", *args)``. The task is handed to
the queue once the session's transaction commits, so a worker never looks for a row before
it is committed, and nothing is queued for a transaction that rolls back. Services never
commit to queue work and never import a ``jobs`` module (which imports them): every process
that queues work loads all the task modules at start (``xinyidai.jobs.load_all_tasks``,
called by the app, the command line and the worker), and a name nobody registered is an
error at once, before anything is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from xinyidai.core import clock
from xinyidai.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

_AFTER_COMMIT = "xyd_after_commit"


def build_huey(settings: Settings) -> Huey:
    if settings.queue.immediate:
        return MemoryHuey("xyd", immediate=True)
    if settings.redis_url:
        return RedisHuey("xyd", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("xyd", filename=str(settings.queue_path))


huey: Huey = build_huey(get_settings())

# Tasks by the name services queue them under (``domain.action``).
_tasks: dict[str, Any] = {}


def backend_name() -> str:
    return type(huey.storage).__name__


def task(name: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Make a function a queue task (``huey.task(**options)``) that services and routes
    queue by ``name`` with ``enqueue_after_commit``."""

    def register(function: Callable[..., Any]) -> Any:
        if name in _tasks:
            raise ValueError(f"a queue task named {name!r} is registered already")
        _tasks[name] = wrapped = huey.task(**options)(function)
        return wrapped

    return register


_loader: Callable[[], None] | None = None


def load_tasks_with(loader: Callable[[], None]) -> None:
    """Load the task modules with ``loader`` the first time a task is looked up and not
    found (the command line, which would not import every domain to print its help)."""
    global _loader
    _loader = loader


def registered(name: str) -> Any:
    """The task registered as ``name``; ``LookupError`` when this process has none."""
    global _loader
    if name not in _tasks and _loader is not None:
        load, _loader = _loader, None
        load()
    try:
        return _tasks[name]
    except KeyError:
        raise LookupError(
            f"no queue task named {name!r}: the process must load the task modules first "
            "(xinyidai.jobs.load_all_tasks)"
        ) from None


def enqueue(name: str, *args: Any, at: datetime | None = None) -> None:
    """Hand the task ``name`` to the queue now, to run at once or not before ``at``.

    For rows that are committed already (a periodic sweep); a service or a route uses
    ``enqueue_after_commit``."""
    queued = registered(name)
    wait = 0.0 if at is None else (at - clock.now()).total_seconds()
    if wait > 0:
        queued.schedule(args=args, delay=wait)
    else:
        queued(*args)


def enqueue_after_commit(
    session: Session, name: str, *args: Any, at: datetime | None = None
) -> None:
    """Hand the task ``name`` with ``args`` to the queue once ``session``'s transaction has
    committed (to run at once, or not before ``at``); forget it if the transaction rolls
    back. An unknown name raises ``LookupError`` now."""
    registered(name)
    _on_commit(session, lambda: enqueue(name, *args, at=at))


def _on_commit(session: Session, call: Callable[[], object]) -> None:
    """Call ``call`` once ``session``'s transaction has committed; forget it if the
    transaction rolls back."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before any write still forgets it
    session.info.setdefault(_AFTER_COMMIT, []).append(call)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    for call in session.info.pop(_AFTER_COMMIT, []):
        try:
            call()
        except Exception:  # the rows are committed; a periodic sweep picks them up again
            log.exception("could not enqueue a task after commit")


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the transaction on
        session.info.pop(_AFTER_COMMIT, None)
