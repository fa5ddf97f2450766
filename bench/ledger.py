"""Ledger benchmark on PostgreSQL: sustained appends, proof times, storage per leaf.

    .venv/bin/python bench/ledger.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --leaves 1000000

Creates a scratch database, migrates it, appends ``--leaves`` events in batches through
``service.append_many`` (COPY) + ``service.integrate`` (the sequencer), signing a checkpoint
about once a second, then times inclusion and consistency proofs (production from the
database, verification in memory) and measures the ledger tables. Drops the database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=300, help="proofs to time")
    parser.add_argument("--verify", action="store_true", help="also time a full verify")
    parser.add_argument(
        "--pending",
        action="store_true",
        help="append as pending entries and sequence separately (the path of single appends)",
    )
    args = parser.parse_args()

    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(args.postgres)
    name = f"xyd_bench_ledger_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    data_dir = tempfile.mkdtemp(prefix="xyd-bench-ledger-")
    os.environ["XYD_DATABASE_URL"] = url
    os.environ["XYD_DATA_DIR"] = data_dir
    try:
        return run(args, url, Path(data_dir))
    finally:
        from xinyidai.core import db as core_db

        core_db.reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace, url: str, data_dir: Path) -> int:
    from sqlalchemy import select

    from xinyidai.core import db as core_db
    from xinyidai.core import migrate
    from xinyidai.ledger import keys, service, tree
    from xinyidai.ledger.models import LedgerEntry
    from xinyidai.ledger.schemas import LedgerEvent

    core_db.reset_engines()
    migrate.upgrade(url)
    keys.create_key()
    mode = "pending + sequencer" if args.pending else "bulk, sequenced at append"
    print(f"ledger bench: {args.leaves:,} leaves in batches of {args.batch:,} ({mode})")

    appended = 0
    append_s = integrate_s = 0.0
    checkpoints = 0
    last_checkpoint = time.perf_counter()
    started = time.perf_counter()
    while appended < args.leaves:
        count = min(args.batch, args.leaves - appended)
        batch = [
            LedgerEvent(
                kind="record.version",
                actor="org:dept-tax",
                subject=f"9111{(appended + i) % 10**14:014d}",
                ref=f"rv_{appended + i:012d}",
                body={"record": appended + i, "grade": "A", "amount": "1234.50"},
            )
            for i in range(count)
        ]
        with core_db.session_scope() as session:
            t0 = time.perf_counter()
            service.append_many(session, events=batch, sequence=not args.pending)
            t1 = time.perf_counter()
            if args.pending:
                service.integrate(session)
            if time.perf_counter() - last_checkpoint >= 1.0:
                service.publish_checkpoint(session)
                checkpoints += 1
                last_checkpoint = time.perf_counter()
            integrate_s += time.perf_counter() - t1
            append_s += t1 - t0
        appended += count
        if appended % (args.batch * 20) == 0 or appended == args.leaves:
            rate = appended / (time.perf_counter() - started)
            print(f"  {appended:>10,} leaves  {rate:>9,.0f} appends/s", flush=True)
    elapsed = time.perf_counter() - started
    with core_db.session_scope() as session:
        service.publish_checkpoint(session)
    print(f"sustained: {args.leaves / elapsed:,.0f} appends/s over {elapsed:.1f} s "
          f"(append+COPY {append_s:.1f} s, sequencer/checkpoints {integrate_s:.1f} s, "
          f"{checkpoints + 1} checkpoints)")  # fmt: skip

    rng = random.Random(7)
    size = args.leaves
    with core_db.session_scope() as session:
        root = bytes(service.head(session).root_hash)
        indexes = [rng.randrange(size) for _ in range(args.proofs)]
        leaves = {
            row[0]: bytes(row[1])
            for row in session.execute(
                select(LedgerEntry.idx, LedgerEntry.leaf).where(LedgerEntry.idx.in_(indexes))
            )
        }
        proofs: dict[int, list[bytes]] = {}

        def prove_one() -> None:
            index = indexes[len(proofs) % len(indexes)]
            proofs[index] = service.inclusion_proof(session, index=index, tree_size=size)

        inclusion_make = _time(prove_one, args.proofs)
        pairs = [(rng.randrange(1, size), size) for _ in range(args.proofs)]
        consistency: list[tuple[int, list[bytes]]] = []

        def prove_consistency() -> None:
            first, second = pairs[len(consistency) % len(pairs)]
            consistency.append(
                (first, service.consistency_proof(session, first=first, second=second))
            )

        consistency_make = _time(prove_consistency, args.proofs)
        old_roots = {first: service.tree_root(session, size=first) for first, _ in consistency}
        items = list(proofs.items())
        inclusion_check = _time(
            lambda: [
                tree.verify_inclusion(i, size, tree.leaf_hash(bytes(leaves[i])), p, root)
                for i, p in items[:1]
            ],
            args.proofs,
        )
        consistency_check = _time(
            lambda: [
                tree.verify_consistency(f, size, old_roots[f], root, p) for f, p in consistency[:1]
            ],
            args.proofs,
        )
        for i, p in items:
            tree.verify_inclusion(i, size, tree.leaf_hash(bytes(leaves[i])), p, root)
        for f, p in consistency:
            tree.verify_consistency(f, size, old_roots[f], root, p)
        sizes = {
            row[0]: int(row[1])
            for row in session.execute(
                text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                    "WHERE relname IN ('ledger_entry', 'ledger_node', 'ledger_checkpoint')"
                )
            )
        }
    print(f"inclusion proof, produce: {_ms(inclusion_make)}; verify: {_ms(inclusion_check)}")
    print(f"consistency proof, produce: {_ms(consistency_make)}; verify: {_ms(consistency_check)}")
    total = sum(sizes.values())
    detail = ", ".join(f"{k} {v / size:.0f}" for k, v in sorted(sizes.items()))
    print(f"storage: {total / size:.0f} bytes per leaf ({detail}); {total / 2**20:.0f} MiB")
    if args.verify:
        from xinyidai.ledger.verify import verify_ledger

        t0 = time.perf_counter()
        with core_db.session_scope() as session:
            report = verify_ledger(session)
        print(f"full verify: {time.perf_counter() - t0:.1f} s, ok={report.ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
