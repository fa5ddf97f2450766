"""The demo's subject-rights story: the demo enterprise's objections in several states (one
past its deadline), its repairs (one approved, one waiting), a self-report and a
self-query, so every face of the rights pages has something to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.records.models import CreditRecord
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import Objection, ObjectionTarget
from xinyidai.rights.schemas import ObjectionIn, RepairIn
from xinyidai.rights.service import objections, repairs, self_query, self_reports
from xinyidai.rights.service.documents import Upload

PROOF = Upload(
    filename="证明材料.pdf",
    content_type="application/pdf",
    content=b"%PDF-1.4\n% XYD demo proof\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
)
PENALTY_SOURCE = "credit"


@dataclass(frozen=True)
class DemoRights:
    objections: int
    repairs: int
    created: bool


def _records(session: Session, code: str, providers: set[str]) -> list[CreditRecord]:
    specs = catalog_service.specs_in_force(session)
    rows = session.scalars(
        select(CreditRecord).where(CreditRecord.subject_code == code).order_by(CreditRecord.id)
    )
    return [r for r in rows if r.category in specs and specs[r.category].provider in providers]


def _penalty(session: Session, code: str, *, days_ago: int, number: str) -> CreditRecord:
    """An ordinary administrative penalty of the demo enterprise, as the credit department
    sends it (the demo's repairs need one past its public period)."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    row = {
        "credit_code": code,
        "enterprise_name": subject.name,
        "decision_number": number,
        "violation": "未按规定公示年度报告",
        "fine_amount": "5000",
        "severity": "一般",
        "decided_on": (clock.today() - timedelta(days=days_ago)).isoformat(),
        "region_code": subject.region_code or "450100",
    }
    ingest_service.push_rows(
        session, provider=PENALTY_SOURCE, category="admin_penalty", rows=[row], actor="system:demo"
    )
    found = session.scalar(
        select(CreditRecord).where(
            CreditRecord.subject_code == code,
            CreditRecord.category == "admin_penalty",
            CreditRecord.data["decision_number"].as_string() == number,
        )
    )
    assert found is not None
    return found


def _department(code: str, name: str) -> Principal:
    """A department acting in the demo (its code decides what it may answer)."""
    return Principal(
        organization_id=0,
        organization_public_id=f"demo-{code}",
        organization_kind=OrgKind.PROVIDER,
        organization_name=name,
        organization_state="active",
        role="staff",
        organization_code=code,
        system="demo",
    )


def ensure_demo_rights(
    session: Session, *, enterprise: Principal, department: Principal, operator: Principal
) -> DemoRights:
    """Objections and repairs of the demo enterprise in several states, one objection
    overdue (once; again it changes nothing). ``department`` is a demo department whose
    records of the enterprise get the objections it answers."""
    if session.scalar(select(Objection.id).limit(1)) is not None:
        return DemoRights(objections=0, repairs=0, created=False)
    code = enterprise.credit_code or ""
    own = _records(session, code, {department.organization_code or ""})
    filed = 0
    # past its deadline: filed 25 days ago, never answered
    if own:
        with clock.frozen_at(clock.now() - timedelta(days=25)):
            objections.file(
                session,
                principal=enterprise,
                data=ObjectionIn(
                    target=ObjectionTarget.RECORD,
                    record_id=own[0].id,
                    wrong="该记录并非本企业的经营事项",
                    correction_asked="请核实后删除或更正",
                ),
                uploads=[PROOF],
            )
        filed += 1
    # being verified by the department
    if len(own) > 1:
        spec = catalog_service.specs_in_force(session)[own[1].category]
        field = next(f.name for f in spec.fields if f.name not in spec.key_fields)
        verifying = objections.file(
            session,
            principal=enterprise,
            data=ObjectionIn(
                target=ObjectionTarget.FIELD,
                record_id=own[1].id,
                field=field,
                wrong="字段填报有误",
                correction_asked="请按原始凭证更正",
            ),
            uploads=[PROOF],
        )
        for move in ("accept", "verify"):
            objections.move(session, principal=department, objection=verifying, name=move)
        filed += 1
    # the rating: answered (upheld) and closed by the enterprise
    rating = objections.file(
        session,
        principal=enterprise,
        data=ObjectionIn(
            target=ObjectionTarget.RATING,
            wrong="评价未反映本年度纳税情况",
            correction_asked="请重新评价",
        ),
    )
    for move, reason in (("accept", None), ("verify", None), ("uphold", "评价依据的数据无误")):
        objections.move(session, principal=operator, objection=rating, name=move, reason=reason)
    objections.move(session, principal=enterprise, objection=rating, name="close")
    filed += 1
    # a penalty just filed: declined as out of scope
    recent = _penalty(session, code, days_ago=40, number="XYD-DEMO-罚〔2026〕1号")
    declined = objections.file(
        session,
        principal=enterprise,
        data=ObjectionIn(
            target=ObjectionTarget.RECORD,
            record_id=recent.id,
            wrong="处罚金额过高",
            correction_asked="请减轻处罚",
        ),
    )
    objections.move(
        session,
        principal=_department(PENALTY_SOURCE, "信用办"),
        objection=declined,
        name="decline",
        reason="对处罚决定本身的异议应依法申请行政复议",
    )
    filed += 1
    # repairs: one approved (the record no longer shown), one waiting for the operator
    old = _penalty(session, code, days_ago=400, number="XYD-DEMO-罚〔2025〕7号")
    approved = repairs.apply(
        session,
        principal=enterprise,
        data=RepairIn(record_id=old.id, statement="罚款已缴清，年报已补报", commitment_signed=True),
        uploads=[PROOF],
    )
    repairs.move(
        session, principal=operator, repair=approved, name="approve", reason="已履行，公示期满"
    )
    waiting_record = _penalty(session, code, days_ago=200, number="XYD-DEMO-罚〔2026〕2号")
    repairs.apply(
        session,
        principal=enterprise,
        data=RepairIn(
            record_id=waiting_record.id,
            statement="已完成整改并参加信用修复培训",
            commitment_signed=True,
        ),
        uploads=[PROOF],
    )
    self_reports.report(
        session,
        principal=enterprise,
        item="研发投入",
        content="2025年研发投入 360 万元",
        uploads=[PROOF],
    )
    self_query.run(session, principal=enterprise)
    session.flush()
    return DemoRights(objections=filed, repairs=2, created=True)
