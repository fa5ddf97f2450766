"""``xyd synth`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xinyidai.cli import app

runner = CliRunner()


def test_synth_command_writes_manifest_feeds_and_truth(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--enterprises", "150", "--seed", "4", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 4
    assert manifest["counts"]["enterprises"] == 150
    assert all((tmp_path / feed["path"]).is_file() for feed in manifest["feeds"])
    assert (tmp_path / "truth" / "bad_rows.csv").is_file()
    assert (tmp_path / "truth" / "defaults.csv").is_file()


def test_synth_command_refuses_zero_enterprises(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--enterprises", "0", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()
