"""Drills: the platform under conditions a test suite only samples, with the figures printed.

    .venv/bin/python bench/drills.py schemathesis --examples 50
    .venv/bin/python bench/drills.py schemathesis --examples 20 --roles operator,bank \
        --mode all --enterprises 200

Each drill is a sub-command, in a function of its own:

- ``schemathesis``: every operation of the OpenAPI document (``/openapi.json``), driven by
  schemathesis with ``--examples`` generated cases per operation, for each role (the
  operator, a department, an enterprise, a bank), each with a token of its own demo account
  over a demo region (``xyd demo``'s set-up) in a scratch data folder and a scratch SQLite
  or PostgreSQL database (``--database``). Each role starts from the same pristine copy of
  the region. Prints, per role: operations, cases, answers
  by status class, 5xx answers, and violations (an answer the document does not describe:
  an undocumented status, a body or header that breaks the schema, a wrong content type),
  then each distinct failure with the operation and a case that shows it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is first on the path, and its http.py would stand in for the
# standard library's ``http`` (which schemathesis and httpx import): take the folder off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- schemathesis

DRILL_ROLES = ("operator", "provider-tax", "enterprise", "bank")


@dataclass
class RoleTally:
    """What one role's run met."""

    role: str
    operations: int = 0
    cases: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    violations: int = 0
    generation_errors: int = 0
    # operations with no input the schema forbids (no parameters, or text of any kind):
    # negative mode has nothing to send them
    nothing_to_negate: int = 0
    seconds: float = 0.0
    # (operation, failure title) -> one example (status and a reproducing request)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def row(self) -> str:
        classes = ", ".join(f"{k} × {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.role:<13} operations {self.operations:>4}  cases {self.cases:>6}  "
            f"5xx {self.server_errors:>3}  violations {self.violations:>3}  "
            f"not generated {self.generation_errors:>2} (+{self.nothing_to_negate} with nothing "
            f"to negate)  {self.seconds:>6.0f} s  [{classes}]"
        )


def drill_checks() -> list[Any]:
    """What a case's answer is held to: no 5xx; a status, content type, headers and body the
    document describes for the operation; a case the schema forbids refused with a 4xx."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]


def _role_token(username: str) -> Callable[[], str]:
    """A fresh bearer token for the demo account ``username`` on each call: a case that
    revoked its token, or changed the account's password, spoils no later case."""
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service

    def issue() -> str:
        with session_scope() as session:
            user = iam_service.get_user_or_raise(session, username=username)
            return iam_service.issue_tokens(session, user=user).access_token

    return issue


def run_schemathesis_role(schema: Any, role: str, *, examples: int, modes: list[Any]) -> RoleTally:
    """Every operation of ``schema`` with ``examples`` cases per generation mode, as
    ``role``; what came back, counted."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.core.failures import Failure, FailureGroup

    tally = RoleTally(role=role)
    token = _role_token(role)
    checks = drill_checks()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        for mode in modes:

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case: Any) -> None:
                label = f"{case.operation.method.upper()} {case.operation.path}"
                tally.cases += 1
                headers = {"Authorization": f"Bearer {token()}"}
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # the app raised: the server answered 500
                    tally.statuses["5xx"] += 1
                    tally.server_errors += 1
                    tally.failures.setdefault(
                        (label, f"Server error ({type(exc).__name__})"),
                        f"500 {case.as_curl_command(headers=headers)}\n      {str(exc)[:400]}",
                    )
                    return
                tally.statuses[f"{response.status_code // 100}xx"] += 1
                if response.status_code >= 500:
                    tally.server_errors += 1
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except FailureGroup as group:
                    found: list[Failure] = list(group.exceptions)
                    if any(f.title != "Server error" for f in found):
                        tally.violations += 1
                    for failure in found:
                        key = (label, failure.title)
                        if key not in tally.failures:
                            tally.failures[key] = (
                                f"{response.status_code} {case.as_curl_command(headers=headers)}"
                                f"\n      {str(failure.message)[:400]}"
                            )

            try:
                exercise()
            except Unsatisfiable:
                if mode == GenerationMode.NEGATIVE:
                    tally.nothing_to_negate += 1
                else:
                    tally.generation_errors += 1
                    tally.failures.setdefault((label, "no cases generated"), "Unsatisfiable")
            except Exception as exc:  # the strategy could not draw cases for this operation
                tally.generation_errors += 1
                tally.failures.setdefault(
                    (label, "no cases generated"), f"{type(exc).__name__}: {str(exc)[:300]}"
                )
    tally.seconds = time.perf_counter() - started
    return tally


def drill_schemathesis(args: argparse.Namespace) -> int:
    """``schemathesis``: the whole OpenAPI document under generated cases, per role."""
    workdir = Path(tempfile.mkdtemp(prefix="xyd-drill-schemathesis-"))
    os.environ.update(XYD_DATA_DIR=str(workdir), XYD_ENV="dev")
    os.environ.pop("XYD_REDIS_URL", None)
    scratch = _ScratchDatabases(args.database, args.postgres, workdir)
    os.environ["XYD_DATABASE_URL"] = scratch.live
    try:
        import schemathesis
        from schemathesis import GenerationMode

        from xinyidai import demo
        from xinyidai.app import create_app
        from xinyidai.core import db as core_db

        started = time.perf_counter()
        demo.run(enterprises=args.enterprises, seed=args.seed, report=lambda _m: None)
        print(
            f"demo region of {args.enterprises} enterprises set up in "
            f"{time.perf_counter() - started:.0f} s"
        )
        core_db.get_engine().dispose()
        core_db.reset_engines()
        scratch.keep_pristine()

        app = create_app()
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        modes = {
            "positive": [GenerationMode.POSITIVE],
            "negative": [GenerationMode.NEGATIVE],
            "all": [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        }[args.mode]
        roles = [r for r in args.roles.split(",") if r]
        tallies: list[RoleTally] = []
        # schemathesis calls the ASGI app in process (its lifespan too): what the app raises
        # is the 500 a server would answer
        for role in roles:
            core_db.get_engine().dispose()
            core_db.reset_engines()
            scratch.restore_pristine()
            tally = run_schemathesis_role(schema, role, examples=args.examples, modes=modes)
            tallies.append(tally)
            print(tally.row(), flush=True)
        print()
        print(
            f"database: {args.database}; examples per operation and mode: {args.examples}; "
            f"mode: {args.mode}; roles: {', '.join(roles)}"
        )
        total = RoleTally(role="all roles")
        for tally in tallies:
            total.operations += tally.operations
            total.cases += tally.cases
            total.statuses.update(tally.statuses)
            total.server_errors += tally.server_errors
            total.violations += tally.violations
            total.generation_errors += tally.generation_errors
            total.nothing_to_negate += tally.nothing_to_negate
            total.seconds += tally.seconds
        print(total.row())
        for tally in tallies:
            for (operation, title), example in sorted(tally.failures.items()):
                print(f"- [{tally.role}] {operation}: {title}\n    {example}")
        return 1 if total.server_errors or total.violations else 0
    finally:
        from xinyidai.core import db as core_db

        core_db.get_engine().dispose()
        scratch.drop()
        shutil.rmtree(workdir, ignore_errors=True)


class _ScratchDatabases:
    """The drill's live database and a pristine copy each role starts from: two SQLite
    files, or two PostgreSQL databases (the copy made with ``CREATE DATABASE … TEMPLATE``)."""

    def __init__(self, backend: str, postgres: str, workdir: Path) -> None:
        import uuid

        from xinyidai.core.settings import normalize_database_url

        self.backend = backend
        self.workdir = workdir
        if backend == "sqlite":
            self.live = f"sqlite:///{workdir / 'xyd.db'}"
            return
        self.admin_url = normalize_database_url(postgres)
        base = f"xyd_drill_{uuid.uuid4().hex[:8]}"
        self.live_name, self.pristine_name = base, f"{base}_pristine"
        self.live = self.admin_url.rsplit("/", 1)[0] + f"/{self.live_name}"
        self._admin(f'CREATE DATABASE "{self.live_name}"')

    def _admin(self, statement: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def keep_pristine(self) -> None:
        if self.backend == "sqlite":
            shutil.copyfile(self.workdir / "xyd.db", self.workdir / "pristine.db")
        else:
            self._admin(f'CREATE DATABASE "{self.pristine_name}" TEMPLATE "{self.live_name}"')

    def restore_pristine(self) -> None:
        if self.backend == "sqlite":
            live = self.workdir / "xyd.db"
            for suffix in ("-wal", "-shm"):
                Path(f"{live}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.workdir / "pristine.db", live)
            return
        self._admin(f'DROP DATABASE IF EXISTS "{self.live_name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.live_name}" TEMPLATE "{self.pristine_name}"')

    def drop(self) -> None:
        if self.backend == "sqlite":
            return
        for name in (self.live_name, self.pristine_name):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_schemathesis(commands: Any) -> None:
    parser = commands.add_parser(
        "schemathesis", help="the whole OpenAPI document under schemathesis, per role"
    )
    parser.add_argument("--examples", type=int, default=25, help="cases per operation and mode")
    parser.add_argument(
        "--mode",
        choices=("positive", "negative", "all"),
        default="all",
        help="cases the schema allows, cases it forbids, or both",
    )
    parser.add_argument("--roles", default=",".join(DRILL_ROLES), help="demo accounts to drive")
    parser.add_argument("--enterprises", type=int, default=200, help="size of the demo region")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="server for --database postgres (scratch databases are made and dropped there)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.set_defaults(run=drill_schemathesis)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="drill", required=True)
    add_schemathesis(commands)
    args = parser.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
