"""Ingest throughput on PostgreSQL against a raw COPY of the same rows.

    .venv/bin/python bench/ingest.py --enterprises 200000 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Generates a region with ``xyd synth``, creates a scratch database, ingests every feed
through the real service (validation, quarantine, dedup, versions, registry sync), then
copies the same rows, read by the same readers, into bare text tables with COPY. Prints
rows/second for both, their ratio, and the peak resident memory. Drops the database after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def python_cpu() -> float:
    """CPU seconds of this process and of every child it has waited for (the workers and,
    through them, their validating children)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu() -> float | None:
    """CPU seconds of the local PostgreSQL processes, finished backends included (read from
    /proc; None where the server is not on this machine or /proc is not there)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    found = False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if not name.startswith("postgres"):
            continue
        found = True
        fields = stat.rsplit(")", 1)[1].split()
        # utime, stime, and the same of waited-for children (finished backends count at
        # the postmaster).
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / ticks if found else None


def settle(engine: Any, limit: float = 300.0) -> None:
    """Let the server finish what the ingest left it before the raw COPY is timed.

    Right after a load the server may still write out dirty pages or autovacuum the new
    tables. A checkpoint, then waiting (at most ``limit`` seconds) for autovacuum to go
    quiet, keeps that work out of the raw COPY's time: if anything, a faster raw COPY and
    so a stricter ratio.
    """
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))
        while time.perf_counter() - started < limit:
            busy = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
                )
            )
            if not busy:
                break
            time.sleep(1)
        conn.execute(text("CHECKPOINT"))
    print(f"settled before the raw COPY in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--region", type=Path, help="reuse a generated region folder")
    parser.add_argument("--workers", type=int, help="files at once (default XYD_INGEST_WORKERS)")
    args = parser.parse_args()

    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(args.postgres)
    name = f"xyd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-"))
    os.environ["XYD_DATABASE_URL"] = url
    os.environ["XYD_DATA_DIR"] = str(workdir)
    try:
        run(args, url, workdir)
    finally:
        from xinyidai.core.db import get_engine

        get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    from xinyidai import bootstrap
    from xinyidai.core.db import get_engine
    from xinyidai.ingest import folder, service
    from xinyidai.ingest.readers import open_table
    from xinyidai.synth import generate

    region = args.region
    if region is None:
        region = workdir / "region"
        started = time.perf_counter()
        generate(region, enterprises=args.enterprises, seed=args.seed)
        print(f"synth: {args.enterprises:,} enterprises in {time.perf_counter() - started:.1f} s")
    bootstrap.initialize(url)
    feeds = service.feeds_in(region, provider=None, category=None)

    workers = folder.workers_for(args.workers)
    print(f"ingest: {len(feeds)} files, {workers} at a time", flush=True)
    started = time.perf_counter()
    cpu_started = time.process_time()
    all_cpu_started = python_cpu()
    server_started = server_cpu()

    def done(feed: service.FeedFile, line: dict[str, object]) -> None:
        print(
            f"  {feed.provider}/{feed.category}: {line['total']:,} rows, "
            f"{line['accepted']:,} new, {line['rejected']:,} rejected, "
            f"{line['duplicates']:,} duplicates ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )

    # As `xyd ingest FOLDER` does: no re-rating chunk by chunk; one rating run follows.
    lines = folder.ingest_feeds(feeds, actor="bench", workers=workers, on_done=done, listen=False)
    rows = sum(int(line["total"]) for line in lines)
    ingest_seconds = time.perf_counter() - started
    ingest_cpu = time.process_time() - cpu_started
    all_cpu = python_cpu() - all_cpu_started
    server_ended = server_cpu()
    ingest_rate = rows / ingest_seconds
    print(
        f"ingest (validated and stored): {rows:,} rows in {ingest_seconds:.1f} s, "
        f"{ingest_rate:,.0f} rows/s ({ingest_cpu:.1f} s CPU in the first process)",
        flush=True,
    )
    server = (
        None if server_started is None or server_ended is None else server_ended - server_started
    )
    spent = f"{all_cpu:.1f} s Python (all processes)"
    if server is not None:
        spent += f", {server:.1f} s PostgreSQL server"
    print(
        f"ingest CPU: {spent}, {(all_cpu + (server or 0.0)) / rows * 1e6:.0f} us per row; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    engine = get_engine()
    settle(engine)
    raw_rows = 0
    started = time.perf_counter()
    for index, feed in enumerate(feeds):
        table = open_table(feed.path, feed.format)
        columns = len(table.headers) + 8
        with engine.begin() as conn:
            bare = f"bare_{index}"
            cols = ", ".join(f"c{i} text" for i in range(columns))
            conn.execute(text(f"CREATE TABLE {bare} ({cols})"))
            raw = conn.connection.driver_connection
            names = ", ".join(f"c{i}" for i in range(columns))
            with raw.cursor() as cursor, cursor.copy(f"COPY {bare} ({names}) FROM STDIN") as copy:
                for _position, values in table.rows:
                    padded = [None if v is None else str(v) for v in values[:columns]]
                    padded += [None] * (columns - len(padded))
                    copy.write_row(padded)
                    raw_rows += 1
    copy_seconds = time.perf_counter() - started
    copy_rate = raw_rows / copy_seconds
    copy_load = os.getloadavg()[0]

    print(f"rows: {rows:,} (raw COPY read {raw_rows:,})")
    print(
        f"raw COPY into bare tables:     {copy_seconds:.1f} s, {copy_rate:,.0f} rows/s "
        f"(load average {copy_load:.1f})"
    )
    print(f"ratio: {ingest_rate / copy_rate:.1%} of raw COPY")
    print(
        f"peak memory: {peak_rss_mib():,.0f} MiB (first process), "
        f"{peak_rss_mib(resource.RUSAGE_CHILDREN):,.0f} MiB (largest worker or validating child)"
    )


if __name__ == "__main__":
    main()
