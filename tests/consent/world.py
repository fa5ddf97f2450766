"""A small world for consent tests: the demo accounts, a platform and a second bank, and
the demo enterprise's records in public, restricted and confidential categories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from xinyidai.audit.models import AccessEvent
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.consent.schemas import LetterIn
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.ingest.models import Batch
from xinyidai.supervision.service import demo as supervision_demo

Auth = Callable[[str], dict[str, str]]

LEGAL_REPRESENTATIVE = "李建国"
PHONE = "13812345678"
ADDRESS = "广西壮族自治区南宁市青秀区民族大道100号"
TAX_PAID = "123456.78"
LOCATION = "广西壮族自治区南宁市西乡塘区大学东路8号"


def day(days_ago: int) -> str:
    return (clock.today() - timedelta(days=days_ago)).isoformat()


def push(session: Session, provider: str, category: str, rows: list[dict[str, Any]]) -> Batch:
    batch = ingest_service.push_rows(
        session, provider=provider, category=category, rows=rows, actor="test"
    )
    assert batch.rejected == 0, (category, batch.rejected)
    return batch


def seed_records(
    session: Session, code: str = ENTERPRISE_CODE, name: str = "南宁示范科技有限公司"
) -> None:
    """Records of one enterprise in seven categories, two of them dated a year apart."""
    base = {"credit_code": code, "enterprise_name": name}
    push(
        session,
        "market",
        "registration",
        [
            base
            | {
                "legal_representative": LEGAL_REPRESENTATIVE,
                "established_on": "2015-03-01",
                "region_code": "450103",
                "address": ADDRESS,
                "phone": PHONE,
                "registered_capital": "5000000",
            }
        ],
    )
    push(
        session,
        "market",
        "shareholder",
        [
            base
            | {
                "shareholder_name": LEGAL_REPRESENTATIVE,
                "shareholder_type": "自然人股东",
                "subscribed_capital": "3000000",
                "subscribed_on": "2015-03-01",
            },
            base
            | {
                "shareholder_name": "南宁投资集团有限公司",
                "shareholder_type": "企业法人",
                "subscribed_capital": "2000000",
                "subscribed_on": "2016-05-01",
            },
        ],
    )
    push(
        session,
        "credit",
        "admin_penalty",
        [
            base
            | {
                "decision_number": "南青市监罚〔2025〕12号",
                "fine_amount": "20000",
                "decided_on": day(100),
                "region_code": "450103",
                "legal_representative": LEGAL_REPRESENTATIVE,
            }
        ],
    )
    push(
        session,
        "tax",
        "tax_rating",
        [base | {"year": 2025, "grade": "A", "rated_on": day(200), "region_code": "450103"}],
    )
    push(
        session,
        "tax",
        "tax_payment",
        [
            base
            | {
                "tax_item": "增值税",
                "period_start": day(40),
                "tax_paid": TAX_PAID,
                "region_code": "450103",
            },
            base
            | {
                "tax_item": "增值税",
                "period_start": day(400),
                "tax_paid": "99000",
                "region_code": "450103",
            },
        ],
    )
    push(
        session,
        "hrss",
        "social_insurance",
        [base | {"year": 2025, "due_amount": "80000", "as_of": day(30), "region_code": "450103"}],
    )
    push(
        session,
        "natres",
        "real_estate",
        [
            base
            | {
                "certificate_number": "桂(2020)南宁市不动产权第0001号",
                "location": LOCATION,
                "registered_on": "2020-01-01",
            }
        ],
    )


@dataclass
class World:
    platform_id: str
    bank_id: str
    other_bank_id: str
    enterprise_id: str

    def principal(self, session: Session, username: str) -> Principal:
        user = iam_service.get_user_or_raise(session, username=username)
        return iam_service.principal_for_user(user, via="token")


def build_world(session: Session) -> World:
    """Demo accounts must exist; adds a platform and a second bank, the records, the
    enterprise's signed commitment."""
    actor = "system:test"
    platform = iam_service.create_partner_organization(
        session, kind="platform", name="南宁市综合金融服务平台", actor=actor
    )
    iam_service.create_user(
        session,
        organization=platform,
        username="platform",
        display_name="platform",
        password="demo-password",
        actor=actor,
        role="admin",
    )
    other = iam_service.create_organization(
        session,
        kind="institution",
        name="第二商业银行",
        actor=actor,
        state="active",
        institution_type="bank",
        licence_number="B0000H000000002",
    )
    # fit to read: the confidentiality agreement signed, an assessment passed
    supervision_demo.certify(session, other)
    iam_service.create_user(
        session,
        organization=other,
        username="bank2",
        display_name="bank2",
        password="demo-password",
        actor=actor,
        role="admin",
    )
    seed_records(session)
    seed_records(session, OTHER_CODE, "南宁另一科技有限公司")
    world = World(
        platform_id=platform.public_id,
        bank_id=iam_service.get_user_or_raise(session, username="bank").organization.public_id,
        other_bank_id=other.public_id,
        enterprise_id=iam_service.get_user_or_raise(
            session, username="enterprise"
        ).organization.public_id,
    )
    consent_service.sign(
        session,
        principal=world.principal(session, "enterprise"),
        version=consent_service.latest_text_or_raise(session).version,
    )
    session.commit()
    return world


def grant(
    session: Session, world: World, *, grantee: str | None = None, commit: bool = True, **terms: Any
) -> AuthorizationLetter:
    """A letter from the demo enterprise; by default to the demo bank, for a loan
    application, covering tax payments, valid 30 days, on demand without a query limit."""
    data = {
        "grantee_id": grantee or world.bank_id,
        "categories": ["tax_payment"],
        "purpose": "loan_application",
        "valid_until": clock.now() + timedelta(days=30),
        "fetch_mode": "on_demand",
    } | terms
    letter = consent_service.grant(
        session, principal=world.principal(session, "enterprise"), data=LetterIn(**data)
    )
    if commit:
        session.commit()
    return letter


def events(session: Session, **where: Any) -> list[AccessEvent]:
    session.expire_all()
    stmt = select(AccessEvent).order_by(AccessEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AccessEvent, name) == value)
    return list(session.scalars(stmt))


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def report(
    client: TestClient, headers: dict[str, str], code: str = ENTERPRISE_CODE, **params: Any
) -> Any:
    return client.get(f"/api/v1/enterprises/{code}/report", params=params, headers=headers)
