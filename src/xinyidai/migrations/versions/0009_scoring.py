"""scoring: rating models, full runs and every rating given

Revision ID: 0009_scoring
Revises: 0008_graph
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0009_scoring"
down_revision: str | Sequence[str] | None = "0008_graph"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rating_model",
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rating_model")),
    )
    op.create_table(
        "rating_run",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("grades", sa.JSON(), nullable=False),
        sa.Column("mean_score", sa.Float(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_run")),
    )
    op.create_index(op.f("ix_rating_run_finished_at"), "rating_run", ["finished_at"], unique=False)
    op.create_table(
        "credit_rating",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("rated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_rating")),
    )
    op.create_index(
        "ix_credit_rating_code_id", "credit_rating", ["credit_code", "id"], unique=False
    )
    op.create_index(op.f("ix_credit_rating_run_id"), "credit_rating", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_rating_run_id"), table_name="credit_rating")
    op.drop_index("ix_credit_rating_code_id", table_name="credit_rating")
    op.drop_table("credit_rating")
    op.drop_index(op.f("ix_rating_run_finished_at"), table_name="rating_run")
    op.drop_table("rating_run")
    op.drop_table("rating_model")
