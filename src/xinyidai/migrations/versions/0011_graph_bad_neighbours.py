"""graph: every enterprise's bad neighbours at depth 1 and 2, stored for the rating

Revision ID: 0011_graph_bad_neighbours
Revises: 0010_market
Create Date: 2026-11-23 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0011_graph_bad_neighbours"
down_revision: str | Sequence[str] | None = "0010_market"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "graph_bad_neighbours",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("depth1", sa.Integer(), nullable=False),
        sa.Column("depth2", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.String(length=40), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("counted_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("pk_graph_bad_neighbours")),
    )
    with op.batch_alter_table("graph_analysis", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bad_neighbours", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("counts_as_of", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("counts_ms", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("graph_analysis", schema=None) as batch_op:
        batch_op.drop_column("counts_ms")
        batch_op.drop_column("counts_as_of")
        batch_op.drop_column("bad_neighbours")
    op.drop_table("graph_bad_neighbours")
