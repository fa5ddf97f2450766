"""``xyd rate``: a full run with its progress, one enterprise, its history, the model,
the indicators exported, and training on a synthetic region."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.ingest.tables import code
from typer.testing import CliRunner

from xinyidai.cli import app
from xinyidai.core import jobs, queue
from xinyidai.core.db import session_scope
from xinyidai.scoring import platform_model
from xinyidai.scoring import service as rating_service
from xinyidai.scoring.indicators import NAMES

runner = CliRunner()


@pytest.fixture
def db_url(region_url: str) -> str:
    return region_url


def _json(output: str) -> object:
    return json.loads(output.strip().splitlines()[-1])


def test_rate_all_rates_the_region_as_a_job(db_url: str) -> None:
    result = runner.invoke(app, ["rate", "--all", "--as-of", "2025-12-31", "--json"])
    assert result.exit_code == 0, result.output
    summary = _json(result.stdout)
    assert summary["rated"] > 250
    assert summary["as_of"] == "2025-12-31"
    assert summary["model_version"] == platform_model.current().version  # type: ignore[index]
    text = runner.invoke(app, ["rate", "--all", "--as-of", "2025-12-31"])
    assert text.exit_code == 0
    assert "rated" in text.output


def test_rate_all_enqueue_hands_the_committed_job_to_the_workers(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, at=None: queued.append((name, args)))
    result = runner.invoke(app, ["rate", "--all", "--as-of", "2025-12-31", "--enqueue", "--json"])
    assert result.exit_code == 0, result.output
    answer = _json(result.stdout)
    assert answer["state"] == "queued"  # type: ignore[index]
    assert queued == [(rating_service.RATE_ALL_TASK, (answer["job_id"], "2025-12-31"))]  # type: ignore[index]
    with session_scope() as session:
        job = jobs.get_or_raise(session, job_id=answer["job_id"])  # type: ignore[index]
        assert (job.kind, job.state, job.actor) == (rating_service.JOB_KIND, "queued", "cli")


def test_rate_one_and_show_its_history(db_url: str, region_folder: Path) -> None:
    with (region_folder / "truth" / "defaults.csv").open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))["credit_code"]
    rated = runner.invoke(app, ["rate", "--code", first, "--as-of", "2025-12-31", "--json"])
    assert rated.exit_code == 0, rated.output
    assert _json(rated.stdout)["trigger"] == "request"  # type: ignore[index]
    again = runner.invoke(app, ["rate", "--code", first.lower()])
    assert again.exit_code == 0
    assert first in again.output
    history = runner.invoke(app, ["rate", "show", first, "--history", "--json", "--lang", "en"])
    assert history.exit_code == 0
    ratings = _json(history.stdout)
    assert len(ratings) == 2  # type: ignore[arg-type]
    assert ratings[0]["as_of"] > ratings[1]["as_of"]  # type: ignore[index]


def test_rating_an_unknown_or_malformed_code_fails_clearly(db_url: str) -> None:
    unknown = runner.invoke(app, ["rate", "--code", code(424242)])
    assert unknown.exit_code == 1
    assert "(credit_code)" in unknown.output
    malformed = runner.invoke(app, ["rate", "--code", "91640104MA00000000"])
    assert malformed.exit_code == 1
    assert "check character" in malformed.output
    bad_day = runner.invoke(app, ["rate", "--all", "--as-of", "2025-13-01"])
    assert bad_day.exit_code == 1
    assert "--as-of" in bad_day.output
    nothing = runner.invoke(app, ["rate"])
    assert nothing.exit_code == 2


def test_the_model_and_the_indicators_are_shown(db_url: str, tmp_path: Path) -> None:
    model = runner.invoke(app, ["rate", "model", "--json"])
    assert model.exit_code == 0
    assert _json(model.stdout)["version"] == platform_model.current().version  # type: ignore[index]
    out = tmp_path / "indicators.csv"
    exported = runner.invoke(app, ["rate", "features", "--out", str(out), "--as-of", "2025-12-31"])
    assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 250
    assert list(rows[0]) == ["credit_code", "as_of", *NAMES]


def test_training_on_a_region_writes_a_model_that_takes_over(
    db_url: str, region_folder: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    result = runner.invoke(
        app, ["rate", "train", "--region", str(region_folder), "--loaded", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    installed = platform_model.installed_path()
    assert installed.exists()
    assert (report / "report.html").exists()
    trained = platform_model.current()
    assert platform_model.path_in_force() == installed
    assert trained.training["as_of"] == "2025-12-31"
    assert set(trained.feature_names) <= set(NAMES)
    assert "held-out AUC" in result.stdout


def test_training_needs_a_synthetic_region(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["rate", "train", "--region", str(tmp_path), "--loaded"])
    assert result.exit_code == 1
    assert "(region)" in result.output
    assert not platform_model.installed_path().exists()
