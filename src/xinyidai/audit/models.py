"""Tables of the audit trail: one row per access decision, allow or deny."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime

ALLOW = "allow"
DENY = "deny"
OUTCOMES = (ALLOW, DENY)


class AccessEvent(Base):
    """One access decision: who asked for which categories of whose data, why, and the answer.

    ``digest`` is the SHA-256 of the event's canonical body; the ledger holds a commitment
    to it salted with ``salt`` as a leaf of kind ``audit.access``, so an event changed or
    removed afterwards is found, and nobody can test a guess of it against the public leaf.
    """

    __tablename__ = "audit_access_event"
    __table_args__ = (
        Index("ix_audit_access_event_subject_at", "subject", "at"),
        Index("ix_audit_access_event_organization_at", "organization_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    organization_id: Mapped[str] = mapped_column(String(40))
    organization_kind: Mapped[str] = mapped_column(String(20))
    organization_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(18))
    categories: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(10), index=True)
    basis: Mapped[str | None] = mapped_column(String(30))
    letter_id: Mapped[str | None] = mapped_column(String(40), index=True)
    reason: Mapped[str | None] = mapped_column(String(60))
    granted: Mapped[dict[str, Any]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    # The salt of its ledger commitment (format 2); NULL for events logged before.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
