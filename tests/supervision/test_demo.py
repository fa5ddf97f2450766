"""The demo's supervision: every demo institution signed and assessed as it is made;
then institutions at each level, one re-assessment overdue (its reads held back), a
pawnshop's assessment in the operator's queue and one finding open; made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.graph.records import register
from xinyidai.consent import service as consent_service
from xinyidai.core.pagination import PageRequest
from xinyidai.iam import service as iam_service
from xinyidai.iam.service import DemoAccount
from xinyidai.market.service.demo import ensure_demo_market
from xinyidai.supervision.models import Assessment, AssessmentState, Finding, FindingState
from xinyidai.supervision.service import standing
from xinyidai.supervision.service.demo import ensure_demo_supervision


def test_the_demo_shows_every_level_an_overdue_one_a_queue_and_a_finding(
    session: Session, demo: list[DemoAccount]
) -> None:
    seed_records(session)
    codes = [ENTERPRISE_CODE] + [register(session, n, region="450103") for n in range(1, 6)]
    session.commit()
    ensure_demo_market(session, enterprise_codes=codes)
    bank = iam_service.principal_for_user(
        iam_service.get_user_or_raise(session, username="bank"), via="token"
    )
    consent_service.decide(session, actor=bank, subject=ENTERPRISE_CODE)  # an access event
    session.commit()
    made = ensure_demo_supervision(session)
    session.commit()
    assert made.created
    assert set(made.levels.values()) == {"A", "B", "C"}
    rows = {r.organization_name: r for r in standing.page(session, PageRequest(size=100)).items}
    assert {r.level for r in rows.values()} >= {"A", "B", "C"}
    held = [r for r in rows.values() if r.hold == "assessment_lapsed"]
    assert len(held) == 1
    overdue = session.scalar(select(Assessment).where(Assessment.public_id == made.overdue))
    assert overdue is not None
    assert overdue.state == AssessmentState.LAPSED
    queued = session.scalar(select(Assessment).where(Assessment.public_id == made.queued))
    assert queued is not None
    assert queued.state == AssessmentState.SUBMITTED
    finding = session.scalar(select(Finding).where(Finding.public_id == made.finding))
    assert finding is not None
    assert finding.state == FindingState.OPEN
    again = ensure_demo_supervision(session)
    assert not again.created
