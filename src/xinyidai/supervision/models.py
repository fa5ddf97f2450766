"""Tables of supervision: the confidentiality agreement's versions and signatures, the
security checklist, assessments with their answers and evidence, and findings.

Institutions are named by their public ids (plain values), never by foreign keys into
another domain's tables; what an agreement or an assessment grants is written to the
institution's clearance in ``iam`` (``iam.service.clearance``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, TimestampMixin, UTCDateTime


class AssessmentState(StrEnum):
    DRAFT = "draft"  # the institution is filling it in
    SUBMITTED = "submitted"  # waiting for the operator's review
    PASSED = "passed"  # a level and an expiry were given
    FAILED = "failed"
    LAPSED = "lapsed"  # passed, then expired without a renewal
    SUPERSEDED = "superseded"  # passed, then replaced by a newer passed assessment


class Verdict(StrEnum):
    """The operator's word on one answered item."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Level(StrEnum):
    """What a passed assessment finds: A sound, B sound with conditions, C weak (reads
    allowed, under conditions and closer watch)."""

    A = "A"
    B = "B"
    C = "C"


class FindingState(StrEnum):
    OPEN = "open"
    EXPLAINED = "explained"
    REMEDIED = "remedied"
    SANCTIONED = "sanctioned"


class Sanction(StrEnum):
    WARNING = "warning"
    LOWER_LEVEL = "lower_level"
    SUSPEND = "suspend"


class Agreement(TimestampMixin, Base):
    """One version of the confidentiality agreement (信息保密协议); the newest is in force."""

    __tablename__ = "supervision_agreement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # When the signers of older versions must have signed this one.
    sign_by: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(120))


class Signature(Base):
    """An institution's signature of one version: who signed, when, over which text."""

    __tablename__ = "supervision_signature"
    __table_args__ = (
        UniqueConstraint("agreement_id", "organization_id", name="uq_supervision_signature"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_agreement.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    organization_name: Mapped[str] = mapped_column(String(200))
    signer: Mapped[str] = mapped_column(String(120))
    signer_name: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    digest: Mapped[str] = mapped_column(String(64))  # of its ledger leaf's body
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class ChecklistItem(TimestampMixin, Base):
    """One item of the security checklist; the operator edits the list."""

    __tablename__ = "supervision_checklist_item"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    weight: Mapped[int] = mapped_column(Integer, default=10)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Assessment(TimestampMixin, Base):
    """One security assessment (安全评估) of an institution: at onboarding, then yearly."""

    __tablename__ = "supervision_assessment"
    __table_args__ = (Index("ix_supervision_assessment_org_state", "organization_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    organization_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[str | None] = mapped_column(String(2))
    conditions: Mapped[str | None] = mapped_column(Text)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class Answer(Base):
    """The institution's answer to one checklist item, its evidence and the review."""

    __tablename__ = "supervision_answer"
    __table_args__ = (UniqueConstraint("assessment_id", "item_code", name="uq_supervision_answer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_assessment.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(Integer)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    answered_by: Mapped[str] = mapped_column(String(120))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verdict: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    remark: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Finding(TimestampMixin, Base):
    """A finding against an institution, opened from an audit flag or a confirmed misuse."""

    __tablename__ = "supervision_finding"
    __table_args__ = (
        Index("ix_supervision_finding_org_state", "organization_id", "state"),
        UniqueConstraint("organization_id", "flag", "flag_key", name="uq_supervision_finding_flag"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    organization_name: Mapped[str] = mapped_column(String(200))
    flag: Mapped[str] = mapped_column(String(40))  # an audit flag, or "misuse"
    flag_key: Mapped[str] = mapped_column(String(80))  # what makes it one finding (a day, an event)
    summary: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    sanction: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class AssessmentStep(Base):
    """One move of an assessment; each is also a salted leaf of the ledger."""

    __tablename__ = "supervision_assessment_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supervision_assessment.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class FindingStep(Base):
    """One move of a finding; each is also a salted leaf of the ledger."""

    __tablename__ = "supervision_finding_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supervision_finding.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
