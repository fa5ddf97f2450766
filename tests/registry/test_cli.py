"""``xyd registry check``: a verdict as JSON and an exit code."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xinyidai.cli import app

runner = CliRunner()


def test_check_of_a_valid_code_exits_0_with_its_parts() -> None:
    result = runner.invoke(app, ["registry", "check", "91350100M000100Y43"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["valid"] is True
    assert body["region_name"] == "福州市"
    assert body["check_character"] == "3"


def test_check_of_an_invalid_code_exits_1_with_the_reason() -> None:
    result = runner.invoke(app, ["registry", "check", "91350100M000100Y44"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["valid"] is False
    assert body["reason"] == "wrong check character: expected 3, got 4"


def test_check_of_a_code_with_a_forbidden_character_exits_1() -> None:
    result = runner.invoke(app, ["registry", "check", "91350100MO00100Y43"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == (
        "credit code contains a character not allowed by GB 32100: O"
    )
