"""Tables of joint modelling: the threshold answers given (each counted against the limit
that keeps thresholds from being walked to a value).

Every kind is a ``StrEnum``; a member compares equal to its stored string.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime


class ThresholdQuestion(StrEnum):
    TAX_PAID_LAST_YEAR = "tax_paid_last_year"  # tax paid in the latest year ≥ X yuan
    INSURED_HEADCOUNT = "insured_headcount"  # social-insurance headcount ≥ N
    NO_ARREARS = "no_arrears"  # no arrears of tax, insurance, fund or utilities
    REGISTERED_CAPITAL = "registered_capital"  # registered capital ≥ X yuan


class ThresholdAnswer(Base):
    """One threshold question answered about an enterprise for an organization: what was
    asked and the yes or no, with the access event that allowed it. The answers of an
    organization about an enterprise and question in the window are what the limit counts."""

    __tablename__ = "joint_threshold_answer"
    __table_args__ = (
        Index(
            "ix_joint_threshold_answer_asker",
            "organization_id",
            "credit_code",
            "question",
            "asked_at",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    credit_code: Mapped[str] = mapped_column(String(18))
    question: Mapped[str] = mapped_column(String(30))
    threshold: Mapped[str | None] = mapped_column(String(40))
    holds: Mapped[bool] = mapped_column(Boolean)
    event_id: Mapped[str] = mapped_column(String(40))
    asked_by: Mapped[str] = mapped_column(String(120))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlignmentState(StrEnum):
    OFFERED = "offered"  # the center answered the institution's points and offered its own
    MATCHED = "matched"  # the institution told the center which of its points matched


class Alignment(Base):
    """One private set intersection between the center and an institution: the sizes each
    side brought, the center's enterprises in the order it offered them (until matched),
    then the intersection in that order. Each alignment is a salted leaf of the ledger
    (``joint.alignment``) once matched."""

    __tablename__ = "joint_alignment"
    __table_args__ = (Index("ix_joint_alignment_organization", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    organization_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    sent: Mapped[int] = mapped_column(Integer)  # the institution's customers
    offered: Mapped[int] = mapped_column(Integer)  # the center's enterprises with letters
    # the center's order while offered; the intersection, in that order, once matched
    codes: Mapped[list[str]] = mapped_column(JSON)
    matched: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
