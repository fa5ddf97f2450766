"""``xyd stats``: rebuild, refresh, show, export and targets from the command line; a bad
figure fails clearly."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from xinyidai.cli import app
from xinyidai.stats.models import FigureRow

runner = CliRunner()


def test_rebuild_refresh_show_and_export(
    session: Session, lending: list[str], tmp_path: Path
) -> None:
    rebuilt = runner.invoke(app, ["stats", "rebuild", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.stdout)["kind"] == "rebuild"
    stored = session.scalar(select(func.count()).select_from(FigureRow))
    assert stored == json.loads(rebuilt.stdout)["rows"]
    refreshed = runner.invoke(app, ["stats", "refresh", "--json"])
    assert refreshed.exit_code == 0, refreshed.output
    assert json.loads(refreshed.stdout)["kind"] == "refresh"
    shown = runner.invoke(
        app, ["stats", "show", "-f", "loans_granted", "--grain", "year", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert int(json.loads(shown.stdout)[0]["value"]) >= 0
    out = tmp_path / "figures.csv"
    exported = runner.invoke(
        app, ["stats", "export", str(out), "-f", "needs_posted", "--dimension", "county"]
    )
    assert exported.exit_code == 0, exported.output
    assert out.read_text(encoding="utf-8").lstrip("\ufeff").startswith("period,dimension")
    targets = runner.invoke(app, ["stats", "targets", "--json"])
    assert targets.exit_code == 0, targets.output
    assert {t["name"] for t in json.loads(targets.stdout)} == {"smes_served", "new_credit_loans"}


def test_an_unknown_figure_fails_clearly(session: Session) -> None:
    result = runner.invoke(app, ["stats", "show", "-f", "nonsense"])
    assert result.exit_code != 0
    assert "nonsense" in result.output
