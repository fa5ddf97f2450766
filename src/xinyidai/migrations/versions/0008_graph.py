"""graph: region analyses with guarantee circles and chains, the index of link keys

Revision ID: 0008_graph
Revises: 0007_consent_audit
Create Date: 2026-11-23 14:05:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0008_graph"
down_revision: str | Sequence[str] | None = "0007_consent_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "graph_analysis",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("include_released", sa.Boolean(), nullable=False),
        sa.Column("min_chain", sa.Integer(), nullable=False),
        sa.Column("max_circle", sa.Integer(), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("guarantees", sa.Integer(), nullable=False),
        sa.Column("circles", sa.Integer(), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("index_keys", sa.Integer(), nullable=False),
        sa.Column("read_ms", sa.Integer(), nullable=False),
        sa.Column("search_ms", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_analysis")),
    )
    op.create_index(op.f("ix_graph_analysis_state"), "graph_analysis", ["state"], unique=False)
    op.create_table(
        "graph_structure",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("analysis_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("edges", sa.JSON(), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["graph_analysis.id"],
            name=op.f("fk_graph_structure_analysis_id_graph_analysis"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_structure")),
    )
    op.create_index(
        "ix_graph_structure_analysis_kind",
        "graph_structure",
        ["analysis_id", "kind"],
        unique=False,
    )
    op.create_table(
        "graph_structure_member",
        sa.Column("structure_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["graph_structure.id"],
            name=op.f("fk_graph_structure_member_structure_id_graph_structure"),
        ),
        sa.PrimaryKeyConstraint("structure_id", "position", name=op.f("pk_graph_structure_member")),
    )
    op.create_index(
        op.f("ix_graph_structure_member_credit_code"),
        "graph_structure_member",
        ["credit_code"],
        unique=False,
    )
    op.create_table(
        "graph_association_key",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_association_key")),
        sa.UniqueConstraint(
            "kind",
            "key",
            "credit_code",
            name=op.f("uq_graph_association_key_kind_key_credit_code"),
        ),
    )
    op.create_index(
        op.f("ix_graph_association_key_credit_code"),
        "graph_association_key",
        ["credit_code"],
        unique=False,
    )
    op.create_table(
        "graph_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_mark", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rebuilt_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_index_state")),
    )
    # The one row saying how far the index has read (nothing yet).
    op.bulk_insert(
        sa.table("graph_index_state", sa.column("id"), sa.column("version_mark")),
        [{"id": 1, "version_mark": 0}],
    )


def downgrade() -> None:
    op.drop_table("graph_index_state")
    op.drop_index(op.f("ix_graph_association_key_credit_code"), table_name="graph_association_key")
    op.drop_table("graph_association_key")
    op.drop_index(
        op.f("ix_graph_structure_member_credit_code"), table_name="graph_structure_member"
    )
    op.drop_table("graph_structure_member")
    op.drop_index("ix_graph_structure_analysis_kind", table_name="graph_structure")
    op.drop_table("graph_structure")
    op.drop_index(op.f("ix_graph_analysis_state"), table_name="graph_analysis")
    op.drop_table("graph_analysis")
