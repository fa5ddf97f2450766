"""A synthetic region's planted guarantee circles are exactly the circles found."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from xinyidai.graph import cycles, service
from xinyidai.ingest import service as ingest_service
from xinyidai.synth import generate

LINK_FEEDS = ("registration", "shareholder", "guarantee")


def _found(session: Session) -> set[tuple[str, ...]]:
    rows, _, _ = service.structures(session, kind="circle", size=200)
    return {tuple(row.members) for row in rows}


def test_the_planted_circles_that_reach_the_records_are_found(
    session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "region"
    manifest = generate(folder, enterprises=6000, seed=3)
    for feed in ingest_service.feeds_in(folder, provider=None, category=None):
        if feed.category in LINK_FEEDS:
            ingest_service.ingest_file(session, feed=feed, actor="test")
            session.commit()
    with (folder / "truth" / "guarantee_circles.csv").open(encoding="utf-8") as handle:
        planted = list(csv.DictReader(handle))
    assert len(planted) == manifest["counts"]["guarantee_circles"]

    def members(row: dict[str, str]) -> tuple[str, ...]:
        return cycles.canonical_circle(row["members"].split(";"))

    intact = [row for row in planted if row["intact"] == "1"]
    in_force = {members(row) for row in intact if row["in_force"] == "1"}
    assert in_force, "the region has circles in force"
    assert len(intact) < len(planted) or len(in_force) < len(intact), "faults and releases show"

    analysis = service.analyse(session)
    assert _found(session) == in_force
    assert analysis.chains > 0
    service.analyse(session, include_released=True)
    assert _found(session) == {members(row) for row in intact}
