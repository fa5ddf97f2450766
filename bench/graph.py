"""Association analysis on a synthetic region: region graph, circles, one neighbourhood.

    .venv/bin/python bench/graph.py --enterprises 20000
    .venv/bin/python bench/graph.py --enterprises 20000 --postgres postgresql://postgres@127.0.0.1:5432/postgres

Generates a region with ``xyd synth`` and ingests the feeds association analysis reads
(registration, shareholders, guarantees) and the bad-signal feeds (enforcement, dishonest
debtors, abnormal operations) into a scratch database (SQLite by default), then times:
reading the link records and building the region's graphs, the whole region analysis
(index rebuilt, circles and chains found and stored), the set-based bad-neighbour counts,
and neighbourhood queries at depth 1, 2 and 3 from enterprises that have links.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

FEEDS = (
    "registration",
    "shareholder",
    "guarantee",
    "court_enforcement",
    "dishonest_debtor",
    "abnormal_operation",
)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--queries", type=int, default=50, help="neighbourhoods per depth")
    parser.add_argument("--postgres", help="a PostgreSQL server URL instead of SQLite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-graph-"))
    os.environ["XYD_DATA_DIR"] = str(workdir)
    if not args.postgres:
        url = f"sqlite:///{workdir / 'xyd.db'}"
        os.environ["XYD_DATABASE_URL"] = url
        run(args, url, workdir)
        return
    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(args.postgres)
    name = f"xyd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    try:
        run(args, url, workdir)
    finally:
        from xinyidai.core.db import get_engine

        get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.2f} s")
    return result


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    from xinyidai import bootstrap
    from xinyidai.core.db import new_session, session_scope
    from xinyidai.graph import contagion, cycles, index, links, region, service
    from xinyidai.ingest import service as ingest_service
    from xinyidai.synth import generate

    folder = workdir / "region"
    timed(
        f"synth {args.enterprises:,} enterprises",
        lambda: generate(folder, enterprises=args.enterprises, seed=args.seed),
    )
    bootstrap.initialize(url)

    def ingest() -> int:
        rows = 0
        for feed in ingest_service.feeds_in(folder, provider=None, category=None):
            if feed.category not in FEEDS:
                continue
            session = new_session()
            try:
                batch = ingest_service.ingest_file(session, feed=feed, actor="bench")
                session.commit()
                rows += batch.total
            finally:
                session.close()
        return rows

    rows = timed("ingest the link and bad-signal feeds", ingest)
    print(f"  {rows:,} rows")

    with session_scope() as session:
        subjects = timed("read link records", lambda: index.load_links(session, None))
        guarantees = [g for s in subjects.values() for g in s.guarantees]
        graph = timed("build the guarantee graph", lambda: cycles.guarantee_graph(guarantees))
        circles, _ = timed("find circles", lambda: cycles.find_circles(graph))
        chains, _ = timed("find chains", lambda: cycles.find_chains(graph))
        adjacency = timed(
            "build the association graph (every kind)", lambda: region.association_graph(subjects)
        )
        edges = sum(len(v) for v in adjacency.values()) // 2
        print(
            f"  {len(subjects):,} enterprises with link records, {len(adjacency):,} nodes, "
            f"{edges:,} association links, {graph.number_of_edges():,} guarantee links, "
            f"{len(circles)} circles, {len(chains)} chains"
        )
    with session_scope() as session:
        analysis = timed(
            "region analysis (read, index, circles, chains, store, bad-neighbour counts)",
            lambda: service.analyse(session),
        )
        print(
            f"  read {analysis.read_ms} ms, search {analysis.search_ms} ms, "
            f"{analysis.index_keys:,} index keys, bad-neighbour counts {analysis.counts_ms} ms "
            f"({analysis.bad_neighbours:,} enterprises stored), total {analysis.total_ms} ms"
        )
    with session_scope() as session:
        pairs = timed(
            "bad-neighbour counts: linked pairs from the index of keys (SQL)",
            lambda: contagion.index_pairs(session),
        )
        bad = timed(
            "bad-neighbour counts: bad enterprises", lambda: contagion.bad_subjects(session)
        )
        counted = timed(
            "bad-neighbour counts: two joins (polars)", lambda: contagion.count(pairs, bad)
        )
        print(f"  {pairs.height // 2:,} linked pairs, {len(bad):,} bad enterprises")
        walked = timed(
            "bad-neighbour counts, walking a graph of the link records (the reference)",
            lambda: region.bad_neighbour_counts_from_records(session),
        )
        counts = contagion.as_mapping(counted)
        same = counts == {c: v for c, v in walked.items() if v.depth1 or v.depth2}
        print(
            f"  {sum(1 for c in counts.values() if c.depth1):,} enterprises with a bad "
            f"neighbour, {sum(1 for c in counts.values() if c.depth2):,} with one two links "
            f"away; set-based and walked counts {'agree' if same else 'DIFFER'}"
        )
        timed(
            "stored counts read back, every enterprise",
            lambda: service.stored_bad_neighbours(session),
        )
        adjacency = region.association_graph(index.load_links(session, None))
        linked = sorted(c for c, near in adjacency.items() if near)
        densest = sorted(linked, key=lambda c: (-len(adjacency[c]), c))[:10]
    rng = random.Random(args.seed)
    sample = rng.sample(linked, min(args.queries, len(linked)))
    for depth, label, codes in (
        (1, "", sample),
        (2, "", sample),
        (3, "", sample),
        (3, " (the 10 most linked enterprises)", densest),
    ):
        times = []
        sizes = []
        for code in codes:
            with session_scope() as session:
                started = time.perf_counter()
                try:
                    found = service.associations(session, code=code, depth=depth)
                except Exception:  # a code known only from another's records
                    continue
                times.append(time.perf_counter() - started)
                sizes.append(len(found.nodes))
        times.sort()
        print(
            f"neighbourhood depth {depth}{label}: median {statistics.median(times) * 1000:.0f} ms, "
            f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.0f} ms, "
            f"max {times[-1] * 1000:.0f} ms over {len(times)} enterprises "
            f"(median {statistics.median(sizes):.0f} nodes, max {max(sizes)})"
        )
    # what a bad record arriving about one enterprise costs: its associates counted again
    times = []
    differed = 0
    for code in sample:
        with session_scope() as session:
            started = time.perf_counter()
            differed += len(service.recount_around(session, codes=[code]))
            times.append(time.perf_counter() - started)
            session.rollback()
    times.sort()
    print(
        f"counting again around one enterprise (on arrival): median "
        f"{statistics.median(times) * 1000:.0f} ms, p95 "
        f"{times[int(len(times) * 0.95) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms over "
        f"{len(times)} enterprises ({differed} counts differed from the analysis's)"
    )
    print(f"peak memory: {peak_rss_mib():.0f} MiB; max group {links.MAX_GROUP}")


if __name__ == "__main__":
    main()
