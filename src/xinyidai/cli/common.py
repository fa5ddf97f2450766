"""What every ``xyd`` sub-command shares: logging, the console, error exits."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from xinyidai.core.errors import XydError
from xinyidai.core.settings import get_settings

console = Console(stderr=True)


def setup_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, as logs read it
    raise typer.Exit(code)


def fail_on(exc: XydError) -> NoReturn:
    where = f" ({exc.field})" if exc.field else ""
    fail(f"{exc.translated('en')}{where}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))
