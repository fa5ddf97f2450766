"""A whole synthetic region goes in: exactly the planted bad rows are rejected."""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from xinyidai.ingest import pipeline, service
from xinyidai.ingest.models import Batch, Rejection
from xinyidai.synth import generate


def _ingest_folder(
    session: Session, folder: Path, reader: pipeline.Reader | None = None
) -> list[Batch]:
    batches = []
    for feed in service.feeds_in(folder, provider=None, category=None):
        batches.append(service.ingest_file(session, feed=feed, actor="test", reader=reader))
        session.commit()
    return batches


@dataclass(frozen=True)
class _Watched(pipeline.Reader):
    """The configured reader, noting the batches whose file it reads in a child."""

    children: list[str] = field(default_factory=list)

    def read_in_child(self, batch_id: str, *args: Any, **kwargs: Any) -> Any:
        self.children.append(batch_id)
        return super().read_in_child(batch_id, *args, **kwargs)


@pytest.fixture(params=["in-process", "child-process"])
def reading(request: pytest.FixtureRequest, xyd_env: XydEnv) -> Iterator[_Watched]:
    """Both ways a file is read: here (with a reader thread) and in a forked child."""
    xyd_env(XYD_INGEST_PROCESS_KB="0" if request.param == "in-process" else "1")
    reader = _Watched(**asdict(pipeline.Reader.configured()))
    yield reader
    assert bool(reader.children) == (request.param == "child-process")


def test_planted_bad_rows_are_exactly_the_rejections(
    session: Session, tmp_path: Path, reading: _Watched
) -> None:
    folder = tmp_path / "region"
    generate(folder, enterprises=200, seed=11)
    batches = _ingest_folder(session, folder, reading)
    assert all(b.state == "done" for b in batches)
    by_batch = {b.id: f"feeds/{b.provider}/{b.category}" for b in batches}
    rejected = {(by_batch[r.batch_id], r.position) for r in session.scalars(select(Rejection))}
    with (folder / "truth" / "bad_rows.csv").open(encoding="utf-8") as handle:
        planted = list(csv.DictReader(handle))
    faults = {
        (row["path"].rsplit(".", 1)[0], int(row["line"] or row["index"]))
        for row in planted
        if row["reason"] != "duplicate"
    }
    assert faults
    assert rejected == faults
    duplicates_planted = sum(row["reason"] == "duplicate" for row in planted)
    assert sum(b.duplicates for b in batches) >= duplicates_planted


def test_reingesting_a_region_adds_nothing(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "region"
    generate(folder, enterprises=120, seed=5)
    first = _ingest_folder(session, folder)
    again = _ingest_folder(session, folder)
    assert sum(b.accepted + b.updated for b in again) == 0
    assert sum(b.duplicates for b in again) == sum(b.accepted + b.duplicates for b in first)


@dataclass(frozen=True)
class _Broken(pipeline.Reader):
    """The configured reader, whose validation breaks saying in which process."""

    parent: int = 0

    def chunks(self, *_args: Any, **_kwargs: Any) -> Iterator[pipeline.Chunk]:
        here = "this" if os.getpid() == self.parent else "a child"
        raise ValueError(f"the reader broke in {here}")


def test_a_failure_in_the_validating_process_is_raised_here(
    session: Session, tmp_path: Path, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_INGEST_PROCESS_KB="1")
    folder = tmp_path / "region"
    generate(folder, enterprises=40, seed=3)
    feed = service.feeds_in(folder, provider=None, category=None)[0]

    broken = _Broken(**asdict(pipeline.Reader.configured()), parent=os.getpid())
    with pytest.raises(ValueError, match="the reader broke in a child"):
        service.ingest_file(session, feed=feed, actor="test", reader=broken)
    session.rollback()
    assert session.scalars(select(Batch)).all() == []
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("content", "suffix", "reason"),
    [
        (b"PK-not-really-a-zip" * 100, ".xlsx", "not an Excel workbook (.xlsx or .xls)"),
        (b"just one line of prose " * 100 + b"\n", ".csv", "not a header row"),
    ],
)
def test_a_file_the_validating_process_cannot_open_fails_the_batch(
    session: Session,
    tmp_path: Path,
    xyd_env: XydEnv,
    content: bytes,
    suffix: str,
    reason: str,
) -> None:
    """Only the child opens a large file: its finding that the file is not a table fails
    the batch with the reason, as opening it here would."""
    xyd_env(XYD_INGEST_PROCESS_KB="1")
    path = tmp_path / f"feed{suffix}"
    path.write_bytes(content)
    batch = service.ingest_file(
        session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="test"
    )
    assert (batch.state, batch.total) == ("failed", 0)
    assert reason in str(batch.error)
    assert session.scalar(select(func.count()).select_from(Rejection)) == 0
    assert multiprocessing.active_children() == []


def test_sqlite_ingests_a_folder_one_file_at_a_time(session: Session, tmp_path: Path) -> None:
    from xinyidai.ingest import folder

    region = tmp_path / "region"
    generate(region, enterprises=150, seed=3)
    feeds = service.feeds_in(region, provider=None, category=None)
    assert folder.workers_for(4) == 1
    lines = folder.ingest_feeds(feeds, actor="test", workers=4)
    assert [line["category"] for line in lines] == [f.category for f in feeds]
    assert all(line["state"] == "done" for line in lines)
    assert session.scalar(select(func.count()).select_from(Batch)) == len(feeds)


def test_a_folder_can_be_stored_without_telling_the_listeners(
    session: Session, tmp_path: Path
) -> None:
    from xinyidai.ingest import folder
    from xinyidai.records import service as records_service
    from xinyidai.scoring import service as rating  # listens to stored records
    from xinyidai.scoring.models import CreditRating

    assert "xinyidai.scoring.service" in records_service.listener_modules()
    region = tmp_path / "region"
    generate(region, enterprises=150, seed=3)
    feeds = service.feeds_in(region, provider=None, category=None)
    folder.ingest_feeds(feeds, actor="test", listen=False)
    assert session.scalar(select(func.count()).select_from(CreditRating)) == 0
    run = rating.rate_all(session)
    assert run.rated > 0
