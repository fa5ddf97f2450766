"""Tables of joint modelling: the threshold answers given (each counted against the limit
that keeps thresholds from being walked to a value).

Every kind is a ``StrEnum``; a member compares equal to its stored string.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, String
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
