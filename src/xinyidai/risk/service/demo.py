"""Post-loan monitoring in the demo: news about the borrowers of two live demo loans
arrives after the loans were made (a penalty, a court judgment, a tax grade falling, an
abnormal-operation listing), the alerts are raised, and the lender has handled them to
different points, so the inbox shows alerts in every state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.market.service import loans as loans_service
from xinyidai.registry import service as registry_service
from xinyidai.risk.models import Alert, AlertKind
from xinyidai.risk.service import alerts, watch

DEMO_ACTOR = "system:demo"


@dataclass(frozen=True)
class DemoAlerts:
    raised: int
    created: bool


def _lender(session: Session, institution_id: str) -> Principal:
    """A member of the lending institution (its first user), or the institution itself."""
    organization = iam_service.get_organization_or_raise(session, public_id=institution_id)
    users, _ = iam_service.list_users(session, organization_id=organization.id, size=1)
    if users:
        return iam_service.principal_for_user(users[0], via="token")
    return alerts.institution_principal(session, institution_id=institution_id)


def _push(session: Session, provider: str, category: str, row: dict[str, Any]) -> None:
    ingest_service.push_rows(
        session, provider=provider, category=category, rows=[row], actor=DEMO_ACTOR
    )


def ensure_demo_alerts(session: Session) -> DemoAlerts:
    """Raise and handle the demo's alerts once (nothing when some alert exists)."""
    if session.scalar(select(Alert.id).limit(1)) is not None:
        return DemoAlerts(raised=0, created=False)
    live = [loan for loan in session.scalars(loans_service.running_statement())]
    borrowers = list(dict.fromkeys(loan.credit_code for loan in live))[:2]
    if not borrowers:
        return DemoAlerts(raised=0, created=False)
    watch.refresh_all(session)
    today = clock.today()
    for number, code in enumerate(borrowers, start=1):
        subject = registry_service.get_by_code_or_raise(session, credit_code=code)
        base = {"credit_code": code, "enterprise_name": subject.name}
        region = subject.region_code or "450100"
        if number == 1:
            _push(
                session,
                "credit",
                "admin_penalty",
                base
                | {
                    "decision_number": f"演示罚〔{today.year}〕{number}号",
                    "violation": "未按规定公示年度报告",
                    "fine_amount": "30000",
                    "decided_on": today.isoformat(),
                    "region_code": region,
                },
            )
            _push(
                session,
                "court",
                "court_judgment",
                base
                | {
                    "case_number": f"({today.year})桂0103民初{number}号",
                    "cause": "买卖合同纠纷",
                    "role": "被告",
                    "amount": "260000",
                    "judged_on": today.isoformat(),
                },
            )
        else:
            _push(
                session,
                "tax",
                "tax_rating",
                base
                | {
                    "year": today.year + 1,
                    "grade": "D",
                    "rated_on": today.isoformat(),
                    "region_code": region,
                },
            )
            _push(
                session,
                "market",
                "abnormal_operation",
                base
                | {
                    "reason": "通过登记的住所或者经营场所无法联系",
                    "listed_on": today.isoformat(),
                    "region_code": region,
                },
            )
    result = alerts.scan(session, codes=borrowers)
    raised = [alerts.get_or_raise(session, alert_id=alert_id) for alert_id in result.raised]
    ordered = sorted(raised, key=lambda a: (a.kind != AlertKind.NEGATIVE_RECORD, a.id))
    # new, acknowledged, acted (contact), closed (after reducing the limit), then new again.
    plans: list[list[tuple[str, str | None, str | None]]] = [
        [],
        [("acknowledge", None, "已安排客户经理核实")],
        [("acknowledge", None, None), ("act", "contact", "已电话联系企业负责人")],
        [
            ("acknowledge", None, None),
            ("act", "reduce_limit", "压降未用额度 50%"),
            ("close", None, "企业已说明情况"),
        ],
    ]
    for alert, plan in zip(ordered, plans, strict=False):
        lender = _lender(session, alert.institution_id)
        for move, action, note in plan:
            alerts.move(
                session,
                principal=lender,
                alert_id=alert.public_id,
                transition=move,
                action=action,
                note=note,
            )
    session.flush()
    return DemoAlerts(raised=len(raised), created=True)
