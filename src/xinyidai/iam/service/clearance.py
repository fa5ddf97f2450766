"""An institution's clearance to read non-public data: the agreement it signed, the
assessment it passed, and the one question the access decision asks (``read_hold``).

The supervision domain (above ``consent``) keeps the agreements and assessments and sets
what they grant here; ``consent.decide`` (above ``iam``) reads it on every read.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.iam.models import Organization, OrgKind, ReadClearance


class Hold(StrEnum):
    """Why an institution may not read non-public data now."""

    AGREEMENT_UNSIGNED = "agreement_unsigned"
    AGREEMENT_LAPSED = "agreement_lapsed"
    ASSESSMENT_MISSING = "assessment_missing"
    ASSESSMENT_LAPSED = "assessment_lapsed"


def clearance_of(session: Session, *, organization_id: int) -> ReadClearance | None:
    """The organization's clearance row, if anything was ever granted."""
    return session.get(ReadClearance, organization_id)


def _row(session: Session, organization_id: int) -> ReadClearance:
    row = session.get(ReadClearance, organization_id, with_for_update=True)
    if row is None:
        row = ReadClearance(organization_id=organization_id)
        session.add(row)
    row.updated_at = clock.now()
    return row


def record_agreement(
    session: Session, *, organization_id: int, version: int, signed_at: datetime
) -> ReadClearance:
    """The organization signed ``version``: nothing outstanding unless a newer one is."""
    row = _row(session, organization_id)
    if row.agreement_version is None or version >= row.agreement_version:
        row.agreement_version = version
        row.agreement_signed_at = signed_at
        row.agreement_due_at = None
    session.flush()
    return row


def require_agreement(session: Session, *, version: int, due_at: datetime) -> int:
    """``version`` is in force: every organization that signed an older one must sign it by
    ``due_at`` (one that never signed may not read anyway). How many were told."""
    result = session.execute(
        update(ReadClearance)
        .where(
            ReadClearance.agreement_version < version,
            or_(ReadClearance.agreement_due_at.is_(None), ReadClearance.agreement_due_at > due_at),
        )
        .values(agreement_due_at=due_at, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_assessment(
    session: Session,
    *,
    organization_id: int,
    assessment_id: str | None,
    level: str | None,
    expires_on: date | None,
) -> ReadClearance:
    """The organization's standing assessment (None: it has none that passed)."""
    row = _row(session, organization_id)
    row.assessment_id = assessment_id
    row.assessment_level = level
    row.assessment_expires_on = expires_on
    session.flush()
    return row


def assessment_valid(row: ReadClearance | None, today: date) -> bool:
    return (
        row is not None
        and row.assessment_expires_on is not None
        and row.assessment_expires_on >= today
    )


def hold_of(row: ReadClearance | None, *, now: datetime, today: date) -> Hold | None:
    """Why a clearance row does not let its organization read now (None: it does)."""
    if row is None or row.agreement_version is None:
        return Hold.AGREEMENT_UNSIGNED
    if row.agreement_due_at is not None and row.agreement_due_at < now:
        return Hold.AGREEMENT_LAPSED
    if row.assessment_expires_on is None:
        return Hold.ASSESSMENT_MISSING
    if row.assessment_expires_on < today:
        return Hold.ASSESSMENT_LAPSED
    return None


def read_hold(
    session: Session, *, organization_id: int, organization_kind: str
) -> tuple[Hold, ReadClearance | None] | None:
    """Why this organization may not read non-public data now, with its clearance; None
    when it may. Only institutions are held: the other kinds read on another basis."""
    if organization_kind != OrgKind.INSTITUTION:
        return None
    row = clearance_of(session, organization_id=organization_id)
    hold = hold_of(row, now=clock.now(), today=clock.today())
    return None if hold is None else (hold, row)


def institutions_by_clearance_statement() -> Select[Any]:
    """Institutions with their clearance (outer join: none yet), by name."""
    return (
        select(Organization, ReadClearance)
        .outerjoin(ReadClearance, ReadClearance.organization_id == Organization.id)
        .where(Organization.kind == OrgKind.INSTITUTION)
        .order_by(Organization.name, Organization.id)
    )
