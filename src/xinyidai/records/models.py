"""Tables of the records: one row per fact (its current version), one per past version, conflicts.

A record's id is derived from its category and key fields (``record_id``), so the same
fact sent twice, by one department or several, lands on the same row.

On PostgreSQL ``credit_record`` is partitioned by category (``LIST``): its key is
``(id, category)`` and the tables that point at a record carry the category too, so a
lookup that names the category touches one partition. Migration 0006 creates one partition
per category of the default catalogue and a default partition for categories added later
(docs/operations.md says how to give one its own partition).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, UTCDateTime


class CreditRecord(Base):
    """The current state of one fact about one subject (a penalty, a tax grade, …)."""

    __tablename__ = "credit_record"
    __table_args__ = (
        # A subject's records are looked up by equality only (one subject, or ``= ANY``
        # for some): a hash index on PostgreSQL, cheaper per ingested row (migration 0012).
        Index("ix_credit_record_subject", "subject_code", postgresql_using="hash"),
        Index("ix_credit_record_category_event", "category", "event_on"),
        Index("ix_credit_record_change", "change_id"),
        {"postgresql_partition_by": "LIST (category)"},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_code: Mapped[str] = mapped_column(String(18))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    event_on: Mapped[date | None] = mapped_column(Date)
    category_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    sources: Mapped[list[str]] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the current version was stored (a record that only gains a source keeps it).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The mark of the ``store`` call that gave the record its current version: marks only
    # grow, so the records changed after a mark are a range of this index
    # (``records.service.changed_subjects``). Shared by every record one call wrote.
    change_id: Mapped[int] = mapped_column(BigInteger)
    # The 16 random bytes that salt the current version's ledger commitment (leaf format 2,
    # docs/ledger.md); NULL for a version stored before, whose leaf holds the digest itself.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class RecordVersion(Base):
    """A past version of a record exactly as it was stored, with who sent it and when.

    The current version is the record's own row; when a record changes, its row is copied
    here first (migration 0013), so a first version, the common write of an ingest, is
    written once. A record's history is its past versions here and its row. Versions are
    found through their record (``record_id, version``). There is no foreign key to
    ``credit_record``: on PostgreSQL that check is a pruned lookup into the partitioned
    table for every row and cost ingest more server time than all the inserts' indexes
    (docs/performance.md). ``records.service.store`` copies a record's row here and changes it
    in one transaction, records are never deleted, and ``orphan_versions`` counts any break.
    """

    __tablename__ = "credit_record_version"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    subject_code: Mapped[str] = mapped_column(String(18))
    category: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    category_version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))  # as the record's row had it


class RecordConflict(Base):
    """Two departments sent different values for the same fact: the operator decides."""

    __tablename__ = "credit_record_conflict"
    __table_args__ = (
        ForeignKeyConstraint(
            ["record_id", "category"],
            ["credit_record.id", "credit_record.category"],
            name="fk_credit_record_conflict_record",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(40))
    subject_code: Mapped[str] = mapped_column(String(18))
    earlier_provider: Mapped[str] = mapped_column(String(40))
    earlier_version: Mapped[int] = mapped_column(Integer)
    later_provider: Mapped[str] = mapped_column(String(40))
    later_version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MarkKind(StrEnum):
    """What a mark on a record says to every view of it."""

    OBJECTION = "objection"  # an objection to it is being handled (异议处理中)
    REPAIRED = "repaired"  # repaired (信用修复): kept, no longer disclosed
    SELF_REPORTED = "self_reported"  # entered by the enterprise itself (自愿填报)
    CONFIRMED = "confirmed"  # a self-reported record a department confirmed
    # a negative from before a restructuring the rating leaves out (the configured policy)
    BEFORE_RESTRUCTURING = "before_restructuring"


class RecordMark(Base):
    """A note that a domain above the records pins on a record, read by every view.

    The records cannot import who sets them (subject rights sit above the records): a mark
    is how an objection in progress or a credit repair reaches the report, the profile,
    the PDF and the exports. A mark is active until ``cleared_at``.
    """

    __tablename__ = "credit_record_mark"
    __table_args__ = (
        Index("ix_credit_record_mark_subject", "subject_code"),
        Index("ix_credit_record_mark_reference", "kind", "reference"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(40))
    subject_code: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoteKind(StrEnum):
    """What a note on a subject says beside its records."""

    REORGANIZATION_APPROVED = "reorganization_approved"  # 重整计划获法院批准
    PLAN_EXECUTED = "plan_executed"  # 重整计划执行完毕


class SubjectNote(Base):
    """A court's or the operator's annotation on a subject (破产重整), shown beside its
    records in every view and report; set by subject rights, read by the records' views."""

    __tablename__ = "credit_subject_note"
    __table_args__ = (Index("ix_credit_subject_note_subject", "subject_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_code: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(30))
    decided_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))  # the court, or the operator
    text: Mapped[str] = mapped_column(String(2000))
    reference: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
