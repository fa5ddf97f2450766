"""joint: threshold answers, alignments

Revision ID: 0026_joint
Revises: 0025_federation
Create Date: 2026-12-07 20:00:00

``joint_threshold_answer`` holds one row per threshold answer given (the organization, the
enterprise, the question and threshold, yes or no, the access event); the limit that keeps
thresholds from being walked counts these rows. ``joint_alignment`` one row per private set intersection with an
institution (sizes, the center's order, then the intersection; a salted ledger leaf).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0026_joint"
down_revision: str | Sequence[str] | None = "0025_federation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "joint_threshold_answer",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("question", sa.String(length=30), nullable=False),
        sa.Column("threshold", sa.String(length=40), nullable=True),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("asked_by", sa.String(length=120), nullable=False),
        sa.Column("asked_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_threshold_answer")),
        sa.UniqueConstraint("public_id", name=op.f("uq_joint_threshold_answer_public_id")),
    )
    op.create_index(
        "ix_joint_threshold_answer_asker",
        "joint_threshold_answer",
        ["organization_id", "credit_code", "question", "asked_at"],
    )

    op.create_table(
        "joint_alignment",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("matched_at", TIMESTAMP, nullable=True),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_alignment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_joint_alignment_public_id")),
    )
    op.create_index(
        "ix_joint_alignment_organization", "joint_alignment", ["organization_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_joint_alignment_organization", table_name="joint_alignment")
    op.drop_table("joint_alignment")
    op.drop_index("ix_joint_threshold_answer_asker", table_name="joint_threshold_answer")
    op.drop_table("joint_threshold_answer")
