"""Tables of identity and access: organizations, users, sessions and tokens, API keys."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyidai.core import clock
from xinyidai.core.models import Base, BigId, TimestampMixin, UTCDateTime


class OrgKind(StrEnum):
    """Who an organization is on the platform."""

    OPERATOR = "operator"  # the credit center running this node
    PROVIDER = "provider"  # a government department supplying data
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"  # a financial institution
    PLATFORM = "platform"  # another XYD node or service platform
    AUDITOR = "auditor"


class InstitutionType(StrEnum):
    BANK = "bank"
    INSURER = "insurer"
    GUARANTOR = "guarantor"
    MICROLENDER = "microlender"
    LEASING = "leasing"
    FACTORING = "factoring"
    PAWNSHOP = "pawnshop"  # 典当行


class OrgState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


# The enterprise organizations that hold their credit code: approved, even if suspended.
HOLDS_CODE = "kind = 'enterprise' AND state IN ('active', 'suspended')"


class Role(StrEnum):
    """A member's role inside its organization."""

    ADMIN = "admin"
    STAFF = "staff"
    READ_ONLY = "read_only"


class UserState(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    DISABLED = "disabled"


class TokenKind(StrEnum):
    """What an opaque token stored in ``iam_session`` is for."""

    PORTAL = "portal"
    ACCESS = "access"
    REFRESH = "refresh"


class Organization(TimestampMixin, Base):
    """A member of the platform: the operator, a department, an enterprise, an institution…"""

    __tablename__ = "iam_organization"
    __table_args__ = (
        Index("ix_iam_organization_kind_state", "kind", "state"),
        # One approved enterprise account per credit code; pending and rejected claims to a
        # code may be many (migration 0015).
        Index(
            "uq_iam_organization_enterprise_code",
            "credit_code",
            unique=True,
            sqlite_where=text(HOLDS_CODE),
            postgresql_where=text(HOLDS_CODE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=OrgState.PENDING)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    # A provider's department code: the catalogue's provider code its data is filed under.
    department_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    institution_type: Mapped[str | None] = mapped_column(String(20))
    licence_number: Mapped[str | None] = mapped_column(String(60))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str | None] = mapped_column(String(120))
    state_reason: Mapped[str | None] = mapped_column(Text)

    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(TimestampMixin, Base):
    """A person who signs in; belongs to one organization with one role inside it."""

    __tablename__ = "iam_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("iam_organization.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default=Role.STAFF)
    state: Mapped[str] = mapped_column(String(20), default=UserState.ACTIVE)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str | None] = mapped_column(String(120))

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")


class AuthSession(Base):
    """An opaque token (portal session, API access or refresh token), stored as its SHA-256."""

    __tablename__ = "iam_session"
    __table_args__ = (Index("ix_iam_session_user_kind", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("iam_user.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(40), index=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class ApiKey(Base):
    """A machine credential ``xyd_<prefix>_<secret>``: prefix stored plainly, key hashed."""

    __tablename__ = "iam_api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("iam_organization.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(120))

    organization: Mapped[Organization] = relationship(lazy="joined")


class LoginFailure(Base):
    """One failed sign-in, kept a while for throttling by username and client address."""

    __tablename__ = "iam_login_failure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)


class StateChange(Base):
    """One recorded transition of an organization or a user: what, from, to, who, when."""

    __tablename__ = "iam_state_change"
    __table_args__ = (Index("ix_iam_state_change_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(BigId)
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ReadClearance(Base):
    """What lets an institution read non-public credit data: the confidentiality agreement
    it signed and its passed security assessment (NX-18, GX-5).

    The supervision domain grants and withdraws it; it is kept here, below the access
    decision in ``consent``, because that decision must read it on every read and may not
    import the domain above it. No row: nothing signed, nothing assessed.
    """

    __tablename__ = "iam_read_clearance"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("iam_organization.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_version: Mapped[int | None] = mapped_column(Integer)
    agreement_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A newer version is in force and must be signed by then (None: nothing outstanding).
    agreement_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessment_id: Mapped[str | None] = mapped_column(String(40))
    assessment_level: Mapped[str | None] = mapped_column(String(2))
    assessment_expires_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
