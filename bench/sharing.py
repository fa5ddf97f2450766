"""Risk sharing at scale on PostgreSQL: enrolment, claims, statements and subsidies.

    .venv/bin/python bench/sharing.py [--loans 10000] [--defaults 0.05]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--sqlite]

Makes a scratch database (dropped at the end), migrates it, and writes a loan book straight
into the marketplace's tables (12-month equal-principal loans of 100,000–1,000,000 yuan
across 2,000 borrowers, started 3 months ago, a ``--defaults`` share of them defaulted with
their instalments unpaid, the others with their last month's instalment repaid). Then,
through the services the API uses, each phase committed in chunks of 500 as the API would:

1. every loan enrolled under one 4:3:2:1 scheme (guarantee contract, fee, a ledger leaf);
2. every defaulted loan's claim filed (loss from its schedule), reviewed (the pool's part
   reserved), endorsed, approved and paid (split to the fen, the pool debited, one leaf per
   movement), then 10% recovered;
3. the month's statement of the pool (CSV and XLSX);
4. the month's interest subsidies of the bank (50% of the interest paid), applied, approved
   and paid.
Printed: each phase's rate. The default (10,000 loans) is quick; ``--loans 100000`` is the
issue's size.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the standard library's http for this script's imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))

CHUNK = 500
MONTH_DAYS = 30  # the month of repayments subsidised
BORROWERS = 2_000


def say(message: str) -> None:
    print(message, flush=True)


def rate(label: str, count: int, seconds: float) -> None:
    say(f"{label}: {count:,} in {seconds:.1f} s, {count / max(seconds, 1e-9):,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--defaults", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xyd-bench-sharing-"))
    os.environ["XYD_ENV"] = "test"
    os.environ["XYD_QUEUE_IMMEDIATE"] = "true"
    os.environ["XYD_DATA_DIR"] = str(workdir)
    admin = name = None
    if args.sqlite:
        url = f"sqlite:///{workdir / 'xyd.db'}"
    else:
        from sqlalchemy import create_engine, text

        from xinyidai.core.settings import normalize_database_url

        admin_url = normalize_database_url(args.postgres)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"xyd_bench_sharing_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["XYD_DATABASE_URL"] = url
    try:
        run(args, url)
    finally:
        from xinyidai.core import db as core_db

        core_db.get_engine().dispose()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _principal(org: Any, username: str) -> Any:
    from xinyidai.iam.schemas import Principal

    return Principal(
        organization_id=org.id,
        organization_public_id=org.public_id,
        organization_kind=org.kind,
        organization_name=org.name,
        organization_state=org.state,
        role="admin",
        user_id=1,
        username=username,
        institution_type=org.institution_type,
    )


def write_book(session: Any, args: argparse.Namespace, institution_id: str) -> tuple[int, int]:
    """The loan book and last month's repayments, straight into the marketplace's tables."""
    from sqlalchemy import insert, select

    from xinyidai.core import clock
    from xinyidai.market import schedules
    from xinyidai.market.models import Instalment, Loan, LoanState, Repayment

    rng = random.Random(args.seed)
    today = clock.today()
    start = today - timedelta(days=95)
    now = clock.now()
    defaulted = set(rng.sample(range(args.loans), int(args.loans * args.defaults)))
    repayments = 0
    for first in range(0, args.loans, CHUNK):
        numbers = range(first, min(first + CHUNK, args.loans))
        loans = []
        for n in numbers:
            amount = Decimal(rng.randrange(100, 1001) * 1000)
            loans.append(
                {
                    "public_id": f"loan_b{n:07d}",
                    "contract_number": f"XYD-BENCH-{n:07d}",
                    "application_id": f"app_b{n:07d}",
                    "product_id": "prd_bench",
                    "product_type": "credit",
                    "institution_id": institution_id,
                    "institution_name": "基准银行",
                    "credit_code": f"9145010{n % BORROWERS:011d}",
                    "enterprise_name": f"基准企业{n % BORROWERS}",
                    "region_code": "450103",
                    "principal": amount,
                    "rate": Decimal("4.0000"),
                    "term_months": 12,
                    "repayment_method": "equal_principal",
                    "start_on": start,
                    "maturity_on": start + timedelta(days=366),
                    "balance": amount,
                    "interest_paid": Decimal("0.00"),
                    "state": LoanState.DEFAULTED if n in defaulted else LoanState.CURRENT,
                    "state_changed_at": now,
                    "state_changed_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(Loan), loans)
        ids = dict(
            session.execute(
                select(Loan.public_id, Loan.id).where(
                    Loan.public_id.in_([row["public_id"] for row in loans])
                )
            ).all()
        )
        lines, paid = [], []
        for row in loans:
            plan = schedules.schedule(row["principal"], row["rate"], 12, "equal_principal", start)
            late = row["state"] == LoanState.DEFAULTED
            for line in plan:
                due = line.due_on < today and not late
                lines.append(
                    {
                        "loan_id": ids[row["public_id"]],
                        "number": line.number,
                        "due_on": line.due_on,
                        "principal": line.principal,
                        "interest": line.interest,
                        "paid_principal": line.principal if due else Decimal("0.00"),
                        "paid_interest": line.interest if due else Decimal("0.00"),
                        "paid_on": line.due_on if due else None,
                    }
                )
                if due and line.due_on >= today - timedelta(days=MONTH_DAYS):
                    paid.append(
                        {
                            "public_id": f"rep_b{len(paid)}_{row['public_id']}_{line.number}",
                            "loan_id": ids[row["public_id"]],
                            "amount": line.principal + line.interest,
                            "principal": line.principal,
                            "interest": line.interest,
                            "paid_on": line.due_on,
                            "recorded_at": now,
                            "recorded_by": "bench",
                        }
                    )
        session.execute(insert(Instalment), lines)
        if paid:
            session.execute(insert(Repayment), paid)
        repayments += len(paid)
        session.commit()
    return len(defaulted), repayments


def run(args: argparse.Namespace, url: str) -> None:
    from sqlalchemy import func, select

    from xinyidai import bootstrap
    from xinyidai.consent import service as consent_service
    from xinyidai.core import clock
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service
    from xinyidai.jobs import load_all_tasks
    from xinyidai.market.models import Loan
    from xinyidai.sharing.models import Claim, Movement
    from xinyidai.sharing.schemas import PartyIn, PoolIn, SchemeIn, SubsidySchemeIn
    from xinyidai.sharing.service import claims, enrolment, pools, schemes, subsidies

    load_all_tasks()
    say(f"database: {url.split('://', 1)[0]}; {args.loans:,} loans, {args.defaults:.0%} defaulted")
    bootstrap.initialize(url)
    with session_scope() as session:
        operator_org = iam_service.create_organization(
            session, kind="operator", name="信用中心", actor="bench", state="active"
        )
        bank_org = iam_service.create_organization(
            session,
            kind="institution",
            name="基准银行",
            actor="bench",
            state="active",
            institution_type="bank",
            licence_number="B0000H000000009",
        )
        guarantor_org = iam_service.create_organization(
            session,
            kind="institution",
            name="基准担保",
            actor="bench",
            state="active",
            institution_type="guarantor",
            licence_number="G0000H000000009",
        )
        operator = consent_service.console_principal(session, name="bench")
        bank = _principal(bank_org, "bank")
        guarantor = _principal(guarantor_org, "guarantor")
        del operator_org
    started = time.perf_counter()
    with session_scope() as session:
        defaulted, repaid = write_book(session, args, bank.organization_public_id)
    say(
        f"loan book written: {args.loans:,} loans, {defaulted:,} defaulted, {repaid:,} repayments "
        f"in the last month ({time.perf_counter() - started:.1f} s)"
    )
    with session_scope() as session:
        pool = pools.create(
            session, principal=operator, data=PoolIn(region_code="450000", name="风险补偿资金池")
        )
        pools.top_up(
            session,
            principal=operator,
            pool_id=pool.public_id,
            amount=Decimal("1000000000.00"),
            note="财政注资",
        )
        scheme = schemes.create(
            session,
            principal=operator,
            data=SchemeIn(
                name="4:3:2:1",
                region_code="450000",
                product_types=["credit"],
                parties=[
                    PartyIn(role="guarantor", name="基准担保", share=Decimal(40)),
                    PartyIn(role="reguarantor", name="省再担保", share=Decimal(30)),
                    PartyIn(role="bank", name="基准银行", share=Decimal(20)),
                    PartyIn(role="treasury", name="市县政府", share=Decimal(10), pool_pays=True),
                ],
                loss_basis="principal_interest",
                interest_days=90,
                claim_deadline_days=180,
                guarantor_id=guarantor.organization_public_id,
                valid_from=date(2020, 1, 1),
            ),
        )
        schemes.move(
            session,
            principal=operator,
            scheme_id=scheme.public_id,
            transition="activate",
            reason=None,
        )
        scheme_id = scheme.id
        pool_id = pool.public_id

    # 1. enrolment
    started = time.perf_counter()
    last = 0
    while True:
        with session_scope() as session:
            from xinyidai.sharing.models import Scheme

            scheme_row = session.get(Scheme, scheme_id)
            batch = list(
                session.scalars(select(Loan).where(Loan.id > last).order_by(Loan.id).limit(CHUNK))
            )
            if not batch:
                break
            for loan in batch:
                enrolment.enrol(session, loan=loan, scheme=scheme_row, actor="bench")
            last = batch[-1].id
    rate("enrolled (contract, fee, ledger leaf)", args.loans, time.perf_counter() - started)

    # 2. claims
    with session_scope() as session:
        from xinyidai.market.models import LoanState

        to_claim = list(
            session.scalars(
                select(Loan.public_id).where(Loan.state == LoanState.DEFAULTED).order_by(Loan.id)
            )
        )
    claim_ids: list[str] = []
    started = time.perf_counter()
    for first in range(0, len(to_claim), CHUNK):
        with session_scope() as session:
            claim_ids += [
                claims.file(session, principal=bank, loan_id=loan_id)[0].public_id
                for loan_id in to_claim[first : first + CHUNK]
            ]
    rate(
        "claims filed (loss from the schedule, caps, deadline)",
        len(claim_ids),
        time.perf_counter() - started,
    )
    steps = [
        ("reviewed (pool part reserved)", guarantor, "review"),
        ("endorsed by the guarantor", guarantor, "endorse"),
        ("approved", operator, "approve"),
        ("paid (split to the fen, pool debited)", operator, "pay"),
    ]
    for label, who, transition in steps:
        started = time.perf_counter()
        for first in range(0, len(claim_ids), CHUNK):
            with session_scope() as session:
                for claim_id in claim_ids[first : first + CHUNK]:
                    claims.move(session, principal=who, claim_id=claim_id, transition=transition)
        rate(f"claims {label}", len(claim_ids), time.perf_counter() - started)
    started = time.perf_counter()
    for first in range(0, len(claim_ids), CHUNK):
        with session_scope() as session:
            for claim_id in claim_ids[first : first + CHUNK]:
                claim = session.scalar(select(Claim).where(Claim.public_id == claim_id))
                claims.recover(
                    session,
                    principal=bank,
                    claim_id=claim_id,
                    amount=(claim.paid_total / 10).quantize(Decimal("0.01")),
                )
    rate("recoveries shared back", len(claim_ids), time.perf_counter() - started)
    with session_scope() as session:
        movements = session.scalar(select(func.count()).select_from(Movement))
        shown = pools.out(session, pools.get_or_raise(session, pool_id=pool_id))
    say(
        f"movements (ledger leaves): {movements:,}; pool balance {shown.balance}, "
        f"leverage {shown.leverage}"
    )

    # 3. the month's statement
    today = clock.today()
    month = today - timedelta(days=MONTH_DAYS)
    with session_scope() as session:
        pool = pools.get_or_raise(session, pool_id=pool_id)
        started = time.perf_counter()
        text = pools.statement_csv(session, pool, start=month, end=today)
        csv_seconds = time.perf_counter() - started
        started = time.perf_counter()
        book = pools.statement_xlsx(session, pool, start=month, end=today)
        xlsx_seconds = time.perf_counter() - started
    rows = text.count("\n") - 1
    say(
        f"pool statement for the month: {rows:,} rows, CSV {csv_seconds:.2f} s, "
        f"XLSX {xlsx_seconds:.2f} s ({len(book):,} bytes)"
    )

    # 4. the month's subsidies
    with session_scope() as session:
        sub = subsidies.create_scheme(
            session,
            principal=operator,
            data=SubsidySchemeIn(
                name="贴息",
                region_code="450000",
                rule="share",
                rate=Decimal(50),
                valid_from=date(2020, 1, 1),
            ),
        )
        subsidies.move_scheme(
            session, principal=operator, scheme_id=sub.public_id, transition="activate", reason=None
        )
        sub_id = sub.public_id
    start = today - timedelta(days=MONTH_DAYS)
    started = time.perf_counter()
    with session_scope() as session:
        batch = subsidies.apply(
            session,
            principal=bank,
            scheme_id=sub_id,
            start=max(start, date(today.year, 1, 1)),
            end=today,
        )
        batch_id, lines, total = batch.public_id, batch.lines, batch.total
    rate("subsidies computed (from repayments' interest)", lines, time.perf_counter() - started)
    started = time.perf_counter()
    with session_scope() as session:
        subsidies.move_batch(
            session, principal=operator, batch_id=batch_id, transition="approve", reason=None
        )
        subsidies.move_batch(
            session, principal=operator, batch_id=batch_id, transition="pay", reason=None
        )
    rate(f"subsidies approved and paid (total {total})", lines, time.perf_counter() - started)


if __name__ == "__main__":
    main()
