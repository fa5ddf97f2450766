"""Jobs run on the task queue and show their progress and outcome."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session

from xinyidai.core import jobs
from xinyidai.core.db import session_scope
from xinyidai.core.queue import build_huey, huey
from xinyidai.core.settings import QueueSettings, Settings


def count_to(job_id: str, *, upto: int, fail_at: int | None = None) -> None:
    with jobs.running(job_id) as progress:
        progress.set_total(upto)
        for number in range(1, upto + 1):
            if number == fail_at:
                raise ValueError(f"cannot count past {number - 1}")
            progress.advance()
        with session_scope() as session:
            jobs.finish(session, job_id=job_id, result={"counted": upto})


count_task = huey.task()(count_to)


def _queued(session: Session, **params: int) -> str:
    job = jobs.create(session, kind="count", params=params, actor="test")
    session.commit()
    return job.id


def test_job_reports_progress_and_result(session: Session) -> None:
    job_id = _queued(session, upto=25)
    count_task(job_id, upto=25)
    session.expire_all()
    job = jobs.get_or_raise(session, job_id=job_id)
    assert job.state == jobs.JobState.SUCCEEDED
    assert (job.done, job.total, job.percent) == (25, 25, 100.0)
    assert job.result == {"counted": 25}
    assert job.started_at is not None
    assert job.finished_at is not None


def test_failed_job_keeps_reason_and_progress(session: Session) -> None:
    job_id = _queued(session, upto=10)
    with pytest.raises(ValueError, match="cannot count past 6"):
        count_to(job_id, upto=10, fail_at=7)
    session.expire_all()
    job = jobs.get_or_raise(session, job_id=job_id)
    assert job.state == jobs.JobState.FAILED
    assert job.done == 6
    assert job.error == "ValueError: cannot count past 6"


def test_failed_job_can_be_run_again(session: Session) -> None:
    job_id = _queued(session, upto=5)
    with pytest.raises(ValueError, match="cannot count past 1"):
        count_to(job_id, upto=5, fail_at=2)
    count_to(job_id, upto=5)
    session.expire_all()
    job = jobs.get_or_raise(session, job_id=job_id)
    assert (job.state, job.attempts, job.error) == (jobs.JobState.SUCCEEDED, 2, None)


def test_unknown_job_is_not_found(session: Session) -> None:
    from xinyidai.core.errors import NotFound

    with pytest.raises(NotFound) as caught:
        jobs.get_or_raise(session, job_id="job_missing")
    assert caught.value.field == "job_id"


def test_embedded_queue_is_sqlite_by_default(tmp_path: object) -> None:
    queue = build_huey(Settings(data_dir=tmp_path, queue=QueueSettings(immediate=False)))  # type: ignore[arg-type]
    assert type(queue.storage).__name__ == "SqliteStorage"


REDIS_URL = os.environ.get("XYD_TEST_REDIS_URL", "")


@pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true", reason="XYD_TEST_REDIS_URL not set"
)
def test_redis_queue_carries_a_job_to_a_worker(session: Session) -> None:
    queue = build_huey(Settings(redis_url=REDIS_URL, queue=QueueSettings(immediate=False)))
    assert type(queue.storage).__name__ == "RedisStorage"
    queue.flush()
    task = queue.task(name="count_to_redis")(count_to)
    job_id = _queued(session, upto=3)
    task(job_id, upto=3)
    assert queue.pending_count() == 1
    message = queue.dequeue()
    assert message is not None
    queue.execute(message)
    session.expire_all()
    assert jobs.get_or_raise(session, job_id=job_id).state == jobs.JobState.SUCCEEDED
    queue.flush()
