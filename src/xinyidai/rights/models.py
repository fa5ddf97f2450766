"""Tables of subject rights: objections (异议) with their steps and documents, the notices
an enterprise and a department read, and the outbox other nodes read.

Every state and kind is a ``StrEnum``; a member compares equal to its stored string.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.i18n import N_
from xinyidai.core.models import Base, BigId, StoredFileMixin, TimestampMixin, UTCDateTime
from xinyidai.records.models import NoteKind


class ObjectionTarget(StrEnum):
    RECORD = "record"  # the record as a whole (it should not be there, it is not ours)
    FIELD = "field"  # one field of a record is wrong
    RATING = "rating"  # the platform's rating of the enterprise


class ObjectionState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # out of scope, with the reason
    VERIFYING = "verifying"
    CORRECTED = "corrected"
    UPHELD = "upheld"  # the record stands as it was
    ESCALATED = "escalated"  # sent on to the operator
    CLOSED = "closed"


# While an objection is in one of these states its record shows 「异议处理中」.
OPEN_OBJECTION_STATES = (
    ObjectionState.SUBMITTED,
    ObjectionState.ACCEPTED,
    ObjectionState.VERIFYING,
    ObjectionState.ESCALATED,
)
# The states that answer an objection (its deadline is met when it reaches one in time).
ANSWERED_STATES = (
    ObjectionState.DECLINED,
    ObjectionState.CORRECTED,
    ObjectionState.UPHELD,
    ObjectionState.CLOSED,
)


class Handler(StrEnum):
    DEPARTMENT = "department"  # the source department of the record's category
    OPERATOR = "operator"  # the rating and the platform's own data


class DocumentOwner(StrEnum):
    OBJECTION = "objection"
    REPAIR = "repair"
    SELF_REPORT = "self_report"


class Audience(StrEnum):
    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"
    OPERATOR = "operator"


class Objection(TimestampMixin, Base):
    """An enterprise's objection to a record, one field of it, or its rating."""

    __tablename__ = "rights_objection"
    __table_args__ = (
        Index("ix_rights_objection_code_state", "credit_code", "state"),
        Index("ix_rights_objection_handler", "handler", "department", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    # The record's version the objection was filed against.
    record_version: Mapped[int | None] = mapped_column(Integer)
    wrong: Mapped[str] = mapped_column(Text)
    correction_asked: Mapped[str] = mapped_column(Text)
    handler: Mapped[str] = mapped_column(String(12))
    department: Mapped[str | None] = mapped_column(String(40))
    filed_by: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_version: Mapped[int | None] = mapped_column(Integer)
    correction_batch_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class ObjectionStep(Base):
    """One move of an objection; each is also a leaf of the ledger (``rights.objection``)."""

    __tablename__ = "rights_objection_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    objection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rights_objection.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class Document(StoredFileMixin, Base):
    """A file sent as proof; its bytes are kept under the data folder by their SHA-256 (never
    under the web root), its type the one its first bytes show."""

    __tablename__ = "rights_document"
    __table_args__ = (Index("ix_rights_document_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(BigId)


class Notice(Base):
    """A line in an enterprise's, a department's or the operator's rights inbox."""

    __tablename__ = "rights_notice"
    __table_args__ = (Index("ix_rights_notice_to", "audience", "addressee", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    audience: Mapped[str] = mapped_column(String(12))
    addressee: Mapped[str] = mapped_column(String(40))  # credit code, department code or ""
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(200))  # an English message id
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class OutboxKind(StrEnum):
    CORRECTION = "correction"
    REPAIR = "repair"


class OutboxEntry(Base):
    """A change other nodes must hear of (a correction, a repair), read from a mark."""

    __tablename__ = "rights_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(18), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class RepairState(StrEnum):
    SUBMITTED = "submitted"
    DEPARTMENT_REVIEW = "department_review"  # referred to the source department
    REVIEWED = "reviewed"  # the source department concurs
    APPROVED = "approved"
    REJECTED = "rejected"


OPEN_REPAIR_STATES = (
    RepairState.SUBMITTED,
    RepairState.DEPARTMENT_REVIEW,
    RepairState.REVIEWED,
)


# What each state is called on screen and in notices (message ids; translated where shown).
OBJECTION_STATE_LABELS = {
    ObjectionState.SUBMITTED: N_("Submitted"),
    ObjectionState.ACCEPTED: N_("Accepted"),
    ObjectionState.DECLINED: N_("Declined as out of scope"),
    ObjectionState.VERIFYING: N_("Verifying"),
    ObjectionState.CORRECTED: N_("Corrected"),
    ObjectionState.UPHELD: N_("Record upheld"),
    ObjectionState.ESCALATED: N_("Escalated to the operator"),
    ObjectionState.CLOSED: N_("Closed"),
}
NOTE_KIND_LABELS = {
    NoteKind.REORGANIZATION_APPROVED: N_("Reorganization approved by the court"),
    NoteKind.PLAN_EXECUTED: N_("Reorganization plan executed"),
}
REPAIR_STATE_LABELS = {
    RepairState.SUBMITTED: N_("Submitted"),
    RepairState.DEPARTMENT_REVIEW: N_("With the source department"),
    RepairState.REVIEWED: N_("Reviewed by the department"),
    RepairState.APPROVED: N_("Repaired"),
    RepairState.REJECTED: N_("Rejected"),
}


class Repair(TimestampMixin, Base):
    """An enterprise's application to repair its credit over one negative record."""

    __tablename__ = "rights_repair"
    __table_args__ = (Index("ix_rights_repair_code_state", "credit_code", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(40))
    department_review: Mapped[bool] = mapped_column(default=False)
    event_on: Mapped[date | None] = mapped_column(Date)
    eligible_from: Mapped[date] = mapped_column(Date)
    statement: Mapped[str] = mapped_column(Text)
    commitment_signed: Mapped[bool] = mapped_column(default=False)
    filed_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class SelfQueryChannel(StrEnum):
    PORTAL = "portal"
    API = "api"
    COUNTER = "counter"  # the operator's counter staff, for a walk-in enterprise


class SelfQuery(Base):
    """One free self-query (自查): the enterprise read its own full report."""

    __tablename__ = "rights_self_query"
    __table_args__ = (Index("ix_rights_self_query_code_year", "credit_code", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    year: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    requested_by: Mapped[str] = mapped_column(String(120))
    # The counter's check of the walk-in's identity: document, holder, staff (never shown).
    identity_check: Mapped[str | None] = mapped_column(Text)
    access_event: Mapped[str] = mapped_column(String(40))
    free: Mapped[bool] = mapped_column(default=True)
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SelfReport(Base):
    """An item the enterprise reported itself (``self_reported``), and its confirmation."""

    __tablename__ = "rights_self_report"
    __table_args__ = (Index("ix_rights_self_report_code", "credit_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    record_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    confirmed_by: Mapped[str | None] = mapped_column(String(40))  # the department's code
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
