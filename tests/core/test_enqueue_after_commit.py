"""A task is handed to the queue when the transaction that wrote its rows commits, and
never for one that rolls back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from xinyidai.core import clock, queue

enqueued: list[str] = []


@queue.task("tests.remember")
def remember(value: str) -> None:
    enqueued.append(value)


@pytest.fixture(autouse=True)
def _nothing_enqueued_yet() -> None:
    enqueued.clear()


def test_a_task_is_enqueued_after_commit_and_never_after_rollback(session: Session) -> None:
    queue.enqueue_after_commit(session, "tests.remember", "kept")
    session.flush()
    assert enqueued == []
    session.commit()
    assert enqueued == ["kept"]
    session.commit()
    assert enqueued == ["kept"]  # once

    queue.enqueue_after_commit(session, "tests.remember", "rolled back")
    session.rollback()
    session.commit()
    assert enqueued == ["kept"]


def test_a_savepoint_released_enqueues_nothing_before_the_commit(session: Session) -> None:
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    registry_service.create(  # a write first: the savepoint sits inside the transaction
        session, data=EnterpriseIn(credit_code="91450100MA5K000097", name="保存点测试企业")
    )
    session.flush()
    queue.enqueue_after_commit(session, "tests.remember", "outer")
    with session.begin_nested():
        queue.enqueue_after_commit(session, "tests.remember", "inner")
    assert enqueued == []
    session.commit()
    assert enqueued == ["outer", "inner"]


def test_a_failing_enqueue_does_not_undo_the_commit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def queue_down_once(name: str, value: str, at: object = None) -> None:
        if value == "lost":
            raise ConnectionError("queue down")
        remember(value)

    monkeypatch.setattr(queue, "enqueue", queue_down_once)
    done = enqueued
    queue.enqueue_after_commit(session, "tests.remember", "lost")
    queue.enqueue_after_commit(session, "tests.remember", "next")
    session.commit()
    assert done == ["next"]


def test_an_unknown_task_is_refused_before_anything_is_committed(session: Session) -> None:
    with pytest.raises(LookupError, match=r"tests\.nobody"):
        queue.enqueue_after_commit(session, "tests.nobody", "x")
    session.commit()
    assert enqueued == []


def test_a_task_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"tests\.remember"):
        queue.task("tests.remember")(lambda value: None)


def test_a_task_for_later_waits_in_the_schedule(session: Session) -> None:
    later = clock.now() + timedelta(hours=1)
    queue.enqueue_after_commit(session, "tests.remember", "later", at=later)
    queue.enqueue_after_commit(session, "tests.remember", "due", at=clock.now())
    session.commit()
    assert enqueued == ["due"]
    try:
        waiting = [t for t in queue.huey.scheduled() if t.args == ("later",)]
        assert len(waiting) == 1
        assert abs((waiting[0].eta - later.replace(tzinfo=None)).total_seconds()) < 60
    finally:
        queue.huey.storage.flush_schedule()
