"""Statistics on PostgreSQL: the full rebuild, the incremental refresh per 10,000 events and
the dashboard's latency, over a region of generated rows.

    XYD_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python bench/stats.py [--enterprises 100000] [--loans 20000] [--records 2]
        [--rounds 3] [--reads 60]

A scratch database is created and dropped. The rows are written straight by SQL
(``generate_series``), spread over the last year: enterprises in the 111 counties of one
province and 1,381 industry classes, ``--records`` records per enterprise, an application
per loan and one rejected for every four, loans with their disbursement and (one in eight)
a fall into arrears, two repayments per loan. Then:

1. the full rebuild (``stats.service.refresh.rebuild``);
2. ``--rounds`` times: 10,000 new events written now (3,000 registrations, 4,000 records,
   2,000 decided applications, 1,000 loans with their moves), then the refresh;
3. the dashboard read ``--reads`` times (``stats.service.dashboard``: headline figures of the
   year, a monthly trend, a breakdown by institution, county or industry, targets), and the
   API's table (a year by month × city): p50 and p95; the public headline uncached.

The large run of the issue: ``--enterprises 1000000 --loans 100000``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

# this folder holds http.py, which would shadow the standard library's http package
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

# the lists the generated rows pick from, as a row of arrays every statement joins
ARRAYS = (
    "(SELECT CAST(:counties AS text[]) AS counties, CAST(:classes AS text[]) AS classes, "
    "CAST(:categories AS text[]) AS categories, CAST(:providers AS text[]) AS providers) AS p"
)
ONE = "CAST(1 AS bigint)"  # series of bigint: the products below pass 2**31
CATEGORIES = ("admin_penalty", "tax_rating", "social_insurance", "court_judgment")
PROVIDERS = ("market", "tax", "hrss", "court")


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.2f} s", flush=True)
    return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=2, help="records per enterprise")
    parser.add_argument("--rounds", type=int, default=3, help="refreshes of 10,000 events")
    parser.add_argument("--reads", type=int, default=60, help="dashboard reads")
    parser.add_argument("--postgres", help="a PostgreSQL server URL")
    args = parser.parse_args()
    server = (
        args.postgres
        or os.environ.get("XYD_BENCH_POSTGRES_URL")
        or os.environ.get("XYD_TEST_POSTGRES_URL")
    )
    if not server:
        sys.exit("set XYD_BENCH_POSTGRES_URL (or --postgres): this bench runs on PostgreSQL")
    from xinyidai.core.settings import normalize_database_url

    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"xyd-bench-stats-{uuid.uuid4().hex[:6]}"
    workdir.mkdir(parents=True)
    os.environ["XYD_DATA_DIR"] = str(workdir)
    admin_url = normalize_database_url(server)
    name = f"xyd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    try:
        run(args, url)
    finally:
        from xinyidai.core.db import get_engine

        get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _codes() -> tuple[list[str], list[str]]:
    from xinyidai.registry import codes

    counties = [c.code for c in codes.regions().values() if c.level == "county"]
    province = sorted({c[:2] for c in counties})[19]  # 45: Guangxi
    mine = sorted(c for c in counties if c.startswith(province))
    classes = sorted(c.code for c in codes.industries().values() if c.level == "class")
    return mine, classes


def _populate(conn, *, enterprises: int, loans: int, records: int, offset: int, now: bool) -> None:  # type: ignore[no-untyped-def]
    """Rows numbered from ``offset``: dated over the last year, or now when ``now``."""
    counties, classes = _codes()
    params = {
        "counties": counties,
        "classes": classes,
        "categories": list(CATEGORIES),
        "providers": list(PROVIDERS),
        "n": enterprises,
        "o": offset,
        "loans": loans,
        "records": records,
    }
    when = "now()" if now else "now() - random() * interval '364 days'"
    conn.execute(
        text(
            f"""
            INSERT INTO enterprise (credit_code, name, kind, status, region_code, industry_code,
                                    created_at, updated_at)
            SELECT 'B' || lpad((:o + i)::text, 17, '0'), '企业' || (:o + i), 'enterprise',
                   'active', (p.counties)[1 + (i * 7919) % cardinality(p.counties)],
                   (p.classes)[1 + (i * 104729) % cardinality(p.classes)], t, t
            FROM (SELECT i, {when} AS t FROM generate_series({ONE}, :n) AS i) AS s
                 , {ARRAYS}
            """
        ),
        params,
    )
    conn.execute(
        text(
            f"""
            INSERT INTO credit_record (id, category, subject_code, data, digest, event_on,
                category_version, version, provider, sources, created_at, updated_at, change_id)
            SELECT md5((:o + i)::text || '-' || k), (p.categories)[1 + (i + k) % 4],
                   'B' || lpad((:o + i)::text, 17, '0'), '{{}}', 'x', t::date, 1, 1,
                   (p.providers)[1 + (i + k) % 4], '[]', t, t, :o + i
            FROM (SELECT i, k, {when} AS t FROM generate_series({ONE}, :n) AS i,
                  generate_series({ONE}, :records) AS k) AS s
                 , {ARRAYS}
            """
        ),
        params,
    )
    conn.execute(
        text(
            f"""
            INSERT INTO market_application (public_id, product_id, product_name, institution_id,
                institution_name, credit_code, enterprise_name, region_code, amount, term_months,
                repayment_method, purpose, state, submitted_at, state_changed_at,
                state_changed_by, decision_mode, decided_at, decided_by, created_at, updated_at)
            SELECT 'app_b' || (:o + i), 'prd_b' || (i % 5), '产品', 'org_b' || (i % 12), '银行',
                   'B' || lpad((:o + (i * 13) % greatest(:n, 1) + 1)::text, 17, '0'), '企业',
                   (p.counties)[1 + (i * 31) % cardinality(p.counties)], 500000, 12,
                   'equal_principal', '经营周转',
                   CASE WHEN i % 5 = 4 THEN 'rejected' ELSE 'approved' END, t, t2, 'bench',
                   'manual', t2, 'bench', t, t2
            FROM (SELECT i, t, t + ((i % 97) || ' hours')::interval AS t2
                  FROM (SELECT i, {when} AS t
                        FROM generate_series({ONE}, :loans * 5 / 4) AS i) AS a) AS s
                 , {ARRAYS}
            """
        ),
        params,
    )
    conn.execute(
        text(
            f"""
            INSERT INTO market_loan (public_id, contract_number, application_id, product_id,
                product_type, institution_id, institution_name, credit_code, enterprise_name,
                region_code, principal, rate, term_months, repayment_method, start_on,
                maturity_on, balance, interest_paid, state, state_changed_at, state_changed_by,
                created_at, updated_at)
            SELECT 'loan_b' || (:o + i), 'C-' || (:o + i), 'app_l' || (:o + i), 'prd_b' || (i % 5),
                   (ARRAY['credit','tax','procurement','tech','supply_order'])[1 + i % 5],
                   'org_b' || (i % 12), '银行',
                   'B' || lpad((:o + (i * 17) % greatest(:n, 1) + 1)::text, 17, '0'), '企业',
                   (p.counties)[1 + (i * 37) % cardinality(p.counties)],
                   100000 + (i % 20) * 50000, 3.85 + (i % 8) * 0.25, 12, 'equal_principal',
                   t::date, t::date + 365, 100000 + (i % 20) * 50000, 0,
                   CASE WHEN i % 8 = 3 THEN 'overdue' ELSE 'current' END, t, 'bench', t, t
            FROM (SELECT i, {when} AS t FROM generate_series({ONE}, :loans) AS i) AS s
                 , {ARRAYS}
            """
        ),
        params,
    )
    conn.execute(
        text(
            """
            INSERT INTO transition (subject_kind, subject_id, transition, from_state, to_state,
                                    actor, at)
            SELECT 'loan', public_id, 'disburse', NULL, 'current', 'bench', created_at
            FROM market_loan WHERE public_id LIKE 'loan_b%' AND contract_number >= 'C-' || :o
              AND contract_number LIKE 'C-%' AND substr(public_id, 7)::bigint > :o
            UNION ALL
            SELECT 'loan', public_id, 'fall_overdue', 'current', 'overdue', 'bench',
                   created_at + interval '40 days'
            FROM market_loan WHERE state = 'overdue' AND substr(public_id, 7)::bigint > :o
            """
        ),
        params,
    )
    conn.execute(
        text(
            """
            INSERT INTO market_repayment (public_id, loan_id, amount, principal, interest,
                                          paid_on, recorded_at, recorded_by)
            SELECT 'rpy_b' || id || '_' || k, id, principal / 12 + 500, principal / 12, 500,
                   least(start_on + 30 * k, current_date),
                   created_at + (30 * k || ' days')::interval, 'bench'
            FROM market_loan, generate_series(1, 2) AS k
            WHERE substr(public_id, 7)::bigint > :o AND start_on + 30 * k <= current_date
            """
        ),
        params,
    )


def run(args: argparse.Namespace, url: str) -> None:
    from xinyidai import bootstrap
    from xinyidai.core import clock
    from xinyidai.core.db import get_engine, session_scope
    from xinyidai.stats.models import Dimension, Grain
    from xinyidai.stats.service import dashboard, figures, public, refresh

    bootstrap.initialize(url)
    engine = get_engine()
    with engine.begin() as conn:
        timed(
            f"rows: {args.enterprises:,} enterprises, {args.enterprises * args.records:,} records, "
            f"{args.loans:,} loans",
            lambda: _populate(
                conn,
                enterprises=args.enterprises,
                loans=args.loans,
                records=args.records,
                offset=0,
                now=False,
            ),
        )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with session_scope() as session:
        done = timed("full rebuild", lambda: refresh.rebuild(session))
    print(f"  {done.rows:,} summary rows over {done.days} days", flush=True)
    offset = args.enterprises * 10
    refreshes: list[float] = []
    for round_ in range(args.rounds):
        with engine.begin() as conn:
            _populate(conn, enterprises=3000, loans=800, records=1, offset=offset, now=True)
            offset += 100_000
        # 3,000 registrations + 3,000 records + 1,000 applications + 800 loans with their
        # moves and repayments: about 10,000 rows of events
        with session_scope() as session:
            started = time.perf_counter()
            result = refresh.refresh(session)
            refreshes.append(time.perf_counter() - started)
        print(
            f"refresh {round_ + 1} after ~10,000 events: {refreshes[-1]:.2f} s "
            f"({result.days} days, {result.rows:,} rows)",
            flush=True,
        )
    today = clock.today()
    start = date(today.year - 1, today.month, 1)
    choices = [
        ("loans_amount", Dimension.INSTITUTION),
        ("loans_granted", Dimension.COUNTY),
        ("enterprises_registered", Dimension.INDUSTRY),
        ("approval_rate", Dimension.CITY),
        ("balance", Dimension.PRODUCT_TYPE),
        ("overdue_rate", Dimension.INSTITUTION),
        ("decision_time_median", Dimension.PROVINCE),
        ("records_collected", Dimension.CATEGORY),
    ]
    pages: list[float] = []
    tables: list[float] = []
    for n in range(args.reads):
        figure, dimension = choices[n % len(choices)]
        with session_scope() as session:
            started = time.perf_counter()
            dashboard.dashboard(
                session,
                figure=figure,
                grain=Grain.MONTH,
                dimension=dimension,
                start=start,
                end=today,
                min_cell=5,
            )
            pages.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            figures.table(
                session,
                figures=["loans_amount", "loans_granted"],
                grain=Grain.MONTH,
                start=start,
                end=today,
                dimension=Dimension.CITY,
                min_cell=5,
            )
            tables.append((time.perf_counter() - started) * 1000)
    print(
        f"dashboard (headline, trend, breakdown, targets): p50 {percentile(pages, 0.5):.0f} ms, "
        f"p95 {percentile(pages, 0.95):.0f} ms over {len(pages)} reads",
        flush=True,
    )
    print(
        f"API table (13 months x cities, 2 figures): p50 {percentile(tables, 0.5):.0f} ms, "
        f"p95 {percentile(tables, 0.95):.0f} ms",
        flush=True,
    )
    with session_scope() as session:
        public.forget()
        timed("public headline, uncached", lambda: public.headline(session))


if __name__ == "__main__":
    main()
