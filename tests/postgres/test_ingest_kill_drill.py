"""The kill drill of ingestion, CI-sized: ``xyd ingest`` of a synthetic region on a scratch
PostgreSQL database is killed (``kill -9`` of the command and its workers) at random
points, then run again. Every count and checksum equals a clean run's, no batch is left
``running``, and the ledger verifies once sequenced. Full size with figures:
``bench/drills.py ingest-kill``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.postgres import ingest_drill
from xinyidai import bootstrap
from xinyidai.ledger import keys
from xinyidai.synth import generate

pytestmark = pytest.mark.postgres

KILLS = 3


def test_killed_ingests_rerun_to_what_a_clean_run_stores(
    pg_url: str, pg_database: Callable[[], str], tmp_path: Path
) -> None:
    keys.create_key()  # as `xyd ledger init` would: every process appends with them
    keys.tag_secrets()
    clean_url = pg_database()
    bootstrap.initialize(clean_url)
    region = tmp_path / "region"
    generate(region, enterprises=150, seed=9)
    settings = {"ingest_batch_rows": 100, "ingest_workers": 2}
    report = ingest_drill.drill(
        region,
        clean_url=clean_url,
        drill_url=pg_url,
        clean_env=ingest_drill.environment(clean_url, tmp_path, **settings),
        drill_env=ingest_drill.environment(pg_url, tmp_path, **settings),
        kills=KILLS,
        seed=20261207,
        log=tmp_path / "ingest.log",
    )
    # The drill did kill ingests midway (not only before or after them).
    assert any(kill.stored for kill in report.kills), report.kills
    assert list(report.clean_states) == ["done"]
    assert report.states == report.clean_states  # every batch done, none left running
    for name, clean in report.clean.items():
        assert report.drilled[name] == clean, name
    verified, output = ingest_drill.sequence_and_verify(
        ingest_drill.environment(pg_url, tmp_path), tmp_path / "ledger.log"
    )
    assert verified, output
