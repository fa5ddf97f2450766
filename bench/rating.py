"""The platform rating: how well it ranks defaults, and how fast it rates everyone and one.

    .venv/bin/python bench/rating.py --enterprises 1000000 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Three parts (``--skip-auc`` / ``--skip-speed`` leave one out):

1. Ranking. A training region (``--train-size``, seed ``--train-seed``) and a test region
   (``--test-size``, seed ``--test-seed``) are generated with ``xyd synth`` and each
   ingested through the ingestion service into a scratch SQLite database. The rating model
   is fitted on the training region exactly as ``xyd rate train`` does (the region analysis
   first, which counts the bad neighbours); the test region is analysed the same way and
   then rated with ``rate --all`` as of its feeds' day, and the ratings are compared with its
   ``truth/defaults.csv``: AUC, KS and the default rate per grade, for the model just
   fitted and for the model shipped with the package, next to the LightGBM challenger
   fitted on the same training indicators.

2. Full coverage. A scratch PostgreSQL database gets a base region (``--base``
   enterprises, ingested through the service, then its region analysis), whose registry,
   record and bad-neighbour-count rows are then copied in SQL under new credit codes
   (``data.credit_code`` rewritten too) until the registry holds ``--enterprises``
   subjects; then ANALYZE. Timed, end to end from the
   database: the full run as ``xyd rate --all`` does it (a job row, indicators read from
   ``credit_record`` and ``enterprise`` by COPY and aggregated with polars, the stored
   bad-neighbour counts read, the scorecard
   applied, every rating written by COPY and committed, the run's row). The setup is not
   timed.

3. One enterprise. ``rate_one`` (indicators of one subject, the scorecard, the rating
   added and read back) for ``--singles`` original subjects of the big database, and of the
   test region's SQLite database: median and 95th percentile.

The scratch databases are dropped at the end (``--keep`` keeps the PostgreSQL one).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

PREFIXES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(message: str) -> None:
    print(message, flush=True)


def note(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- regions
def load_region(folder: Path, url: str) -> None:
    """Migrate ``url`` and ingest a synthetic region into it through the service."""
    from sqlalchemy.orm import Session

    from xinyidai import bootstrap
    from xinyidai.cli.rating import load_region as ingest_region
    from xinyidai.core.db import build_engine

    bootstrap.initialize(url)
    engine = build_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            ingest_region(folder, session, report=note)
    finally:
        engine.dispose()


def region(folder: Path, size: int, seed: int) -> Path:
    from xinyidai.synth import generate

    started = time.perf_counter()
    generate(folder, enterprises=size, seed=seed)
    note(f"synth {size:,} enterprises, seed {seed}: {time.perf_counter() - started:.1f} s")
    return folder


def singles(url: str, codes: list[str], on: date | None) -> list[float]:
    """Milliseconds to rate each of ``codes``, in a fresh process as a web worker would."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        times: list[float] = pool.apply(_singles, (url, codes, on))
    return times


def _singles(url: str, codes: list[str], on: date | None) -> list[float]:
    """Milliseconds to rate each of ``codes`` (one session, warmed once)."""
    from sqlalchemy.orm import Session

    from xinyidai.core.db import build_engine
    from xinyidai.scoring import service

    engine = build_engine(url)
    times: list[float] = []
    try:
        with Session(engine) as session:
            service.rate_one(session, credit_code=codes[0], on=on)  # warm caches and plans
            for code in codes:
                started = time.perf_counter()
                service.rate_one(session, credit_code=code, on=on)
                times.append((time.perf_counter() - started) * 1000)
            session.rollback()
    finally:
        engine.dispose()
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms ({len(ordered)} subjects)"


# ----------------------------------------------------------------------------- ranking
def ranking(args: argparse.Namespace, workdir: Path) -> str:
    from sqlalchemy.orm import Session

    from xinyidai.core.db import build_engine
    from xinyidai.scoring import indicators, platform_model, service, training
    from xinyidai.scoring.scorecard import metrics
    from xinyidai.scoring.scorecard.challenger import fit_challenger
    from xinyidai.scoring.scorecard.table import prepare

    train_dir = workdir / f"train-{args.train_size}-{args.train_seed}"
    test_dir = workdir / f"test-{args.test_size}-{args.test_seed}"
    for folder, size, seed in (
        (train_dir, args.train_size, args.train_seed),
        (test_dir, args.test_size, args.test_seed),
    ):
        database = folder.with_suffix(".db")
        if not database.exists():  # a --workdir may hold them from an earlier run
            region(folder, size, seed)
            started = time.perf_counter()
            load_region(folder, f"sqlite:///{database}.part")
            database.with_suffix(".db.part").rename(database)
            note(f"ingested {folder.name}: {time.perf_counter() - started:.1f} s")
    train_url = f"sqlite:///{train_dir.with_suffix('.db')}"
    test_url = f"sqlite:///{test_dir.with_suffix('.db')}"

    train_outcomes = training.outcomes_of(train_dir)
    test_outcomes = training.outcomes_of(test_dir)
    engine = build_engine(train_url)
    try:
        with Session(engine) as session:
            evaluation = training.train(session, train_outcomes)
            train_frame = training.labelled_features(session, train_outcomes)
    finally:
        engine.dispose()
    fitted = evaluation.model
    shipped = platform_model.current()
    say(
        f"fitted on {args.train_size:,} enterprises (seed {args.train_seed}): {fitted.version}, "
        f"{len(fitted.features)} indicators; held-out AUC "
        f"{evaluation.metrics['scorecard']['test']['auc']:.4f}"
        + (" — identical to the shipped model" if fitted.version == shipped.version else "")
    )

    ivs = evaluation.card.iv_
    for name in ("bad_associates_1", "bad_associates_2"):
        kept = name in fitted.feature_names
        why = "" if kept else f": {evaluation.card.dropped_.get(name, 'not binned')}"
        say(f"  {name}: IV {ivs.get(name, 0.0):.4f}, {'kept' if kept else 'dropped'}{why}")

    engine = build_engine(test_url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            training.analyse_associations(session, test_outcomes)
            session.commit()
            note(f"region analysis of the test region: {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            run = service.rate_all(session, on=test_outcomes.as_of, actor="bench")
            session.commit()
            note(f"rate --all of the test region: {time.perf_counter() - started:.1f} s")
            ratings = service.ratings_of_run(session, run_id=run.id)
            y = [test_outcomes.values[r.credit_code] for r in ratings]
            grades = [r.grade for r in ratings]
            shipped_result = metrics.summary(y, [r.probability for r in ratings])
            fitted_result = training.measure(session, fitted, test_outcomes)
            test_frame = training.labelled_features(session, test_outcomes)
            test_codes = test_frame["credit_code"].tolist()
    finally:
        engine.dispose()

    table = prepare(
        train_frame,
        target=training.TARGET,
        id_column="credit_code",
        exclude=["as_of"],
        categorical=indicators.CATEGORICAL_NAMES,
    )
    challenger = fit_challenger(table.X, table.y, table.kinds, seed=platform_model.SEED)
    challenger_p = challenger.predict_proba(test_frame[table.features])
    challenger_result = metrics.summary(test_frame[training.TARGET].to_numpy(), challenger_p)

    say(
        f"test region: {args.test_size:,} enterprises (seed {args.test_seed}), "
        f"{sum(y):,} defaults ({100 * sum(y) / len(y):.2f}%), rated as of {test_outcomes.as_of}"
    )
    for label, version, result in (
        ("shipped model", shipped.version, shipped_result),
        ("fitted model ", fitted.version, fitted_result),
    ):
        say(f"  {label} {version}: AUC {result['auc']:.4f}, KS {result['ks']:.4f}")
    say(
        f"  LightGBM challenger (same indicators): AUC {challenger_result['auc']:.4f}, "
        f"KS {challenger_result['ks']:.4f}"
    )
    say("  default rate per grade (shipped model):")
    for row in metrics.grade_table(y, grades, shipped.grades.names):
        rate = "—" if row["bad_rate"] is None else f"{100 * row['bad_rate']:.2f}%"
        say(f"    {row['grade']:<4} {row['rows']:>7,} rated, {row['bads']:>5,} defaults, {rate}")
    times = singles(test_url, random.Random(7).sample(test_codes, args.singles), None)
    say(f"one enterprise on SQLite ({args.test_size:,} subjects): {describe(times)}")
    return test_url


# ----------------------------------------------------------------------------- speed
def replicate(url: str, copies: int) -> None:
    """Copy the registry and the records ``copies - 1`` times under new credit codes."""
    engine = create_engine(url)
    codes = ", ".join(f"'{PREFIXES[k]}'" for k in range(1, copies))
    new_code = "p.prefix || left({column}, 17)"
    statements = [
        "SET synchronous_commit = off",
        "SET maintenance_work_mem = '512MB'",
        "DROP INDEX IF EXISTS ix_credit_record_category_event",
        "DROP INDEX IF EXISTS ix_credit_record_subject_category",
        f"""INSERT INTO enterprise (credit_code, name, kind, status, region_code, industry_code,
                legal_representative, registered_capital, established_on, address,
                created_at, updated_at)
            SELECT {new_code.format(column="e.credit_code")}, e.name, e.kind, e.status,
                e.region_code, e.industry_code, e.legal_representative, e.registered_capital,
                e.established_on, e.address, e.created_at, e.updated_at
            FROM enterprise e, unnest(ARRAY[{codes}]) AS p(prefix)""",
        f"""INSERT INTO credit_record (id, category, subject_code, data, digest, event_on,
                category_version, version, provider, sources, batch_id, created_at, updated_at,
                change_id)
            SELECT md5(p.prefix || r.id), r.category,
                {new_code.format(column="r.subject_code")},
                jsonb_set(r.data::jsonb, '{{credit_code}}',
                          to_jsonb({new_code.format(column="r.subject_code")}))::json,
                r.digest, r.event_on, r.category_version, r.version, r.provider, r.sources,
                r.batch_id, r.created_at, r.updated_at, r.change_id
            FROM credit_record r, unnest(ARRAY[{codes}]) AS p(prefix)""",
        f"""INSERT INTO graph_bad_neighbours (credit_code, depth1, depth2, analysis_id, as_of,
                counted_at)
            SELECT {new_code.format(column="g.credit_code")}, g.depth1, g.depth2, g.analysis_id,
                g.as_of, g.counted_at
            FROM graph_bad_neighbours g, unnest(ARRAY[{codes}]) AS p(prefix)""",
        "CREATE INDEX ix_credit_record_category_event ON credit_record (category, event_on)",
        "CREATE INDEX ix_credit_record_subject_category ON credit_record (subject_code, category)",
    ]
    with engine.begin() as conn:
        for statement in statements:
            started = time.perf_counter()
            conn.execute(text(statement))
            note(f"{statement.split()[0].lower()} … {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE enterprise"))
        conn.execute(text("VACUUM ANALYZE credit_record"))
        conn.execute(text("VACUUM ANALYZE graph_bad_neighbours"))
    engine.dispose()


def speed(args: argparse.Namespace, workdir: Path, url: str) -> None:
    from xinyidai.core import jobs
    from xinyidai.core.db import get_engine, new_session, session_scope
    from xinyidai.graph import service as graph_service
    from xinyidai.scoring import jobs as rating_jobs
    from xinyidai.scoring import service

    if args.reuse:
        with get_engine().begin() as conn:  # as on the first run: no rating yet
            conn.execute(text("TRUNCATE credit_rating, rating_run"))
    else:
        copies = math.ceil(args.enterprises / args.base)
        if copies > len(PREFIXES):
            least = math.ceil(args.enterprises / len(PREFIXES))
            raise SystemExit(f"--base must be at least {least}")
        base = region(workdir / "base", args.base, args.base_seed)
        started = time.perf_counter()
        load_region(base, url)
        note(f"ingested the base region into PostgreSQL: {time.perf_counter() - started:.1f} s")
        # the base region's bad-neighbour counts, copied with the rest: copies of a region
        # share every name, address and phone, so an analysis of the copies would see hubs
        with session_scope() as session:
            graph_service.analyse(session, on=date(2025, 12, 31), actor="bench")
        started = time.perf_counter()
        replicate(url, copies)
    engine = get_engine()
    with engine.connect() as conn:
        subjects = conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one()
        records = conn.execute(text("SELECT count(*) FROM credit_record")).scalar_one()
        counted = conn.execute(text("SELECT count(*) FROM graph_bad_neighbours")).scalar_one()
        originals = [
            row[0]
            # the ingested subjects (91, 92, 93…; a copy starts with its prefix, then 9)
            for row in conn.execute(
                text("SELECT credit_code FROM enterprise WHERE credit_code ~ '^9[1-3]'")
            )
        ]
    note(f"{subjects:,} subjects, {records:,} records, {counted:,} bad-neighbour counts")

    with session_scope() as session:
        job = jobs.create(session, kind=service.JOB_KIND, params={"as_of": None}, actor="bench")
        job_id = job.id
    as_of = "2025-12-31"
    started = time.perf_counter()
    cpu = time.process_time()
    result: dict[str, Any] = rating_jobs.run_rating(job_id, as_of)
    seconds = time.perf_counter() - started
    say(
        f"rate --all on PostgreSQL: {result['rated']:,} enterprises ({records:,} records) in "
        f"{seconds:.1f} s end to end ({time.process_time() - cpu:.1f} s CPU here), "
        f"{result['rated'] / seconds:,.0f} enterprises/s, peak memory {peak_rss_mib():,.0f} MiB"
    )
    say("  grades: " + ", ".join(f"{k} {v:,}" for k, v in result["grades"].items()))
    with new_session() as session:
        phases = jobs.get_or_raise(session, job_id=job_id)
        note(f"job {phases.id}: {phases.state}, {phases.done}/{phases.total} steps")
    times = singles(url, random.Random(11).sample(originals, args.singles), date(2025, 12, 31))
    say(f"one enterprise on PostgreSQL ({subjects:,} subjects): {describe(times)}")


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument(
        "--base", type=int, default=28_000, help="enterprises ingested, then copied"
    )
    parser.add_argument("--base-seed", type=int, default=11)
    parser.add_argument("--train-size", type=int, default=30_000)
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--test-size", type=int, default=20_000)
    parser.add_argument("--test-seed", type=int, default=202)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-auc", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the generated regions and SQLite databases here, and reuse them next time",
    )
    parser.add_argument(
        "--reuse", metavar="NAME", help="time again on a database kept by --keep (no set-up)"
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xyd-bench-rating-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["XYD_DATA_DIR"] = str(workdir)
    try:
        if not args.skip_auc:
            ranking(args, workdir)
        if not args.skip_speed:
            full_coverage(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def full_coverage(args: argparse.Namespace, workdir: Path) -> None:
    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(args.postgres)
    name = args.reuse or f"xyd_bench_rating_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    from xinyidai.core.db import reset_engines

    reset_engines()
    try:
        speed(args, workdir, url)
    finally:
        from xinyidai.core.db import get_engine

        get_engine().dispose()
        if args.keep or args.reuse:
            say(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
