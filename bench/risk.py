"""Post-loan monitoring on a synthetic region: alert latency and alerts per second.

    .venv/bin/python bench/risk.py --enterprises 5000 --loans 1000 --rows 20000
    XYD_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/risk.py

PostgreSQL when ``--postgres``, ``XYD_BENCH_POSTGRES_URL`` or ``XYD_TEST_POSTGRES_URL`` names
a server (a scratch database is made and dropped), else SQLite in a temporary folder.

Generates a region with ``xyd synth`` and ingests its registration, shareholder and
guarantee feeds (the links the watch list follows); makes ``--loans`` live loans from three
institutions (each with a webhook endpoint) to random enterprises, and builds the watch list
(borrowers and associates at depth 1). Then one day's deliveries of new records, as
departments push them (``--push`` rows per push; ``--negative`` of them negative, the rest
neutral; 80 % about watched enterprises):

- **latency**: the first half is pushed with the records' listeners on and the queue run in
  the pushing process the moment each push commits (a worker that is idle): for each alert,
  the time from its record being stored to the alert being raised with its webhook
  deliveries queued (``raised_at`` − the record's ``created_at``);
- **throughput**: the second half is stored with the listeners paused, then one full sweep
  (``risk.jobs.sweep``, what the worker runs every fifteen minutes) raises what it brought:
  alerts per second of the sweep.

A webhook attempt is not made (the delivery task is replaced by a counter): the figures are
of raising and queueing, not of receivers.
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
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# bench/http.py would stand for the standard library's ``http``: this folder leaves the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
os.environ["XYD_QUEUE_IMMEDIATE"] = "true"

from sqlalchemy import create_engine, func, select, text  # noqa: E402

LINK_FEEDS = ("registration", "shareholder", "guarantee")
NEGATIVE = ("admin_penalty", "court_judgment", "dishonest_debtor", "abnormal_operation")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=20_000, help="one day's new records")
    parser.add_argument("--push", type=int, default=500, help="rows per push")
    parser.add_argument("--negative", type=float, default=0.2, help="share of negative rows")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a PostgreSQL server URL instead of SQLite")
    args = parser.parse_args()
    server = (
        args.postgres
        or os.environ.get("XYD_BENCH_POSTGRES_URL")
        or os.environ.get("XYD_TEST_POSTGRES_URL")
    )
    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-risk-"))
    os.environ["XYD_DATA_DIR"] = str(workdir)
    if not server:
        url = f"sqlite:///{workdir / 'xyd.db'}"
        os.environ["XYD_DATABASE_URL"] = url
        print("database: SQLite")
        run(args, url, workdir)
        return
    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(server)
    name = f"xyd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    print("database: PostgreSQL")
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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))]


def row_for(category: str, code: str, name: str, region: str, n: int, day: str) -> dict[str, Any]:
    base = {"credit_code": code, "enterprise_name": name}
    if category == "admin_penalty":
        return base | {
            "decision_number": f"基准罚〔2026〕{n}号",
            "fine_amount": "10000",
            "decided_on": day,
            "region_code": region,
        }
    if category == "court_judgment":
        return base | {"case_number": f"(2026)基准民初{n}号", "judged_on": day}
    if category == "dishonest_debtor":
        return base | {
            "case_number": f"(2026)基准执{n}号",
            "published_on": day,
            "region_code": region,
            "amount": "50000.00",
        }
    if category == "abnormal_operation":
        return base | {"reason": "无法联系", "listed_on": day, "region_code": region}
    return base | {  # neutral: a year's social insurance without arrears
        "year": 2000 + n % 20,
        "due_amount": "80000",
        "paid_amount": "80000",
        "as_of": day,
        "region_code": region,
    }


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    from xinyidai import bootstrap
    from xinyidai.core import clock, queue
    from xinyidai.core.db import new_session, session_scope
    from xinyidai.core.ids import new_id
    from xinyidai.graph import service as graph_service
    from xinyidai.iam import service as iam_service
    from xinyidai.ingest import service as ingest_service
    from xinyidai.jobs import load_all_tasks
    from xinyidai.market.models import Loan, LoanState
    from xinyidai.market.service import webhooks
    from xinyidai.records import service as records_service
    from xinyidai.registry import service as registry_service
    from xinyidai.risk import jobs as risk_jobs
    from xinyidai.risk.models import Alert, Watch
    from xinyidai.risk.service import watch
    from xinyidai.synth import generate

    load_all_tasks()
    queued: list[str] = []

    class Counter:
        """Stands in for the delivery task: counts what would be sent."""

        def __call__(self, delivery_id: str) -> None:
            queued.append(delivery_id)

        def schedule(self, args: Any, delay: float) -> None:
            queued.append(args[0])

    queue._tasks[webhooks.DELIVER_TASK] = Counter()

    folder = workdir / "region"
    timed(
        f"synth {args.enterprises:,} enterprises",
        lambda: generate(folder, enterprises=args.enterprises, seed=args.seed),
    )
    bootstrap.initialize(url)

    def ingest() -> int:
        rows = 0
        for feed in ingest_service.feeds_in(folder, provider=None, category=None):
            if feed.category not in LINK_FEEDS:
                continue
            session = new_session()
            try:
                with records_service.listeners_paused():
                    batch = ingest_service.ingest_file(session, feed=feed, actor="bench")
                session.commit()
                rows += batch.total
            finally:
                session.close()
        return rows

    rows = timed("ingest the registration, shareholder and guarantee feeds", ingest)
    print(f"  {rows:,} rows")

    def index() -> int:
        with session_scope() as session:
            return graph_service.rebuild_index(session)

    timed("index of link keys (as the nightly association analysis leaves it)", index)
    rng = random.Random(args.seed)
    with session_scope() as session:
        enterprises = [
            (s.credit_code, s.name, s.region_code or "450100")
            for s in session.scalars(registry_service.search_statement())
        ]
        lenders = []
        for n in range(3):
            organization = iam_service.create_organization(
                session,
                kind="institution",
                name=f"基准银行{n}",
                actor="bench",
                state="active",
                institution_type="bank",
                licence_number=f"BENCH{n:010d}",
            )
            session.flush()
            lenders.append(organization)
            session.add(
                webhooks.WebhookEndpoint(
                    public_id=new_id("whk"),
                    institution_id=organization.public_id,
                    url=f"https://hooks.example.com/{n}",
                    secret_sealed=webhooks.sealing.seal(
                        webhooks.new_secret(),
                        context=f"market_webhook_endpoint:bench{n}",
                    ),
                    active=True,
                )
            )
    borrowers = rng.sample(enterprises, min(args.loans, len(enterprises)))
    start = clock.now() - timedelta(days=30)

    def make_loans() -> None:
        with session_scope() as session:
            for n, (code, name, region) in enumerate(borrowers):
                lender = lenders[n % len(lenders)]
                session.add(
                    Loan(
                        public_id=new_id("loan"),
                        contract_number=f"BENCH-{n:08d}",
                        application_id=new_id("app"),
                        product_id="prd_bench",
                        product_type="credit",
                        institution_id=lender.public_id,
                        institution_name=lender.name,
                        credit_code=code,
                        enterprise_name=name,
                        region_code=region,
                        principal=Decimal("500000.00"),
                        rate=Decimal("4.3500"),
                        term_months=12,
                        repayment_method="equal_instalment",
                        start_on=start.date(),
                        maturity_on=(start + timedelta(days=365)).date(),
                        balance=Decimal("500000.00"),
                        interest_paid=Decimal("0.00"),
                        state=LoanState.CURRENT,
                        state_changed_at=start,
                        state_changed_by="bench",
                        created_at=start,
                        updated_at=start,
                    )
                )

    timed(f"{len(borrowers):,} live loans from 3 institutions", make_loans)

    def build_watch() -> int:
        with session_scope() as session:
            return watch.refresh_all(session)

    watched_rows = timed("build the watch list (borrowers and associates at depth 1)", build_watch)
    with session_scope() as session:
        watched = sorted(set(session.scalars(select(Watch.credit_code).distinct())))
    print(f"  {watched_rows:,} watch rows over {len(watched):,} enterprises")
    by_code = {code: (name, region) for code, name, region in enterprises}
    day = clock.today().isoformat()

    def deliveries(count: int, offset: int) -> list[tuple[str, dict[str, Any]]]:
        made: list[tuple[str, dict[str, Any]]] = []
        for n in range(offset, offset + count):
            code = rng.choice(watched) if rng.random() < 0.8 else rng.choice(enterprises)[0]
            name, region = by_code.get(code, ("某企业", "450100"))
            category = rng.choice(NEGATIVE) if rng.random() < args.negative else "social_insurance"
            made.append((category, row_for(category, code, name, region, n, day)))
        return made

    def push_all(rows: list[tuple[str, dict[str, Any]]]) -> int:
        pushed = 0
        by_category: dict[str, list[dict[str, Any]]] = {}
        for category, row in rows:
            by_category.setdefault(category, []).append(row)
        pushes = []
        for category, items in by_category.items():
            for at in range(0, len(items), args.push):
                pushes.append((category, items[at : at + args.push]))
        rng.shuffle(pushes)
        for category, items in pushes:
            provider = {
                "admin_penalty": "credit",
                "court_judgment": "court",
                "dishonest_debtor": "court",
                "abnormal_operation": "market",
            }.get(category, "hrss")
            with session_scope() as session:
                batch = ingest_service.push_rows(
                    session, provider=provider, category=category, rows=items, actor="bench"
                )
                pushed += batch.accepted + batch.updated
        return pushed

    half = args.rows // 2
    first = deliveries(half, 0)
    alerts_before = 0
    started = time.perf_counter()
    stored = push_all(first)
    elapsed = time.perf_counter() - started
    with session_scope() as session:
        raised = list(session.scalars(select(Alert)))
        latencies = []
        for alert in raised:
            refs = alert.evidence.get("records") or []
            if not refs:
                continue
            record = records_service.get_or_raise(session, record_id=refs[0]["record_id"])
            stored_at = clock.as_utc(record.created_at)
            latencies.append((clock.as_utc(alert.raised_at) - stored_at).total_seconds())
    print(
        f"latency: {len(first):,} rows in pushes of {args.push} ({stored:,} stored) in "
        f"{elapsed:.1f} s ({stored / elapsed:,.0f} rows/s with scans on arrival), "
        f"{len(raised):,} alerts raised, {len(queued):,} webhook deliveries queued"
    )
    if latencies:
        print(
            f"  record stored → alert queued: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
    alerts_before = len(raised)
    second = deliveries(args.rows - half, half)

    def store_paused() -> int:
        with records_service.listeners_paused():
            return push_all(second)

    timed(f"store {len(second):,} more rows with the listeners paused", store_paused)
    delivered_before = len(queued)
    started = time.perf_counter()
    result = risk_jobs.sweep()
    seconds = time.perf_counter() - started
    with session_scope() as session:
        total = session.scalar(select(func.count()).select_from(Alert)) or 0
    print(
        f"sweep: {result.scanned:,} watched enterprises scanned in {seconds:.1f} s, "
        f"{len(result.raised):,} alerts raised ({len(result.raised) / seconds:,.1f} alerts/s, "
        f"{result.scanned / seconds:,.0f} enterprises/s), "
        f"{len(queued) - delivered_before:,} deliveries queued; {total:,} alerts in all "
        f"({total - alerts_before - len(result.raised)} raised twice: must be 0)"
    )
    started = time.perf_counter()
    again = risk_jobs.sweep()
    print(
        f"sweep again (nothing new): {time.perf_counter() - started:.1f} s, "
        f"{len(again.raised)} alerts raised"
    )


if __name__ == "__main__":
    main()
