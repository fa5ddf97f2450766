"""joint: threshold answers

Revision ID: 0026_joint
Revises: 0024_stats
Create Date: 2026-12-07 20:00:00

``joint_threshold_answer`` holds one row per threshold answer given (the organization, the
enterprise, the question and threshold, yes or no, the access event); the limit that keeps
thresholds from being walked counts these rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0026_joint"
down_revision: str | Sequence[str] | None = "0024_stats"
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


def downgrade() -> None:
    op.drop_index("ix_joint_threshold_answer_asker", table_name="joint_threshold_answer")
    op.drop_table("joint_threshold_answer")
