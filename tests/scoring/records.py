"""Hand-built records for the rating tests, stored through the ingestion service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from tests.ingest.tables import code

from xinyidai.catalog import service as catalog_service
from xinyidai.ingest import service as ingest_service
from xinyidai.ingest.models import Batch
from xinyidai.scoring import platform_model
from xinyidai.scoring.scorecard.model import Feature

REGION = "640104"


def push(session: Session, category: str, rows: list[dict[str, Any]]) -> Batch:
    """Store ``rows`` of ``category`` as its source department would push them; none may be
    rejected."""
    filled = [
        {"enterprise_name": f"宁夏测试{row['credit_code'][-6:]}有限公司", "region_code": REGION}
        | row
        for row in rows
    ]
    source = catalog_service.get_by_code_or_raise(session, code=category).provider
    batch = ingest_service.push_rows(
        session, provider=source, category=category, rows=filled, actor="test"
    )
    assert batch.rejected == 0, [
        r.reason for r in ingest_service.rejections_of(session, batch_id=batch.id)[0]
    ]
    return batch


def register(session: Session, n: int, *, established_on: str, capital: str | None) -> str:
    """Register test enterprise ``n``; its credit code."""
    credit_code = code(n)
    row: dict[str, Any] = {
        "credit_code": credit_code,
        "legal_representative": "张三",
        "established_on": established_on,
    }
    if capital is not None:
        row["registered_capital"] = capital
    push(session, "registration", [row])
    return credit_code


def build_enterprise_a(session: Session) -> str:
    """One enterprise with a bit of everything, as of 2025-12-31 (see test_features)."""
    a = register(session, 1, established_on="2015-06-01", capital="1000000")
    push(
        session,
        "tax_rating",
        [
            {"credit_code": a, "year": 2023, "grade": "D", "rated_on": "2024-04-10"},
            {"credit_code": a, "year": 2024, "grade": "B", "rated_on": "2025-04-10"},
        ],
    )
    push(
        session,
        "tax_payment",
        [
            {
                "credit_code": a,
                "tax_item": "增值税",
                "period_start": "2025-01-01",
                "tax_paid": "100",
            },
            {
                "credit_code": a,
                "tax_item": "增值税",
                "period_start": "2025-07-01",
                "tax_paid": "200",
                "overdue_tax": "50",
            },
            {
                "credit_code": a,
                "tax_item": "企业所得税",
                "period_start": "2024-01-01",
                "tax_paid": "150",
            },
        ],
    )
    push(
        session,
        "admin_penalty",
        [
            {
                "credit_code": a,
                "decision_number": "P1",
                "fine_amount": "5000",
                "penalty_type": "罚款",
                "decided_on": "2025-06-01",
            },
            {
                "credit_code": a,
                "decision_number": "P2",
                "fine_amount": "1000",
                "severity": "严重",
                "decided_on": "2024-01-10",
            },
            # past the three-year disclosure period on 2025-12-31: not used
            {
                "credit_code": a,
                "decision_number": "P3",
                "fine_amount": "9000",
                "decided_on": "2021-01-01",
            },
            # after the as-of day: not used
            {
                "credit_code": a,
                "decision_number": "P4",
                "fine_amount": "7000",
                "decided_on": "2026-03-01",
            },
        ],
    )
    push(
        session,
        "social_insurance",
        [
            {
                "credit_code": a,
                "year": 2024,
                "insured_count": 10,
                "due_amount": "1000",
                "arrears_months": 0,
                "as_of": "2024-12-31",
            },
            {
                "credit_code": a,
                "year": 2025,
                "insured_count": 12,
                "due_amount": "1200",
                "arrears_months": 3,
                "arrears_amount": "300",
                "as_of": "2025-12-31",
            },
        ],
    )
    push(
        session,
        "abnormal_operation",
        [
            {
                "credit_code": a,
                "reason": "未按规定公示年报",
                "listed_on": "2024-05-01",
                "removed_on": "2025-01-01",
            },
            {"credit_code": a, "reason": "通过登记的住所无法联系", "listed_on": "2025-09-01"},
        ],
    )
    push(
        session,
        "utility_payment",
        [
            {
                "credit_code": a,
                "account_number": "E1",
                "utility": "电力",
                "period_start": "2025-01-01",
                "billed_amount": "1000",
                "arrears_months": 2,
                "arrears_amount": "300",
            },
            {
                "credit_code": a,
                "account_number": "W1",
                "utility": "自来水",
                "period_start": "2025-01-01",
                "billed_amount": "100",
                "arrears_months": 0,
            },
            {
                "credit_code": a,
                "account_number": "E1",
                "utility": "电力",
                "period_start": "2023-01-01",
                "billed_amount": "900",
                "arrears_months": 5,
                "arrears_amount": "800",
            },
        ],
    )
    push(
        session,
        "court_enforcement",
        [
            {
                "credit_code": a,
                "case_number": "E-1",
                "amount": "1000",
                "filed_on": "2024-02-01",
                "status": "已结案",
            },
            {
                "credit_code": a,
                "case_number": "E-2",
                "amount": "2000",
                "filed_on": "2025-02-01",
                "status": "执行中",
            },
        ],
    )
    push(
        session,
        "guarantee",
        [
            {
                "credit_code": a,
                "borrower_code": code(9),
                "borrower_name": "宁夏借款有限公司",
                "contract_number": "G1",
                "amount": "500000",
                "start_on": "2025-01-01",
                "end_on": "2026-12-31",
                "status": "正常",
            },
            {
                "credit_code": a,
                "borrower_code": code(9),
                "borrower_name": "宁夏借款有限公司",
                "contract_number": "G2",
                "amount": "300000",
                "start_on": "2024-01-01",
                "status": "已解除",
            },
        ],
    )
    push(
        session,
        "dishonest_debtor",
        [
            {
                "credit_code": a,
                "case_number": "E-2",
                "published_on": "2025-05-01",
                "amount": "2000",
            },
        ],
    )
    return a


def enforcement_feature() -> Feature:
    """The court-enforcement indicator the rating model in force uses (it keeps one of the
    three; which depends on the training data)."""
    model = platform_model.current()
    found = [f for f in model.features if f.name.startswith("enforcement_")]
    assert len(found) == 1, [f.name for f in model.features]
    return found[0]
