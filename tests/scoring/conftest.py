"""Fixtures of the scoring tests: the shipped loans table and a scorecard fitted on it once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from xinyidai.scoring.scorecard import Scorecard
from xinyidai.scoring.scorecard.table import Table, read_table

LOANS = Path(__file__).parent / "data" / "loans.csv"


@pytest.fixture(scope="session")
def loans() -> Table:
    """``loans.csv``: 1,500 loans with a known answer (see ``data/make_loans.py``)."""
    return read_table(LOANS, target="bad", id_column="loan_id")


@pytest.fixture(scope="session")
def card(loans: Table) -> Scorecard:
    """A scorecard fitted on every loan (fitted once: binning takes seconds)."""
    return Scorecard(name="loans").fit(loans.X, loans.y)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.read_csv(LOANS)


REGION_SIZE = 300
REGION_SEED = 5


@pytest.fixture(scope="session")
def region_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding a 300-enterprise synthetic region, ingested once per session."""
    from sqlalchemy.orm import Session

    from xinyidai.core.db import build_engine
    from xinyidai.ingest import service as ingest_service
    from xinyidai.scoring import service as rating_service
    from xinyidai.synth import generate

    folder = tmp_path_factory.mktemp("region")
    generate(folder / "feeds", enterprises=REGION_SIZE, seed=REGION_SEED)
    path = folder / "region.db"
    shutil.copyfile(sqlite_template, path)
    engine = build_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session, rating_service.arrival_paused():
            for feed in ingest_service.feeds_in(folder / "feeds", provider=None, category=None):
                ingest_service.ingest_file(session, feed=feed, actor="test")
                session.commit()
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def region_folder(region_database: Path) -> Path:
    """The synthetic region's files (manifest, feeds, truth)."""
    return region_database.parent / "feeds"


@pytest.fixture
def region_url(
    region_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh copy of the region's database for this test, made the configured one."""
    from xinyidai.core import db as core_db

    path = tmp_path / "xyd.db"
    shutil.copyfile(region_database, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("XYD_DATABASE_URL", url)
    monkeypatch.setenv("XYD_DATA_DIR", str(tmp_path))
    core_db.reset_engines()
    yield url
    core_db.get_engine().dispose()
    core_db.reset_engines()
