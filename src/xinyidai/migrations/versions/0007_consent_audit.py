"""consent, privacy and audit: the credit commitment, authorization letters, access events

Revision ID: 0007_consent_audit
Revises: 0006_records_partitions
Create Date: 2026-11-23 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0007_consent_audit"
down_revision: str | Sequence[str] | None = "0006_records_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_access_event",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("organization_kind", sa.String(length=20), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("basis", sa.String(length=30), nullable=True),
        sa.Column("letter_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("granted", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_access_event")),
        sa.UniqueConstraint("public_id", name=op.f("uq_audit_access_event_public_id")),
    )
    op.create_index(op.f("ix_audit_access_event_at"), "audit_access_event", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_access_event_letter_id"), "audit_access_event", ["letter_id"], unique=False
    )
    op.create_index(
        "ix_audit_access_event_organization_at",
        "audit_access_event",
        ["organization_id", "at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_audit_access_event_outcome"), "audit_access_event", ["outcome"], unique=False
    )
    op.create_index(
        op.f("ix_audit_access_event_purpose"), "audit_access_event", ["purpose"], unique=False
    )
    op.create_index(
        "ix_audit_access_event_subject_at", "audit_access_event", ["subject", "at"], unique=False
    )

    op.create_table(
        "consent_commitment_signature",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("text_version", sa.Integer(), nullable=False),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("signed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_commitment_signature")),
        sa.UniqueConstraint(
            "credit_code",
            "text_version",
            name=op.f("uq_consent_commitment_signature_credit_code_text_version"),
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_consent_commitment_signature_public_id")),
    )
    op.create_index(
        op.f("ix_consent_commitment_signature_credit_code"),
        "consent_commitment_signature",
        ["credit_code"],
        unique=False,
    )

    op.create_table(
        "consent_commitment_text",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("published_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_commitment_text")),
        sa.UniqueConstraint("version", name=op.f("uq_consent_commitment_text_version")),
    )
    op.create_table(
        "consent_letter",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("grantor_id", sa.String(length=40), nullable=True),
        sa.Column("grantor_name", sa.String(length=200), nullable=False),
        sa.Column("grantee_scope", sa.String(length=20), nullable=False),
        sa.Column("grantee_id", sa.String(length=40), nullable=True),
        sa.Column("grantee_name", sa.String(length=200), nullable=True),
        sa.Column("grantee_kind", sa.String(length=20), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("view", sa.String(length=20), nullable=False),
        sa.Column("valid_from", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data_from", sa.Date(), nullable=True),
        sa.Column("data_until", sa.Date(), nullable=True),
        sa.Column("fetch_mode", sa.String(length=20), nullable=False),
        sa.Column("fetch_period_days", sa.Integer(), nullable=True),
        sa.Column("data_life_days", sa.Integer(), nullable=False),
        sa.Column("max_queries", sa.Integer(), nullable=True),
        sa.Column("queries_used", sa.Integer(), nullable=False),
        sa.Column("last_used_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=True),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_letter")),
        sa.UniqueConstraint("public_id", name=op.f("uq_consent_letter_public_id")),
    )
    op.create_index(
        "ix_consent_letter_grantee_state", "consent_letter", ["grantee_id", "state"], unique=False
    )
    op.create_index(op.f("ix_consent_letter_purpose"), "consent_letter", ["purpose"], unique=False)
    op.create_index(op.f("ix_consent_letter_state"), "consent_letter", ["state"], unique=False)
    op.create_index(
        "ix_consent_letter_subject_state", "consent_letter", ["credit_code", "state"], unique=False
    )
    op.create_index(
        op.f("ix_consent_letter_valid_until"), "consent_letter", ["valid_until"], unique=False
    )

    op.create_table(
        "consent_letter_transition",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("letter_id", BIG_ID, nullable=False),
        sa.Column("transition", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"],
            ["consent_letter.id"],
            name=op.f("fk_consent_letter_transition_letter_id_consent_letter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_letter_transition")),
    )
    op.create_index(
        op.f("ix_consent_letter_transition_letter_id"),
        "consent_letter_transition",
        ["letter_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_consent_letter_transition_letter_id"), table_name="consent_letter_transition"
    )

    op.drop_table("consent_letter_transition")
    op.drop_index(op.f("ix_consent_letter_valid_until"), table_name="consent_letter")
    op.drop_index("ix_consent_letter_subject_state", table_name="consent_letter")
    op.drop_index(op.f("ix_consent_letter_state"), table_name="consent_letter")
    op.drop_index(op.f("ix_consent_letter_purpose"), table_name="consent_letter")
    op.drop_index("ix_consent_letter_grantee_state", table_name="consent_letter")

    op.drop_table("consent_letter")
    op.drop_table("consent_commitment_text")
    op.drop_index(
        op.f("ix_consent_commitment_signature_credit_code"),
        table_name="consent_commitment_signature",
    )

    op.drop_table("consent_commitment_signature")
    op.drop_index("ix_audit_access_event_subject_at", table_name="audit_access_event")
    op.drop_index(op.f("ix_audit_access_event_purpose"), table_name="audit_access_event")
    op.drop_index(op.f("ix_audit_access_event_outcome"), table_name="audit_access_event")
    op.drop_index("ix_audit_access_event_organization_at", table_name="audit_access_event")
    op.drop_index(op.f("ix_audit_access_event_letter_id"), table_name="audit_access_event")
    op.drop_index(op.f("ix_audit_access_event_at"), table_name="audit_access_event")

    op.drop_table("audit_access_event")
