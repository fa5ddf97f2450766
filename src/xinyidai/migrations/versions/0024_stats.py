"""stats: figures per day and dimension cell, refreshes, typical cases, bulletins

Revision ID: 0024_stats
Revises: 0023_rights
Create Date: 2026-12-07 17:00:00

``stats_figure`` holds one figure's increment per China day and dimension cell (docs/stats.md);
``stats_refresh`` one row per refresh or rebuild (the last one's start is the next one's mark);
``stats_lock`` the row a refresh locks; ``stats_case`` the typical cases of the public
site; ``stats_bulletin`` the monthly bulletins (figures and PDF).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0024_stats"
down_revision: str | Sequence[str] | None = "0023_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stats_figure",
        sa.Column("figure", sa.String(length=60), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(24, 4), nullable=False),
        sa.PrimaryKeyConstraint("figure", "dimension", "key", "day", name="pk_stats_figure"),
    )
    op.create_index("ix_stats_figure_day", "stats_figure", ["day"])
    op.create_table(
        "stats_refresh",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("since", TIMESTAMP, nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "stats_lock",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_stats_lock"),
    )
    op.bulk_insert(sa.table("stats_lock", sa.column("name", sa.String())), [{"name": "refresh"}])
    op.create_table(
        "stats_case",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("industry_code", sa.String(length=5), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("consent_reference", sa.String(length=200), nullable=True),
        sa.Column("consent_recorded_by", sa.String(length=120), nullable=True),
        sa.Column("consent_recorded_at", TIMESTAMP, nullable=True),
        sa.Column("written_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("public_id", name="uq_stats_case_public_id"),
    )
    op.create_index("ix_stats_case_state", "stats_case", ["state"])
    op.create_table(
        "stats_bulletin",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("generated_at", TIMESTAMP, nullable=False),
        sa.Column("generated_by", sa.String(length=120), nullable=False),
        sa.UniqueConstraint("month", name="uq_stats_bulletin_month"),
    )


def downgrade() -> None:
    op.drop_table("stats_bulletin")
    op.drop_table("stats_case")
    op.drop_table("stats_lock")
    op.drop_table("stats_refresh")
    op.drop_table("stats_figure")
