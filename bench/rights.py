"""Subject rights: what the marks cost the views and the bulk reads, objections filed per
second, and the operator's figures over many objections.

    .venv/bin/python bench/rights.py --enterprises 2000

SQLite in a temporary folder. Registers ``--enterprises`` enterprises, each with an
administrative penalty and a tax grade as departments push them; then measures

- ``records_of`` of 200 enterprises before any mark and after every one of them has an
  objection in progress (the view reads the marks of the records it shows);
- ``category_frames`` of the penalties of every enterprise (the rating's bulk read) before
  any repair and after ``--repairs`` penalties are repaired (left out by the marks);
- filing an objection with a proof file (the service, its ledger leaf, the mark, the
  notices) per second, and ``objections.figures`` over all of them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

# bench/http.py would stand for the standard library's ``http``: this folder leaves the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--repairs", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="xyd-bench-rights-"))
    os.environ["XYD_DATA_DIR"] = str(folder)
    os.environ["XYD_DATABASE_URL"] = f"sqlite:///{folder / 'xyd.db'}"

    from xinyidai.catalog import service as catalog_service
    from xinyidai.core import clock, migrate
    from xinyidai.core.db import session_scope
    from xinyidai.iam.models import OrgKind
    from xinyidai.iam.schemas import Principal
    from xinyidai.ingest import service as ingest_service
    from xinyidai.records import service as records_service
    from xinyidai.records.models import CreditRecord, MarkKind
    from xinyidai.registry import creditcode
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn
    from xinyidai.rights.models import ObjectionTarget
    from xinyidai.rights.schemas import ObjectionIn
    from xinyidai.rights.service import documents, objections
    from xinyidai.scoring import service as rating_service

    migrate.upgrade(os.environ["XYD_DATABASE_URL"])
    codes = [creditcode.make(f"91450100MA{n:07d}") for n in range(1, args.enterprises + 1)]
    day = (clock.today() - timedelta(days=200)).isoformat()
    with session_scope() as session, rating_service.arrival_paused():
        catalog_service.load_defaults(session)
        for code in codes:
            registry_service.create(
                session,
                data=EnterpriseIn(
                    credit_code=code, name=f"基准企业{code[-6:]}", region_code="450100"
                ),
            )
        for start in range(0, len(codes), 1000):
            chunk = codes[start : start + 1000]
            base = [{"credit_code": c, "enterprise_name": f"基准企业{c[-6:]}"} for c in chunk]
            ingest_service.push_rows(
                session,
                provider="credit",
                category="admin_penalty",
                rows=[
                    b
                    | {
                        "decision_number": f"罚{c}",
                        "fine_amount": "1000",
                        "decided_on": day,
                        "region_code": "450100",
                    }
                    for b, c in zip(base, chunk, strict=True)
                ],
                actor="bench",
            )
            ingest_service.push_rows(
                session,
                provider="tax",
                category="tax_rating",
                rows=[
                    b | {"year": 2025, "grade": "B", "rated_on": day, "region_code": "450100"}
                    for b in base
                ],
                actor="bench",
            )

    sample = codes[:200]

    def views() -> float:
        started = time.perf_counter()
        with session_scope() as session:
            for code in sample:
                records_service.records_of(session, subject_code=code)
        return (time.perf_counter() - started) / len(sample) * 1000

    def frames() -> float:
        started = time.perf_counter()
        with session_scope() as session:
            records_service.category_frames(session, fields={"admin_penalty": ["fine_amount"]})
        return time.perf_counter() - started

    views(), frames()  # warm: the catalogue's cache, polars' import
    view_before, frame_before = views(), frames()

    proof = documents.Upload("proof.pdf", "application/pdf", b"%PDF-1.4\n%bench\n%%EOF\n")
    started = time.perf_counter()
    for code in sample:
        principal = Principal(
            organization_id=0,
            organization_public_id="bench",
            organization_kind=OrgKind.ENTERPRISE,
            organization_name="bench",
            organization_state="active",
            role="staff",
            credit_code=code,
            system="bench",
        )
        with session_scope() as session:
            record = (
                session.query(CreditRecord)
                .filter_by(subject_code=code, category="tax_rating")
                .one()
            )
            objections.file(
                session,
                principal=principal,
                data=ObjectionIn(
                    target=ObjectionTarget.FIELD,
                    record_id=record.id,
                    field="grade",
                    wrong="等级有误",
                    correction_asked="应为A",
                ),
                uploads=[proof],
            )
    filed_per_second = len(sample) / (time.perf_counter() - started)

    with session_scope() as session:
        penalties = (
            session.query(CreditRecord).filter_by(category="admin_penalty").limit(args.repairs)
        )
        for row in penalties:
            records_service.pin_mark(
                session,
                record_id=row.id,
                category=row.category,
                subject_code=row.subject_code,
                kind=MarkKind.REPAIRED,
                reference=f"bench-{row.id[:8]}",
            )
    view_after, frame_after = views(), frames()
    started = time.perf_counter()
    with session_scope() as session:
        figures = objections.figures(session)
    figures_ms = (time.perf_counter() - started) * 1000
    print(f"enterprises {args.enterprises}, objections {figures.received}, repaired {args.repairs}")
    print(
        f"records_of per enterprise: {view_before:.2f} ms without marks, {view_after:.2f} ms with"
    )
    print(
        f"category_frames (penalties, all): {frame_before:.3f} s, {frame_after:.3f} s with repairs"
    )
    print(f"objections filed: {filed_per_second:.1f} per second (with a proof file)")
    print(f"figures over {figures.received} objections: {figures_ms:.1f} ms")


if __name__ == "__main__":
    main()
