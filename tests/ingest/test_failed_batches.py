"""However the reading of a file stops, its batch ends failed with the reason (in English and
Chinese) and what was stored before it; a batch whose worker is gone is swept; the same
file sent again goes on from the last committed chunk, storing and counting nothing twice."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import XydEnv
from tests.ingest import hostile
from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.core import clock, jobs
from xinyidai.core.settings import get_settings
from xinyidai.ingest import folder, service
from xinyidai.ingest import jobs as ingest_jobs
from xinyidai.ingest.models import Batch, Rejection
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord


@pytest.fixture(autouse=True)
def small_chunks(xyd_env: XydEnv) -> None:
    """Chunks of ten rows, so a file of a few dozen commits several times."""
    xyd_env(XYD_INGEST_BATCH_ROWS="10")


def _feed(path: Path) -> service.FeedFile:
    return service.FeedFile(path, "court", "court_enforcement")


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _batch(session: Session, batch_id: Any) -> Batch:
    session.expire_all()
    batch = session.get(Batch, batch_id)
    assert batch is not None
    return batch


def _rows_with_a_long_line(tmp_path: Path, good: int = 35) -> Path:
    """``good`` good rows, one with a 3,000-character case number (too long for its field,
    and for a line of 2 KiB), five good rows."""
    rows = [good_row(n) for n in range(1, good + 7)]
    rows[good][2] = "案" * 3000
    return write(tmp_path / "feed", "csv", HEADERS, rows)


def test_a_file_that_breaks_midway_fails_after_its_committed_chunks_and_resumes(
    session: Session, tmp_path: Path, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_INGEST_MAX_LINE_KB="2")
    path = _rows_with_a_long_line(tmp_path)
    first = folder.ingest_one(_feed(path), actor="test", source="cli")
    batch = _batch(session, first["batch_id"])
    assert batch.state == "failed"
    assert (batch.total, batch.accepted, batch.rejected, batch.last_position) == (35, 35, 0, 36)
    assert batch.error == (
        "line 37 is longer than 2048 characters; stored before it: 35 rows read, 35 new, "
        "0 updated, 0 duplicates, 0 rejected"
    )
    assert service.error_text(batch, "zh_CN") == (
        "第 37 行超过 2048 个字符；此前已读取 35 行并存储："
        "新增 35 条，更新 0 条，重复 0 条，拒收 0 行"
    )
    assert first["error_detail"] == batch.error_detail
    assert batch.worker == service.worker_id()
    assert _count(session, CreditRecord) == 35

    # The same file again, same caps: the same batch fails again at the same line, having
    # read nothing twice.
    again = folder.ingest_one(_feed(path), actor="test", source="cli")
    assert again["batch_id"] == first["batch_id"]
    assert (again["state"], again["total"], again["accepted"], again["duplicates"]) == (
        "failed",
        35,
        35,
        0,
    )

    # With the line allowed, it goes on from line 37: the long case number is rejected
    # (too long for its field), the rest stored; nothing counted or stored twice.
    xyd_env(XYD_INGEST_MAX_LINE_KB="64")
    done = folder.ingest_one(_feed(path), actor="test", source="cli")
    assert done["batch_id"] == first["batch_id"]
    assert (done["state"], done["total"], done["accepted"], done["rejected"]) == (
        "done",
        41,
        40,
        1,
    )
    assert (done["duplicates"], done["error"], done["error_detail"]) == (0, None, None)
    assert _count(session, CreditRecord) == 40
    assert session.scalars(select(Rejection.position)).all() == [37]
    assert _count(session, Batch) == 1


def test_an_unexpected_error_fails_the_batch_and_the_rerun_goes_on(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 46)])
    store = records_service.store
    calls = 0

    def third_chunk_breaks(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the disk is full")
        return store(*args, **kwargs)

    monkeypatch.setattr(records_service, "store", third_chunk_breaks)
    failed = folder.ingest_one(_feed(path), actor="test", source="cli")
    assert failed["state"] == "failed"
    batch = _batch(session, failed["batch_id"])
    assert (batch.total, batch.accepted, batch.last_position) == (20, 20, 21)
    assert batch.error == (
        "the ingest stopped on an unexpected error: RuntimeError: the disk is full; stored "
        "before it: 20 rows read, 20 new, 0 updated, 0 duplicates, 0 rejected; send the same "
        "file again to go on from there"
    )
    assert "再次发送同一文件即可从中断处继续" in (service.error_text(batch, "zh_CN") or "")

    monkeypatch.setattr(records_service, "store", store)
    done = folder.ingest_one(_feed(path), actor="test", source="cli")
    assert (done["batch_id"], done["state"]) == (failed["batch_id"], "done")
    assert (done["total"], done["accepted"], done["duplicates"]) == (45, 45, 0)
    assert _count(session, CreditRecord) == 45


def test_an_interrupt_is_recorded_and_raised(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 26)])
    store = records_service.store
    calls = 0

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return store(*args, **kwargs)

    monkeypatch.setattr(records_service, "store", interrupted)
    with pytest.raises(KeyboardInterrupt):
        folder.ingest_one(_feed(path), actor="test", source="cli")
    batch = session.scalars(select(Batch)).one()
    assert (batch.state, batch.accepted) == ("failed", 10)
    assert batch.error is not None
    assert batch.error.startswith("the ingest was interrupted")


def test_a_file_changed_since_its_failure_is_a_new_batch(
    session: Session, tmp_path: Path, xyd_env: XydEnv
) -> None:
    """Only the same bytes take up a failed batch: a fixed file is read whole into a new
    one, the rows the failed batch stored counted as duplicates, none stored twice."""
    xyd_env(XYD_INGEST_MAX_LINE_KB="2")
    path = _rows_with_a_long_line(tmp_path)
    failed = folder.ingest_one(_feed(path), actor="test", source="cli")
    rows = [good_row(n) for n in range(1, 42)]
    fixed = folder.ingest_one(
        _feed(write(tmp_path / "fixed", "csv", HEADERS, rows)), actor="test", source="cli"
    )
    assert fixed["batch_id"] != failed["batch_id"]
    assert (fixed["state"], fixed["accepted"], fixed["duplicates"]) == ("done", 6, 35)
    assert _count(session, CreditRecord) == 41


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _running_batch(
    session: Session, tmp_path: Path, worker: str | None, name: str = "feed"
) -> Batch:
    path = write(tmp_path / name, "csv", HEADERS, [good_row(n) for n in range(1, 4)])
    batch = service.open_file_batch(
        session,
        provider="court",
        category="court_enforcement",
        source="cli",
        actor="test",
        filename=path.name,
        fmt=None,
        checksum=service.file_checksum(path),
    )
    service.claim(batch)
    batch.worker = worker
    session.commit()
    return batch


def test_the_sweep_fails_a_batch_whose_worker_is_gone_and_its_job(
    session: Session, tmp_path: Path
) -> None:
    worker = f"{socket.gethostname()}:{_dead_pid()}:1"
    batch = _running_batch(session, tmp_path, worker)
    job = jobs.create(session, kind="ingest.file", params={}, actor="test")
    job.state = jobs.JobState.RUNNING
    batch.job_id = job.id
    session.commit()
    assert ingest_jobs.sweep_now() == [batch.id]
    batch = _batch(session, batch.id)
    assert batch.state == "failed"
    assert batch.error == (
        f"the process reading the file ({worker}) stopped before it finished; nothing was "
        "stored; send the same file again to go on from there"
    )
    assert service.error_text(batch, "zh_CN") == (
        f"读取文件的进程（{worker}）在完成前已停止；未存储任何数据；再次发送同一文件即可从中断处继续"
    )
    session.refresh(job)
    assert (job.state, job.error) == ("failed", batch.error)
    assert ingest_jobs.sweep_now() == []  # once


def test_the_sweep_leaves_a_live_worker_and_a_fresh_heartbeat_alone(
    session: Session, tmp_path: Path
) -> None:
    here = _running_batch(session, tmp_path, service.worker_id())
    assert service.worker_alive(here.worker or "") is True
    elsewhere = _running_batch(session, tmp_path, "another-host:123:456", name="other")
    assert service.worker_alive("another-host:123:456") is None
    assert ingest_jobs.sweep_now() == []
    # An hour later the other host's batch has not reported: it is swept; this process's
    # batch is alive whatever its heartbeat says.
    later = clock.now() + timedelta(hours=1)
    assert service.sweep_abandoned(session, now=later) == [elsewhere.id]
    session.commit()
    assert _batch(session, here.id).state == "running"


def test_serve_and_worker_sweep_at_start_and_the_worker_every_five_minutes(
    session: Session, tmp_path: Path
) -> None:
    from xinyidai.cli import platform

    first = _running_batch(session, tmp_path, f"{socket.gethostname()}:{_dead_pid()}:1")
    platform.sweep_batches()  # what `xyd serve` and `xyd worker` run as they start
    assert _batch(session, first.id).state == "failed"
    second = _running_batch(session, tmp_path, f"{socket.gethostname()}:{_dead_pid()}:1", "b")
    task = ingest_jobs.sweep_abandoned_batches
    every = task.task_class()  # a periodic task of the worker, every five minutes
    assert every.validate_datetime(datetime(2026, 12, 7, 10, 35))
    assert not every.validate_datetime(datetime(2026, 12, 7, 10, 36))
    task.call_local()
    assert _batch(session, second.id).state == "failed"


def test_a_process_id_used_again_is_not_taken_for_the_worker(session: Session) -> None:
    pid = os.getpid()
    assert service.worker_alive(f"{socket.gethostname()}:{pid}:1") is False
    assert service.worker_alive(service.worker_id()) is True


def test_a_batch_from_before_workers_were_recorded_is_swept_by_age(
    session: Session, tmp_path: Path
) -> None:
    batch = _running_batch(session, tmp_path, None)
    assert service.sweep_abandoned(session) == []
    later = clock.now() + timedelta(minutes=get_settings().ingest.stale_minutes + 1)
    assert service.sweep_abandoned(session, now=later) == [batch.id]


def _killed_at_the_third_chunk(path: str) -> None:
    """(In a child process.) Ingest ``path`` and die without a word, as ``kill -9`` would,
    while the third chunk is being stored."""
    get_settings.cache_clear()
    store = records_service.store
    calls = 0

    def dies(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            os._exit(9)
        return store(*args, **kwargs)

    records_service.store = dies  # type: ignore[assignment]
    folder.ingest_one(_feed(Path(path)), actor="test", source="cli")


def test_a_killed_worker_s_batch_is_swept_and_resumed_by_the_same_file(
    session: Session, tmp_path: Path
) -> None:
    """A process killed while storing its third chunk leaves its batch running with two
    chunks committed; the next ``xyd ingest`` of the file sweeps it and goes on from the
    third chunk."""
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 36)])
    child = multiprocessing.get_context("spawn").Process(
        target=_killed_at_the_third_chunk, args=(str(path),)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 9
    batch = session.scalars(select(Batch)).one()
    assert (batch.state, batch.total, batch.last_position) == ("running", 20, 21)
    assert batch.worker is not None
    assert f":{child.pid}:" in batch.worker
    assert _count(session, CreditRecord) == 20

    args = ["ingest", str(path), "--provider", "court", "--category", "court_enforcement"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    done = _batch(session, batch.id)
    assert (done.state, done.total, done.accepted, done.duplicates) == ("done", 35, 35, 0)
    assert _count(session, CreditRecord) == 35
    assert _count(session, Batch) == 1


def test_resume_skips_the_files_already_in_and_goes_on_with_the_others(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``xyd ingest FOLDER --resume`` after a crash: a file in whole is not read again (no
    batch of duplicates, no rejection twice); without it a file sent again is a new
    delivery, counted as duplicates."""
    from xinyidai.synth import generate

    region = tmp_path / "region"
    generate(region, enterprises=150, seed=9)
    feeds = service.feeds_in(region, provider=None, category=None)
    first = folder.ingest_one(feeds[0], actor="test", source="cli")
    rejected = _count(session, Rejection)
    result = CliRunner().invoke(_cli(), ["ingest", str(region), "--no-rate", "--resume", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()[:-1]]
    assert lines[0]["batch_id"] == first["batch_id"]
    assert lines[0]["skipped"] is True
    assert not any(line.get("skipped") for line in lines[1:])
    assert _count(session, Batch) == len(feeds)
    again = folder.ingest_one(feeds[0], actor="test", source="cli")
    assert again["batch_id"] != first["batch_id"]
    assert again["duplicates"] == first["accepted"] + first["duplicates"]
    assert _count(session, Rejection) > rejected


def _cli() -> Any:
    from xinyidai.cli import app

    return app


def test_the_cli_says_why_a_file_failed_in_one_line(session: Session, tmp_path: Path) -> None:
    path = hostile.big_field_csv(tmp_path / "field.csv", chars=300_000)
    args = ["ingest", str(path), "--provider", "court", "--category", "court_enforcement"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed")]
    assert failed == [
        f"failed {path}: 3 rows, 3 new, 0 updated, 0 duplicates, 0 rejected — "
        "第 5 行超过 262144 个字符；此前已读取 3 行并存储："
        "新增 3 条，更新 0 条，重复 0 条，拒收 0 行"
    ]
    as_json = CliRunner().invoke(_cli(), [*args, "--json"])
    line = json.loads(as_json.stdout.splitlines()[0])
    assert line["state"] == "failed"
    assert line["error_detail"]["message"] == "line {line} is longer than {limit} characters"


def test_a_worker_reading_an_upload_fails_its_batch_and_job(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 31)])
    batch = service.create_batch(
        session, provider="court", category="court_enforcement", source="upload", actor="t"
    )
    job = jobs.create(session, kind="ingest.file", params={}, actor="t")
    batch.job_id = job.id
    session.commit()
    store = records_service.store
    calls = 0

    def second_chunk_breaks(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("connection lost")
        return store(*args, **kwargs)

    monkeypatch.setattr(records_service, "store", second_chunk_breaks)
    with pytest.raises(RuntimeError):
        ingest_jobs.ingest_uploaded_file.call_local(job.id, batch.id, str(path))
    failed = _batch(session, batch.id)
    assert (failed.state, failed.accepted) == ("failed", 10)
    assert "connection lost" in (failed.error or "")
    session.refresh(job)
    assert job.state == "failed"

    # Run again (as a retried job): it goes on from the second chunk.
    monkeypatch.setattr(records_service, "store", store)
    ingest_jobs.ingest_uploaded_file.call_local(job.id, batch.id, str(path))
    done = _batch(session, batch.id)
    assert (done.state, done.total, done.accepted, done.duplicates) == ("done", 30, 30, 0)
