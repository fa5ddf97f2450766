"""`xyd worker` takes a queued job off the embedded SQLite queue and runs it to the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.core import jobs
from xinyidai.core.queue import build_huey
from xinyidai.core.settings import QueueSettings, Settings
from xinyidai.ingest import service


def test_worker_process_runs_a_queued_ingest_job(
    session: Session, db_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 8)])
    batch = service.create_batch(
        session, provider="court", category="court_enforcement", source="upload", actor="t"
    )
    job = jobs.create(session, kind="ingest.file", params={"batch_id": batch.id}, actor="t")
    batch.job_id = job.id
    session.commit()

    queue = build_huey(Settings(data_dir=tmp_path, queue=QueueSettings(immediate=False)))
    from xinyidai.ingest import jobs as ingest_jobs

    task = queue.task(name=ingest_jobs.ingest_uploaded_file.name)(
        ingest_jobs.ingest_uploaded_file.func
    )
    task(job.id, batch.id, str(path))
    assert queue.pending_count() == 1

    env = os.environ | {
        "XYD_DATABASE_URL": db_url,
        "XYD_DATA_DIR": str(tmp_path),
        "XYD_QUEUE_IMMEDIATE": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinyidai.cli", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        state = jobs.JobState.QUEUED
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and state not in (
            jobs.JobState.SUCCEEDED,
            jobs.JobState.FAILED,
        ):
            time.sleep(0.3)
            session.expire_all()
            state = jobs.get_or_raise(session, job_id=job.id).state
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    finished = jobs.get_or_raise(session, job_id=job.id)
    assert finished.state == jobs.JobState.SUCCEEDED, errors.decode()[-2000:]
    assert (finished.done, finished.result["accepted"]) == (7, 7)  # type: ignore[index]
    assert not path.exists()
