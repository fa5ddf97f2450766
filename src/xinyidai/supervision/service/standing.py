"""The operator's table of institutions: level, expiry, agreement, hold and open findings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.pagination import Page, Paging, page_of
from xinyidai.iam import service as iam_service
from xinyidai.supervision.schemas import StandingOut
from xinyidai.supervision.service import findings


def page(session: Session, paging: Paging) -> Page[StandingOut]:
    """One page of institutions by name, with what supervision knows of each."""
    counts = findings.open_counts(session)
    now, today = clock.now(), clock.today()

    def item(row: Any) -> StandingOut:
        organization, clearance = row
        hold = iam_service.clearance.hold_of(clearance, now=now, today=today)
        return StandingOut(
            organization_id=organization.public_id,
            organization_name=organization.name,
            organization_state=organization.state,
            level=clearance.assessment_level if clearance else None,
            expires_on=clearance.assessment_expires_on if clearance else None,
            agreement_version=clearance.agreement_version if clearance else None,
            agreement_due_at=clearance.agreement_due_at if clearance else None,
            hold=None if hold is None else str(hold),
            open_findings=counts.get(organization.public_id, 0),
        )

    return page_of(
        session, iam_service.clearance.institutions_by_clearance_statement(), paging, item
    )
