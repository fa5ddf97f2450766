"""On PostgreSQL (partitioned records, ``= ANY`` lookups, COPY-based bulk reads): the demo's
rights story runs, a correction stores the department's new version, and a repaired
record leaves the views, the bulk reads and the rating's frames."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.rights.models import ObjectionTarget, Repair
from xinyidai.rights.schemas import ObjectionIn
from xinyidai.rights.service import objections
from xinyidai.rights.service.demo import ensure_demo_rights

pytestmark = pytest.mark.postgres


def test_rights_on_postgres(pg_url: str) -> None:
    session = core_db.new_session()
    try:
        registry_service.create(
            session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        seed_records(session)
        session.commit()

        def who(username: str):
            user = iam_service.get_user_or_raise(session, username=username)
            return iam_service.principal_for_user(user, via="token")

        story = ensure_demo_rights(
            session,
            enterprise=who("enterprise"),
            department=who("provider-tax"),
            operator=who("operator"),
        )
        session.commit()
        assert story.created
        grade = session.scalar(
            select(CreditRecord).where(
                CreditRecord.category == "tax_rating", CreditRecord.subject_code == ENTERPRISE_CODE
            )
        )
        assert grade is not None
        filed = objections.file(
            session,
            principal=who("enterprise"),
            data=ObjectionIn(
                target=ObjectionTarget.FIELD,
                record_id=grade.id,
                field="grade",
                wrong="x",
                correction_asked="y",
            ),
        )
        for name in ("accept", "verify"):
            objections.move(session, principal=who("provider-tax"), objection=filed, name=name)
        objections.move(
            session,
            principal=who("provider-tax"),
            objection=filed,
            name="correct",
            data={"grade": "M"},
        )
        session.commit()
        session.expire_all()
        assert records_service.get_or_raise(session, record_id=grade.id).data["grade"] == "M"

        approved = session.scalar(select(Repair).where(Repair.state == "approved"))
        assert approved is not None
        shown = records_service.records_of(
            session, subject_code=ENTERPRISE_CODE, categories=["admin_penalty"]
        )
        assert approved.record_id not in {r.id for g in shown for r in g.records}
        bulk = list(
            records_service.current_data(
                session, categories=["admin_penalty"], subject_codes=[ENTERPRISE_CODE]
            )
        )
        assert len(bulk) == len(shown[0].records)
        frames = records_service.category_frames(
            session, fields={"admin_penalty": ["decision_number"]}
        )
        numbers = set(frames["admin_penalty"]["decision_number"].to_list())
        assert "XYD-DEMO-罚〔2025〕7号" not in numbers
        assert "XYD-DEMO-罚〔2026〕2号" in numbers
    finally:
        session.rollback()
        session.close()
