"""Builds small related-party situations through the ingestion service, as departments would."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from xinyidai.ingest import service as ingest_service
from xinyidai.registry import creditcode


def code(n: int, region: str = "640104") -> str:
    """A valid credit code for the n-th test enterprise, registered in ``region``."""
    return creditcode.make(f"91{region}MA{n:07d}")


def _push(session: Session, provider: str, category: str, rows: list[dict[str, Any]]) -> None:
    batch = ingest_service.push_rows(
        session, provider=provider, category=category, rows=rows, actor="test"
    )
    assert batch.rejected == 0, ingest_service.rejections_of(session, batch_id=batch.id)[0]
    session.flush()


def register(
    session: Session,
    n: int,
    *,
    representative: str = "王伟",
    address: str | None = None,
    phone: str | None = None,
    region: str = "640104",
    name: str | None = None,
) -> str:
    """Register enterprise ``n``: its own address and phone unless told otherwise."""
    subject = code(n, region)
    _push(
        session,
        "market",
        "registration",
        [
            {
                "credit_code": subject,
                "enterprise_name": name or f"宁夏关联测试{n}有限公司",
                "legal_representative": representative,
                "established_on": "2018-05-01",
                "region_code": region,
                "address": address or f"宁夏回族自治区银川市兴庆区测试路{n}号",
                "phone": phone or f"139{n:08d}",
            }
        ],
    )
    return subject


def hold(session: Session, owner: str, *, name: str, holder: str | None = None) -> None:
    """``owner`` has a shareholder: an enterprise (``holder`` code) or a natural person."""
    _push(
        session,
        "market",
        "shareholder",
        [
            {
                "credit_code": owner,
                "enterprise_name": "被投资企业",
                "shareholder_name": name,
                "shareholder_type": "企业法人" if holder else "自然人股东",
                "shareholder_code": holder or "",
                "subscribed_capital": "100000.00",
                "share_ratio": "20.00",
                "subscribed_on": "2019-01-01",
            }
        ],
    )


def guarantee(
    session: Session,
    guarantor: str,
    borrower: str,
    *,
    amount: str = "1000000.00",
    contract: str | None = None,
    status: str = "正常",
) -> None:
    """``guarantor`` guarantees a debt of ``borrower``."""
    _push(
        session,
        "finance",
        "guarantee",
        [
            {
                "credit_code": guarantor,
                "enterprise_name": "担保企业",
                "borrower_code": borrower,
                "borrower_name": "被担保企业",
                "contract_number": contract or f"DB-{guarantor[-6:]}-{borrower[-6:]}",
                "amount": amount,
                "start_on": "2025-01-01",
                "end_on": "2027-01-01",
                "status": status,
                "region_code": "640104",
            }
        ],
    )


def list_as_dishonest(session: Session, subject: str) -> None:
    """``subject`` goes on the list of dishonest judgment debtors."""
    _push(
        session,
        "court",
        "dishonest_debtor",
        [
            {
                "credit_code": subject,
                "enterprise_name": "失信企业",
                "case_number": f"(2026)宁0104执{subject[-5:]}号",
                "published_on": "2026-06-01",
                "region_code": "640104",
                "amount": "50000.00",
            }
        ],
    )
