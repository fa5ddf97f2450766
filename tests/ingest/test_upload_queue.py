"""A large upload is queued once its transaction commits; an upload whose transaction does
not commit queues nothing and leaves no file behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.core import jobs
from xinyidai.core.settings import get_settings
from xinyidai.ingest import files
from xinyidai.ingest.models import Batch
from xinyidai.records.models import CreditRecord


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _batch(session: Session, batch_id: str) -> Batch:
    session.expire_all()
    batch = session.get(Batch, batch_id)
    assert batch is not None
    return batch


def _uploads() -> list[Path]:
    folder = get_settings().data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def _accept(session: Session, tmp_path: Path, rows: int = 12) -> Batch:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, rows + 1)])
    with path.open("rb") as stream:
        return files.accept_upload(
            session,
            stream=stream,
            filename="feed.csv",
            provider="court",
            category="court_enforcement",
            actor="test",
        )


def test_a_large_upload_is_queued_when_its_transaction_commits(
    session: Session, tmp_path: Path, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_INLINE_UPLOAD_KB="0")
    batch = _accept(session, tmp_path)
    job_id = batch.job_id
    assert job_id is not None
    # Not yet committed: the job waits, its file is kept, nothing is read.
    assert batch.state == "queued"
    assert jobs.get_or_raise(session, job_id=job_id).state == "queued"
    assert len(_uploads()) == 1
    assert _count(session, CreditRecord) == 0

    session.commit()  # the queue runs its tasks at once in the tests
    done = _batch(session, batch.id)
    assert (done.state, done.accepted) == ("done", 12)
    assert jobs.get_or_raise(session, job_id=job_id).state == "succeeded"
    assert _uploads() == []  # the job removed it once read


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_an_upload_whose_transaction_does_not_commit_leaves_nothing(
    session: Session, tmp_path: Path, xyd_env: XydEnv, end: str
) -> None:
    xyd_env(XYD_INLINE_UPLOAD_KB="0")
    batch = _accept(session, tmp_path)
    assert batch.job_id is not None
    assert len(_uploads()) == 1
    if end == "rollback":
        session.rollback()
    else:
        session.close()
    assert _uploads() == []
    assert _count(session, Batch) == 0
    assert _count(session, jobs.Job) == 0
    assert _count(session, CreditRecord) == 0


def test_a_savepoint_rolled_back_keeps_the_upload_of_its_transaction(
    session: Session, tmp_path: Path, xyd_env: XydEnv
) -> None:
    """Only the end of the whole transaction decides: a savepoint's rollback inside it
    removes nothing, and the commit keeps the file for its job."""
    xyd_env(XYD_INLINE_UPLOAD_KB="0")
    batch = _accept(session, tmp_path)
    with session.begin_nested() as savepoint:
        savepoint.rollback()
    assert len(_uploads()) == 1
    session.commit()
    done = _batch(session, batch.id)
    assert (done.state, done.accepted) == ("done", 12)
    assert _uploads() == []
