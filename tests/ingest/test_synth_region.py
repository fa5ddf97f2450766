"""A whole synthetic region goes in: exactly the planted bad rows are rejected."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.ingest import service
from xinyidai.ingest.models import Batch, Rejection
from xinyidai.synth import generate


def _ingest_folder(session: Session, folder: Path) -> list[Batch]:
    batches = []
    for feed in service.feeds_in(folder, provider=None, category=None):
        batches.append(service.ingest_file(session, feed=feed, actor="test"))
        session.commit()
    return batches


def test_planted_bad_rows_are_exactly_the_rejections(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "region"
    generate(folder, enterprises=200, seed=11)
    batches = _ingest_folder(session, folder)
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
