"""Precision and recall of the anti-fraud rules on a region they were not tuned on.

    .venv/bin/python bench/fraud.py --enterprises 20000 --seed 20261207

Generates a region with ``xyd synth`` (its planted fraud in ``truth/fraud.csv``, its
applications in ``platform/applications.csv``), migrates a scratch SQLite database (or
``--postgres``), ingests the market department's registrations as of a year before the
applications, stores the planted registration changes at their times, builds the
association index, makes six institutions with one product each, then replays every
application at its own time (the clock frozen there) and scans it as the task after
submission does. An applicant is flagged when any rule opened a case on one of its
applications. Printed: precision and recall over applicants, recall by planted pattern,
hits and precision by rule, and the scan's latency per application (p50/p95). The rules'
thresholds were set from the fraud patterns' descriptions, never from a run of this seed.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the standard library's http for this script's imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def timed(label: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--postgres", default=None, help="a server to make a scratch database on")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-fraud-"))
    os.environ["XYD_ENV"] = "test"
    os.environ["XYD_QUEUE_IMMEDIATE"] = "true"
    os.environ["XYD_DATA_DIR"] = str(workdir)
    os.environ["XYD_RISK_FRAUD_SCAN_ON_APPLY"] = "false"  # scanned below, at the same moment
    admin = name = None
    if args.postgres:
        from sqlalchemy import create_engine, text

        from xinyidai.core.settings import normalize_database_url

        admin_url = normalize_database_url(args.postgres)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"xyd_bench_fraud_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{workdir / 'xyd.db'}"
    os.environ["XYD_DATABASE_URL"] = url
    try:
        run(args, url, workdir)
    finally:
        from xinyidai.core import db as core_db

        core_db.get_engine().dispose()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    from xinyidai import bootstrap
    from xinyidai.consent import service as consent_service
    from xinyidai.core import clock
    from xinyidai.core.db import new_session, session_scope
    from xinyidai.graph import service as graph_service
    from xinyidai.iam import service as iam_service
    from xinyidai.iam.schemas import Principal
    from xinyidai.ingest import service as ingest_service
    from xinyidai.jobs import load_all_tasks
    from xinyidai.market import service as market_service
    from xinyidai.market.schemas import ApplicationIn, ProductIn
    from xinyidai.records import service as records_service
    from xinyidai.risk.models import FraudCase, FraudHit
    from xinyidai.risk.service import fraud
    from xinyidai.synth import generate
    from xinyidai.synth.fraud import START

    load_all_tasks()
    folder = workdir / "region"
    manifest = timed(
        f"synth {args.enterprises:,} enterprises (seed {args.seed})",
        lambda: generate(folder, enterprises=args.enterprises, seed=args.seed),
    )
    bootstrap.initialize(url)

    def ingest() -> int:
        rows = 0
        for feed in ingest_service.feeds_in(folder, provider=None, category=None):
            if feed.category != "registration":
                continue
            session = new_session()
            try:
                with clock.frozen_at(START - timedelta(days=365)):
                    batch = ingest_service.ingest_file(session, feed=feed, actor="bench")
                session.commit()
                rows += batch.total
            finally:
                session.close()
        return rows

    rows = timed("ingest the registrations", ingest)
    print(f"  {rows:,} rows")

    changes = _read(folder / "platform" / "registration_changes.csv")

    def store_changes() -> int:
        with session_scope() as session:
            for change in changes:
                code = change["credit_code"]
                current = next(
                    iter(
                        records_service.current_data(
                            session, categories=["registration"], subject_codes=[code]
                        )
                    ),
                    None,
                )
                if current is None:  # its registration row was refused at ingestion
                    continue
                row = dict(current.data)
                row[change["field"]] = change["value"]
                with clock.frozen_at(_moment(change["changed_at"])):
                    ingest_service.push_rows(
                        session,
                        provider="market",
                        category="registration",
                        rows=[row],
                        actor="bench",
                    )
        return len(changes)

    timed(f"store {len(changes):,} registration changes at their times", store_changes)
    with session_scope() as session:
        keys = timed("build the association index", lambda: graph_service.rebuild_index(session))
    print(f"  {keys:,} keys")

    products: dict[str, str] = {}
    with session_scope() as session:
        for number in range(1, 7):
            organization = iam_service.create_organization(
                session,
                kind="institution",
                name=f"压测银行{number}",
                actor="bench",
                state="active",
                institution_type="bank",
                licence_number=f"B0000H00000{number:04d}",
            )
            bank = Principal(
                organization_id=organization.id,
                organization_public_id=organization.public_id,
                organization_kind="institution",
                organization_name=organization.name,
                organization_state="active",
                role="admin",
                user_id=1,
                username=f"bench.bank{number}",
                institution_type="bank",
            )
            product = market_service.products.create(
                session,
                principal=bank,
                data=ProductIn(
                    name=f"压测银行{number}信用贷",
                    product_type="credit",
                    amount_min=Decimal("10000"),
                    amount_max=Decimal("3000000"),
                    term_min=3,
                    term_max=36,
                    rate_min=Decimal("3.4500"),
                    rate_max=Decimal("8.0000"),
                    repayment_methods=["equal_instalment"],
                    zones=["fast"],
                ),
            )
            market_service.products.move(
                session, principal=bank, product=product, transition="publish"
            )
            products[str(number)] = product.public_id

    from sqlalchemy import select

    from xinyidai.registry.models import Enterprise

    applications = _read(folder / "platform" / "applications.csv")
    with session_scope() as session:
        registered = set(session.scalars(select(Enterprise.credit_code)))
    # a registration spoiled by a planted fault was refused at ingestion: nobody applies
    # in the name of a subject the platform does not know
    unknown = {row["credit_code"] for row in applications} - registered
    applications = [row for row in applications if row["credit_code"] in registered]
    print(f"  {len(unknown)} applicants left out: their registration row was refused")
    principals: dict[str, Principal] = {}
    version = 0
    with session_scope() as session:
        version = consent_service.latest_text_or_raise(session).version
    latencies: list[float] = []
    started = time.perf_counter()
    for number, row in enumerate(applications):
        code = row["credit_code"]
        at = _moment(row["submitted_at"])
        with clock.frozen_at(at), session_scope() as session:
            principal = principals.get(code)
            if principal is None:
                principal = principals[code] = Principal(
                    organization_id=0,
                    organization_public_id=f"org_bench_{code}",
                    organization_kind="enterprise",
                    organization_name=code,
                    organization_state="active",
                    role="admin",
                    user_id=1,
                    user_public_id="usr_bench",
                    username=f"bench.{code}",
                    credit_code=code,
                )
                consent_service.sign(session, principal=principal, version=version)
            application, _ = market_service.applications.submit(
                session,
                principal=principal,
                data=ApplicationIn(
                    product_id=products[row["institution"]],
                    amount=Decimal(row["amount"]),
                    term_months=12,
                    repayment_method="equal_instalment",
                    purpose="经营周转",
                    authorize=True,
                ),
            )
            session.flush()
            begun = time.perf_counter()
            fraud.scan_applications(session, [application])
            latencies.append(time.perf_counter() - begun)
        if (number + 1) % 500 == 0:
            print(f"  {number + 1:,} applications replayed", flush=True)
    elapsed = time.perf_counter() - started
    print(f"replay and scan {len(applications):,} applications: {elapsed:.1f} s")

    truth = {
        row["credit_code"]: row
        for row in _read(folder / "truth" / "fraud.csv")
        if row["credit_code"] in registered
    }
    fraudulent = {code for code, row in truth.items() if row["fraudulent"] == "1"}
    with session_scope() as session:
        flagged = set(session.scalars(select(FraudCase.credit_code)))
        by_rule: dict[str, set[str]] = defaultdict(set)
        for rule, code in session.execute(
            select(FraudHit.rule, FraudCase.credit_code).join(
                FraudCase, FraudCase.id == FraudHit.case_id
            )
        ):
            by_rule[rule].add(code)
    caught = flagged & fraudulent
    precision = len(caught) / len(flagged) if flagged else 0.0
    recall = len(caught) / len(fraudulent) if fraudulent else 0.0
    print()
    print(
        f"region: {manifest['counts']['enterprises']:,} enterprises, "
        f"{len(truth):,} applicants ({len(fraudulent)} fraudulent), "
        f"{len(applications):,} applications"
    )
    print(f"applicants flagged: {len(flagged)}, of them fraudulent: {len(caught)}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    print("recall by planted pattern:")
    patterns = Counter(row["pattern"] for row in truth.values() if row["fraudulent"] == "1")
    for pattern, total in sorted(patterns.items()):
        found = sum(
            1
            for code, row in truth.items()
            if row["pattern"] == pattern and row["fraudulent"] == "1" and code in flagged
        )
        print(f"  {pattern:<20} {found:>4}/{total:<4} {found / total:.3f}")
    print("hits by rule (applicants; precision):")
    for rule, codes in sorted(by_rule.items()):
        good = len(codes & fraudulent)
        print(f"  {rule:<22} {len(codes):>5}  {good / len(codes):.3f}")
    print(
        f"scan latency per application: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
