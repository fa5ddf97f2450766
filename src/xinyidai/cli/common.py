"""What every ``xyd`` sub-command shares: logging, the console, error exits."""

from __future__ import annotations

import json
import time
from typing import Any, NoReturn

import typer
from rich.console import Console

from xinyidai.core import logs
from xinyidai.core.errors import XydError

console = Console(stderr=True)


def setup_logging() -> None:
    """Log lines to standard error: JSON unless on a terminal (``XYD_LOG_FORMAT``)."""
    logs.configure()


class Steps:
    """The progress of a long command, step by step: each step printed (to standard error)
    as it starts, with the seconds since the command began."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        console.print(f"[dim]{elapsed:7.1f} s  {message}…[/dim]", soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, as logs read it
    raise typer.Exit(code)


def fail_on(exc: XydError) -> NoReturn:
    where = f" ({exc.field})" if exc.field else ""
    fail(f"{exc.translated('en')}{where}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def explain_setup_error(exc: BaseException) -> str | None:
    """One line saying what is wrong with the node's set-up and how to fix it, for the
    mistakes an operator makes (the database address, its driver, unsafe or invalid
    settings); ``None`` for anything else (a fault of the code keeps its traceback)."""
    from pydantic import ValidationError
    from sqlalchemy import exc as sa_exc

    from xinyidai.core.db import MissingDatabase, check_database_exists
    from xinyidai.core.settings import UnsafeSettings, get_settings

    if isinstance(exc, UnsafeSettings | MissingDatabase):
        return str(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = "_".join(str(part) for part in first.get("loc", ())).upper()
        return f"setting XYD_{where} is invalid: {first.get('msg')}"
    if isinstance(exc, sa_exc.ArgumentError):
        return (
            f"XYD_DATABASE_URL is not a database address ({exc}); expected "
            "sqlite:////absolute/path/xyd.db or postgresql://user@host:5432/database"
        )
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return (
            f"XYD_DATABASE_URL names a database this installation has no driver for ({exc}); "
            "XYD speaks sqlite and postgresql (psycopg 3)"
        )
    if isinstance(exc, ModuleNotFoundError) and _from_a_dialect(exc):
        return (
            f"XYD_DATABASE_URL needs the database driver {exc.name}, which is not installed; "
            "XYD speaks sqlite and postgresql (psycopg 3, installed by `make install`)"
        )
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        try:  # a SQLite file that is not there says so, not "unable to open"
            check_database_exists(get_settings().effective_database_url)
        except MissingDatabase as missing:
            return str(missing)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (
            f"cannot reach the database ({reason}); check that it is running and that "
            "XYD_DATABASE_URL points at it"
        )
    return None


def _from_a_dialect(exc: BaseException) -> bool:
    """Whether SQLAlchemy raised it loading a database dialect's driver."""
    import traceback

    return any(
        "sqlalchemy/dialects" in frame.filename.replace("\\", "/")
        for frame in traceback.extract_tb(exc.__traceback__)
    )
