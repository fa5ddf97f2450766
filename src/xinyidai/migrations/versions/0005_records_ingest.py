"""records and ingest: credit records with versions and conflicts, batches, rejections

Revision ID: 0005_records_ingest
Revises: 0004_catalog
Create Date: 2026-11-23 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0005_records_ingest"
down_revision: str | Sequence[str] | None = "0004_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_record",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("category_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_record")),
    )
    op.create_index(
        "ix_credit_record_category_event", "credit_record", ["category", "event_on"], unique=False
    )
    op.create_index(
        "ix_credit_record_subject_category",
        "credit_record",
        ["subject_code", "category"],
        unique=False,
    )
    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("category_version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("format", sa.String(length=10), nullable=True),
        sa.Column("encoding", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("missing_required", sa.Integer(), nullable=False),
        sa.Column("unknown_headers", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("parent_batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("finished_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
    )
    op.create_index(
        "ix_ingest_batch_provider_category", "ingest_batch", ["provider", "category"], unique=False
    )
    op.create_index(op.f("ix_ingest_batch_state"), "ingest_batch", ["state"], unique=False)
    op.create_table(
        "ingest_idempotency_key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("principal", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_idempotency_key")),
        sa.UniqueConstraint(
            "principal", "key", name=op.f("uq_ingest_idempotency_key_principal_key")
        ),
    )
    op.create_table(
        "ingest_rejection",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("resolved_batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_rejection")),
    )
    op.create_index(
        "ix_ingest_rejection_batch_position",
        "ingest_rejection",
        ["batch_id", "position"],
        unique=False,
    )
    op.create_table(
        "credit_record_conflict",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("earlier_provider", sa.String(length=40), nullable=False),
        sa.Column("earlier_version", sa.Integer(), nullable=False),
        sa.Column("later_provider", sa.String(length=40), nullable=False),
        sa.Column("later_version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["credit_record.id"],
            name=op.f("fk_credit_record_conflict_record_id_credit_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_record_conflict")),
    )
    op.create_index(
        op.f("ix_credit_record_conflict_record_id"),
        "credit_record_conflict",
        ["record_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_credit_record_conflict_state"), "credit_record_conflict", ["state"], unique=False
    )
    op.create_table(
        "credit_record_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("category_version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["credit_record.id"],
            name=op.f("fk_credit_record_version_record_id_credit_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_record_version")),
        sa.UniqueConstraint(
            "record_id", "version", name=op.f("uq_credit_record_version_record_id_version")
        ),
    )
    op.create_index(
        op.f("ix_credit_record_version_batch_id"),
        "credit_record_version",
        ["batch_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_credit_record_version_subject_code"),
        "credit_record_version",
        ["subject_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_record_version_subject_code"), table_name="credit_record_version")
    op.drop_index(op.f("ix_credit_record_version_batch_id"), table_name="credit_record_version")
    op.drop_table("credit_record_version")
    op.drop_index(op.f("ix_credit_record_conflict_state"), table_name="credit_record_conflict")
    op.drop_index(op.f("ix_credit_record_conflict_record_id"), table_name="credit_record_conflict")
    op.drop_table("credit_record_conflict")
    op.drop_index("ix_ingest_rejection_batch_position", table_name="ingest_rejection")
    op.drop_table("ingest_rejection")
    op.drop_table("ingest_idempotency_key")
    op.drop_index(op.f("ix_ingest_batch_state"), table_name="ingest_batch")
    op.drop_index("ix_ingest_batch_provider_category", table_name="ingest_batch")
    op.drop_table("ingest_batch")
    op.drop_index("ix_credit_record_subject_category", table_name="credit_record")
    op.drop_index("ix_credit_record_category_event", table_name="credit_record")
    op.drop_table("credit_record")
