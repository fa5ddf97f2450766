"""The kill drill of ingestion on PostgreSQL, shared by its test (CI-sized) and by
``bench/drills.py ingest-kill`` (full size, with figures).

A ``xyd synth`` folder is ingested into one database cleanly, and into another by
``xyd ingest --resume`` runs that are killed (``SIGKILL`` to the whole process group: the
command and its worker processes) once the batches have stored a chosen number of rows,
then run once more to the end. The two databases must then hold the same: records, past versions,
rejections, registry subjects, batch counts, ledger entries; no batch left ``running``.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

XYD = Path(sys.executable).parent / "xyd"

# Each query's rows are hashed in order: what a clean run and a killed-and-rerun run must
# agree on (never ids drawn at random, salts, or times).
FINGERPRINT = {
    "records": "SELECT category, id, subject_code, digest, version, provider "
    "FROM credit_record ORDER BY category, id",
    "past versions": "SELECT record_id, version, digest FROM credit_record_version "
    "ORDER BY record_id, version",
    "rejections": "SELECT b.provider, b.category, b.filename, r.position, r.field, r.reason, "
    "r.errors::text, r.raw::text FROM ingest_rejection r JOIN ingest_batch b ON b.id = "
    "r.batch_id ORDER BY b.provider, b.category, b.filename, r.position",
    "subjects": "SELECT credit_code, name, kind, status, region_code, industry_code, "
    "registered_capital, established_on, address FROM enterprise ORDER BY credit_code",
    "batches": "SELECT provider, category, filename, state, total, accepted, updated, "
    "duplicates, rejected, conflicts, missing_required FROM ingest_batch "
    "ORDER BY provider, category, filename",
    "ledger entries": "SELECT ref FROM ledger_entry ORDER BY ref",
}


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of each query of ``FINGERPRINT`` on the database at ``url``."""
    engine = create_engine(url)
    try:
        prints: dict[str, tuple[int, str]] = {}
        with engine.connect() as conn:
            for name, query in FINGERPRINT.items():
                digest = hashlib.sha256()
                count = 0
                for row in conn.execute(text(query)):
                    digest.update(repr(tuple(row)).encode())
                    count += 1
                prints[name] = (count, digest.hexdigest())
        return prints
    finally:
        engine.dispose()


def batch_states(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT state, count(*) FROM ingest_batch GROUP BY state"))
            return {state: int(count) for state, count in rows}
    finally:
        engine.dispose()


def _rows_stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT coalesce(sum(total), 0) FROM ingest_batch")) or 0)


def environment(url: str, data_dir: Path, **settings: Any) -> dict[str, str]:
    """The environment of an ``xyd`` command on the database at ``url``."""
    env = dict(os.environ)
    env["XYD_DATABASE_URL"] = url
    env["XYD_DATA_DIR"] = str(data_dir)
    for name, value in settings.items():
        env[f"XYD_{name.upper()}"] = str(value)
    return env


def ingest(folder: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``xyd ingest FOLDER --no-rate --resume`` (as an operator reruns a folder after
    a crash) in a process group of its own."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(XYD), "ingest", str(folder), "--no-rate", "--resume"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Kill:
    """One killed run: the rows stored when it was killed, and when (seconds after start);
    ``None`` if the run finished before the point it was to be killed at. ``running`` is
    how many batches the kill left ``running`` (the next run sweeps them)."""

    target: int
    stored: int | None = None
    seconds: float | None = None
    running: int = 0


@dataclass
class DrillReport:
    kills: list[Kill] = field(default_factory=list)
    clean_seconds: float = 0.0
    final_seconds: float = 0.0
    clean_states: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    clean: dict[str, tuple[int, str]] = field(default_factory=dict)
    drilled: dict[str, tuple[int, str]] = field(default_factory=dict)


def run_clean(folder: Path, env: dict[str, str], log: Path) -> float:
    started = time.monotonic()
    process = ingest(folder, env, log)
    assert process.wait(timeout=3600) == 0, log.read_text(errors="replace")[-4000:]
    return time.monotonic() - started


def run_killed(
    folder: Path, env: dict[str, str], url: str, log: Path, target: int, *, poll: float = 0.02
) -> Kill:
    """Run the ingest and kill its process group once ``target`` rows are stored (or let
    it finish, if it finishes first)."""
    engine = create_engine(url, pool_size=1)
    kill = Kill(target)
    started = time.monotonic()
    process = ingest(folder, env, log)
    try:
        while process.poll() is None:
            stored = _rows_stored(engine)
            if stored >= target:
                os.killpg(process.pid, signal.SIGKILL)
                kill.stored, kill.seconds = stored, time.monotonic() - started
                break
            time.sleep(poll)
        process.wait(timeout=600)
        time.sleep(0.5)  # the group's other processes are gone too
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM ingest_batch WHERE state = 'running'")
            kill.running = int(conn.scalar(query) or 0)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        engine.dispose()
    return kill


def drill(
    folder: Path,
    *,
    clean_url: str,
    drill_url: str,
    clean_env: dict[str, str],
    drill_env: dict[str, str],
    kills: int,
    seed: int,
    log: Path,
) -> DrillReport:
    """The whole drill; the figures and both fingerprints (the caller compares them)."""
    report = DrillReport()
    report.clean_seconds = run_clean(folder, clean_env, log)
    report.clean = fingerprint(clean_url)
    report.clean_states = batch_states(clean_url)
    total = sum(row[2] for row in _batches(clean_url))
    draw = random.Random(seed)
    engine = create_engine(drill_url, pool_size=1)
    try:
        for left in range(kills, 0, -1):
            # A point past what is stored, in this run's share of what is left.
            stored = _rows_stored(engine)
            share = max(1, (total - stored) // (left + 1))
            target = stored + draw.randint(1, 2 * share)
            report.kills.append(run_killed(folder, drill_env, drill_url, log, target))
    finally:
        engine.dispose()
    started = time.monotonic()
    process = ingest(folder, drill_env, log)
    assert process.wait(timeout=3600) == 0, log.read_text(errors="replace")[-4000:]
    report.final_seconds = time.monotonic() - started
    report.states = batch_states(drill_url)
    report.drilled = fingerprint(drill_url)
    return report


def _batches(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT filename, state, total FROM ingest_batch")
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def sequence_and_verify(env: dict[str, str], log: Path) -> tuple[bool, str]:
    """Sequence the ledger as the worker does (``xyd ledger checkpoint``), then ``xyd ledger
    verify``; whether it verified, and its report."""
    with log.open("ab") as out:
        subprocess.run(
            [str(XYD), "ledger", "checkpoint"], env=env, stdout=out, stderr=out, check=True
        )
    verified = subprocess.run(
        [str(XYD), "ledger", "verify"], env=env, capture_output=True, text=True, check=False
    )
    return verified.returncode == 0, verified.stdout + verified.stderr
