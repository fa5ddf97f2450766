"""sharing: documents sent with a compensation claim

Revision ID: 0028_claim_documents
Revises: 0027_supervision
Create Date: 2026-12-07 20:45:00

``sharing_claim_document`` one row per file sent with a claim (the bytes are kept under the
data folder by their SHA-256, ``core.blobs``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0028_claim_documents"
down_revision: str | Sequence[str] | None = "0027_supervision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sharing_claim_document",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("claim_id", BIGID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["sharing_claim.id"],
            name=op.f("fk_sharing_claim_document_claim_id_sharing_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_claim_document")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_claim_document_public_id")),
    )
    with op.batch_alter_table("sharing_claim_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_claim_document_claim_id"), ["claim_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_claim_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_claim_document_claim_id"))
    op.drop_table("sharing_claim_document")
