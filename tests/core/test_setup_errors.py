"""A node set up wrong says what is wrong in one line, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def xyd(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XYD_")}
    env |= {"XYD_DATA_DIR": str(tmp_path), "XYD_QUEUE_IMMEDIATE": "true", **variables}
    return subprocess.run(
        [sys.executable, "-m", "xinyidai", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"XYD_DATABASE_URL": "not a url"}, "XYD_DATABASE_URL is not a database address"),
        ({"XYD_DATABASE_URL": "mysql://u@db/xyd"}, "needs the database driver MySQLdb"),
        (
            {"XYD_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/xyd"},
            "cannot reach the database",
        ),
        ({"XYD_WEB_MAX_CONCURRENCY": "many"}, "setting XYD_WEB_MAX_CONCURRENCY is invalid"),
    ],
)
def test_a_set_up_mistake_is_one_line(tmp_path: Path, variables: dict[str, str], says: str) -> None:
    result = xyd(tmp_path, "db", "current", **variables)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]


def test_production_without_a_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    result = xyd(tmp_path, "serve", XYD_ENV="production")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "XYD_SECRET_KEY must be set when XYD_ENV=production" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("db", "current"),
        ("serve",),
        ("worker",),
        ("audit", "counts"),
        ("records", "show", "91350100M000100Y43"),
    ],
)
def test_a_mistyped_sqlite_path_is_named_and_not_created(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A database address that names no file is an error naming it: no empty database is
    made in its place (nor its folder), whichever command meets it first."""
    missing = tmp_path / "nodes" / "xyd-typo.db"
    result = xyd(tmp_path, *args, XYD_DATABASE_URL=f"sqlite:///{missing}")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"the SQLite database {missing} does not exist" in result.stderr
    assert "xyd db upgrade" in result.stderr
    assert not missing.exists()
    assert not missing.parent.exists()


def test_xyd_db_upgrade_creates_the_file_it_is_asked_for(tmp_path: Path) -> None:
    database = tmp_path / "new" / "xyd.db"
    result = xyd(tmp_path, "db", "upgrade", XYD_DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert database.exists()
    current = xyd(tmp_path, "db", "current", XYD_DATABASE_URL=f"sqlite:///{database}")
    assert current.returncode == 0, current.stderr


def test_ledger_verify_from_the_command_line_checks_every_domains_sources(tmp_path: Path) -> None:
    """A fresh process knows every kind of leaf a domain records, not only those the
    command's own imports happen to load."""
    database = f"sqlite:///{tmp_path / 'xyd.db'}"
    for args in (("db", "upgrade"), ("ledger", "init")):
        done = xyd(tmp_path, *args, XYD_DATABASE_URL=database)
        assert done.returncode == 0, done.stderr
    verified = xyd(tmp_path, "ledger", "verify", XYD_DATABASE_URL=database)
    assert verified.returncode == 0, verified.stderr
    sources = json.loads(verified.stdout)["sources"]
    assert {"blacklist", "objection", "letter", "access", "alignment"} <= {
        kind.split(".")[-1] for kind in sources
    }, sources
