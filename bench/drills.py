"""Reliability drills: each attacks a running node the way operations did and prints figures.

    .venv/bin/python bench/drills.py ingest-kill --enterprises 20000 --kills 8 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/drills.py hostile-files
    .venv/bin/python bench/drills.py schemathesis --examples 50

One subcommand per drill, each in a function of its own (``_drill_*``), registered in
``DRILLS``. Every drill works on scratch databases and folders it makes and drops.

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
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_databases(postgres: str, count: int, *, keep: bool = False) -> Iterator[list[str]]:
    """``count`` fresh, migrated PostgreSQL databases, dropped afterwards."""
    from xinyidai import bootstrap
    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(postgres)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    names = [f"xyd_drill_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    urls = [admin_url.rsplit("/", 1)[0] + f"/{name}" for name in names]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        for url in urls:
            bootstrap.initialize(url)
        yield urls
    finally:
        if not keep:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- ingest-kill -------------------------------------------------------------------------


def _drill_ingest_kill(args: argparse.Namespace) -> int:
    """kill -9 of ``xyd ingest`` (the command and its workers) at random points on
    PostgreSQL, then a rerun: counts and checksums against a clean run, batches left
    running, the ledger verified after sequencing."""
    from tests.postgres import ingest_drill

    from xinyidai.synth import generate

    workdir = Path(tempfile.mkdtemp(prefix="xyd-drill-"))
    region = workdir / "region"
    started = time.perf_counter()
    generate(region, enterprises=args.enterprises, seed=args.seed)
    print(f"synth: {args.enterprises:,} enterprises in {time.perf_counter() - started:.1f} s")
    settings = {"ingest_batch_rows": args.batch_rows, "ingest_workers": args.workers}
    log = workdir / "ingest.log"
    with scratch_databases(args.postgres, 2, keep=args.keep) as (clean_url, drill_url):
        env = ingest_drill.environment(drill_url, workdir, **settings)
        subprocess.run(
            [str(ingest_drill.XYD), "ledger", "init"], env=env, check=True, capture_output=True
        )
        report = ingest_drill.drill(
            region,
            clean_url=clean_url,
            drill_url=drill_url,
            clean_env=ingest_drill.environment(clean_url, workdir, **settings),
            drill_env=env,
            kills=args.kills,
            seed=args.seed,
            log=log,
        )
        verified, output = ingest_drill.sequence_and_verify(env, log)
    files = report.clean["batches"][0]
    rows = report.clean["records"][0] + report.clean["rejections"][0]
    print(f"clean run: {report.clean_seconds:.1f} s ({files} files, {rows:,} rows kept)")
    for number, kill in enumerate(report.kills, start=1):
        if kill.stored is None:
            print(f"run {number}: finished before {kill.target:,} rows were stored")
        else:
            print(
                f"run {number}: killed at {kill.stored:,} rows stored "
                f"(aimed at {kill.target:,}), {kill.seconds:.1f} s after its start; "
                f"{kill.running} batches left running"
            )
    print(f"final run: {report.final_seconds:.1f} s")
    print(f"batches after the final run: {report.states} (clean run: {report.clean_states})")
    mismatches = 0
    for name, clean in report.clean.items():
        drilled = report.drilled[name]
        same = drilled == clean
        mismatches += not same
        shown = "equal" if same else f"DIFFER (drilled: {drilled[0]:,} rows, {drilled[1][:12]})"
        print(f"  {name}: {clean[0]:,} rows, sha256 {clean[1][:12]}… {shown}")
    summary = json.loads(output[output.index("{") :]) if "{" in output else {}
    print(
        f"ledger verify after sequencing: {'ok' if verified else 'FAILED'} "
        f"(size {summary.get('size')}, pending {summary.get('pending')})"
    )
    ok = verified and not mismatches and report.states == report.clean_states
    print("drill passed" if ok else f"drill FAILED (see {log})")
    return 0 if ok else 1


def _add_ingest_kill(commands: Any) -> None:
    parser = commands.add_parser("ingest-kill", help=_drill_ingest_kill.__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2, help="XYD_INGEST_WORKERS of the runs")
    parser.add_argument("--batch-rows", type=int, default=5000, help="XYD_INGEST_BATCH_ROWS")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.set_defaults(run=_drill_ingest_kill)


# --- hostile-files -----------------------------------------------------------------------


def _hostile_files(folder: Path) -> list[tuple[str, Path]]:
    """The hostile files of the reliability issue, full size, after a good file to compare
    them with."""
    from tests.ingest import hostile
    from tests.ingest.tables import HEADERS, good_row, write

    good = write(folder / "good", "csv", HEADERS, [good_row(n) for n in range(1, 10_001)])
    mixed, _ = hostile.mixed_encoding_csv(folder / "mixed.csv", 570 * 1024)
    nul, _, _ = hostile.nul_csv(folder / "nul.csv", 5000)
    return [
        ("a good CSV of 10,000 rows (for comparison)", good),
        (
            "wide-column workbook (XFD on 2,000 rows)",
            hostile.wide_workbook(folder / "wide.xlsx", 2000),
        ),
        ("shared-strings bomb (1 GiB)", hostile.shared_strings_bomb(folder / "strings.xlsx", 1024)),
        ("shared strings of 500 MiB", hostile.shared_strings_bomb(folder / "strings500.xlsx", 500)),
        ("zip bomb (sheet of 2 GiB)", hostile.zip_bomb(folder / "bomb.xlsx", 2048)),
        ("1,000,000 empty rows", hostile.empty_rows_workbook(folder / "empty.xlsx", 1_000_000)),
        ("10 MB CSV field", hostile.big_field_csv(folder / "field.csv", 10 * 1024 * 1024)),
        (
            "CSV field of 10 MB over many lines",
            hostile.multiline_field_csv(folder / "lines.csv", 10 * 1024 * 1024),
        ),
        ("mixed encodings (570 KB UTF-8, then GBK)", mixed),
        ("NUL after 4 KB", nul),
        ("absurd line (200 MB)", hostile.long_line_csv(folder / "line.csv", 200 * 1024 * 1024)),
    ]


def _own_peak_kib() -> int:
    """This process's peak resident memory since it started its program (``VmHWM``).

    Not ``ru_maxrss``: Linux carries over to it the memory of the process that was forked
    to start this one, up to the ``exec``.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _make_files(args: argparse.Namespace) -> int:
    """(A child of ``hostile-files``.) Make the files and an empty migrated database; print
    their list. Done apart, so that the drill itself stays small."""
    from xinyidai import bootstrap

    folder = Path(args.folder)
    files = _hostile_files(folder)
    bootstrap.initialize(f"sqlite:///{folder / 'template.db'}")
    print(json.dumps([[title, str(path)] for title, path in files]))
    return 0


def _ingest_one_file(args: argparse.Namespace) -> int:
    """(A child of ``hostile-files``.) Ingest one file as ``xyd ingest`` does; print its
    summary, seconds and the peak resident memory of this process (the whole ingest of a
    small file) and of its children (the validating process that reads a large one)."""
    from xinyidai.ingest import folder, service

    feed = service.FeedFile(Path(args.file), "court", "court_enforcement")
    started = time.perf_counter()
    line = folder.ingest_one(feed, actor="drill", source="cli")
    seconds = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak = {"own_kib": _own_peak_kib(), "children_kib": children}
    print(json.dumps({"summary": line, "seconds": seconds} | peak, default=str))
    return 0


def _drill_hostile_files(args: argparse.Namespace) -> int:
    """The hostile files, full size, each ingested in a process of its own: the outcome,
    its reason, seconds and peak memory."""
    workdir = Path(tempfile.mkdtemp(prefix="xyd-hostile-"))
    started = time.perf_counter()
    made = subprocess.run(
        [sys.executable, __file__, "_make-files", str(workdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    files = [(title, Path(path)) for title, path in json.loads(made.stdout.splitlines()[-1])]
    print(f"made {len(files)} files in {time.perf_counter() - started:.1f} s under {workdir}")
    failures = 0
    for number, (title, path) in enumerate(files):
        database = workdir / f"xyd-{number}.db"  # each file into a database of its own
        shutil.copyfile(workdir / "template.db", database)
        env = dict(os.environ, XYD_DATABASE_URL=f"sqlite:///{database}", XYD_DATA_DIR=str(workdir))
        wall = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "_ingest-one", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - wall
        if child.returncode != 0:
            failures += 1
            print(f"{title}: the ingest crashed ({child.returncode})\n{child.stderr[-2000:]}")
            continue
        result = json.loads(child.stdout.strip().splitlines()[-1])
        line = result["summary"]
        size = path.stat().st_size
        reader = (
            f", reading process {result['children_kib'] / 1024:.0f} MiB"
            if result["children_kib"]
            else ""
        )
        print(
            f"{title}: {size / 1024:,.0f} KiB on disk; {line['state']}, {line['accepted']} "
            f"stored, {line['rejected']} rejected; {result['seconds']:.2f} s "
            f"({wall:.1f} s with start-up); peak {result['own_kib'] / 1024:.0f} MiB{reader}"
        )
        if line["error"]:
            print(f"    {line['error']}")
    print(
        "peak of every child, the file maker included "
        "(resource.getrusage(RUSAGE_CHILDREN).ru_maxrss): "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB"
    )
    return 1 if failures else 0


def _add_hostile_files(commands: Any) -> None:
    parser = commands.add_parser("hostile-files", help=_drill_hostile_files.__doc__.splitlines()[0])
    parser.set_defaults(run=_drill_hostile_files)
    child = commands.add_parser("_ingest-one", help=argparse.SUPPRESS)
    child.add_argument("file")
    child.set_defaults(run=_ingest_one_file)
    maker = commands.add_parser("_make-files", help=argparse.SUPPRESS)
    maker.add_argument("folder")
    maker.set_defaults(run=_make_files)


# --------------------------------------------------------------------------- schemathesis


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


def run_schemathesis_role(schema: Any, role: str, *, examples: int, modes: list[Any]) -> RoleTally:
    """Every operation of ``schema`` with ``examples`` cases per generation mode, as
    ``role``; what came back, counted."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.core.failures import Failure, FailureGroup
    from tests.openapi_contract import checks as contract_checks
    from tests.openapi_contract import fresh_token

    tally = RoleTally(role=role)
    checks = contract_checks()
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
                headers = {"Authorization": f"Bearer {fresh_token(role)}"}
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
    # The contract is driven, not the API's rate limit (tests/core/test_rate_limit.py).
    os.environ.update(
        XYD_DATA_DIR=str(workdir),
        XYD_ENV="dev",
        XYD_WEB_API_RATE_LIMIT="",
        XYD_WEB_API_RATE_LIMIT_ANONYMOUS="",
    )
    os.environ.pop("XYD_REDIS_URL", None)
    scratch = _ScratchDatabases(args.database, args.postgres, workdir)
    os.environ["XYD_DATABASE_URL"] = scratch.live
    try:
        import schemathesis
        from schemathesis import GenerationMode

        from xinyidai import demo, observability
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

        observability.beat()  # a queue worker runs beside the node: /readyz answers ready
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
    from tests.openapi_contract import ROLES

    parser.add_argument("--roles", default=",".join(ROLES), help="demo accounts to drive")
    parser.add_argument("--enterprises", type=int, default=200, help="size of the demo region")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="server for --database postgres (scratch databases are made and dropped there)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.set_defaults(run=drill_schemathesis)


# Each drill adds its subcommand here.
DRILLS: list[Callable[[Any], None]] = [
    _add_ingest_kill,
    _add_hostile_files,
    add_schemathesis,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="drill", required=True)
    for add in DRILLS:
        add(commands)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
