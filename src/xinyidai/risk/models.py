"""Tables of post-loan monitoring, anti-fraud and the financial blacklist."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, StoredFileMixin, TimestampMixin, UTCDateTime

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
    RECORD_REPAIRED = (
        "record_repaired"  # a negative record was repaired (信用修复): no longer shown
    )


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


# --------------------------------------------------------------------------- blacklist


class ListingState(StrEnum):
    """A financial blacklist listing (金融领域失信名单) through its due process."""

    PROPOSED = "proposed"  # an institution proposed it; the operator reviews
    NOTICE = "notice"  # accepted for notice: the enterprise may object within the window
    OBJECTED = "objected"  # the enterprise objected; the operator decides
    LISTED = "listed"  # in force from ``listed_from`` to ``listed_until``
    REJECTED = "rejected"  # the operator refused it (at review, or upholding the objection)
    EXPIRED = "expired"  # its term ended
    REMOVED = "removed"  # taken off early: credit repaired


# A listing that still concerns the enterprise (shown to it, counted by the checks).
OPEN_LISTING_STATES = (ListingState.PROPOSED, ListingState.NOTICE, ListingState.OBJECTED)


class ListingBasis(StrEnum):
    """The evidence a proposal rests on."""

    DEFAULT = "default"  # a loan of the proposing institution on the platform, defaulted
    FRAUD = "fraud"  # a fraud case of the proposing institution, confirmed


class DocumentRole(StrEnum):
    EVIDENCE = "evidence"  # sent by the institution with its proposal
    OBJECTION = "objection"  # sent by the enterprise with its objection


class Listing(TimestampMixin, Base):
    """One proposal to list an enterprise on the financial blacklist, and what came of it."""

    __tablename__ = "risk_listing"
    __table_args__ = (Index("ix_risk_listing_code_state", "credit_code", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    institution_id: Mapped[str] = mapped_column(String(40), index=True)
    institution_name: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(20))
    loan_id: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    term_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    objection_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    objection: Mapped[str | None] = mapped_column(Text)
    objected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    listed_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    listed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ListingStep(Base):
    """One move of a listing; each is also a leaf of the ledger (``risk.blacklist``)."""

    __tablename__ = "risk_listing_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("risk_listing.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class ListingDocument(StoredFileMixin, Base):
    """A file sent with a proposal (evidence) or an objection; its bytes are kept under the
    data folder by their SHA-256, like uploads to ingestion."""

    __tablename__ = "risk_listing_document"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    listing_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("risk_listing.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))


# --------------------------------------------------------------------------- anti-fraud


class FraudCaseState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


OPEN_CASE_STATES = (FraudCaseState.OPEN, FraudCaseState.INVESTIGATING)


class FraudRule(StrEnum):
    """The anti-fraud rules; each one's thresholds and explanation are settings
    (``risk.fraud_rules``)."""

    SHARED_PHONE = "shared_phone"
    SHARED_ADDRESS = "shared_address"
    SHARED_REPRESENTATIVE = "shared_representative"
    MANY_INSTITUTIONS = "many_institutions"
    RECENT_CHANGE = "recent_change"
    YOUNG_LARGE = "young_large"
    SELF_REPORT_MISMATCH = "self_report_mismatch"
    HUB = "hub"


class FraudCase(TimestampMixin, Base):
    """The fraud rules' hits on one application, under investigation by its institution."""

    __tablename__ = "risk_fraud_case"
    __table_args__ = (Index("ix_risk_fraud_case_institution_state", "institution_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    institution_id: Mapped[str] = mapped_column(String(40))
    institution_name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class FraudHit(Base):
    """One rule that fired on the application, with its explanation and evidence."""

    __tablename__ = "risk_fraud_hit"
    __table_args__ = (Index("ix_risk_fraud_hit_case_rule", "case_id", "rule", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("risk_fraud_case.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text)
    # What the institution may see (counts, its own facts) and what only the operator may
    # (the other applicants behind a shared key).
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    operator_evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class FraudNote(Base):
    """A note an investigator wrote on a case."""

    __tablename__ = "risk_fraud_note"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("risk_fraud_case.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class FraudScan(Base):
    """An application the rules have looked at (so a scan by hand skips it, unless asked
    to look again)."""

    __tablename__ = "risk_fraud_scan"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(40), unique=True)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    hits: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[list[str]] = mapped_column(JSON)


# --- early warning (risk.service.warning) -------------------------------------------------


class LoanWarning(Base):
    """The latest early warning of one live loan: the probability that it falls 30+ days
    overdue or defaults within six months, its score and band, its top reasons as
    ``[feature, bin, impact]`` (texts from the model version), and what it was computed
    from. One row per live loan; a loan that stops being live loses its row."""

    __tablename__ = "risk_loan_warning"
    __table_args__ = (
        Index("ix_risk_loan_warning_institution_p", "institution_id", "probability"),
        Index("ix_risk_loan_warning_p", "probability"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(String(40), unique=True)
    contract_number: Mapped[str] = mapped_column(String(60))
    institution_id: Mapped[str] = mapped_column(String(40))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    probability: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(12))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    days_overdue: Mapped[int] = mapped_column(Integer)
    outstanding: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    model_version: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
