"""Tables of consent: the commitment text and its signatures, letters and their moves.

Organizations are named by their public ids (``org_…``), never by iam's table keys: a
domain reaches another through its service, not its tables.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
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


class LetterState(StrEnum):
    PENDING = "pending"  # asked for by an institution, waiting for the enterprise
    ACTIVE = "active"
    REJECTED = "rejected"
    PAUSED = "paused"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"


class GranteeScope(StrEnum):
    """Who a letter lets in."""

    ORGANIZATION = "organization"  # one institution or platform
    ANY_INSTITUTION = "any_institution"  # any institution, for an application it files


class FetchMode(StrEnum):
    ONCE = "once"  # one fetch, then the letter is used up
    ON_DEMAND = "on_demand"  # any time while valid, up to max_queries (an application)
    PERIODIC = "periodic"  # at most one fetch per fetch_period_days (post-loan monitoring)


class LetterView(StrEnum):
    FULL = "full"  # covered levels raw; personal information raw only if covered
    DESENSITIZED = "desensitized"  # only public-level values raw, the rest desensitized


class CommitmentText(Base):
    """One version of the credit commitment (信用承诺书) enterprises sign."""

    __tablename__ = "consent_commitment_text"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CommitmentSignature(Base):
    """An enterprise signed one version of the commitment: who, when, which text."""

    __tablename__ = "consent_commitment_signature"
    __table_args__ = (UniqueConstraint("credit_code", "text_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    text_version: Mapped[int] = mapped_column(Integer)
    text_digest: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[str | None] = mapped_column(String(40))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    # The salt of its ledger commitment (format 2); NULL for signatures logged before.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class AuthorizationLetter(TimestampMixin, Base):
    """An authorization letter (授权书): the fields of an Account Aggregator consent artefact.

    The grantor enterprise lets a grantee (one organization, or any institution for an
    application it files) query the categories and levels listed, for one purpose, between
    ``valid_from`` and ``valid_until``; only data dated within ``data_from``–``data_until``;
    once, on demand, or once per ``fetch_period_days``; at most ``max_queries`` times (None:
    unlimited); and the grantee keeps what it fetched at most ``data_life_days``.
    """

    __tablename__ = "consent_letter"
    __table_args__ = (
        Index("ix_consent_letter_subject_state", "credit_code", "state"),
        Index("ix_consent_letter_grantee_state", "grantee_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    grantor_id: Mapped[str | None] = mapped_column(String(40))
    grantor_name: Mapped[str] = mapped_column(String(200))
    grantee_scope: Mapped[str] = mapped_column(String(20))
    grantee_id: Mapped[str | None] = mapped_column(String(40))
    grantee_name: Mapped[str | None] = mapped_column(String(200))
    grantee_kind: Mapped[str | None] = mapped_column(String(20))
    categories: Mapped[list[str]] = mapped_column(JSON)
    levels: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(40), index=True)
    view: Mapped[str] = mapped_column(String(20), default=LetterView.FULL)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data_from: Mapped[date | None] = mapped_column(Date)
    data_until: Mapped[date | None] = mapped_column(Date)
    fetch_mode: Mapped[str] = mapped_column(String(20), default=FetchMode.ONCE)
    fetch_period_days: Mapped[int | None] = mapped_column(Integer)
    data_life_days: Mapped[int] = mapped_column(Integer)
    max_queries: Mapped[int | None] = mapped_column(Integer)
    queries_used: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(120))
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)


class LetterTransition(Base):
    """One move of a letter: from, to, who, when, why; also a leaf of the ledger."""

    __tablename__ = "consent_letter_transition"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    letter_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("consent_letter.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    digest: Mapped[str] = mapped_column(String(64))
    # The salt of its ledger commitment (format 2); NULL for moves logged before.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
