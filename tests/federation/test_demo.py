"""The demo gives the center its node key, once; the two commands docs/federation.md gives
to start a second node beside the demo are commands of the command line, with the options
they use."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from xinyidai.cli import build
from xinyidai.federation import keys

DOCS = Path(__file__).parents[2] / "docs" / "federation.md"


def test_the_demo_node_key_is_made_once(db_url: str) -> None:
    assert keys.ensure_key()
    public = keys.public_text(keys.load_key())
    assert not keys.ensure_key()
    assert keys.public_text(keys.load_key()) == public


def test_the_second_node_commands_of_the_docs_exist() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("## A second node beside the demo", 1)[1].split("```", 2)[1]
    commands = [shlex.split(line) for line in block.strip().splitlines()]
    assert len(commands) == 2
    runner = CliRunner()
    app = build()
    for words in commands:
        assert all(re.match(r"^XYD_[A-Z_]+=", w) for w in words[: words.index("xyd")])
        args = words[words.index("xyd") + 1 :]
        flags = [a for a in args if a.startswith("--")]
        positional = [a for a in args if not a.startswith("-") and not a.startswith("http")]
        shown = runner.invoke(app, [*positional[:2], "--help"])
        assert shown.exit_code == 0, shown.output
        for flag in flags:
            assert flag in shown.output, (words, flag)
