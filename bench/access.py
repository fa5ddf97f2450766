"""The access decision, the credit report and the audit trail on PostgreSQL.

    .venv/bin/python bench/access.py --enterprises 2000 --events 50000 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Generates a region with ``xyd synth`` and ingests it into a scratch database, signs the
commitment and grants the demo bank a letter for every enterprise, then measures: credit
reports through ``consent.decide`` + ``credit_report`` (each one an access event and a
letter use), panoramic profiles as JSON and PDF, refused queries, recording access events
alone, the auditor's search (one page by institution, by enterprise), the CSV export,
counts, anomaly flags, and ``xyd ledger verify`` re-hashing every access event. Drops the
database after.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--pdfs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
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


def profile_timings(args: argparse.Namespace, codes: list[str], bank: object) -> None:
    """Panoramic profiles (one decision, every part) as JSON and as PDF: the operator on its
    duty (every part shown) and the bank under its letter (records, lists, financing)."""
    from xinyidai.consent import service as consent
    from xinyidai.core.db import session_scope
    from xinyidai.iam import service as iam_service
    from xinyidai.profile import service as profile

    with session_scope() as session:
        operator = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="operator")
        )
    for who, principal, purpose in (
        ("operator", operator, "supervision"),
        ("bank", bank, "loan_application"),
    ):
        timings: list[float] = []
        for code in codes[: args.profiles]:
            started = time.perf_counter()
            with session_scope() as session:
                decision = consent.decide(
                    session, actor=principal, subject=code, purpose=purpose, channel="bench"
                )
                profile.build(session, decision, principal=principal, locale="zh_CN")
            timings.append(time.perf_counter() - started)
        print(
            f"profiles as JSON ({who}): {len(timings):,}, "
            f"median {statistics.median(timings) * 1000:.1f} ms, "
            f"p95 {percentile(timings, 0.95) * 1000:.1f} ms"
        )
    timings = []
    sizes: list[int] = []
    for code in codes[: args.pdfs]:
        started = time.perf_counter()
        with session_scope() as session:
            decision = consent.decide(
                session, actor=operator, subject=code, purpose="supervision", channel="bench"
            )
            found = profile.build(session, decision, principal=operator, locale="zh_CN")
            sizes.append(len(profile.pdf_of(session, found, locale="zh_CN")))
        timings.append(time.perf_counter() - started)
    if timings:
        print(
            f"profiles as PDF (operator): {len(timings):,}, "
            f"median {statistics.median(timings) * 1000:.0f} ms, "
            f"p95 {percentile(timings, 0.95) * 1000:.0f} ms, "
            f"median size {statistics.median(sizes) / 1024:.0f} KiB"
        )


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    from xinyidai import bootstrap
    from xinyidai.audit import flags
    from xinyidai.audit import service as audit_service
    from xinyidai.audit.schemas import EventFilter
    from xinyidai.consent import service as consent
    from xinyidai.consent.schemas import LetterIn
    from xinyidai.core import clock
    from xinyidai.core.db import new_session, session_scope
    from xinyidai.core.pagination import PageRequest, page_of
    from xinyidai.graph import service as graph_service
    from xinyidai.iam import service as iam_service
    from xinyidai.ingest import service as ingest
    from xinyidai.ledger import keys
    from xinyidai.ledger import service as ledger
    from xinyidai.ledger.verify import verify_ledger
    from xinyidai.registry.models import Enterprise
    from xinyidai.synth import generate

    region = workdir / "region"
    generate(region, enterprises=args.enterprises, seed=args.seed)
    bootstrap.initialize(url)
    for feed in ingest.feeds_in(region, provider=None, category=None):
        session = new_session()
        ingest.ingest_file(session, feed=feed, actor="bench")
        session.commit()
        session.close()
    keys.create_key()
    with session_scope() as session:
        # as a node runs: the index of link keys rebuilt after a bulk load (else every
        # association lookup folds in the whole load's changes)
        graph_service.rebuild_index(session)
    with session_scope() as session:
        codes = list(
            session.scalars(select(Enterprise.credit_code).order_by(Enterprise.credit_code))
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=codes[0])
        bank = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="bank")
        )
        enterprise = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="enterprise")
        )
    print(f"region: {len(codes):,} subjects")

    # One letter per enterprise (granted as if each enterprise signed it), then reports.
    with session_scope() as session:
        started = time.perf_counter()
        for code in codes[: args.reports]:
            granting = dataclasses.replace(enterprise, credit_code=code)
            consent.sign(session, principal=granting, version=1)
            consent.grant(
                session,
                principal=granting,
                data=LetterIn(
                    grantee_id=bank.organization_public_id,
                    categories=["tax_payment", "social_insurance", "tax_rating"],
                    purpose="loan_application",
                    valid_until=clock.now() + timedelta(days=90),
                    fetch_mode="on_demand",
                ),
            )
        granted = time.perf_counter() - started
    print(
        f"commitments signed and letters granted: {args.reports:,} in {granted:.1f} s "
        f"({args.reports / granted:,.0f}/s)"
    )

    timings: list[float] = []
    sections = 0
    for code in codes[: args.reports]:
        started = time.perf_counter()
        with session_scope() as session:
            decision = consent.decide(session, actor=bank, subject=code, channel="bench")
            report = consent.credit_report(session, decision, actor=bank)
        timings.append(time.perf_counter() - started)
        sections += len(report.sections)
    print(
        f"credit reports (decide + records + desensitize + audit event + letter use, one "
        f"transaction each): {len(timings):,}, median {statistics.median(timings) * 1000:.1f} ms, "
        f"p95 {percentile(timings, 0.95) * 1000:.1f} ms, {len(timings) / sum(timings):,.0f}/s; "
        f"{sections / len(timings):.1f} sections per report"
    )
    profile_timings(args, codes, bank)

    refused: list[float] = []
    for code in codes[args.reports : args.reports + 500]:
        started = time.perf_counter()
        with session_scope() as session:
            consent.decide(
                session, actor=bank, subject=code, categories=["tax_payment"], channel="bench"
            )
        refused.append(time.perf_counter() - started)
    if refused:
        print(
            f"refused queries: {len(refused):,}, median {statistics.median(refused) * 1000:.1f} ms"
        )

    started = time.perf_counter()
    written = 0
    while written < args.events:
        with session_scope() as session:
            for i in range(min(1000, args.events - written)):
                audit_service.record_access(
                    session,
                    principal=bank,
                    subject=codes[(written + i) % len(codes)],
                    categories=["registration"],
                    purpose="loan_application",
                    outcome="allow",
                    basis="public",
                    letter_id=None,
                    reason=None,
                    granted={"registration": "public"},
                    channel="bench",
                )
            written += min(1000, args.events - written)
    seconds = time.perf_counter() - started
    print(
        f"access events recorded alone: {written:,} in {seconds:.1f} s ({written / seconds:,.0f}/s)"
    )

    with session_scope() as session:
        total = int(session.scalar(text("SELECT count(*) FROM audit_access_event")) or 0)
        for label, flt in (
            ("by institution", EventFilter(organization=bank.organization_public_id)),
            ("by enterprise", EventFilter(subject=codes[7])),
            ("by outcome", EventFilter(outcome="deny")),
        ):
            started = time.perf_counter()
            page_of(session, audit_service.events_statement(flt=flt), PageRequest(page=3, size=50))
            took = (time.perf_counter() - started) * 1000
            print(f"search {label}, page 3 of 50, over {total:,} events: {took:.0f} ms")
        started = time.perf_counter()
        lines = sum(1 for _ in audit_service.csv_lines(session, flt=EventFilter()))
        seconds = time.perf_counter() - started
        print(
            f"CSV export: {lines - 1:,} events in {seconds:.1f} s ({(lines - 1) / seconds:,.0f}/s)"
        )
        started = time.perf_counter()
        audit_service.counts(session)
        print(f"counts: {(time.perf_counter() - started) * 1000:.0f} ms")
        started = time.perf_counter()
        found = flags.compute(session)
        print(f"flags: {len(found)} in {(time.perf_counter() - started) * 1000:.0f} ms")
    with session_scope() as session:
        ledger.integrate(session)
        ledger.publish_checkpoint(session)
    with session_scope() as session:
        started = time.perf_counter()
        report = verify_ledger(session)
        seconds = time.perf_counter() - started
    print(
        f"ledger verify: {report.size:,} leaves ({report.sources}) in {seconds:.1f} s, "
        f"ok={report.ok}"
    )


if __name__ == "__main__":
    main()
