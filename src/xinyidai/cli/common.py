"""What every ``xyd`` sub-command shares: logging, the console, error exits."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console

from xinyidai.core import logs
from xinyidai.core.errors import XydError

console = Console(stderr=True)


def setup_logging() -> None:
    """Log lines to standard error: JSON unless on a terminal (``XYD_LOG_FORMAT``)."""
    logs.configure()


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, as logs read it
    raise typer.Exit(code)


def fail_on(exc: XydError) -> NoReturn:
    where = f" ({exc.field})" if exc.field else ""
    fail(f"{exc.translated('en')}{where}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))
