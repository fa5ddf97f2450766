"""Tables of post-loan monitoring, anti-fraud and the financial blacklist."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

# --------------------------------------------------------------------------- watch list


class WatchRelation(StrEnum):
    """Why an enterprise is on a lender's watch list for one loan."""

    BORROWER = "borrower"  # the loan's borrower
    GUARANTEE = "guarantee"  # guarantees a debt of the borrower, or the borrower guarantees its
    SHAREHOLDING = "shareholding"  # a corporate shareholder of the borrower, or held by it
    REPRESENTATIVE = "representative"  # the same legal representative as the borrower
    CIRCLE = "circle"  # a member of a guarantee circle the borrower is part of


class Watch(Base):
    """One enterprise watched for one live loan: its lender hears of trouble with it.

    A row lives as long as the loan is live (``market.models.RUNNING_LOAN_STATES``);
    ``since`` is when watching began: events after it raise alerts."""

    __tablename__ = "risk_watch"
    __table_args__ = (
        UniqueConstraint("loan_id", "credit_code"),
        Index("ix_risk_watch_institution", "institution_id", "relation"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(String(40), index=True)
    institution_id: Mapped[str] = mapped_column(String(40))
    borrower_code: Mapped[str] = mapped_column(String(18))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --------------------------------------------------------------------------- alerts


class AlertKind(StrEnum):
    NEGATIVE_RECORD = "negative_record"  # a new penalty, judgment, listing, arrears …
    TAX_GRADE_FALL = "tax_grade_fall"  # the tax credit grade fell
    RATING_FALL = "rating_fall"  # the rating fell two grades or more, or into CCC–C
    CROSS_DEFAULT = "cross_default"  # another loan of the borrower fell overdue or defaulted
    CIRCLE_DEFAULT = "circle_default"  # a guarantee partner or circle member defaulted
    RECORD_CORRECTED = "record_corrected"  # a fact the lender relied on was corrected


class AlertSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_ORDER = tuple(AlertSeverity)


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ACTED = "acted"
    CLOSED = "closed"


class AlertAction(StrEnum):
    """What the lender did about an alert."""

    CONTACT = "contact"
    REDUCE_LIMIT = "reduce_limit"
    FREEZE = "freeze"
    RECALL = "recall"
    NONE = "none"


class Alert(Base):
    """One event about a watched enterprise, raised once per loan.

    ``key`` (loan and event) is unique: a scan that runs twice, or is killed and run again,
    raises each alert once. ``evidence`` names what the event rests on (record ids and
    versions with their ledger leaf, ratings, loans); what it says of them is shown through
    the access decision when the alert is read."""

    __tablename__ = "risk_alert"
    __table_args__ = (
        Index("ix_risk_alert_institution_state", "institution_id", "state"),
        Index("ix_risk_alert_institution_raised", "institution_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    loan_id: Mapped[str] = mapped_column(String(40), index=True)
    institution_id: Mapped[str] = mapped_column(String(40))
    borrower_code: Mapped[str] = mapped_column(String(18))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10), index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20))
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    action: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
