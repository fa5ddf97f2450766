"""risk: the financial blacklist (listings, their steps and documents) and fraud cases
(hits, notes, the applications scanned)

Revision ID: 0020_risk_blacklist_fraud
Revises: 0019_risk_alerts
Create Date: 2026-12-07 13:25:41

New tables only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0020_risk_blacklist_fraud"
down_revision: str | Sequence[str] | None = "0019_risk_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_fraud_case",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_fraud_case")),
        sa.UniqueConstraint("application_id", name=op.f("uq_risk_fraud_case_application_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_risk_fraud_case_public_id")),
    )
    with op.batch_alter_table("risk_fraud_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_fraud_case_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            "ix_risk_fraud_case_institution_state", ["institution_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_fraud_case_state"), ["state"], unique=False)

    op.create_table(
        "risk_fraud_scan",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("scanned_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_fraud_scan")),
        sa.UniqueConstraint("application_id", name=op.f("uq_risk_fraud_scan_application_id")),
    )
    op.create_table(
        "risk_listing",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=True),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("proposed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "objection_until", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("objection", sa.Text(), nullable=True),
        sa.Column("objected_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("listed_from", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("listed_until", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_listing")),
        sa.UniqueConstraint("public_id", name=op.f("uq_risk_listing_public_id")),
    )
    with op.batch_alter_table("risk_listing", schema=None) as batch_op:
        batch_op.create_index("ix_risk_listing_code_state", ["credit_code", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_risk_listing_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_listing_listed_until"), ["listed_until"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_listing_state"), ["state"], unique=False)

    op.create_table(
        "risk_fraud_hit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("operator_evidence", sa.JSON(), nullable=False),
        sa.Column("found_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["risk_fraud_case.id"],
            name=op.f("fk_risk_fraud_hit_case_id_risk_fraud_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_fraud_hit")),
    )
    with op.batch_alter_table("risk_fraud_hit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_fraud_hit_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_risk_fraud_hit_case_rule", ["case_id", "rule"], unique=True)

    op.create_table(
        "risk_fraud_note",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["risk_fraud_case.id"],
            name=op.f("fk_risk_fraud_note_case_id_risk_fraud_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_fraud_note")),
    )
    with op.batch_alter_table("risk_fraud_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_fraud_note_case_id"), ["case_id"], unique=False)

    op.create_table(
        "risk_listing_document",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["risk_listing.id"],
            name=op.f("fk_risk_listing_document_listing_id_risk_listing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_listing_document")),
        sa.UniqueConstraint("public_id", name=op.f("uq_risk_listing_document_public_id")),
    )
    with op.batch_alter_table("risk_listing_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_listing_document_listing_id"), ["listing_id"], unique=False
        )

    op.create_table(
        "risk_listing_step",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("transition", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["risk_listing.id"],
            name=op.f("fk_risk_listing_step_listing_id_risk_listing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_listing_step")),
    )
    with op.batch_alter_table("risk_listing_step", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_listing_step_listing_id"), ["listing_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_listing_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_listing_step_listing_id"))

    op.drop_table("risk_listing_step")
    with op.batch_alter_table("risk_listing_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_listing_document_listing_id"))

    op.drop_table("risk_listing_document")
    with op.batch_alter_table("risk_fraud_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_fraud_note_case_id"))

    op.drop_table("risk_fraud_note")
    with op.batch_alter_table("risk_fraud_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_fraud_hit_case_rule")
        batch_op.drop_index(batch_op.f("ix_risk_fraud_hit_case_id"))

    op.drop_table("risk_fraud_hit")
    with op.batch_alter_table("risk_listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_listing_state"))
        batch_op.drop_index(batch_op.f("ix_risk_listing_listed_until"))
        batch_op.drop_index(batch_op.f("ix_risk_listing_institution_id"))
        batch_op.drop_index("ix_risk_listing_code_state")

    op.drop_table("risk_listing")
    op.drop_table("risk_fraud_scan")
    with op.batch_alter_table("risk_fraud_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_fraud_case_state"))
        batch_op.drop_index("ix_risk_fraud_case_institution_state")
        batch_op.drop_index(batch_op.f("ix_risk_fraud_case_credit_code"))

    op.drop_table("risk_fraud_case")
