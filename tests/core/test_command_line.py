"""The command line: fast help, every command listed, each loaded when it runs."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command
from typer.testing import CliRunner

from xinyidai import cli


def test_help_and_version_import_nothing_of_the_platform() -> None:
    script = (
        "import sys\n"
        "from xinyidai.cli import command_line\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        command_line(args, prog_name='xyd', standalone_mode=True)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('xinyidai')))\n"
        "print('sqlalchemy' in sys.modules, 'pandas' in sys.modules, 'fastapi' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "['xinyidai', 'xinyidai.cli']"
    assert lines[-1] == "False False False"
    assert "xyd 0.1.0" in result.stdout
    for name in cli.GROUPS | cli.COMMANDS:
        assert f"  {name} " in result.stdout


def test_the_tables_list_exactly_the_commands_there_are() -> None:
    whole = get_command(cli.build())
    assert set(whole.commands) == set(cli.GROUPS) | set(cli.COMMANDS)  # type: ignore[attr-defined]


def test_a_group_is_loaded_when_it_runs() -> None:
    result = CliRunner().invoke(cli.command_line, ["ledger", "--help"], prog_name="xyd")
    assert result.exit_code == 0, result.output
    assert "verify" in result.output
    unknown = CliRunner().invoke(cli.command_line, ["nonsense"], prog_name="xyd")
    assert unknown.exit_code == 2
    assert "No such command" in unknown.output


def test_shell_completion_offers_the_commands() -> None:
    result = CliRunner().invoke(
        cli.command_line,
        [],
        prog_name="xyd",
        env={"_XYD_COMPLETE": "complete_bash", "COMP_WORDS": "xyd le", "COMP_CWORD": "1"},
    )
    assert "ledger" in result.output


def test_every_listed_command_loads_and_shows_its_help() -> None:
    for name in sorted(cli.GROUPS | cli.COMMANDS):
        result = CliRunner().invoke(cli.command_line, [name, "--help"], prog_name="xyd")
        assert result.exit_code == 0, (name, result.output)
        assert f"xyd {name}" in result.output, name
