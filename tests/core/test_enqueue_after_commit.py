"""A task is handed to the queue when the transaction that wrote its rows commits, and
never for one that rolls back."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinyidai.core import queue


def test_a_task_is_enqueued_after_commit_and_never_after_rollback(session: Session) -> None:
    enqueued: list[str] = []
    queue.on_commit(session, lambda: enqueued.append("kept"))
    session.flush()
    assert enqueued == []
    session.commit()
    assert enqueued == ["kept"]
    session.commit()
    assert enqueued == ["kept"]  # once

    queue.on_commit(session, lambda: enqueued.append("rolled back"))
    session.rollback()
    session.commit()
    assert enqueued == ["kept"]


def test_a_failing_enqueue_does_not_undo_the_commit(session: Session) -> None:
    def broken() -> None:
        raise ConnectionError("queue down")

    done: list[str] = []
    queue.on_commit(session, broken)
    queue.on_commit(session, lambda: done.append("next"))
    session.commit()
    assert done == ["next"]
