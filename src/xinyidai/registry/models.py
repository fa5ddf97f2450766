"""Tables of the registry: one row per credit subject."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, TimestampMixin


class SubjectKind(StrEnum):
    """What kind of credit subject a credit code names (its second digit tells)."""

    ENTERPRISE = "enterprise"
    INDIVIDUAL = "individual_business"
    COOPERATIVE = "cooperative"
    OTHER = "other"


class SubjectStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending_verification"
    DEREGISTERED = "deregistered"


class Enterprise(TimestampMixin, Base):
    """A credit subject: an enterprise, individual business or cooperative (主体)."""

    __tablename__ = "enterprise"
    __table_args__ = (
        Index("ix_enterprise_region_industry", "region_code", "industry_code"),
        Index("ix_enterprise_name", "name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default=SubjectKind.ENTERPRISE)
    status: Mapped[str] = mapped_column(String(30), default=SubjectStatus.ACTIVE)
    region_code: Mapped[str | None] = mapped_column(String(6))
    industry_code: Mapped[str | None] = mapped_column(String(5))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    established_on: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(300))
