"""Tables of post-loan monitoring, anti-fraud and the financial blacklist."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

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
