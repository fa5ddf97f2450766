"""The financing marketplace under load: applications through the API with automatic rules.

    .venv/bin/python bench/market.py --applications 10000 --workers 16 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

A scratch PostgreSQL database is migrated; ``--enterprises`` enterprises are registered,
each with a signed commitment and a bearer token; the demo bank publishes a product with
automatic rules (hard declines, grade threshold, caps and rates by grade) and every
enterprise is rated once. Then ``--applications`` ``POST /api/v1/applications`` requests
(each with an ``Idempotency-Key``) are sent by ``--workers`` threads through the real app
(FastAPI's TestClient, one per worker): each grants the bank a letter, is decided by the
rules at once and answered. Printed: throughput (applications per second, wall clock) and
the decision latency recorded by the platform (submission to decision) and the request
latency seen by the client, p50/p95/p99. The scratch database is dropped at the end
(``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--enterprises", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.environ["XYD_ENV"] = "test"
    os.environ["XYD_QUEUE_IMMEDIATE"] = "true"
    from xinyidai import bootstrap
    from xinyidai.core.settings import normalize_database_url

    admin_url = normalize_database_url(args.postgres)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"xyd_bench_market_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    try:
        run(args, url, bootstrap)
    finally:
        from xinyidai.core import db as core_db

        core_db.get_engine().dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace, url: str, bootstrap: object) -> None:
    from decimal import Decimal

    from fastapi.testclient import TestClient
    from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE

    from xinyidai.app import create_app
    from xinyidai.consent import service as consent_service
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service
    from xinyidai.market import service
    from xinyidai.market.models import Application
    from xinyidai.market.schemas import ProductIn, RulesIn
    from xinyidai.registry import creditcode
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn
    from xinyidai.scoring import service as scoring_service

    t0 = time.perf_counter()
    bootstrap.initialize(url)  # type: ignore[attr-defined]
    codes = [ENTERPRISE_CODE] + [
        creditcode.make(f"91450100MB{n:07d}") for n in range(1, args.enterprises)
    ]
    with session_scope() as session:
        for n, code in enumerate(codes):
            registry_service.create(
                session,
                data=EnterpriseIn(
                    credit_code=code, name=f"压测企业{n}有限公司", region_code="450103"
                ),
            )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        version = consent_service.latest_text_or_raise(session).version
        for n, code in enumerate(codes[1:], start=1):
            organization = iam_service.create_organization(
                session,
                kind="enterprise",
                name=f"压测企业{n}有限公司",
                actor="bench",
                state="active",
                credit_code=code,
            )
            iam_service.create_user(
                session,
                organization=organization,
                username=f"bench{n}",
                display_name="b",
                password=DEMO_PASSWORD,
                actor="bench",
                role="admin",
            )
        session.flush()
        users = ["enterprise"] + [f"bench{n}" for n in range(1, args.enterprises)]
        for username in users:
            principal = iam_service.principal_for_user(
                iam_service.get_user_or_raise(session, username=username), via="token"
            )
            consent_service.sign(session, principal=principal, version=version)
        bank = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="bank"), via="token"
        )
        product = service.products.create(
            session,
            principal=bank,
            data=ProductIn(
                name="压测纯信用贷",
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
        service.products.move(session, principal=bank, product=product, transition="publish")
        service.rules.configure(
            session,
            principal=bank,
            product=product,
            data=RulesIn(
                min_grade="CCC",
                amount_caps={
                    "AAA": Decimal("3000000"),
                    "A": Decimal("800000"),
                    "B": Decimal("200000"),
                },
                rates={
                    "AAA": Decimal("3.4500"),
                    "A": Decimal("4.5000"),
                    "B": Decimal("6.5000"),
                    "C": Decimal("8.0000"),
                },
            ),
        )
        product_id = product.public_id
        scoring_service.rate_subjects(session, credit_codes=codes)
    print(
        f"setup: {len(codes)} enterprises, product {product_id}, {time.perf_counter() - t0:.1f}s",
        flush=True,
    )

    app = create_app()
    local = threading.local()
    tokens: dict[str, str] = {}
    with TestClient(app) as client:
        for username in users:
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
            )
            tokens[username] = response.json()["access_token"]

    def send(i: int) -> tuple[float, int, str]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = TestClient(app)
        username = users[i % len(users)]
        started = time.perf_counter()
        response = client.post(
            "/api/v1/applications",
            json={
                "product_id": product_id,
                "amount": str(50_000 + (i % 50) * 10_000),
                "term_months": 12,
                "repayment_method": "equal_instalment",
                "purpose": "压测",
                "authorize": True,
            },
            headers={"Authorization": f"Bearer {tokens[username]}", "Idempotency-Key": f"k{i}"},
        )
        state = (
            response.json().get("state", "error")
            if response.status_code < 300
            else (f"http {response.status_code}")
        )
        return time.perf_counter() - started, response.status_code, state

    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(send, range(args.applications)))
    wall = time.perf_counter() - t1
    outcomes: dict[str, int] = {}
    for _, _, state in results:
        outcomes[state] = outcomes.get(state, 0) + 1
    request_ms = [r[0] * 1000 for r in results]
    with session_scope() as session:
        decided = [
            float(ms)
            for ms in session.scalars(
                select(Application.decision_ms).where(Application.decision_ms.is_not(None))
            )
        ]
    print(
        f"applications: {len(results)} in {wall:.1f}s = {len(results) / wall:.0f}/s "
        f"with {args.workers} workers; outcomes {outcomes}"
    )
    for label, values in (("decision (platform)", decided), ("request (client)", request_ms)):
        if values:
            print(
                f"{label} latency ms: p50 {percentile(values, 0.5):.0f} "
                f"p95 {percentile(values, 0.95):.0f} p99 {percentile(values, 0.99):.0f}"
            )


if __name__ == "__main__":
    main()
